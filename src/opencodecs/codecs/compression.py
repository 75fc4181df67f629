"""Byte-stream compressors and filters (spec table "Compression"): bytes in, bytes out."""

import numpy as np

from ..core.codec import Codec, import_native, numthreads_or_default
from ..core.config import config
from ..core.errors import DecodeError, EncodeError
from ..core.io import copy_into
from ..core.registry import register

# Inputs smaller than this compress on one thread: worker start-up costs more
# than it saves, and one-thread output stays byte-identical to the reference.
_MT_MIN_BYTES = 1 << 20


def _nbytes(data) -> int:
    return memoryview(data).nbytes


def check_int(codec: str, option: str, value, lo: int, hi: int) -> int:
    """`value` if it is an integer in lo..hi, else EncodeError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise EncodeError(f"{codec}: {option} must be an integer in {lo}..{hi}, got {value!r}")
    return value


def check_level(codec: str, level, lo: int, hi: int) -> int:
    return check_int(codec, "level", level, lo, hi)


class Compressor(Codec):
    """A byte-stream codec: any buffer in, bytes out (or into `out`)."""

    supported_dtypes = ("bytes",)

    def _decode(self, buf, out):
        return self.native.decode(buf, out, config.max_decoded_bytes)


@register
class Zstd(Compressor):
    name = "zstd"
    aliases = ("zstandard",)
    file_extensions = (".zst", ".zstd")
    description = "Zstandard frames"
    library = "libzstd"
    _native = "_zstd"

    def signature(self, head):
        return head[:4] == b"\x28\xb5\x2f\xfd"

    def _encode(self, data, out, *, level=3, numthreads=None):
        native = self.native
        level = check_level(self.name, level, native.MIN_LEVEL, native.MAX_LEVEL)
        n = numthreads_or_default(numthreads) if _nbytes(data) >= _MT_MIN_BYTES else 1
        return native.encode(data, level, n, out)



@register
class Lz4(Compressor):
    name = "lz4"
    aliases = ("lz4f",)
    file_extensions = (".lz4",)
    description = "LZ4 frames (LZ4 HC above level 2)"
    library = "liblz4"
    _native = "_lz4"

    def signature(self, head):
        return head[:4] == b"\x04\x22\x4d\x18"

    def _encode(self, data, out, *, level=0, content_checksum=False, block_linked=True):
        level = check_level(self.name, level, 0, self.native.MAX_LEVEL)
        return self.native.encode(data, level, bool(content_checksum), bool(block_linked), out)



# Stream formats as the _deflate and _isal modules number them.
_RAW, _ZLIB, _GZIP = 0, 1, 2
# backend: (native module, library, default level)
_DEFLATE_BACKENDS = {
    "libdeflate": ("_deflate", "libdeflate", 6),
    "isal": ("_isal", "ISA-L", 2),
}


class _DeflateFamily(Compressor):
    """deflate and gzip: libdeflate by default, Intel ISA-L's igzip with backend="isal"."""

    library = "libdeflate"
    _native = "_deflate"

    def _backend(self, backend, error):
        """(native module, default level) of a backend; `error` if there is no such backend."""
        try:
            module, library, default_level = _DEFLATE_BACKENDS[backend]
        except (KeyError, TypeError):
            choices = " or ".join(map(repr, _DEFLATE_BACKENDS))
            raise error(f"{self.name}: unknown backend {backend!r}; choose {choices}") from None
        if module == self._native:
            return self.native, default_level
        return import_native(self.name, module, library), default_level

    def _encode_stream(self, data, out, fmt, level, backend):
        native, default_level = self._backend(backend, EncodeError)
        level = check_level(self.name, default_level if level is None else level,
                            native.MIN_LEVEL, native.MAX_LEVEL)
        return native.encode(data, level, fmt, out)

    def _decode_stream(self, buf, out, fmt, backend):
        native = self._backend(backend, DecodeError)[0]
        return native.decode(buf, fmt, out, config.max_decoded_bytes)


@register
class Deflate(_DeflateFamily):
    name = "deflate"
    aliases = ("zlib", "zlibng")
    file_extensions = (".zlib",)
    description = "zlib (RFC 1950) streams, or raw deflate (RFC 1951) with raw=True"

    def signature(self, head):
        # A zlib header: method 8, window <= 32 KiB, check bits, no preset dictionary.
        if len(head) < 2:
            return False
        cmf, flg = head[0], head[1]
        return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0 and not flg & 0x20

    def _encode(self, data, out, *, level=None, raw=False, backend="libdeflate"):
        return self._encode_stream(data, out, _RAW if raw else _ZLIB, level, backend)

    def _decode(self, buf, out, *, raw=False, backend="libdeflate"):
        return self._decode_stream(buf, out, _RAW if raw else _ZLIB, backend)


@register
class Gzip(_DeflateFamily):
    name = "gzip"
    file_extensions = (".gz",)
    description = "gzip files (RFC 1952), concatenated members included"

    def signature(self, head):
        return head[:2] == b"\x1f\x8b"

    def _encode(self, data, out, *, level=None, backend="libdeflate"):
        return self._encode_stream(data, out, _GZIP, level, backend)

    def _decode(self, buf, out, *, backend="libdeflate"):
        return self._decode_stream(buf, out, _GZIP, backend)


@register
class Bz2(Compressor):
    name = "bz2"
    aliases = ("bzip2",)
    file_extensions = (".bz2",)
    description = "bzip2 streams, concatenated streams included"
    library = "libbz2"
    _native = "_bz2"

    def signature(self, head):
        return head[:3] == b"BZh" and len(head) > 3 and 0x31 <= head[3] <= 0x39

    def _encode(self, data, out, *, level=9):
        native = self.native
        return native.encode(data, check_level(self.name, level, native.MIN_LEVEL, native.MAX_LEVEL), out)



@register
class Brotli(Compressor):
    name = "brotli"
    aliases = ("br",)
    file_extensions = (".br",)
    description = "Brotli streams"
    library = "libbrotli"
    _native = "_brotli"
    _modes = {"generic": 0, "text": 1, "font": 2}  # BrotliEncoderMode values

    # Brotli streams have no magic bytes: signature() stays False.

    def _encode(self, data, out, *, level=4, lgwin=22, mode="generic"):
        # level=4 is imagecodecs' default (2026.3.6); the brotli package's 11
        # is ~80x slower for a ~30% smaller stream.
        native = self.native
        level = check_level(self.name, level, native.MIN_LEVEL, native.MAX_LEVEL)
        lgwin = check_int(self.name, "lgwin", lgwin, native.MIN_WINDOW, native.MAX_WINDOW)
        if mode not in self._modes:
            raise EncodeError(f"brotli: mode must be one of {', '.join(self._modes)}, got {mode!r}")
        return native.encode(data, level, lgwin, self._modes[mode], out)



@register
class Snappy(Compressor):
    name = "snappy"
    file_extensions = (".sz",)
    description = "Snappy: raw blocks, or the framing format (framed=True; decoded either way)"
    library = "snappy"
    _native = "_snappy"

    # Only the framing format has magic bytes (its stream identifier chunk).
    def signature(self, head):
        return head[:10] == b"\xff\x06\x00\x00sNaPpY"

    def _encode(self, data, out, *, framed=False):
        return self.native.encode(data, bool(framed), out)

# An LZMA decoder's memory is mostly its dictionary, which the stream declares.
# Any preset's (64 MiB at most) is always allowed; beyond that, a dictionary
# larger than the output could ever be (LZMA expands less than 8192:1) is
# refused rather than allocated.
_LZMA_MIN_MEMLIMIT = 128 << 20
_LZMA_MAX_RATIO = 8192


def _is_lzma_alone(head) -> bool:
    """A legacy .lzma header, judged as liblzma does: properties byte, a dictionary
    size of 2**n or 2**n + 2**(n-1), an unknown or plausible (< 256 GiB) size."""
    if len(head) < 13 or head[0] > 224:
        return False
    dict_size = int.from_bytes(head[1:5], "little")
    size = int.from_bytes(head[5:13], "little")
    lowest_bit = dict_size & -dict_size
    dict_ok = dict_size == 0xFFFFFFFF or (dict_size >= 4096 and dict_size // lowest_bit in (1, 3))
    return dict_ok and (size == 2**64 - 1 or size < 2**38)


@register
class Lzma(Compressor):
    name = "lzma"
    aliases = ("xz",)
    file_extensions = (".xz", ".lzma")
    description = "xz streams (legacy .lzma with alone=True); decodes both"
    library = "liblzma"
    _native = "_lzma"

    def signature(self, head):
        return head[:6] == b"\xfd7zXZ\x00" or _is_lzma_alone(head)

    def _encode(self, data, out, *, level=6, check=None, alone=False):
        native = self.native
        level = check_level(self.name, level, native.MIN_LEVEL, native.MAX_LEVEL)
        if alone and check is not None:
            raise EncodeError("lzma: the legacy .lzma format (alone=True) has no integrity check")
        try:
            check_id = native.CHECKS["crc64" if check is None else check]
        except (KeyError, TypeError):
            raise EncodeError(f"lzma: unknown check {check!r}; choose one of "
                              f"{', '.join(map(repr, native.CHECKS))}") from None
        return native.encode(data, level, check_id, bool(alone), out)

    def _decode(self, buf, out):
        max_size = config.max_decoded_bytes
        memlimit = max(_LZMA_MIN_MEMLIMIT, min(max_size, _nbytes(buf) * _LZMA_MAX_RATIO))
        return self.native.decode(buf, out, max_size, memlimit)


def _check_choice(codec: str, option: str, value, choices: dict) -> int:
    try:
        return choices[str(value).lower()]
    except KeyError:
        raise EncodeError(f"{codec}: {option} must be one of {', '.join(choices)}, "
                          f"got {value!r}") from None


@register
class Blosc2(Compressor):
    """One C-Blosc2 chunk, as blosc2_compress and python-blosc2's compress2 write it.

    No signature: a chunk starts with a format version byte and sizes, nothing
    distinctive enough to claim bytes by. Defaults follow imagecodecs.
    """

    name = "blosc2"
    file_extensions = (".b2",)
    description = "C-Blosc2 chunks (blosc2_compress format)"
    library = "C-Blosc2"
    _native = "_blosc2"

    def _encode(self, data, out, *, level=1, compressor="zstd", shuffle="shuffle",
                typesize=None, blocksize=0, numthreads=None):
        native = self.native
        level = check_level(self.name, level, 0, 9)
        compcode = _check_choice(self.name, "compressor", compressor, native.COMPRESSORS)
        shuffle = _check_choice(self.name, "shuffle", shuffle, native.SHUFFLES)
        if typesize is None:
            typesize = data.itemsize if isinstance(data, np.ndarray) else 1
        typesize = check_int(self.name, "typesize", typesize, 1, native.MAX_TYPESIZE)
        blocksize = check_int(self.name, "blocksize", blocksize, 0, native.MAX_BLOCKSIZE)
        n = numthreads_or_default(numthreads) if _nbytes(data) >= _MT_MIN_BYTES else 1
        return native.encode(data, level, compcode, shuffle, typesize, blocksize, n, out)

    def _decode(self, buf, out, *, numthreads=None):
        return self.native.decode(buf, out, numthreads_or_default(numthreads),
                                  config.max_decoded_bytes)


def _itemsize(*arrays) -> int:
    """The itemsize of the first ndarray among `arrays`, else 1."""
    return next((a.itemsize for a in arrays if isinstance(a, np.ndarray)), 1)


@register
class Bitshuffle(Compressor):
    """Bit shuffle filter, byte-compatible with the `bitshuffle` package.

    Output size equals input size; pair it with zstd or lz4. `itemsize` comes
    from the ndarray's dtype (on decode: `out`'s, then the input's), else 1;
    `blocksize` is in items, a multiple of 8, 0 for the package's default.
    """

    name = "bitshuffle"
    aliases = ("bshuf",)
    description = "Bit shuffle filter (bitshuffle package layout)"
    library = "built in"
    _native = "_bitshuffle"

    def _encode(self, data, out, *, itemsize=None, blocksize=0):
        itemsize, blocksize = self._sizes(EncodeError, itemsize, blocksize, data)
        return self.native.encode(data, itemsize, blocksize, out)

    def _decode(self, buf, out, *, itemsize=None, blocksize=0):
        itemsize, blocksize = self._sizes(DecodeError, itemsize, blocksize, out, buf)
        return self.native.decode(buf, itemsize, blocksize, out)

    def _sizes(self, error, itemsize, blocksize, *arrays):
        if itemsize is None:
            itemsize = _itemsize(*arrays)
        if isinstance(itemsize, bool) or not isinstance(itemsize, int) or itemsize < 1:
            raise error(f"bitshuffle: itemsize must be a positive integer, got {itemsize!r}")
        if (isinstance(blocksize, bool) or not isinstance(blocksize, int)
                or blocksize < 0 or blocksize % 8):
            raise error(f"bitshuffle: blocksize must be 0 or a positive multiple of 8, "
                        f"got {blocksize!r}")
        return itemsize, blocksize


@register
class ByteShuffle(Compressor):
    """Byte shuffle filter: byte 0 of every item, then byte 1, ... (Blosc's and
    HDF5's "shuffle"; CZI's hi/lo packing of 16-bit pixels).

    Output size equals input size. `itemsize` comes from the ndarray's dtype
    (on decode: `out`'s, then the input's), else must be given.
    """

    name = "byteshuffle"
    aliases = ("shuffle",)
    description = "Byte shuffle filter (HDF5 / Blosc shuffle)"
    library = "built in"
    _native = "_byteshuffle"

    def _encode(self, data, out, *, itemsize=None):
        return self._shuffle(data, out, itemsize, EncodeError, inverse=False)

    def _decode(self, buf, out, *, itemsize=None):
        return self._shuffle(buf, out, itemsize, DecodeError, inverse=True, arrays=(out, buf))

    def _shuffle(self, src, out, itemsize, error, inverse, arrays=None):
        itemsize = _itemsize(*(arrays or (src,))) if itemsize is None else itemsize
        itemsize = check_int(self.name, "itemsize", itemsize, 1, 1 << 20)
        n = _nbytes(src)
        if n % itemsize:
            raise error(f"byteshuffle: {n} bytes is not a whole number of {itemsize}-byte items")
        if out is not None and _nbytes(out) != n:
            raise error(f"byteshuffle: data is {n} bytes, out has {_nbytes(out)}")
        return self.native.shuffle(src, out, itemsize, inverse)


@register
class NoCompression(Compressor):
    """The identity: a placeholder where a filter chain wants a codec."""

    name = "none"
    description = "Identity (bytes copied unchanged)"
    library = "built in"

    def _encode(self, data, out):
        view = memoryview(data).cast("B")
        return bytes(view) if out is None else copy_into(out, view)

    def _decode(self, buf, out):
        view = memoryview(buf).cast("B")
        if out is None:
            return bytes(view)
        target = memoryview(out).cast("B")
        if target.nbytes != view.nbytes:
            raise DecodeError(f"none: data is {view.nbytes} bytes, out has {target.nbytes}")
        target[:] = view
        return out


@register
class Lzw(Compressor):
    """TIFF LZW (TIFF 6.0 section 13), as TIFF compression 5 and tifffile use it."""

    name = "lzw"
    description = "TIFF-flavoured LZW (MSB-first, early change)"
    library = "built in"
    _native = "_lzw"

    def _encode(self, data, out):
        return self.native.encode(data, out)


@register
class PackBits(Compressor):
    """PackBits run-length coding (TIFF compression 32773)."""

    name = "packbits"
    description = "PackBits run-length coding"
    library = "built in"
    _native = "_packbits"

    def _encode(self, data, out):
        return self.native.encode(data, out)
