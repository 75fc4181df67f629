"""zstd against the zstandard package, both directions; bad input; threads."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import zstandard

import opencodecs as oc
from hostile import check_decoders

zstd = oc.get_codec("zstd")
rng = np.random.default_rng(42)


def ref_decode(blob):
    return zstandard.ZstdDecompressor().decompressobj().decompress(blob)


def smooth(n, dtype):
    x = np.cumsum(rng.normal(0, 3, n)) + 1000
    return x.astype(dtype)


PAYLOADS = {
    "empty": b"",
    "one byte": b"\x07",
    "uint8": smooth(10_000, np.uint8).tobytes(),
    "uint16": smooth(100_000, np.uint16).tobytes(),
    "float32": smooth(50_000, np.float32).tobytes(),
    "float64": smooth(30_000, np.float64).tobytes(),
    "random": rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes(),
}


@pytest.mark.parametrize("name", PAYLOADS)
def test_round_trip_and_parity_both_ways(name):
    data = PAYLOADS[name]
    blob = zstd.encode(data)
    assert zstd.decode(blob) == data
    assert ref_decode(blob) == data
    # zstd CLI-style frames: content size unrecorded, checksums on
    theirs = zstandard.ZstdCompressor(level=5, write_content_size=False,
                                      write_checksum=True).compress(data)
    assert zstd.decode(theirs) == data


@pytest.mark.parametrize("level", [1, 3, 9, 19, -5])
def test_levels_parity_both_ways(level):
    data = PAYLOADS["uint16"]
    ours = zstd.encode(data, level=level)
    theirs = zstandard.ZstdCompressor(level=level).compress(data)
    assert ref_decode(ours) == data
    assert zstd.decode(theirs) == data
    if level in (1, 3, -5):  # fast levels are stable across libzstd 1.5.x releases
        assert ours == theirs


def test_invalid_levels():
    for level in (100, "3", 2.5, True):
        with pytest.raises(oc.EncodeError):
            zstd.encode(b"abc", level=level)


def test_large_multithreaded_round_trip():
    data = np.tile(smooth(1 << 16, np.uint16), 600).tobytes()  # ~75 MiB
    assert len(data) > 64 << 20
    blob = zstd.encode(data, level=1, numthreads=2)
    assert ref_decode(blob) == data
    assert zstd.decode(blob) == data


def test_concatenated_and_streamed_frames():
    a, b = PAYLOADS["uint8"], PAYLOADS["float32"]
    assert zstd.decode(zstd.encode(a) + zstd.encode(b)) == a + b
    chunker = zstandard.ZstdCompressor().compressobj()
    streamed = chunker.compress(b) + chunker.flush()
    assert zstd.decode(streamed) == b


@pytest.mark.parametrize("make_out", [bytearray, lambda n: np.empty(n, np.uint8),
                                      lambda n: np.empty(n // 4, np.float32)])
def test_decode_into_out(make_out):
    data = PAYLOADS["float32"]
    out = make_out(len(data))
    for blob in (zstd.encode(data), zstandard.ZstdCompressor(write_content_size=False).compress(data)):
        assert zstd.decode(blob, out=out) is out
        assert bytes(memoryview(out).cast("B")) == data


@pytest.mark.parametrize("size_delta", [-1, 1])
def test_decode_into_wrong_size_out_raises(size_delta):
    data = PAYLOADS["uint16"]
    for blob in (zstd.encode(data), zstandard.ZstdCompressor(write_content_size=False).compress(data)):
        with pytest.raises(oc.DecodeError):
            zstd.decode(blob, out=bytearray(len(data) + size_delta))


def test_encode_into_buffer():
    data = PAYLOADS["uint16"]
    dest = bytearray(len(data))
    view = zstd.encode(data, dest=dest)
    assert zstd.decode(view) == data
    with pytest.raises(oc.EncodeError):
        zstd.encode(data, dest=bytearray(10))


def test_hostile_input():
    valid = zstd.encode(PAYLOADS["uint16"])
    huge = zstandard.ZstdCompressor().compress(b"\0" * 4096)
    # Frame header whose 4-byte content size field claims ~4 GiB
    lying = bytearray(valid)
    fhd = lying[4]
    assert fhd >> 6 == 2  # 4-byte content size field for this payload
    offset = 5 + (0 if fhd & 0x20 else 1)
    lying[offset:offset + 4] = (0xFFFFFFF0).to_bytes(4, "little")
    check_decoders("zstd", valid,
                   must_fail=("empty", "one byte", "truncated to 8", "size lie", "windowless"),
                   extra=[("size lie", bytes(lying)),
                          ("windowless", huge[:4] + b"\xff" * 12)])


def rle_frame(content_size: int) -> bytes:
    """A valid frame of `content_size` zero bytes, in 128 KiB RLE blocks (4 bytes each)."""
    block = 128 << 10
    header = (0xFD2FB528).to_bytes(4, "little") + bytes([0xC0, 7 << 3]) + content_size.to_bytes(8, "little")
    sizes = [block] * (content_size // block) + ([content_size % block] if content_size % block else [])
    blocks = [((n << 3) | (1 << 1) | (i == len(sizes) - 1)).to_bytes(3, "little") + b"\0"
              for i, n in enumerate(sizes)]
    return header + b"".join(blocks)


@pytest.mark.parametrize("content_size", [(1 << 31) + 4096, 5 << 30])
def test_content_size_past_2_gib_is_read_as_64_bits(content_size, monkeypatch):
    # A C int would turn these into a negative number and into 1 GiB.
    frame = rle_frame(content_size)
    assert zstandard.frame_content_size(frame) == content_size
    monkeypatch.setattr(oc.config, "max_decoded_bytes", content_size - 1)
    with pytest.raises(oc.DecodeError, match=f"declares {content_size} bytes, over max_decoded_bytes"):
        zstd.decode(frame)


def test_threads_give_identical_results():
    items = [PAYLOADS[k] for k in ("uint8", "uint16", "float32", "float64")] * 8
    serial = [zstd.encode(x, level=5) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: zstd.encode(x, level=5), items))
        decoded = list(pool.map(zstd.decode, serial))
    assert parallel == serial
    assert decoded == items
