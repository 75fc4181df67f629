"""bz2 against the stdlib bz2 module (same libbz2: byte-equal) and imagecodecs;
bad input; threads."""

import bz2
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("bz2")
rng = np.random.default_rng(11)


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
    "random": rng.integers(0, 256, 1 << 18, dtype=np.uint8).tobytes(),
}
DATA = PAYLOADS["uint16"]


@pytest.mark.parametrize("name", PAYLOADS)
def test_round_trip_and_parity_both_ways(name):
    data = PAYLOADS[name]
    blob = codec.encode(data)
    assert blob == bz2.compress(data)  # same libbz2, same settings
    assert codec.decode(blob) == data
    assert bz2.decompress(blob) == data
    assert codec.decode(bz2.compress(data, 3)) == data


def test_large_round_trip():
    data = (np.arange(34 << 20, dtype=np.uint32) // 64).astype(np.uint16).tobytes()
    assert len(data) > 64 << 20
    blob = codec.encode(data, level=1)
    assert codec.decode(blob) == data


@pytest.mark.parametrize("level", range(1, 10))
def test_levels_byte_equal_to_stdlib(level):
    data = PAYLOADS["float32"]
    ours = codec.encode(data, level=level)
    assert ours == bz2.compress(data, level)
    assert codec.decode(ours) == data


def test_imagecodecs_parity_both_ways():
    assert imagecodecs.bz2_decode(codec.encode(DATA)) == DATA
    assert codec.decode(imagecodecs.bz2_encode(DATA, level=5)) == DATA


def test_concatenated_streams():
    a, b = PAYLOADS["uint8"], PAYLOADS["float64"]
    joined = codec.encode(a) + bz2.compress(b) + codec.encode(b"")
    assert codec.decode(joined) == bz2.decompress(joined) == a + b
    out = bytearray(len(a + b))
    assert codec.decode(joined, out=out) is out and out == a + b
    # bytes after the last stream that start no stream are ignored, as by bzip2
    assert codec.decode(codec.encode(a) + b"\0\0junk") == a


@pytest.mark.parametrize("make_out", [bytearray, lambda n: np.empty(n, np.uint8),
                                      lambda n: np.empty(n // 8, np.float64)])
def test_decode_into_out(make_out):
    data = PAYLOADS["float64"]
    out = make_out(len(data))
    blob = codec.encode(data)
    assert codec.decode(blob, out=out) is out
    assert bytes(memoryview(out).cast("B")) == data
    for wrong in (len(data) - 1, len(data) + 1, 0):
        with pytest.raises(oc.DecodeError):
            codec.decode(blob, out=bytearray(wrong))


def test_encode_into_buffer():
    dest = bytearray(len(DATA))
    view = codec.encode(DATA, dest=dest)
    assert bytes(view) == bz2.compress(DATA)
    with pytest.raises(oc.EncodeError):
        codec.encode(DATA, dest=bytearray(10))


def test_max_decoded_bytes():
    bomb = codec.encode(bytes(8 << 20), level=1)
    old = oc.config.max_decoded_bytes
    try:
        oc.config.max_decoded_bytes = 1 << 20
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            codec.decode(bomb)
        oc.config.max_decoded_bytes = 8 << 20
        assert codec.decode(bomb) == bytes(8 << 20)
    finally:
        oc.config.max_decoded_bytes = old


def test_invalid_levels_and_options():
    for level in (0, 10, "9", 2.5, True):
        with pytest.raises(oc.EncodeError):
            codec.encode(b"abc", level=level)
    with pytest.raises(TypeError):
        codec.encode(b"abc", check="crc32")
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), level=3)


def test_names_files_and_magic(tmp_path):
    assert oc.get_codec("bzip2") is codec
    path = tmp_path / "x.bz2"
    oc.write(path, DATA)
    assert oc.read(path) == DATA
    assert bz2.decompress(path.read_bytes()) == DATA
    for level in range(1, 10):
        assert oc.codec_for_bytes(bz2.compress(b"abc", level)) is codec
    assert oc.codec_for_bytes(b"BZh0" + bytes(10)) is None


def test_hostile_input():
    valid = codec.encode(DATA)
    small = codec.encode(b"abc" * 100)
    check_decoders("bz2", valid,
                   must_fail=("empty", "one byte", "truncated to 8", "stream crc mismatch",
                              "block size 0", "second stream truncated"),
                   extra=[("stream crc mismatch", small[:-5] + bytes([small[-5] ^ 1]) + small[-4:]),
                          ("block size 0", b"BZh0" + small[4:]),
                          ("second stream truncated", small + valid[:len(valid) // 2]),
                          ("largest blocks, no data", b"BZh9" + bytes(64))])


def test_threads_give_identical_results():
    items = [PAYLOADS[k] for k in ("uint8", "uint16", "float32", "float64")] * 4
    serial = [codec.encode(x, level=5) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: codec.encode(x, level=5), items))
        decoded = list(pool.map(codec.decode, serial))
    assert parallel == serial
    assert decoded == items
