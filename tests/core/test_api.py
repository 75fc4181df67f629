"""oc.read / oc.write / oc.open and the src/dest kinds they accept."""

import io
import mmap

import numpy as np
import pytest

import opencodecs as oc

DATA = np.linspace(0, 4000, 50_000).astype(np.uint16).tobytes()


@pytest.fixture
def blob():
    return oc.get_codec("zstd").encode(DATA)


def _mmap_of(data, tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(data)
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "mmap", "ndarray",
                                  "path", "str", "file", "bytesio"])
def test_read_accepts_every_source_kind(kind, blob, tmp_path):
    path = tmp_path / "x.zst"
    path.write_bytes(blob)
    src = {
        "bytes": lambda: blob,
        "bytearray": lambda: bytearray(blob),
        "memoryview": lambda: memoryview(blob),
        "mmap": lambda: _mmap_of(blob, tmp_path),
        "ndarray": lambda: np.frombuffer(blob, np.uint8),
        "path": lambda: path,
        "str": lambda: str(path),
        "file": lambda: open(path, "rb"),
        "bytesio": lambda: io.BytesIO(blob),
    }[kind]()
    assert oc.read(src) == DATA
    assert oc.read(src if kind not in ("file", "bytesio") else io.BytesIO(blob),
                   format="zstd") == DATA


def test_read_of_memoryview_slice_is_zero_copy_input(blob):
    padded = b"xx" + blob + b"yy"
    assert oc.read(memoryview(padded)[2:-2], format="zstd") == DATA


@pytest.mark.parametrize("kind", ["path", "str", "file", "bytearray", "ndarray", "none"])
def test_write_accepts_every_dest_kind(kind, tmp_path):
    path = tmp_path / "y.zst"
    if kind in ("path", "str"):
        assert oc.write(path if kind == "path" else str(path), DATA) is None
        assert oc.read(path) == DATA
    elif kind == "file":
        with open(path, "wb") as f:
            assert oc.write(f, DATA, format="zstd") is None
        assert oc.read(path) == DATA
    elif kind == "none":
        assert oc.read(oc.write(None, DATA, format="zstd")) == DATA
    else:
        dest = bytearray(len(DATA)) if kind == "bytearray" else np.zeros(len(DATA), np.uint8)
        view = oc.write(dest, DATA, format="zstd")
        assert oc.read(bytes(view)) == DATA
        assert bytes(memoryview(dest)[:len(view)]) == bytes(view)


def test_write_to_too_small_buffer_raises():
    with pytest.raises(oc.EncodeError):
        oc.write(bytearray(4), DATA, format="zstd")


def test_write_to_immutable_bytes_raises():
    with pytest.raises(TypeError):
        oc.write(b"immutable", DATA, format="zstd")


def test_write_needs_format_for_buffers_and_known_extension_for_paths(tmp_path):
    with pytest.raises(oc.UnknownFormatError):
        oc.write(bytearray(100), DATA)
    with pytest.raises(oc.UnknownFormatError):
        oc.write(tmp_path / "x.unknownext", DATA)


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "bad.zst"
    with pytest.raises(oc.EncodeError):
        oc.write(path, DATA, level=10_000)
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_existing_file_atomically(tmp_path):
    path = tmp_path / "x.zst"
    path.write_bytes(b"old")
    oc.write(path, DATA)
    assert oc.read(path) == DATA


def test_read_unknown_format_raises(tmp_path):
    with pytest.raises(oc.UnknownFormatError):
        oc.read(b"\x00\x01\x02 definitely nothing")
    path = tmp_path / "mystery.bin"
    path.write_bytes(b"nothing known here")
    with pytest.raises(oc.UnknownFormatError):
        oc.read(path)


def test_extension_beats_magic_and_format_beats_extension(tmp_path, blob):
    # A .zst file whose bytes are zstd: extension dispatch
    path = tmp_path / "x.zst"
    path.write_bytes(blob)
    assert oc.read(path) == DATA
    # Explicit format wins over the (wrong) extension
    wrong = tmp_path / "x.unknown"
    wrong.write_bytes(blob)
    assert oc.read(wrong, format="zstd") == DATA
    # No extension match: magic bytes
    assert oc.read(wrong) == DATA


def test_unknown_option_raises_type_error(blob):
    with pytest.raises(TypeError):
        oc.read(blob, no_such_option=1)
    with pytest.raises(TypeError):
        oc.write(None, DATA, format="zstd", no_such_option=1)


def test_open_gives_one_frame_reader_for_compressors(blob):
    with oc.open(blob) as reader:
        assert reader.n_frames == 1
        assert reader.shape == (1, len(DATA))
        assert reader.dtype == np.uint8
        assert reader.read() == DATA
        assert reader[0] == DATA
        assert list(reader) == [DATA]
        with pytest.raises(IndexError):
            reader[1]


def test_errors_hierarchy():
    assert issubclass(oc.DecodeError, oc.OpencodecsError)
    assert issubclass(oc.DecodeError, ValueError)
    assert issubclass(oc.EncodeError, ValueError)
    assert issubclass(oc.UnknownFormatError, ValueError)
    assert issubclass(oc.CodecUnavailableError, oc.OpencodecsError)
