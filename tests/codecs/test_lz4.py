"""lz4: LZ4 frames through system liblz4, checked against the lz4 package (lz4.frame) and imagecodecs."""

import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import lz4.frame
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("lz4")
MAGIC = b"\x04\x22\x4d\x18"


def sample(dtype, n, seed=0):
    """Smooth, noisy data of `n` elements, like a microscopy image row."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 3, n)) + 1000
    return walk.astype(dtype).tobytes()


def skippable(payload):
    return struct.pack("<II", 0x184D2A5A, len(payload)) + payload


def lying_frame(declared, payload=b"abc"):
    """A valid header recording `declared` bytes, then one stored block of `payload`."""
    header = lz4.frame.LZ4FrameCompressor().begin(source_size=declared)
    return header + struct.pack("<I", 0x80000000 | len(payload)) + payload + b"\0\0\0\0"


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 300_000])
def test_round_trip(dtype, n):
    data = sample(dtype, n)
    blob = codec.encode(data)
    assert blob[:4] == MAGIC
    assert codec.decode(blob) == data


def test_round_trip_over_64_mib():
    data = np.tile(np.frombuffer(sample("uint16", 1 << 14), np.uint8), 2080)  # 65 MiB, 32 KiB period
    blob = codec.encode(data, level=0)
    assert len(blob) < data.nbytes // 4
    assert codec.decode(blob) == data.tobytes()


@pytest.mark.parametrize("level", [0, 1, 3, 9, 12])
@pytest.mark.parametrize("content_checksum", [False, True])
@pytest.mark.parametrize("block_linked", [True, False])
def test_encoding_equals_lz4_frame(level, content_checksum, block_linked):
    # The lz4 package links the same liblz4 (1.9.4) with the same frame settings.
    data = sample("uint16", 200_000)
    ours = codec.encode(data, level=level, content_checksum=content_checksum, block_linked=block_linked)
    ref = lz4.frame.compress(data, compression_level=level, content_checksum=content_checksum,
                             block_linked=block_linked)
    assert ours == ref
    assert lz4.frame.decompress(ours) == data


def test_empty_encoding_equals_lz4_frame():
    assert codec.encode(b"") == lz4.frame.compress(b"")


@pytest.mark.parametrize("store_size", [True, False])
@pytest.mark.parametrize("block_size", [lz4.frame.BLOCKSIZE_MAX64KB, lz4.frame.BLOCKSIZE_MAX256KB,
                                        lz4.frame.BLOCKSIZE_MAX1MB, lz4.frame.BLOCKSIZE_MAX4MB])
@pytest.mark.parametrize("checksums", [False, True])
def test_decodes_lz4_frame(store_size, block_size, checksums):
    data = sample("float32", 700_000)
    blob = lz4.frame.compress(data, store_size=store_size, block_size=block_size,
                              content_checksum=checksums, block_checksum=checksums)
    assert codec.decode(blob) == data


def test_decodes_streamed_frame_without_size():
    data = sample("uint16", 500_000)
    with lz4.frame.LZ4FrameCompressor(block_size=lz4.frame.BLOCKSIZE_MAX64KB) as c:
        blob = c.begin() + b"".join(c.compress(data[i:i + 10_000]) for i in range(0, len(data), 10_000)) + c.flush()
    assert codec.decode(blob) == data


def test_imagecodecs_parity():
    data = sample("uint16", 100_000)
    assert codec.decode(imagecodecs.lz4f_encode(data, level=9, contentchecksum=True)) == data
    assert imagecodecs.lz4f_decode(codec.encode(data)) == data


def test_concatenated_and_skippable_frames():
    a, b = sample("uint8", 5000, 1), sample("uint8", 300_000, 2)
    blob = (skippable(b"note") + codec.encode(a) + skippable(b"") +
            lz4.frame.compress(b, store_size=False) + skippable(b"tail"))
    assert codec.decode(blob) == a + b
    assert codec.decode(codec.encode(a) + codec.encode(b)) == a + b
    out = bytearray(len(a + b))
    assert codec.decode(codec.encode(a) + codec.encode(b), out=out) is out
    assert out == a + b


@pytest.mark.parametrize("store_size", [True, False])
def test_decode_into_out(store_size):
    arr = np.frombuffer(sample("uint16", 100_000), np.uint16)
    blob = lz4.frame.compress(arr.tobytes(), store_size=store_size)
    out = np.zeros_like(arr)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, arr)
    buf = bytearray(arr.nbytes)
    assert codec.decode(blob, out=buf) is buf
    assert buf == arr.tobytes()
    assert codec.decode(blob, out=memoryview(buf)).obj is buf
    for wrong in (arr.nbytes - 1, arr.nbytes + 1):
        with pytest.raises(oc.DecodeError, match="^lz4: "):
            codec.decode(blob, out=bytearray(wrong))


def test_encode_into_buffer():
    data = sample("uint16", 50_000)
    expected = codec.encode(data)
    for size in (len(expected) + 1000, len(expected)):  # at and below LZ4's worst-case bound
        buf = bytearray(size)
        view = codec.encode(data, dest=buf)
        assert bytes(view) == expected and view.obj is buf
    with pytest.raises(oc.EncodeError, match="^lz4: "):
        codec.encode(data, dest=bytearray(len(expected) - 1))


@pytest.mark.parametrize("level", [-1, 13, 1.5, True, "9"])
def test_invalid_level(level):
    with pytest.raises(oc.EncodeError, match="^lz4: "):
        codec.encode(b"abc", level=level)


def test_unknown_option():
    with pytest.raises(TypeError):
        codec.encode(b"abc", quality=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), level=1)


@pytest.mark.parametrize("store_size", [True, False])
def test_max_decoded_bytes(monkeypatch, store_size):
    blob = lz4.frame.compress(bytes(1 << 20), store_size=store_size)
    monkeypatch.setattr(oc.config, "max_decoded_bytes", (1 << 20) - 1)
    with pytest.raises(oc.DecodeError, match="^lz4: .*max_decoded_bytes"):
        codec.decode(blob)
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    assert codec.decode(blob) == bytes(1 << 20)


def test_file_round_trip_and_detection(tmp_path):
    data = sample("float64", 10_000)
    oc.write(tmp_path / "x.lz4", data)
    assert oc.read(tmp_path / "x.lz4") == data
    blob = (tmp_path / "x.lz4").read_bytes()
    assert oc.codec_for_bytes(blob) is codec
    assert oc.codec_for_path("y.lz4") is codec
    assert oc.read(blob) == data


def test_hostile_input():
    extra = [
        ("declares 8 GiB in 26 bytes", lying_frame(8 << 30)),
        ("declares 64 GiB", lying_frame(64 << 30)),
        ("declares 1000 bytes, holds 3", lying_frame(1000)),
        ("declares 2 bytes, holds 3", lying_frame(2)),
        ("block header claims 4 MiB, 2 follow", lz4.frame.LZ4FrameCompressor(
            block_size=lz4.frame.BLOCKSIZE_MAX4MB).begin() + struct.pack("<I", 4 << 20) + b"zz"),
        ("block header claims 4 MiB + 1", lz4.frame.LZ4FrameCompressor(
            block_size=lz4.frame.BLOCKSIZE_MAX4MB).begin() + struct.pack("<I", (4 << 20) + 1) + b"zz"),
        ("skippable frame claims 4 GiB", struct.pack("<II", 0x184D2A50, 0xFFFFFFFF) + b"abc"),
        ("frame then garbage", codec.encode(b"abc") + b"\x01\x02\x03"),
    ]
    valid = codec.encode(sample("uint16", 20_000), content_checksum=True)
    check_decoders("lz4", valid, extra=extra, must_fail=("empty", "one byte", *(label for label, _ in extra)))


def test_threads_match_serial():
    inputs = [sample(dt, 50_000 + 1000 * i, seed=i) for i, dt in enumerate(["uint8", "uint16", "float32", "float64"] * 4)]
    serial_blobs = [codec.encode(x, level=i % 10) for i, x in enumerate(inputs)]
    with ThreadPoolExecutor(4) as pool:
        blobs = list(pool.map(lambda ix: codec.encode(ix[1], level=ix[0] % 10), enumerate(inputs)))
        decoded = list(pool.map(codec.decode, blobs * 2))
    assert blobs == serial_blobs
    assert decoded == inputs * 2
