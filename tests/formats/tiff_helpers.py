"""Shared by the TIFF reader tests: files made by tifffile in memory, data
that looks like images, and byte surgery on a file's tags for bad input."""

import io
import struct

import numpy as np
import tifffile

import opencodecs as oc


def tiff_bytes(data=None, **options) -> bytes:
    """`data` written by tifffile.imwrite into bytes."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, data, **options)
    return buf.getvalue()


def image(shape, dtype, seed=0) -> np.ndarray:
    """Smooth gradients plus noise, spanning much of the dtype's range."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1])).astype(np.float64)
    ramp = ramp.reshape(ramp.shape + (1,) * (len(shape) - 2)) * np.ones(shape)
    ramp = ramp / max(ramp.max(), 1) + rng.normal(0, 0.05, shape)
    if dtype == bool:
        return ramp > 0.5
    if dtype.kind == "f":
        return ((ramp - 0.5) * 1000).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -(1 << 40)), min(info.max, 1 << 40)
    return np.clip(lo + ramp * (hi - lo), lo, hi).astype(dtype)


def assert_same_as_tifffile(blob: bytes, **read_options):
    """Our reading of `blob` equals tifffile.imread's, in shape, dtype and values."""
    expected = tifffile.imread(io.BytesIO(blob))
    got = oc.read(blob, format="tiff", **read_options)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)
    return got


def tag_info(blob: bytes, page: int, name: str) -> tuple:
    """(entry offset, value offset, count, byte order) of a tag of page `page`."""
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        tag = tif.pages[page].tags[name]
        return tag.offset, tag.valueoffset, tag.count, tif.byteorder


def patch_value(blob: bytes, page: int, name: str, value: int, index: int = 0) -> bytes:
    """`blob` with element `index` of a SHORT/LONG/LONG8 tag set to `value`."""
    entry, value_offset, _, byteorder = tag_info(blob, page, name)
    field_type = struct.unpack_from(byteorder + "H", blob, entry + 2)[0]
    fmt = {3: "H", 4: "I", 16: "Q"}[field_type]
    out = bytearray(blob)
    struct.pack_into(byteorder + fmt, out, value_offset + index * struct.calcsize(fmt), value)
    return bytes(out)


def ifd_offsets(blob: bytes) -> list:
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        return [p.offset for p in tif.pages]


def patch_next_ifd(blob: bytes, page: int, target: int) -> bytes:
    """`blob` with page `page`'s next-IFD pointer (classic TIFF) set to `target`."""
    offset = ifd_offsets(blob)[page]
    byteorder = "<" if blob[:2] == b"II" else ">"
    count = struct.unpack_from(byteorder + "H", blob, offset)[0]
    out = bytearray(blob)
    struct.pack_into(byteorder + "I", out, offset + 2 + 12 * count, target)
    return bytes(out)
