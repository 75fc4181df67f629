"""DataSource: zero-copy ranges from files and buffers, bounds checks, coalescing."""

import io

import numpy as np
import pytest

import opencodecs as oc
from opencodecs.core.sources import BufferSource, DataSource, FileSource, coalesce, open_source

DATA = bytes(range(256)) * 1000


@pytest.fixture(params=["path", "file", "bytes", "bytesio", "ndarray", "pread"])
def source(request, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    kind = request.param
    if kind == "path":
        src = open_source(path)
    elif kind == "file":
        src = open_source(open(path, "rb"))
    elif kind == "bytes":
        src = open_source(DATA)
    elif kind == "bytesio":
        src = open_source(io.BytesIO(DATA))
    elif kind == "ndarray":
        src = open_source(np.frombuffer(DATA, np.uint8).reshape(1000, 256))
    else:
        src = FileSource(path)
        src._view = None  # force the pread path
    yield src
    src.close()


def test_read_at_and_read_many(source):
    assert source.size == len(DATA)
    assert bytes(source.read_at(10, 20)) == DATA[10:30]
    assert bytes(source.read_at(len(DATA) - 1, 1)) == DATA[-1:]
    ranges = [(5000, 10), (0, 3), (5005, 100), (200_000, 56), (100, 0)]
    views = source.read_many(ranges)
    assert [bytes(v) for v in views] == [DATA[o:o + n] for o, n in ranges]


def test_out_of_bounds_reads_raise_decode_error(source):
    for offset, n in [(len(DATA), 1), (len(DATA) - 1, 2), (-1, 1), (0, -1), (10**12, 1)]:
        with pytest.raises(oc.DecodeError, match="outside"):
            source.read_at(offset, n)
    with pytest.raises(oc.DecodeError):
        source.read_many([(0, 1), (len(DATA), 5)])


def test_buffer_source_is_zero_copy():
    buf = bytearray(DATA)
    src = BufferSource(buf)
    view = src.read_at(0, 4)
    buf[0] = 99
    assert view[0] == 99


def test_mapped_file_views_are_zero_copy(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    src = FileSource(path)
    assert src._map is not None
    a, b = src.read_many([(0, 10), (10, 10)])
    assert a.obj is b.obj  # both views of the one mapping
    del a, b
    src.close()


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with open_source(path) as src:
        assert src.size == 0
        assert bytes(src.read_at(0, 0)) == b""
        with pytest.raises(oc.DecodeError):
            src.read_at(0, 1)


def test_coalesce_merges_nearby_ranges_only():
    ranges = [(100, 10), (0, 10), (120, 10), (10_000, 5)]
    spans = list(coalesce(ranges, gap=100))
    assert spans == [(0, 130, [1, 0, 2]), (10_000, 10_005, [3])]
    assert list(coalesce([], 10)) == []


def test_coalescing_source_reads_each_span_once():
    class Counting(DataSource):
        size = len(DATA)
        calls = 0

        def _read(self, offset, n):
            Counting.calls += 1
            return memoryview(DATA)[offset:offset + n]

    src = Counting()
    views = src.read_many([(0, 10), (20, 10), (10 << 20 if False else 200_000, 5)])
    assert [bytes(v) for v in views] == [DATA[0:10], DATA[20:30], DATA[200_000:200_005]]
    assert Counting.calls == 2


def test_read_into_fills_caller_memory(source):
    out = np.empty(5000, np.uint8)
    source.read_into(1000, out)
    assert out.tobytes() == DATA[1000:6000]
    with pytest.raises(oc.DecodeError):
        source.read_into(len(DATA) - 10, out)
