"""opencodecs: native, parallel codecs and containers for scientific imaging."""

from . import codecs as _codecs  # noqa: F401  (registers every codec)
from . import formats as _formats  # noqa: F401  (registers every container)
from .core.config import config
from .core.errors import (CodecUnavailableError, DecodeError, EncodeError,
                          OpencodecsError, UnknownFormatError)
from .core.io import as_buffer, is_path, read_head
from .core.registry import codec_for_bytes, codec_for_path, get_codec, has_codec, list_codecs

__version__ = "0.1.0"

__all__ = [
    "read", "write", "open", "get_codec", "list_codecs", "has_codec",
    "codec_for_path", "codec_for_bytes", "config", "OpencodecsError",
    "DecodeError", "EncodeError", "UnknownFormatError", "CodecUnavailableError",
]


def _codec_for_source(src, format):
    """(codec, src) for reading: format= > extension > magic bytes."""
    if format is not None:
        return get_codec(format), src
    if is_path(src):
        codec = codec_for_path(src)
        if codec is not None:
            return codec, src
        head = read_head(src)
    else:
        src = as_buffer(src)  # reads a file-like object once
        head = read_head(src)
    codec = codec_for_bytes(head)
    if codec is None:
        raise UnknownFormatError(f"cannot tell the format of {_describe(src)}: "
                                 f"no known extension or magic bytes {head[:8]!r}")
    return codec, src


def _describe(src):
    return repr(str(src)) if is_path(src) else f"a {type(src).__name__} of {memoryview(src).nbytes} bytes"


def read(src, *, format=None, **opts):
    """Decode `src` (path, buffer or file-like) with the codec its format names."""
    codec, src = _codec_for_source(src, format)
    return codec.decode(src, **opts)


def write(dest, data, *, format=None, **opts):
    """Encode `data` into `dest` (path, file-like, writable buffer, or None for bytes)."""
    if format is not None:
        codec = get_codec(format)
    elif is_path(dest):
        codec = codec_for_path(dest)
        if codec is None:
            raise UnknownFormatError(f"no codec for the extension of {str(dest)!r}; pass format=")
    else:
        raise UnknownFormatError("writing to a buffer or file object needs format=")
    return codec.encode(data, dest=dest, **opts)


def open(src, *, format=None, **opts):
    """A Reader over `src` (frames, tiles, pages) for formats that have them."""
    codec, src = _codec_for_source(src, format)
    return codec.open(src, **opts)
