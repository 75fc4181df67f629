"""none: the identity codec (a filter-chain placeholder)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("none")


def sample(dtype, n, seed=0):
    rng = np.random.default_rng(seed)
    return (np.cumsum(rng.normal(0, 3, n)) + 1000).astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 300_000])
def test_round_trip(dtype, n):
    data = sample(dtype, n)
    blob = codec.encode(data)
    assert type(blob) is bytes and blob == data.tobytes()
    assert codec.decode(blob) == blob
    assert codec.decode(bytearray(blob)) == blob


def test_round_trip_over_64_mib():
    data = np.zeros(65 << 20, np.uint8)
    data[::4096] = 7
    assert codec.decode(codec.encode(data)) == data.tobytes()


def test_encode_copies():
    data = bytearray(b"abcdef")
    blob = codec.encode(data)
    data[0] = 0
    assert blob == b"abcdef"


def test_out_into_bytearray_and_numpy():
    data = sample("uint16", 1000)
    out = bytearray(data.nbytes)
    assert codec.decode(data.tobytes(), out=out) is out and out == data.tobytes()
    arr = np.empty((10, 100), np.uint16)
    assert codec.decode(memoryview(data.tobytes()), out=arr) is arr
    np.testing.assert_array_equal(arr.ravel(), data)


@pytest.mark.parametrize("size", [0, 1999, 2001])
def test_wrong_size_out_raises(size):
    with pytest.raises(oc.DecodeError, match="^none: "):
        codec.decode(bytes(2000), out=bytearray(size))


def test_encode_into_buffer():
    dest = bytearray(10)
    view = codec.encode(b"abc", dest=dest)
    assert bytes(view) == b"abc" and dest[:3] == b"abc"
    with pytest.raises(oc.EncodeError):
        codec.encode(b"abc" * 5, dest=dest)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(b"abc", level=1)
    with pytest.raises(TypeError):
        codec.decode(b"abc", itemsize=2)


def test_file_round_trip(tmp_path):
    oc.write(tmp_path / "x.raw", b"hello", format="none")
    assert (tmp_path / "x.raw").read_bytes() == b"hello"
    assert oc.read(tmp_path / "x.raw", format="none") == b"hello"
    assert oc.codec_for_bytes(b"hello") is None


def test_hostile_inputs():
    results = check_decoders("none", bytes(range(256)) * 4, must_fail=())
    assert set(results.values()) == {"ok"}


def test_threads_give_serial_results():
    arrays = [sample("float32", 10_000 + i, i) for i in range(16)]

    def round_trip(data):
        blob = codec.encode(data)
        return blob, codec.decode(blob)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(round_trip, arrays)) == [round_trip(a) for a in arrays]
