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

from ..core.codec import Codec, check_decoded_size, decode_target, numthreads_or_default
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
        target = decode_target(self.name, out, dtype, shape)
        self.native.b2nd_decode(buf, target, shape, header_len, cbytes, nchunks, chunksize,
                                numthreads_or_default(numthreads), config.max_decoded_bytes)
        return target if out is None else out


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
        target = decode_target(self.name, out, dtype, _lerc_shape(bands, rows, cols, depth))
        native.decode(buf, target, data_type, depth, cols, rows, bands, masks, uses_nodata)
        return target if out is None else out


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
        target = decode_target(self.name, out, dtype, shape)
        self.native.decode(buf, target, dtype, tuple(shape), full_header)
        return target if out is None else out
