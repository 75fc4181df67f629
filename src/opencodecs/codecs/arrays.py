"""Scientific / numerical-array codecs (spec table "Scientific / numerical-array
codecs"): ndarray in, self-describing bytes out.

Formats whose own stream records shape and dtype (b2nd, lerc, zfp with its
full header) are written as they are. For the others (aec, sz3, pcodec) the
stream is wrapped in this small versioned header, so `decode(blob)` rebuilds
the array with no side information:

    offset  size  field
    0       4     magic b"\\x89OCA"
    4       1     header version (1)
    5       4     codec tag, ASCII, NUL-padded (b"aec\\0", b"sz3\\0", b"pco\\0")
    9       4     numpy dtype string, ASCII, NUL-padded ("<u2", "<f4", "|u1")
    13      1     ndim (0..32)
    14      2     reserved, zero
    16      8*n   shape, uint64 little-endian, one per dimension
    16+8n   ...   the library's own stream

Blobs without the header are the library's raw stream: decode them by passing
`shape=` and `dtype=`, so data written by other tools decodes too.
"""

import struct

import numpy as np

from ..core.codec import Codec, check_decoded_size
from ..core.errors import DecodeError, EncodeError

MAGIC = b"\x89OCA"
VERSION = 1
MAX_NDIM = 32
_FIXED = struct.Struct("<4sB4s4sBH")  # magic, version, tag, dtype, ndim, reserved


def pack_header(tag: bytes, dtype, shape) -> bytes:
    """The header that makes a raw stream of an array of `dtype` and `shape` self-describing."""
    dtype = np.dtype(dtype)
    return _FIXED.pack(MAGIC, VERSION, tag, dtype.str.encode(), len(shape), 0) + \
        struct.pack(f"<{len(shape)}Q", *shape)


def has_header(head, tag: bytes) -> bool:
    return bytes(head[:9]) == MAGIC + bytes([VERSION]) + tag


def unpack_header(codec: str, buf, tag: bytes):
    """(dtype, shape, payload memoryview) of a headered blob; DecodeError if malformed."""
    view = memoryview(buf).cast("B")
    if view.nbytes < _FIXED.size:
        raise DecodeError(f"{codec}: {view.nbytes} bytes is too short for an opencodecs array header")
    magic, version, blob_tag, dtype, ndim, reserved = _FIXED.unpack_from(view)
    if magic != MAGIC or blob_tag != tag:
        raise DecodeError(f"{codec}: no opencodecs array header; pass shape= and dtype= "
                          f"to decode a raw {codec} stream")
    if version != VERSION:
        raise DecodeError(f"{codec}: array header version {version} is newer than this opencodecs reads")
    if ndim > MAX_NDIM or reserved:
        raise DecodeError(f"{codec}: corrupt array header (ndim {ndim})")
    end = _FIXED.size + 8 * ndim
    if view.nbytes < end:
        raise DecodeError(f"{codec}: truncated array header")
    try:
        dtype = np.dtype(dtype.rstrip(b"\0").decode("ascii"))
    except (TypeError, UnicodeDecodeError):
        raise DecodeError(f"{codec}: corrupt array header (dtype {dtype!r})") from None
    shape = struct.unpack_from(f"<{ndim}Q", view, _FIXED.size)
    check_decoded_size(codec, dtype, shape)
    return dtype, shape, view[end:]


def as_array(codec: str, data, supported) -> np.ndarray:
    """`data` as a C-contiguous ndarray of one of the `supported` dtypes, else EncodeError."""
    arr = np.ascontiguousarray(data)
    if arr.dtype not in supported:
        names = ", ".join(str(np.dtype(d)) for d in supported)
        raise EncodeError(f"{codec}: cannot encode {arr.dtype} data; supported dtypes: {names}")
    return arr


class ArrayCodec(Codec):
    """A codec whose unit is a typed n-dimensional array."""

    supported_dtypes: tuple = ()
