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
import operator
import struct
from functools import cached_property

import numpy as np

from ..core.codec import Codec, check_decoded_size
from ..core.errors import DecodeError, EncodeError
from ..core.registry import register
from .compression import check_level

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
    arr = np.asarray(data, order="C")  # keeps 0-d arrays 0-d, unlike ascontiguousarray
    if arr.dtype not in supported:
        names = ", ".join(str(np.dtype(d)) for d in supported)
        raise EncodeError(f"{codec}: cannot encode {arr.dtype} data; supported dtypes: {names}")
    return arr


def as_shape(codec: str, shape) -> tuple:
    """`shape` (an int, or a sequence of ints >= 0) as a tuple, else DecodeError."""
    try:
        dims = tuple(map(operator.index, shape if isinstance(shape, (tuple, list)) else (shape,)))
    except TypeError:
        raise DecodeError(f"{codec}: shape must be a tuple of integers, got {shape!r}") from None
    if len(dims) > MAX_NDIM or any(n < 0 for n in dims):
        raise DecodeError(f"{codec}: invalid shape {shape!r}")
    return dims


def blob_layout(codec: str, buf, tag: bytes, shape=None, dtype=None, out=None):
    """(dtype, shape, payload, headered) of a blob to decode, sizes checked.

    A blob with the header describes itself (shape= and dtype=, if given, must
    agree). A raw stream takes them from shape= and dtype=, else from an ndarray
    `out`; what is still unknown comes back None, for the codec's own stream to tell.
    """
    view = memoryview(buf).cast("B")
    if has_header(view, tag):
        hdtype, hshape, payload = unpack_header(codec, view, tag)
        if ((shape is not None and as_shape(codec, shape) != hshape)
                or (dtype is not None and np.dtype(dtype) != hdtype)):
            raise DecodeError(f"{codec}: the blob holds a {hdtype} array of shape {hshape}, "
                              f"not shape={shape!r} dtype={dtype!r}")
        return hdtype, hshape, payload, True
    if isinstance(out, np.ndarray):
        shape = out.shape if shape is None else shape
        dtype = out.dtype if dtype is None else dtype
    dtype = None if dtype is None else np.dtype(dtype)
    shape = None if shape is None else as_shape(codec, shape)
    if dtype is not None and shape is not None:
        check_decoded_size(codec, dtype, shape)
    return dtype, shape, view, False


def decode_target(codec: str, out, dtype, shape) -> np.ndarray:
    """Where to decode: a new array, or the caller's `out` (of exactly that many bytes)
    viewed as one."""
    if out is None:
        return np.empty(shape, dtype)
    try:
        view = memoryview(out).cast("B")
    except TypeError:
        raise DecodeError(f"{codec}: out must be a C-contiguous buffer") from None
    nbytes = check_decoded_size(codec, dtype, shape)
    if view.readonly or view.nbytes != nbytes:
        raise DecodeError(f"{codec}: data decodes to {nbytes} bytes, out is "
                          f"{'read-only' if view.readonly else f'{view.nbytes} bytes'}")
    return np.frombuffer(view, dtype).reshape(shape)


def join_blob(codec: str, out, *parts):
    """The `parts` (buffers) end to end: bytes, or written into the writable buffer `out`
    (a memoryview of the written part)."""
    if out is None:
        return b"".join(parts)
    view = memoryview(out).cast("B")
    end = 0
    for part in parts:
        part = memoryview(part).cast("B")
        if end + part.nbytes > view.nbytes:
            raise EncodeError(f"{codec}: output needs more than the {view.nbytes} bytes of dest")
        view[end:end + part.nbytes] = part
        end += part.nbytes
    return view[:end]


class ArrayCodec(Codec):
    """A codec whose unit is a typed n-dimensional array."""

    supported_dtypes: tuple = ()


def _int_in(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


class _HeaderedArrayCodec(ArrayCodec):
    """An array codec whose library stream goes inside the header above.

    `_tag` is its header tag; `_magic`, if any, starts the library's raw stream.
    """

    _tag: bytes = b""
    _magic: bytes = b""

    def signature(self, head):
        magic = self._magic
        return has_header(head, self._tag) or bool(magic) and head[:len(magic)] == magic

    def _raw_layout_error(self):
        return DecodeError(f"{self.name}: no opencodecs array header; pass shape= and dtype= "
                           f"to decode a raw {self.name} stream")


# libaec's flags (libaec.h). The dtype sets SIGNED and MSB; `flags=` picks the
# coding options: PREPROCESS, RESTRICTED, and on decode PAD_RSI (which libaec
# reads from some CCSDS sample data but says never to write).
_AEC_SIGNED, _AEC_MSB = 1, 4
_AEC_PREPROCESS, _AEC_RESTRICTED, _AEC_PAD_RSI = 8, 16, 32
_AEC_FLAG_NAMES = {_AEC_PREPROCESS: "DATA_PREPROCESS", _AEC_RESTRICTED: "RESTRICTED",
                   _AEC_PAD_RSI: "PAD_RSI"}
_AEC_PARAMS = struct.Struct("<BBHI")  # bits per sample, block size, rsi, flags
_AEC_LOWEST_BITS = {1: 1, 2: 9, 4: 17}  # libaec stores 1-8 bits in 1 byte, 9-16 in 2, 17-32 in 4


@register
class Aec(_HeaderedArrayCodec):
    """CCSDS 121.0-B-2 adaptive entropy coding (libaec) of integer arrays.

    libaec's stream records none of its coding parameters, so a blob is the
    array header, then 8 bytes of them (bits per sample u8, block size u8,
    reference sample interval u16, libaec flags u32; little-endian), then the
    stream. A raw stream (imagecodecs.aec_encode's output, say) decodes with
    shape=, dtype= and the parameters it was coded with (imagecodecs' defaults
    are block=8, rsi=2).

    Options: `bitspersample` (default: the dtype's width; fewer bits code
    smaller values, and every value must fit), `block` (8, 16, 32, 64 samples),
    `rsi` (blocks between reference samples, 1..4096), `flags` (DATA_PREPROCESS,
    RESTRICTED for at most 4 bits per sample, and on decode PAD_RSI; libaec's
    sample flags come from the dtype: signedness, and byte order for big-endian
    dtypes). The defaults, block=32 and rsi=128 with preprocessing, are what
    ecCodes writes in GRIB2; they code ~10-20% smaller than imagecodecs' block=8,
    rsi=2.
    """

    name = "aec"
    file_extensions = (".aec",)
    description = "CCSDS 121.0-B-2 adaptive entropy coding of integer arrays"
    library = "libaec"
    _native = "_aec"
    _tag = b"aec\0"
    supported_dtypes = tuple(map(np.dtype, ("u1", "i1", "<u2", "<i2", "<u4", "<i4",
                                            ">u2", ">i2", ">u4", ">i4")))
    DATA_PREPROCESS, RESTRICTED, PAD_RSI = _AEC_PREPROCESS, _AEC_RESTRICTED, _AEC_PAD_RSI

    def _encode(self, data, out, *, bitspersample=None, block=32, rsi=128,
                flags=_AEC_PREPROCESS):
        arr = as_array(self.name, data, self.supported_dtypes)
        params = self._params(EncodeError, arr.dtype, bitspersample, block, rsi, flags,
                              _AEC_PREPROCESS | _AEC_RESTRICTED)
        arr = self._narrow_signed(arr, params[0])
        prefix = pack_header(self._tag, arr.dtype, arr.shape) + _AEC_PARAMS.pack(*params)
        return self.native.encode(arr, *params, prefix, out)

    def _decode(self, buf, out, *, shape=None, dtype=None, bitspersample=None, block=None,
                rsi=None, flags=None):
        dtype, shape, payload, headered = blob_layout(self.name, buf, self._tag, shape, dtype, out)
        if dtype is None or shape is None:
            raise self._raw_layout_error()
        if dtype not in self.supported_dtypes:
            raise DecodeError(f"aec: cannot decode {dtype} samples")
        options = (bitspersample, block, rsi, flags)
        if headered:
            params, payload = self._recorded_params(dtype, payload, options)
        else:  # the encoder's defaults
            params = self._params(DecodeError, dtype, bitspersample,
                                  32 if block is None else block, 128 if rsi is None else rsi,
                                  _AEC_PREPROCESS if flags is None else flags,
                                  _AEC_PREPROCESS | _AEC_RESTRICTED | _AEC_PAD_RSI)
        self._check_expansion(payload.nbytes, dtype, shape, params[1])
        target = decode_target(self.name, out, dtype, shape)
        self.native.decode(payload, target, *params)
        bits, width = params[0], dtype.itemsize * 8
        if dtype.kind == "i" and bits < width and not params[3] & _AEC_PREPROCESS:
            # Without preprocessing libaec returns narrow signed samples as bit patterns.
            target <<= width - bits
            target >>= width - bits
        return target if out is None else out

    def _recorded_params(self, dtype, payload, options):
        """(params, stream) of a headered blob's payload."""
        if options != (None,) * 4:
            raise DecodeError("aec: the blob records its coding parameters; bitspersample=, "
                              "block=, rsi= and flags= are for raw streams")
        if payload.nbytes < _AEC_PARAMS.size:
            raise DecodeError("aec: truncated coding parameters")
        params = self._params(DecodeError, dtype, *_AEC_PARAMS.unpack_from(payload),
                              _AEC_PREPROCESS | _AEC_RESTRICTED)
        return params, payload[_AEC_PARAMS.size:]

    def _params(self, error, dtype, bits, block, rsi, flags, allowed):
        """libaec's (bits per sample, block size, rsi, flags) for `dtype`, checked;
        `allowed` are the coding flags `flags` may hold."""
        width = dtype.itemsize * 8
        lowest = _AEC_LOWEST_BITS[dtype.itemsize]
        bits = width if bits is None else bits
        if not _int_in(bits, lowest, width):
            raise error(f"aec: bitspersample must be an integer in {lowest}..{width} "
                        f"for {dtype}, got {bits!r}")
        if not _int_in(block, 8, 64) or block not in (8, 16, 32, 64):
            raise error(f"aec: block must be 8, 16, 32 or 64, got {block!r}")
        if not _int_in(rsi, 1, 4096):
            raise error(f"aec: rsi must be an integer in 1..4096, got {rsi!r}")
        if not _int_in(flags, 0, 0xFF) or flags & ~(allowed | _AEC_SIGNED | _AEC_MSB):
            names = ", ".join(f"{name} ({bit})" for bit, name in _AEC_FLAG_NAMES.items()
                              if allowed & bit)
            raise error(f"aec: flags may combine {names}, got {flags!r}")
        if flags & _AEC_RESTRICTED and bits > 4:
            raise error(f"aec: RESTRICTED is for at most 4 bits per sample, not {bits}")
        flags &= allowed
        flags |= _AEC_SIGNED if dtype.kind == "i" else 0
        flags |= _AEC_MSB if dtype.byteorder == ">" else 0
        return bits, block, rsi, flags

    def _narrow_signed(self, arr, bits):
        """`arr` as libaec reads samples narrower than their storage: values must fit
        (libaec codes others wrongly), and signed ones go in as `bits`-bit patterns."""
        if bits == arr.dtype.itemsize * 8 or arr.size == 0:
            return arr
        signed = arr.dtype.kind == "i"
        lo, hi = (-(1 << bits - 1), (1 << bits - 1) - 1) if signed else (0, (1 << bits) - 1)
        if arr.min() < lo or arr.max() > hi:
            raise EncodeError(f"aec: values outside {lo}..{hi} do not fit bitspersample={bits}")
        return (arr & (1 << bits) - 1).astype(arr.dtype, copy=False) if signed else arr

    def _check_expansion(self, n_in, dtype, shape, block):
        """DecodeError if `shape` is more than `n_in` stream bytes can code: a run of zero
        blocks takes at least 7 bits (ID, then ROS) per segment of 64 blocks."""
        nbytes = check_decoded_size(self.name, dtype, shape)
        if nbytes > (n_in * 8 // 7 + 1) * 64 * block * dtype.itemsize:
            raise DecodeError(f"aec: {nbytes} bytes of samples declared, more than "
                              f"{n_in} stream bytes can hold")


# mode: (pysz szErrorBoundMode value, szConfig attribute holding the bound)
_SZ3_MODES = {"abs": (0, "absErrorBound"), "rel": (1, "relErrorBound"),
              "psnr": (2, "psnrErrorBound"), "norm": (3, "l2normErrorBound")}
_SZ3_MAGIC = b"\x10\xf3\x42\xf3"
_SZ3_MAX_DIMS = 4


def _sz3_dims(shape) -> tuple:
    """The 1 to 4 dimensions SZ3 compresses an array of `shape` as: leading ones merged."""
    dims = list(shape) or [1]
    while len(dims) > _SZ3_MAX_DIMS:
        dims[:2] = [dims[0] * dims[1]]
    return tuple(dims)


def _version(word: int) -> str:
    return f"{word >> 24}.{word >> 16 & 0xFF}.{word >> 8 & 0xFF}"


@register
class Sz3(_HeaderedArrayCodec):
    """SZ3 error-bounded lossy compression of float arrays, through the official pysz binding.

    `error_bound` (required) means what `mode` says: "abs", |error| <= error_bound;
    "rel", |error| <= error_bound * (max - min); "psnr", a PSNR in dB; "norm", an
    L2 norm of the error. SZ3 calls the last two "expected" values: it turns them
    into an absolute bound it guarantees (range * 10**(-psnr/20) / sqrt(0.34), and
    error_bound * sqrt(3/n)) and meets the PSNR or norm itself on average, not always.

    A blob is the array header, then pysz's stream (SZ3's magic, data version,
    payload size, payload, configuration). Arrays of more than 4 dimensions are
    compressed with their leading dimensions merged. A raw stream decodes with
    shape= and dtype=. SZ3 streams are tied to SZ3's data version: imagecodecs
    2026.3.6 writes SZ3 3.3 streams, which the pysz of this release (SZ3 3.4)
    refuses, and the other way round.

    Bad input: pysz decodes with C++ code that is not hardened against hostile
    streams. Before calling it we check the header, the sizes, SZ3's magic and data
    version and the payload size; pysz itself checks the value count against the
    shape. A crafted payload can still reach SZ3's decoder, so a malicious .sz3
    file remains a risk that checked input does not remove.
    """

    name = "sz3"
    file_extensions = (".sz3",)
    description = "SZ3 error-bounded lossy compression of float arrays"
    library = "SZ3 (pysz)"
    _binding = "pysz"
    _tag = b"sz3\0"
    _magic = _SZ3_MAGIC
    supported_dtypes = (np.dtype("<f4"), np.dtype("<f8"))

    def _encode(self, data, out, *, mode="abs", error_bound=None):
        arr = as_array(self.name, data, self.supported_dtypes)
        if mode not in _SZ3_MODES:
            raise EncodeError(f"sz3: mode must be one of {', '.join(_SZ3_MODES)}, got {mode!r}")
        if error_bound is None:
            raise EncodeError(f"sz3: error_bound= is required (mode {mode!r})")
        if (isinstance(error_bound, bool) or not isinstance(error_bound, (int, float))
                or not 0 < error_bound < math.inf):
            raise EncodeError(f"sz3: error_bound must be a positive number, got {error_bound!r}")
        header = pack_header(self._tag, arr.dtype, arr.shape)
        if arr.size == 0:
            return join_blob(self.name, out, header)
        pysz = self.native
        config = pysz.szConfig()
        config.errorBoundMode, bound_attr = _SZ3_MODES[mode]
        setattr(config, bound_attr, float(error_bound))
        stream, _ = pysz.sz.compress(arr.reshape(_sz3_dims(arr.shape)), config)
        return join_blob(self.name, out, header, stream)

    def _decode(self, buf, out, *, shape=None, dtype=None):
        dtype, shape, payload, _ = blob_layout(self.name, buf, self._tag, shape, dtype, out)
        if dtype is None or shape is None:
            raise self._raw_layout_error()
        if dtype not in self.supported_dtypes:
            raise DecodeError(f"sz3: cannot decode {dtype} data; SZ3 streams hold "
                              "float32 or float64")
        target = decode_target(self.name, out, dtype, shape)
        if target.size == 0:
            return target if out is None else out
        self._check_stream(payload)
        decompress = self.native.sz.decompress
        try:
            values, _ = decompress(np.frombuffer(payload, np.uint8), dtype, _sz3_dims(shape))
        except Exception as e:  # pysz maps SZ3's C++ exceptions to many Python types
            raise DecodeError(f"sz3: corrupt stream ({type(e).__name__}: {e})") from None
        if out is None:
            return values.reshape(shape)
        target[...] = values.reshape(shape)
        return out

    def _check_stream(self, payload):
        """DecodeError unless `payload` starts like a stream pysz's SZ3 version reads."""
        readable = f"pysz reads SZ3 data version {_version(self._data_version)} only"
        if bytes(payload[1:5]) == _SZ3_MAGIC:  # older SZ3: a size byte, then the configuration
            version = int.from_bytes(payload[5:9], "little")
            raise DecodeError(f"sz3: stream in the older SZ3 layout (configuration first, data "
                              f"version {_version(version)}, as imagecodecs writes); {readable}")
        if payload.nbytes < 16 or bytes(payload[:4]) != _SZ3_MAGIC:
            raise DecodeError("sz3: not an SZ3 stream (no SZ3 magic number)")
        version = int.from_bytes(payload[4:8], "little")
        if version != self._data_version:
            raise DecodeError(f"sz3: stream has SZ3 data version {_version(version)}; {readable}")
        if int.from_bytes(payload[8:16], "little") > payload.nbytes - 16:
            raise DecodeError("sz3: truncated stream")

    @cached_property
    def _data_version(self) -> int:
        """The SZ3 data version pysz writes (and reads), from a one-value stream."""
        pysz = self.native
        config = pysz.szConfig()
        config.absErrorBound = 1.0
        stream, _ = pysz.sz.compress(np.zeros(1, np.float32), config)
        return int.from_bytes(bytes(stream[4:8]), "little")


# A standalone .pco file: b"pco!", its version (2+: a count of numbers, 3+: a
# number type byte before it), the wrapped format version, then chunks that each
# start with their number type byte and a 24-bit count; a 0 byte ends the file.
_PCO_MAGIC = b"pco!"
_PCO_TYPES = {1: "<u4", 2: "<u8", 3: "<i4", 4: "<i8", 5: "<f4", 6: "<f8", 7: "<u2", 8: "<i2",
              9: "<f2", 10: "u1", 11: "i1"}  # pco's NumberType bytes
_PCO_MAX_CHUNK = 1 << 24  # numbers in a chunk
_PCO_MIN_CHUNK_BYTES = 5  # type byte, count, at least a byte of metadata


def _pco_declared(stream):
    """(dtype, count) that a standalone .pco file declares; None where it does not."""
    head = bytes(stream[:32])
    if head[:4] != _PCO_MAGIC:
        raise DecodeError("pcodec: not a pcodec standalone file (no 'pco!' magic)")
    if len(head) < 6:
        raise DecodeError("pcodec: truncated file header")
    version = head[4]
    if version < 2:  # pcodec 0.x: no count, no number type
        return None, None
    pos = 6 if version >= 3 else 5
    uniform = head[5] if version >= 3 else 0
    # The count is a varint: 6 bits giving its bit length - 1, then the bits (LSB first).
    bits = int.from_bytes(head[pos:pos + 9], "little")
    length = (bits & 63) + 1
    count = bits >> 6 & (1 << length) - 1
    pos += (6 + length + 7) // 8
    pos += 2 if pos < len(head) and head[pos] >= 4 else 1  # format version (4+: major, minor)
    if pos >= len(head):
        raise DecodeError("pcodec: truncated file header")
    first_chunk = head[pos]
    number_type = uniform or first_chunk
    if number_type and number_type not in _PCO_TYPES:
        raise DecodeError(f"pcodec: unknown number type {number_type}")
    dtype = np.dtype(_PCO_TYPES[number_type]) if number_type else None
    return dtype, count if count or not first_chunk else None


@register
class Pcodec(_HeaderedArrayCodec):
    """Pcodec lossless compression of numerical arrays, through the official pcodec binding.

    A blob is the array header, then a standalone .pco file (which records the
    number type and count, not the shape). Raw .pco files (from pcodec or
    imagecodecs.pcodec_encode) decode as they are, 1-D, or with shape=; dtype=
    only where the file records no number type. `level`: pcodec's 0..12.
    """

    name = "pcodec"
    aliases = ("pco",)
    file_extensions = (".pco",)
    description = "Pcodec lossless compression of numerical arrays"
    library = "pcodec"
    _binding = "pcodec"
    _tag = b"pco\0"
    _magic = _PCO_MAGIC
    supported_dtypes = tuple(map(np.dtype, ("u1", "i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8",
                                            "<f2", "<f4", "<f8")))

    def _encode(self, data, out, *, level=8):
        arr = as_array(self.name, data, self.supported_dtypes)
        level = check_level(self.name, level, 0, 12)
        pcodec = self.native
        # 8-bit types are opt-in: pcodec finds little to gain in them, but they work.
        config = pcodec.ChunkConfig(compression_level=level, enable_8_bit=True)
        stream = pcodec.standalone.simple_compress(arr.reshape(-1), config)
        return join_blob(self.name, out, pack_header(self._tag, arr.dtype, arr.shape), stream)

    def _decode(self, buf, out, *, shape=None, dtype=None):
        # The file's own number type and count come before `out`'s dtype and shape.
        dtype, shape, payload, _ = blob_layout(self.name, buf, self._tag, shape, dtype)
        stream_dtype, declared = _pco_declared(payload)
        if dtype is None:
            dtype = stream_dtype
        elif stream_dtype is not None and dtype != stream_dtype:
            raise DecodeError(f"pcodec: the file holds {stream_dtype} numbers, not {dtype}")
        if shape is None and declared is not None:
            shape = (declared,)
        if dtype is None:
            raise DecodeError("pcodec: the file records no number type; pass dtype=")
        if shape is None:
            raise DecodeError("pcodec: the file records no count of numbers; pass shape=")
        if dtype not in self.supported_dtypes:
            raise DecodeError(f"pcodec: cannot decode {dtype} numbers")
        count = check_decoded_size(self.name, dtype, shape) // dtype.itemsize
        if declared is not None and declared != count:
            raise DecodeError(f"pcodec: the file declares {declared} numbers, "
                              f"shape {shape} holds {count}")
        if count > payload.nbytes // _PCO_MIN_CHUNK_BYTES * _PCO_MAX_CHUNK:
            raise DecodeError(f"pcodec: {count} numbers declared, more than "
                              f"{payload.nbytes} bytes can hold")
        target = decode_target(self.name, out, dtype, shape)
        decompress_into = self.native.standalone.simple_decompress_into
        # The binding takes bytes only: a raw file given as bytes goes in uncopied.
        stream = buf if type(buf) is bytes and payload.nbytes == len(buf) else bytes(payload)
        try:
            progress = decompress_into(stream, target.reshape(-1))
        except (RuntimeError, ValueError, TypeError) as e:
            raise DecodeError(f"pcodec: {e}") from None
        if not progress.finished:
            raise DecodeError(f"pcodec: the file holds more than {count} numbers")
        if progress.n_processed != count:
            raise DecodeError(f"pcodec: the file holds {progress.n_processed} numbers, not {count}")
        return target if out is None else out
