"""Byte-stream compressors and filters (spec table "Compression"): bytes in, bytes out."""

import numpy as np

from ..core.codec import Codec, numthreads_or_default
from ..core.config import config
from ..core.errors import DecodeError, EncodeError
from ..core.io import copy_into
from ..core.registry import register

# Inputs smaller than this compress on one thread: worker start-up costs more
# than it saves, and one-thread output stays byte-identical to the reference.
_MT_MIN_BYTES = 1 << 20


def _nbytes(data) -> int:
    return memoryview(data).nbytes


def check_level(codec: str, level, lo: int, hi: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise EncodeError(f"{codec}: level must be an integer, got {level!r}")
    if not lo <= level <= hi:
        raise EncodeError(f"{codec}: level {level} outside {lo}..{hi}")
    return level


class Compressor(Codec):
    """A byte-stream codec: any buffer in, bytes out (or into `out`)."""

    supported_dtypes = ("bytes",)


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

    def _decode(self, buf, out):
        return self.native.decode(buf, out, config.max_decoded_bytes)


def _check_int(codec: str, option: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise EncodeError(f"{codec}: {option} must be an integer in {lo}..{hi}, got {value!r}")
    return value


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
        typesize = _check_int(self.name, "typesize", typesize, 1, native.MAX_TYPESIZE)
        blocksize = _check_int(self.name, "blocksize", blocksize, 0, native.MAX_BLOCKSIZE)
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
