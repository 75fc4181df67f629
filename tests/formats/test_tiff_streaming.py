"""Streaming TIFF writes into sinks that cannot seek: a pipe read by another
thread, a FIFO, an object with only .write. What a consumer receives is a
valid TIFF, or, if the stream stops early, one that readers report as
truncated."""

import io
import os
import subprocess
import threading

import numpy as np
import pytest
import tifffile
from tiff_checks import assert_same, read_back, tiffinfo_clean

import opencodecs as oc
from opencodecs.formats.tiff import TiffWriter

rng = np.random.default_rng(9)


def pages(n=5, shape=(100, 130), dtype="u2"):
    base = rng.normal(1000, 50, shape).astype(dtype)
    return [base + i for i in range(n)]


class WriteOnly:
    """A sink with nothing but .write: no seek, no tell, no fileno."""

    def __init__(self):
        self.chunks = []

    def write(self, b):
        self.chunks.append(bytes(b))
        return len(b)

    def getvalue(self):
        return b"".join(self.chunks)


def read_pipe_in_thread(fd):
    """Start a thread draining the read end of a pipe; returns (thread, result list)."""
    received = []

    def drain():
        with os.fdopen(fd, "rb") as f:
            received.append(f.read())

    thread = threading.Thread(target=drain)
    thread.start()
    return thread, received


@pytest.mark.parametrize("tile,compression", [((32, 32), "zstd"), (None, "none"), ((16, 64), "zlib")])
@pytest.mark.parametrize("bigtiff", [False, True])
def test_stream_into_a_pipe(tmp_path, tile, compression, bigtiff):
    frames = pages()
    r, w = os.pipe()
    thread, received = read_pipe_in_thread(r)
    with os.fdopen(w, "wb") as sink:
        with TiffWriter(sink, streaming=True, bigtiff=bigtiff) as writer:
            writer.write_stream(iter(frames), total_pages=len(frames), tile=tile,
                                compression=compression, metadata="streamed")
    thread.join()
    blob = received[0]
    assert_same(read_back(blob), np.stack(frames))
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        assert tif.is_bigtiff == bigtiff
        assert tif.pages[0].description == "streamed"
        assert len(tif.pages) == len(frames)
    path = tmp_path / "streamed.tif"
    path.write_bytes(blob)
    tiffinfo_clean(path, decode=True)


def test_pipe_sink_cannot_seek():
    r, w = os.pipe()
    thread, _ = read_pipe_in_thread(r)
    with os.fdopen(w, "wb") as sink:
        with pytest.raises(oc.EncodeError, match="streaming=True"):
            TiffWriter(sink)
        with TiffWriter(sink, streaming=True) as writer:
            writer.write_stream(pages(1))
    thread.join()


def test_write_only_object_and_lookahead():
    frames = pages(4)
    given, lookahead = WriteOnly(), WriteOnly()
    with TiffWriter(given, streaming=True) as w:
        w.write_stream(frames, total_pages=4, tile=(32, 32), compression="zstd")
    with TiffWriter(lookahead, streaming=True) as w:
        w.write_stream(iter(frames), tile=(32, 32), compression="zstd")
    assert given.getvalue() == lookahead.getvalue()
    assert_same(read_back(given.getvalue()), np.stack(frames))


def test_stream_of_a_3d_array_and_rgb_pages():
    stack = np.stack(pages(3))
    sink = WriteOnly()
    with TiffWriter(sink, streaming=True) as w:
        w.write_stream(stack, total_pages=3)
    assert_same(read_back(sink.getvalue()), stack)
    rgb = [rng.integers(0, 255, (40, 50, 3), dtype="u1") for _ in range(2)]
    sink = WriteOnly()
    with TiffWriter(sink, streaming=True) as w:
        w.write_stream(rgb, total_pages=2, tile=(16, 16), compression="lzw", predictor=2)
    assert_same(read_back(sink.getvalue()), np.stack(rgb))


def test_stream_to_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    thread = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    thread.start()
    frames = pages(2)
    with TiffWriter(fifo, streaming=True) as w:
        w.write_stream(frames, total_pages=2, compression="zstd")
    thread.join()
    assert_same(read_back(received[0]), np.stack(frames))
    assert os.listdir(tmp_path) == ["fifo"]


def test_stream_to_a_path_is_atomic(tmp_path):
    path = tmp_path / "s.tif"
    with pytest.raises(RuntimeError):
        with TiffWriter(path, streaming=True) as w:
            w.write_stream(_failing(pages(3), after=2), total_pages=3)
    assert os.listdir(tmp_path) == []
    with TiffWriter(path, streaming=True) as w:
        w.write_stream(pages(3), total_pages=3)
    assert len(tifffile.TiffFile(path).pages) == 3


@pytest.mark.parametrize("numthreads", [1, 2, 4])
def test_stream_bytes_do_not_depend_on_threads(numthreads):
    frames = pages(3, shape=(300, 200))
    reference, sink = WriteOnly(), WriteOnly()
    for s, n in ((reference, 1), (sink, numthreads)):
        with TiffWriter(s, streaming=True, numthreads=n) as w:
            w.write_stream(frames, total_pages=3, tile=(32, 32), compression="zstd", predictor=2)
    assert sink.getvalue() == reference.getvalue()


def test_stream_matches_encode_tiff():
    frames = np.stack(pages(3))
    sink = WriteOnly()
    with TiffWriter(sink, streaming=True) as w:
        w.write_stream(frames, total_pages=3, tile=(16, 16), compression="zlib")
    assert sink.getvalue() == oc.get_codec("tiff").encode(frames, tile=(16, 16), compression="zlib")


def _failing(frames, after):
    for i, frame in enumerate(frames):
        if i == after:
            raise RuntimeError("the camera stopped")
        yield frame


def _libtiff_rejects(blob, tmp_path):
    path = tmp_path / "cut.tif"
    path.write_bytes(blob)
    r = subprocess.run(["tiffinfo", str(path)], capture_output=True, text=True)
    return r.returncode != 0 and "directory" in r.stderr.lower()


def test_stream_cut_between_pages_reads_as_truncated(tmp_path, caplog):
    sink = WriteOnly()
    with pytest.raises(RuntimeError, match="camera"):
        with TiffWriter(sink, streaming=True) as w:
            w.write_stream(_failing(pages(4), after=2), total_pages=4, compression="zstd")
    blob = sink.getvalue()
    assert _libtiff_rejects(blob, tmp_path)
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:  # the two whole pages, and an error logged
        assert len(tif.pages) == 2
    assert "invalid page offset" in caplog.text


def test_stream_shorter_than_total_pages(tmp_path):
    sink = WriteOnly()
    with pytest.raises(oc.EncodeError, match="ended after 2 of total_pages=3"):
        with TiffWriter(sink, streaming=True) as w:
            w.write_stream(pages(2), total_pages=3)
    assert _libtiff_rejects(sink.getvalue(), tmp_path)


def test_stream_cut_inside_a_page_reads_as_truncated():
    sink = WriteOnly()
    with TiffWriter(sink, streaming=True) as w:
        w.write_stream(pages(2), total_pages=2, tile=(32, 32), compression="zstd")
    blob = sink.getvalue()
    cut = blob[: len(blob) - 100]  # the connection dropped in the last page's tiles
    with tifffile.TiffFile(io.BytesIO(cut)) as tif:
        last = tif.pages[1]
        assert last.dataoffsets[-1] + last.databytecounts[-1] > len(cut)
        with pytest.raises(Exception, match="(?i)zstd"):
            last.asarray()


def test_more_pages_than_total_pages():
    with pytest.raises(oc.EncodeError, match="more pages than total_pages=2"):
        with TiffWriter(WriteOnly(), streaming=True) as w:
            w.write_stream(pages(3), total_pages=2)


@pytest.mark.parametrize("call", ["write_page", "write_stream_twice", "empty", "zero_total"])
def test_streaming_misuse(call):
    with pytest.raises(oc.EncodeError):
        with TiffWriter(WriteOnly(), streaming=True) as w:
            if call == "write_page":
                w.write_page(pages(1)[0])
            elif call == "write_stream_twice":
                w.write_stream(pages(1))
                w.write_stream(pages(1))
            elif call == "empty":
                w.write_stream([])
            else:
                w.write_stream(pages(1), total_pages=0)


def test_write_stream_needs_a_streaming_writer():
    with pytest.raises(oc.EncodeError, match="streaming=True"):
        with TiffWriter(io.BytesIO()) as w:
            w.write_stream(pages(1))
