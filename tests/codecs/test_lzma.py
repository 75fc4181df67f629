"""lzma (xz and legacy .lzma) against the stdlib lzma module (same liblzma:
byte-equal) and imagecodecs; bad input; threads."""

import lzma
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("lzma")
rng = np.random.default_rng(13)
CHECKS = {"none": lzma.CHECK_NONE, "crc32": lzma.CHECK_CRC32, "crc64": lzma.CHECK_CRC64,
          "sha256": lzma.CHECK_SHA256}


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
    blob = codec.encode(data, level=1)
    assert blob == lzma.compress(data, preset=1)  # same liblzma, same settings
    assert codec.decode(blob) == data
    assert lzma.decompress(blob) == data
    assert codec.decode(lzma.compress(data)) == data
    alone = codec.encode(data, level=1, alone=True)
    assert alone == lzma.compress(data, format=lzma.FORMAT_ALONE, preset=1)
    assert codec.decode(alone) == data


def test_large_round_trip():
    data = (np.arange(34 << 20, dtype=np.uint32) // 64).astype(np.uint16).tobytes()
    assert len(data) > 64 << 20
    blob = codec.encode(data, level=0)
    assert codec.decode(blob) == data


@pytest.mark.parametrize("level", range(10))
def test_levels_byte_equal_to_stdlib(level):
    data = PAYLOADS["float32"]
    ours = codec.encode(data, level=level)
    assert ours == lzma.compress(data, preset=level)
    assert codec.decode(ours) == data
    assert codec.decode(lzma.compress(data, preset=level | lzma.PRESET_EXTREME)) == data


@pytest.mark.parametrize("check", CHECKS)
def test_checks_byte_equal_to_stdlib(check):
    ours = codec.encode(DATA, check=check)
    assert ours == lzma.compress(DATA, check=CHECKS[check])
    assert codec.decode(ours) == DATA


def test_default_is_stdlib_default():
    assert codec.encode(DATA) == lzma.compress(DATA)


def test_imagecodecs_parity_both_ways():
    for level in (0, 6):
        ours = codec.encode(DATA, level=level)
        assert imagecodecs.lzma_decode(ours) == DATA
        assert codec.decode(imagecodecs.lzma_encode(DATA, level=level)) == DATA


def test_concatenated_streams_and_padding():
    a, b = PAYLOADS["uint8"], PAYLOADS["float64"]
    joined = codec.encode(a) + lzma.compress(b) + codec.encode(b"")
    assert codec.decode(joined) == lzma.decompress(joined) == a + b
    # xz stream padding (zero bytes, multiples of 4), which the stdlib stops at
    joined = codec.encode(a) + b"\0" * 8 + lzma.compress(b) + codec.encode(b"") + b"\0" * 4
    assert codec.decode(joined) == a + b
    out = np.empty(len(a + b), np.uint8)
    assert codec.decode(joined, out=out) is out and out.tobytes() == a + b


def test_raw_lzma_filters_from_stdlib():
    filters = [{"id": lzma.FILTER_DELTA, "dist": 2}, {"id": lzma.FILTER_LZMA2, "preset": 3}]
    assert codec.decode(lzma.compress(DATA, filters=filters)) == DATA


@pytest.mark.parametrize("alone", [False, True])
@pytest.mark.parametrize("make_out", [bytearray, lambda n: np.empty(n, np.uint8),
                                      lambda n: np.empty(n // 4, np.float32)])
def test_decode_into_out(make_out, alone):
    data = PAYLOADS["float32"]
    out = make_out(len(data))
    blob = codec.encode(data, alone=alone)
    assert codec.decode(blob, out=out) is out
    assert bytes(memoryview(out).cast("B")) == data
    for wrong in (len(data) - 1, len(data) + 1, 0):
        with pytest.raises(oc.DecodeError):
            codec.decode(blob, out=bytearray(wrong))


def test_encode_into_buffer():
    dest = bytearray(len(DATA))
    view = codec.encode(DATA, dest=dest)
    assert bytes(view) == lzma.compress(DATA)
    with pytest.raises(oc.EncodeError):
        codec.encode(DATA, dest=bytearray(10))


def test_max_decoded_bytes():
    bomb = codec.encode(bytes(16 << 20), level=0)
    old = oc.config.max_decoded_bytes
    try:
        oc.config.max_decoded_bytes = 1 << 20
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            codec.decode(bomb)
        oc.config.max_decoded_bytes = 16 << 20
        assert codec.decode(bomb) == bytes(16 << 20)
    finally:
        oc.config.max_decoded_bytes = old


def test_invalid_levels_and_options():
    for level in (-1, 10, "6", 2.5, True):
        with pytest.raises(oc.EncodeError):
            codec.encode(b"abc", level=level)
    with pytest.raises(oc.EncodeError, match="crc64"):
        codec.encode(b"abc", check="md5")
    with pytest.raises(oc.EncodeError):
        codec.encode(b"abc", alone=True, check="crc32")
    with pytest.raises(TypeError):
        codec.encode(b"abc", quality=3)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), level=3)


def test_names_files_and_magic(tmp_path):
    assert oc.get_codec("xz") is codec
    for name, blob_of in (("x.xz", lzma.decompress), ("x.lzma", lzma.decompress)):
        path = tmp_path / name
        oc.write(path, DATA)
        assert oc.read(path) == DATA
        assert blob_of(path.read_bytes()) == DATA
    assert oc.codec_for_bytes(lzma.compress(b"abc")) is codec
    for preset in (0, 6, 9):
        alone = lzma.compress(b"abc", format=lzma.FORMAT_ALONE, preset=preset)
        assert oc.codec_for_bytes(alone) is codec
    assert oc.codec_for_bytes(b"\x5d" + (5000).to_bytes(4, "little") + bytes(8)) is None


def _alone_header(dict_size: int, size: int) -> bytes:
    return b"\x5d" + dict_size.to_bytes(4, "little") + size.to_bytes(8, "little")


def test_hostile_input():
    valid = codec.encode(DATA)
    alone = codec.encode(DATA, alone=True)
    body = alone[13:]
    huge_dict = _alone_header(3 << 30, len(DATA)) + body[:200]
    check_decoders("lzma", valid,
                   must_fail=("empty", "one byte", "truncated to 8", "3 GiB dictionary",
                              "size claims 200 GiB", "size claims one byte less",
                              "bad padding"),
                   extra=[("3 GiB dictionary", huge_dict),
                          ("size claims 200 GiB", _alone_header(1 << 23, 200 << 30) + body),
                          ("size claims one byte less",
                           _alone_header(1 << 23, len(DATA) - 1) + body),
                          ("bad padding", valid + b"\0" * 3)])
    check_decoders("lzma", alone, must_fail=("empty", "one byte", "truncated to 8"))


def test_threads_give_identical_results():
    items = [PAYLOADS[k] for k in ("uint8", "uint16", "float32", "float64")] * 4
    serial = [codec.encode(x, level=1) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: codec.encode(x, level=1), items))
        decoded = list(pool.map(codec.decode, serial))
    assert parallel == serial
    assert decoded == items
