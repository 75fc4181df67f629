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

import math
import struct

import numpy as np

from ..core.codec import Codec, numthreads_or_default
from ..core.config import config
from ..core.errors import DecodeError, EncodeError
from ..core.registry import register
from .compression import _check_choice, check_int, check_level

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


def check_decoded_size(codec: str, dtype, shape) -> int:
    """Bytes an array of `shape` and `dtype` takes; DecodeError past max_decoded_bytes."""
    nbytes = np.dtype(dtype).itemsize
    for n in shape:
        nbytes *= int(n)  # Python ints: no overflow on lying shapes
    if nbytes > config.max_decoded_bytes:
        raise DecodeError(f"{codec}: array of shape {tuple(shape)} and dtype {dtype} needs "
                          f"{nbytes} bytes, over max_decoded_bytes={config.max_decoded_bytes}")
    return nbytes


def as_array(codec: str, data, supported) -> np.ndarray:
    """`data` as a C-contiguous ndarray of one of the `supported` dtypes, else EncodeError."""
    arr = np.asarray(data, order="C")  # unlike ascontiguousarray, keeps 0-d arrays 0-d
    if arr.dtype not in supported:
        names = ", ".join(str(np.dtype(d)) for d in supported)
        raise EncodeError(f"{codec}: cannot encode {arr.dtype} data; supported dtypes: {names}")
    return arr


def output_array(codec: str, out, dtype, shape):
    """Where to decode an array of `dtype` and `shape`: a new array, or the caller's
    `out` once it is a writable C-contiguous buffer of exactly that many bytes."""
    nbytes = check_decoded_size(codec, dtype, shape)
    if out is None:
        return np.empty(shape, dtype)
    try:
        view = memoryview(out)
    except TypeError:
        raise DecodeError(f"{codec}: out must be a writable buffer, "
                          f"not {type(out).__name__}") from None
    if view.readonly or not view.c_contiguous:
        raise DecodeError(f"{codec}: out must be a writable C-contiguous buffer")
    if view.nbytes != nbytes:
        raise DecodeError(f"{codec}: the array has {nbytes} bytes "
                          f"({np.dtype(dtype)} {tuple(shape)}), out has {view.nbytes}")
    return out


class ArrayCodec(Codec):
    """A codec whose unit is a typed n-dimensional array."""

    supported_dtypes: tuple = ()


# b2nd ----------------------------------------------------------------------

# Every plain numeric dtype, native byte order.
_NUMERIC = tuple(np.dtype(t) for t in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128"))

# Default partition, in bytes: chunks are the unit of the frame's index,
# blocks the unit blosc2 compresses and spreads over threads.
_B2ND_CHUNK_BYTES = 4 << 20
_B2ND_BLOCK_BYTES = 256 << 10

# A contiguous frame (README_CFRAME_FORMAT in C-Blosc2): msgpack header with
# big-endian fields at fixed offsets, then the metalayers, chunks, chunk
# index and trailer.
_FRAME_MAGIC = b"b2frame\0"
_FRAME_FIXED = 87       # bytes before the metalayers
_FRAME_TRAILER_MIN = 25
_FRAME_FIELDS = {       # name: (offset, format)
    "header_len": (11, ">i"), "frame_len": (16, ">Q"), "nbytes": (30, ">q"),
    "cbytes": (39, ">q"), "typesize": (48, ">i"), "chunksize": (58, ">i")}


def _partition(maxshape, nitems: int) -> tuple:
    """At most `nitems` items of `maxshape`, whole trailing dimensions first, so
    that each part is one contiguous run of the C-order array where possible."""
    part = []
    for size in reversed(maxshape):
        n = max(1, min(size, nitems))
        part.append(n)
        nitems = max(1, nitems // n)
    return tuple(reversed(part))


def _check_dims(option: str, dims, shape) -> tuple:
    if not isinstance(dims, (tuple, list)) or len(dims) != len(shape) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d < 2**31 for d in dims):
        raise EncodeError(f"b2nd: {option} must be {len(shape)} positive integers, got {dims!r}")
    return tuple(dims)


def _b2nd_layout(shape, itemsize, chunks, blocks, max_chunksize, max_blocksize):
    """(chunks, blocks) checked, or chosen when None."""
    if chunks is None:
        chunks = _partition(shape, _B2ND_CHUNK_BYTES // itemsize)
    chunks = _check_dims("chunks", chunks, shape)
    if blocks is None:
        blocks = _partition(chunks, _B2ND_BLOCK_BYTES // itemsize)
    blocks = _check_dims("blocks", blocks, shape)
    if any(b > c for b, c in zip(blocks, chunks)):
        raise EncodeError(f"b2nd: blocks {blocks} must fit in chunks {chunks}")
    if math.prod(chunks) * itemsize > max_chunksize:
        raise EncodeError(f"b2nd: chunks {chunks} exceed blosc2's {max_chunksize}-byte chunk limit")
    if math.prod(blocks) * itemsize > max_blocksize:
        raise EncodeError(f"b2nd: blocks {blocks} exceed blosc2's {max_blocksize}-byte block limit")
    return chunks, blocks


def _msgpack_ints(meta, pos: int, count: int, marker: int, fmt: str):
    """`count` integers of a msgpack fixarray at `pos`, each `marker` + `fmt`; and the next pos.
    (C-Blosc2 writes 0x90 + count even for 16 dimensions, past fixarray's range.)"""
    if meta[pos] != 0x90 + count:
        raise DecodeError("b2nd: corrupt b2nd metalayer")
    size = struct.calcsize(fmt)
    values = []
    for i in range(count):
        at = pos + 1 + i * (1 + size)
        if meta[at] != marker:
            raise DecodeError("b2nd: corrupt b2nd metalayer")
        values.append(struct.unpack_from(fmt, meta, at + 1)[0])
    return tuple(values), pos + 1 + count * (1 + size)


def _metalayer(header, name: bytes):
    """The content of the metalayer `name` in a frame header (msgpack map of names
    to the offsets of bin32 values)."""
    pos = _FRAME_FIXED
    if header[pos] != 0x93 or header[pos + 1] != 0xCD or header[pos + 4] != 0xDE:
        raise DecodeError("b2nd: corrupt metalayer index")
    count = struct.unpack_from(">H", header, pos + 5)[0]
    pos += 7
    for _ in range(count):
        if header[pos] & 0xE0 != 0xA0:  # fixstr
            raise DecodeError("b2nd: corrupt metalayer index")
        key = bytes(header[pos + 1:pos + 1 + (header[pos] & 0x1F)])
        pos += 1 + len(key)
        if header[pos] != 0xD2:
            raise DecodeError("b2nd: corrupt metalayer index")
        offset = struct.unpack_from(">i", header, pos + 1)[0]
        pos += 5
        if key == name:
            if offset < 0 or header[offset] != 0xC6:
                raise DecodeError("b2nd: corrupt metalayer index")
            length = struct.unpack_from(">I", header, offset + 1)[0]
            if offset + 5 + length > len(header):
                raise DecodeError(f"b2nd: {name.decode()} metalayer overruns the header")
            return header[offset + 5:offset + 5 + length]
    raise DecodeError(f"b2nd: Blosc2 frame without a {name.decode()} metalayer")


def _b2nd_meta(meta):
    """(shape, chunks, blocks, dtype string) of a b2nd metalayer: the msgpack array
    [version, ndim, shape, chunkshape, blockshape, dtype_format, dtype]."""
    if meta[0] != 0x97:
        raise DecodeError("b2nd: b2nd metalayer without a dtype")
    ndim = meta[2]
    if ndim > 16:
        raise DecodeError(f"b2nd: b2nd metalayer declares {ndim} dimensions")
    shape, pos = _msgpack_ints(meta, 3, ndim, 0xD3, ">q")
    chunks, pos = _msgpack_ints(meta, pos, ndim, 0xD2, ">i")
    blocks, pos = _msgpack_ints(meta, pos, ndim, 0xD2, ">i")
    if meta[pos] != 0 or meta[pos + 1] != 0xDB:
        raise DecodeError(f"b2nd: unsupported dtype format {meta[pos]}")
    length = struct.unpack_from(">I", meta, pos + 2)[0]
    if pos + 6 + length > len(meta):
        raise DecodeError("b2nd: corrupt b2nd metalayer")
    return shape, chunks, blocks, bytes(meta[pos + 6:pos + 6 + length])


def _b2nd_dtype(name: bytes, typesize: int) -> np.dtype:
    """The numpy dtype a metalayer names: a plain one (no objects, fields or
    subarrays, which would not describe the frame's bytes) of the frame's item size."""
    try:
        dtype = np.dtype(name.decode("ascii"))
    except (TypeError, ValueError, SyntaxError, UnicodeDecodeError):
        raise DecodeError(f"b2nd: unsupported dtype {name[:40]!r}") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise DecodeError(f"b2nd: unsupported dtype {dtype}")
    if dtype.itemsize != typesize:
        raise DecodeError(f"b2nd: dtype {dtype} does not match the frame's {typesize}-byte items")
    return dtype


def _read_b2nd_frame(buf):
    """(dtype, shape, header_len, cbytes, nchunks, chunksize) of a b2nd cframe,
    once its header fields and b2nd metalayer agree with each other."""
    view = memoryview(buf).cast("B")
    if view.nbytes < _FRAME_FIXED + _FRAME_TRAILER_MIN or view[2:10] != _FRAME_MAGIC:
        raise DecodeError("b2nd: not a Blosc2 contiguous frame")
    f = {name: struct.unpack_from(fmt, view, at)[0] for name, (at, fmt) in _FRAME_FIELDS.items()}
    if f["frame_len"] != view.nbytes:
        raise DecodeError(f"b2nd: frame declares {f['frame_len']} bytes, holds {view.nbytes}")
    if view[26] & 0x0F != 0:
        raise DecodeError("b2nd: not a contiguous frame")
    if not _FRAME_FIXED < f["header_len"] <= view.nbytes - _FRAME_TRAILER_MIN:
        raise DecodeError(f"b2nd: invalid frame header length {f['header_len']}")
    try:
        header = view[:f["header_len"]]
        shape, chunks, blocks, dtype = _b2nd_meta(_metalayer(header, b"b2nd"))
    except (IndexError, struct.error):
        raise DecodeError("b2nd: truncated frame header") from None
    dtype = _b2nd_dtype(dtype, f["typesize"])
    nitems = math.prod(shape)
    if any(n < 0 or not 0 <= b <= c or (n and not b) for n, c, b in zip(shape, chunks, blocks)):
        raise DecodeError(f"b2nd: invalid layout: shape {shape}, chunks {chunks}, blocks {blocks}")
    check_decoded_size("b2nd", dtype, shape)
    nchunks = math.prod(-(-n // c) for n, c in zip(shape, chunks)) if nitems else 0
    # Chunks are padded to whole blocks.
    chunksize = math.prod(-(-c // b) * b if b else c for c, b in zip(chunks, blocks)) * dtype.itemsize
    if f["chunksize"] != chunksize or f["nbytes"] != nchunks * chunksize:
        raise DecodeError("b2nd: frame sizes do not match the b2nd metalayer")
    if chunksize > config.max_decoded_bytes:
        raise DecodeError(f"b2nd: {chunksize}-byte chunks, over max_decoded_bytes="
                          f"{config.max_decoded_bytes}")
    return dtype, shape, f["header_len"], f["cbytes"], nchunks, chunksize


@register
class B2nd(ArrayCodec):
    """C-Blosc2 NDim arrays as contiguous frames (what python-blosc2's
    `NDArray.to_cframe()` writes): shape and dtype in the b2nd metalayer.

    Defaults follow python-blosc2 (zstd level 5, byte shuffle); chunks and
    blocks, when not given, are C-order slabs of about 4 MiB and 256 KiB.
    Frames whose chunks use plugin codecs, or hold uninitialised data, are
    refused.
    """

    name = "b2nd"
    file_extensions = (".b2nd",)
    description = "C-Blosc2 NDim arrays (b2nd contiguous frames)"
    library = "C-Blosc2"
    _native = "_blosc2"
    supported_dtypes = _NUMERIC

    def signature(self, head):
        # The frame magic, and where the head reaches that far, the b2nd key in
        # the metalayer index after the fixed header (plain super-chunk frames
        # have none).
        head = bytes(head[:256])
        key_end = _FRAME_FIXED + 12  # index markers, then the first key
        return head[2:10] == _FRAME_MAGIC and (
            len(head) < key_end or b"\xa4b2nd\xd2" in head[_FRAME_FIXED:])

    def _encode(self, data, out, *, level=5, compressor="zstd", shuffle="shuffle",
                chunks=None, blocks=None, numthreads=None):
        native = self.native
        arr = as_array(self.name, data, self.supported_dtypes)
        if arr.ndim > native.B2ND_MAX_NDIM:
            raise EncodeError(f"b2nd: {arr.ndim} dimensions, at most {native.B2ND_MAX_NDIM}")
        level = check_level(self.name, level, 0, 9)
        compcode = _check_choice(self.name, "compressor", compressor, native.COMPRESSORS)
        shuffle = _check_choice(self.name, "shuffle", shuffle, native.SHUFFLES)
        chunks, blocks = _b2nd_layout(arr.shape, arr.itemsize, chunks, blocks,
                                      native.MAX_CHUNKSIZE, native.MAX_BLOCKSIZE)
        n = numthreads_or_default(numthreads) if arr.nbytes >= 1 << 20 else 1
        return native.b2nd_encode(arr, arr.shape, chunks, blocks, arr.dtype.str.encode(),
                                  arr.itemsize, level, compcode, shuffle, n, out)

    def _decode(self, buf, out, *, numthreads=None):
        dtype, shape, header_len, cbytes, nchunks, chunksize = _read_b2nd_frame(buf)
        out = output_array(self.name, out, dtype, shape)
        return self.native.b2nd_decode(buf, out, shape, header_len, cbytes, nchunks, chunksize,
                                       numthreads_or_default(numthreads), config.max_decoded_bytes)


# lerc ----------------------------------------------------------------------

# LERC's data types, by their number in the C API.
_LERC_DTYPES = tuple(np.dtype(t) for t in (
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "float32", "float64"))


def _lerc_geometry(shape, planar: bool) -> tuple:
    """(nBands, nRows, nCols, nDepth) of an array, mapped as imagecodecs maps it."""
    if len(shape) == 1:
        geometry = (1, 1, shape[0], 1)
    elif len(shape) == 2:
        geometry = (1, *shape, 1)
    elif len(shape) == 3:
        geometry = (*shape, 1) if planar else (1, *shape)
    elif len(shape) == 4:
        geometry = tuple(shape)
    else:
        raise EncodeError(f"lerc: cannot encode {len(shape)}-D arrays; 1-D to 4-D are supported")
    if not all(0 < n < 2**31 for n in geometry):
        raise EncodeError(f"lerc: cannot encode an array of shape {tuple(shape)}")
    return geometry


def _has_partial_nan(arr) -> bool:
    """True if some pixel (last axis) has NaN among valid values."""
    if not np.isnan(arr).any():  # the common case: one pass
        return False
    nan = np.isnan(arr)
    return bool((nan.any(axis=-1) != nan.all(axis=-1)).any())


def _lerc_shape(bands: int, rows: int, cols: int, depth: int) -> tuple:
    """The array shape of a blob's geometry (imagecodecs' and pylerc's choice)."""
    return (*((bands,) if bands > 1 else ()), rows, cols, *((depth,) if depth > 1 else ()))


@register
class Lerc(ArrayCodec):
    """LERC (Esri's Limited Error Raster Compression) blobs, Lerc2 as liblerc writes them.

    Arrays map to LERC as imagecodecs maps them: (cols,), (rows, cols),
    (rows, cols, values per pixel) or with `planar=True` (bands, rows, cols),
    and (bands, rows, cols, values per pixel); blobs decode to (rows, cols)
    with the bands and values-per-pixel axes only where there are more than
    one (so a 1-D array comes back as one row). `max_z_error=0` is lossless;
    above, every value is within max_z_error of the input. `version` is the
    Lerc2 codec version written: 4 (imagecodecs' default, readable by older
    LERC decoders) up to 6, whose lossless float coding packs noisy floats
    tighter but encodes and decodes several times slower. Pixels a blob's
    masks mark invalid decode as NaN in floating-point data (LERC moves NaN
    to the masks, so NaN survives) and as 0 in integer data; the masks are
    not returned.
    """

    name = "lerc"
    file_extensions = (".lerc",)
    description = "LERC (Limited Error Raster Compression) blobs"
    library = "liblerc"
    _native = "_lerc"
    supported_dtypes = _LERC_DTYPES

    def signature(self, head):
        return bytes(head[:6]) == b"Lerc2 "

    def _encode(self, data, out, *, max_z_error=0.0, planar=False, version=4):
        arr = as_array(self.name, data, self.supported_dtypes)
        bands, rows, cols, depth = _lerc_geometry(arr.shape, planar)
        if (isinstance(max_z_error, bool) or not isinstance(max_z_error, (int, float))
                or not 0 <= max_z_error < math.inf):
            raise EncodeError(f"lerc: max_z_error must be a finite number >= 0, got {max_z_error!r}")
        version = check_int(self.name, "version", version, 2, 6)
        if depth > 1 and arr.dtype.kind == "f" and _has_partial_nan(arr):
            # LERC puts all-NaN pixels in its masks; before version 6 it would
            # silently turn a NaN beside valid values into -FLT_MAX.
            raise EncodeError("lerc: NaN in some but not all values of a pixel")
        return self.native.encode(arr, _LERC_DTYPES.index(arr.dtype), depth, cols, rows, bands,
                                  float(max_z_error), version, out)

    def _decode(self, buf, out):
        native = self.native
        data_type, depth, cols, rows, bands, masks, _, uses_nodata = native.blob_info(buf)
        if data_type >= len(_LERC_DTYPES):
            raise DecodeError(f"lerc: unknown data type {data_type}")
        dtype = _LERC_DTYPES[data_type]
        out = output_array(self.name, out, dtype, _lerc_shape(bands, rows, cols, depth))
        return native.decode(buf, out, data_type, depth, cols, rows, bands, masks, uses_nodata)


# zfp -----------------------------------------------------------------------

_ZFP_DTYPES = tuple(np.dtype(t) for t in ("float32", "float64", "int32", "int64"))
_ZFP_MODES = ("reversible", "rate", "precision", "accuracy")  # numbered as in _zfp


def _zfp_mode(mode, rate, precision, accuracy, dtype) -> tuple:
    """(mode number, its parameter) from the options; EncodeError if they do not fit."""
    if mode not in _ZFP_MODES:
        raise EncodeError(f"zfp: mode must be one of {', '.join(_ZFP_MODES)}, got {mode!r}")
    given = {"rate": rate, "precision": precision, "accuracy": accuracy}
    stray = [k for k, v in given.items() if v is not None and k != mode]
    if stray:
        raise EncodeError(f"zfp: {', '.join(stray)} given for mode={mode!r}")
    if mode == "reversible":
        return 0, 0.0
    value = given[mode]
    if mode == "precision":
        return 2, float(check_int("zfp", "precision", value, 1, 64))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise EncodeError(f"zfp: {mode} must be a positive number, got {value!r}")
    if mode == "accuracy" and dtype.kind != "f":
        raise EncodeError("zfp: accuracy mode needs floating-point data")
    return _ZFP_MODES.index(mode), float(value)


@register
class Zfp(ArrayCodec):
    """zfp streams with a full header (magic, field type and shape, mode), as
    imagecodecs.zfp_encode and zfpy.compress_numpy write them.

    Modes: "reversible" (lossless, the default), "rate" (`rate=` bits per
    value), "precision" (`precision=` bit planes), "accuracy" (`accuracy=`,
    max |error|, floating-point data only). `numthreads` is for encoding
    only (zfp has no parallel decoder), through OpenMP where libzfp has it
    and it pays off (64-bit stream words; Debian's libzfp uses 8-bit words
    and stays serial). Streams with a short header (imagecodecs'
    header=False) decode with `shape=` and `dtype=`.
    """

    name = "zfp"
    file_extensions = (".zfp",)
    description = "zfp compressed floating-point and integer arrays"
    library = "libzfp"
    _native = "_zfp"
    supported_dtypes = _ZFP_DTYPES

    def signature(self, head):
        return bytes(head[:3]) == b"zfp"

    def _encode(self, data, out, *, mode="reversible", rate=None, precision=None,
                accuracy=None, numthreads=None):
        arr = as_array(self.name, data, self.supported_dtypes)
        if not 1 <= arr.ndim <= 4 or arr.size == 0:
            raise EncodeError(f"zfp: cannot encode an array of shape {arr.shape}; "
                              "1-D to 4-D, not empty")
        mode, value = _zfp_mode(mode, rate, precision, accuracy, arr.dtype)
        n = numthreads_or_default(numthreads) if arr.nbytes >= 1 << 20 else 1
        return self.native.encode(arr, arr.dtype.str, arr.shape, mode, value, n, out)

    def _decode(self, buf, out, *, shape=None, dtype=None):
        if (shape is None) != (dtype is None):
            raise DecodeError("zfp: pass both shape= and dtype= for a stream without a full header")
        full_header = shape is None
        header_dtype, header_shape, minbits = self.native.read_header(buf, full_header)
        if full_header:
            dtype, shape = header_dtype, header_shape
        else:
            shape = tuple(int(n) for n in shape)
            dtype = np.dtype(dtype)
            if dtype not in _ZFP_DTYPES or not 1 <= len(shape) <= 4 or min(shape) < 1:
                raise DecodeError(f"zfp: cannot decode {dtype} arrays of shape {shape}")
            dtype = dtype.str
        # Every block takes at least one bit (minbits if more): a stream
        # cannot declare more blocks than that, however well they compress.
        blocks = math.prod(-(-n // 4) for n in shape)
        if blocks * max(minbits, 1) > 8 * memoryview(buf).nbytes:
            raise DecodeError(f"zfp: {memoryview(buf).nbytes} bytes cannot hold the {blocks} "
                              f"blocks of a {tuple(shape)} field")
        out = output_array(self.name, out, dtype, shape)
        return self.native.decode(buf, out, dtype, tuple(shape), full_header)
