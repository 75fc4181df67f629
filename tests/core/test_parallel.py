"""The shared pool: parallel_for, map_parallel, decode_into."""

import threading

import numpy as np
import pytest

import opencodecs as oc
from opencodecs.core.parallel import decode_into, map_parallel, parallel_for


def test_parallel_for_visits_every_index_once():
    seen = []
    lock = threading.Lock()

    def fn(i):
        with lock:
            seen.append(i)

    parallel_for(fn, 1000, numthreads=4)
    assert sorted(seen) == list(range(1000))


def test_parallel_for_uses_several_threads():
    names = set()
    barrier = threading.Barrier(2, timeout=10)

    def fn(i):
        names.add(threading.current_thread().name)
        if i < 2:
            barrier.wait()  # two tasks must be running at once

    parallel_for(fn, 8, numthreads=2)
    assert len(names) >= 2


def test_parallel_for_reraises_the_first_error():
    def fn(i):
        if i == 7:
            raise KeyError(i)

    with pytest.raises(KeyError):
        parallel_for(fn, 100, numthreads=3)


def test_nested_parallel_for_does_not_deadlock():
    total = []
    lock = threading.Lock()

    def inner(i):
        with lock:
            total.append(i)

    parallel_for(lambda i: parallel_for(inner, 50, numthreads=4), 20, numthreads=4)
    assert len(total) == 1000


def test_map_parallel_keeps_order():
    assert map_parallel(lambda x: x * x, range(100), numthreads=3) == [x * x for x in range(100)]


def test_decode_into_fills_rows_in_place():
    zstd = oc.get_codec("zstd")
    rng = np.random.default_rng(1)
    tiles = rng.integers(0, 4096, (64, 32, 32), dtype=np.uint16)
    blobs = [zstd.encode(t) for t in tiles]
    out = np.zeros_like(tiles)
    assert decode_into(zstd, blobs, out, numthreads=2) is out
    np.testing.assert_array_equal(out, tiles)


def test_decode_into_reports_a_corrupt_blob():
    zstd = oc.get_codec("zstd")
    blobs = [zstd.encode(bytes(64))] * 9 + [b"corrupt"]
    with pytest.raises(oc.DecodeError):
        decode_into(zstd, blobs, np.zeros((10, 64), np.uint8), numthreads=2)


def test_decode_into_checks_row_count():
    with pytest.raises(ValueError):
        decode_into(oc.get_codec("zstd"), [b""], np.zeros((2, 4), np.uint8))
