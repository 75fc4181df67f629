"""TIFF LZW and PackBits: parity with libtiff (through Pillow) and imagecodecs, both ways."""

import io
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image, TiffImagePlugin

import opencodecs as oc
from hostile import check_decoders

lzw = oc.get_codec("lzw")
packbits = oc.get_codec("packbits")
rng = np.random.default_rng(7)

PAYLOADS = {
    "empty": b"",
    "one byte": b"x",
    "runs": b"abababababab" * 500 + bytes(3000) + b"\xff" * 257,
    "low entropy": rng.integers(0, 4, 100_000, dtype=np.uint8).tobytes(),
    "random": rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes(),
    "uint16 ramp": np.arange(200_000, dtype=np.uint16).tobytes(),
    "zeros": bytes(1 << 20),
}


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("codec", [lzw, packbits], ids=["lzw", "packbits"])
def test_round_trip_and_imagecodecs_both_ways(codec, name):
    data = PAYLOADS[name]
    ref_encode = getattr(imagecodecs, f"{codec.name}_encode")
    ref_decode = getattr(imagecodecs, f"{codec.name}_decode")
    ours = codec.encode(data)
    assert codec.decode(ours) == data
    assert ref_decode(ours) == data
    assert codec.decode(ref_encode(data)) == data


def _libtiff_lzw_strips(arr):
    """(rows per strip, strips) of `arr` written by libtiff's own LZW encoder."""
    TiffImagePlugin.WRITE_LIBTIFF = True
    try:
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="TIFF", compression="tiff_lzw")
    finally:
        TiffImagePlugin.WRITE_LIBTIFF = False
    with tifffile.TiffFile(io.BytesIO(buf.getvalue())) as tif:
        page = tif.pages[0]
        data = buf.getvalue()
        return page.rowsperstrip, [data[o:o + n] for o, n in zip(page.dataoffsets, page.databytecounts)]


@pytest.mark.parametrize("kind", ["random", "periodic", "low entropy"])
def test_lzw_is_byte_identical_to_libtiff(kind):
    arr = {"random": rng.integers(0, 256, (300, 1000), dtype=np.uint8),
           "periodic": (np.arange(300_000) % 7).astype(np.uint8).reshape(300, 1000),
           "low entropy": rng.integers(0, 16, (500, 1000), dtype=np.uint8)}[kind]
    rows, strips = _libtiff_lzw_strips(arr)
    ours = [lzw.encode(arr[i:i + rows].tobytes()) for i in range(0, arr.shape[0], rows)]
    assert ours == strips
    assert b"".join(lzw.decode(s) for s in strips) == arr.tobytes()


def test_lzw_tolerates_a_missing_eoi_code():
    data = PAYLOADS["low entropy"][:5000]
    blob = lzw.encode(data)
    # EOI (257) is the last code: dropping the final bytes loses at most it.
    assert lzw.decode(blob[:-2])[: len(data) - 8] == data[: len(data) - 8]


@pytest.mark.parametrize("codec", [lzw, packbits], ids=["lzw", "packbits"])
def test_out_exact_size(codec):
    data = PAYLOADS["uint16 ramp"]
    blob = codec.encode(data)
    out = np.empty(len(data) // 2, np.uint16)
    assert codec.decode(blob, out=out) is out
    assert out.tobytes() == data
    for size in (len(data) - 1, len(data) + 1):
        with pytest.raises(oc.DecodeError):
            codec.decode(blob, out=bytearray(size))
    dest = bytearray(len(data) * 2)
    assert codec.decode(bytes(codec.encode(data, dest=dest))) == data


def test_hostile_lzw():
    valid = lzw.encode(PAYLOADS["low entropy"][:20_000])
    # Clear (256) then code 300: the first code after Clear must be a literal.
    bad_first = bytes([0x80, 0x4B, 0x00])
    check_decoders("lzw", valid, must_fail=("empty", "bad first code"),
                   extra=[("bad first code", bad_first)])


def test_hostile_packbits():
    valid = packbits.encode(PAYLOADS["runs"])
    check_decoders("packbits", valid, must_fail=("truncated literal", "truncated run"),
                   extra=[("truncated literal", b"\x05abc"), ("truncated run", b"\xfe")])


@pytest.mark.parametrize("codec", [lzw, packbits], ids=["lzw", "packbits"])
def test_threads_give_identical_results(codec):
    items = list(PAYLOADS.values()) * 4
    serial = [codec.encode(x) for x in items]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(codec.encode, items)) == serial
        assert list(pool.map(codec.decode, serial)) == items


def test_max_decoded_bytes_caps_lzw_growth():
    blob = lzw.encode(bytes(1 << 22))
    old = oc.config.max_decoded_bytes
    oc.config.max_decoded_bytes = 1 << 20
    try:
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            lzw.decode(blob)
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            packbits.decode(packbits.encode(bytes(1 << 22)))
    finally:
        oc.config.max_decoded_bytes = old
