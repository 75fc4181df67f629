"""Byte-stream compressors and filters (spec table "Compression"): bytes in, bytes out."""

from ..core.codec import Codec, numthreads_or_default
from ..core.config import config
from ..core.errors import EncodeError
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

    def _decode(self, buf, out):
        return self.native.decode(buf, out, config.max_decoded_bytes)


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
        if (isinstance(lgwin, bool) or not isinstance(lgwin, int)
                or not native.MIN_WINDOW <= lgwin <= native.MAX_WINDOW):
            raise EncodeError(f"brotli: lgwin must be an integer in "
                              f"{native.MIN_WINDOW}..{native.MAX_WINDOW}, got {lgwin!r}")
        if mode not in self._modes:
            raise EncodeError(f"brotli: mode must be one of {', '.join(self._modes)}, got {mode!r}")
        return native.encode(data, level, lgwin, self._modes[mode], out)

    def _decode(self, buf, out):
        return self.native.decode(buf, out, config.max_decoded_bytes)


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

    def _decode(self, buf, out):
        return self.native.decode(buf, out, config.max_decoded_bytes)
