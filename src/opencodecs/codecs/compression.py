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
