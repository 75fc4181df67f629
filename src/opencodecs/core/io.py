"""Turning `src` and `dest` arguments into buffers and files, copying nothing in memory."""

import mmap
import os

import numpy as np

# Objects handed to the native layer as they are (it reads them through the
# buffer protocol). ndarray is checked separately for contiguity.
_BUFFER_TYPES = frozenset({bytes, bytearray, memoryview, mmap.mmap})
# Files smaller than this are read; larger ones are memory-mapped.
_MMAP_THRESHOLD = 1 << 20


def is_path(obj) -> bool:
    """A local path or a URL (both name a file rather than hold its bytes)."""
    return isinstance(obj, (str, os.PathLike))


def is_url(obj) -> bool:
    return isinstance(obj, str) and obj.startswith(("http://", "https://"))


def _fetch(url, offset=0, n=None) -> memoryview:
    from .sources import HTTPSource
    with HTTPSource(url) as source:
        n = source.size - offset if n is None else min(n, source.size - offset)
        return source.read_at(offset, max(n, 0))


def map_file(path):
    """The file's bytes: a read-only mmap for large files, bytes for small ones."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _MMAP_THRESHOLD:
            return f.read()
        try:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # special files that cannot be mapped
            return f.read()


def as_buffer(src):
    """A contiguous buffer holding `src`'s bytes.

    In-memory inputs come back as they are; paths are mapped or read; file-like
    objects are read from their current position.
    """
    if type(src) in _BUFFER_TYPES:
        return src
    if isinstance(src, np.ndarray):
        return src if src.flags.c_contiguous else np.ascontiguousarray(src)
    if is_url(src):
        return _fetch(src)
    if is_path(src):
        return map_file(src)
    read = getattr(src, "read", None)
    if read is not None:
        return read()
    try:
        memoryview(src)
    except TypeError:
        raise TypeError(f"expected a path, file-like object or buffer, got {type(src).__name__}") from None
    return src


def read_head(src, n: int = 64) -> bytes:
    """The first `n` bytes of a path, URL or buffer."""
    if is_url(src):
        return bytes(_fetch(src, 0, n))
    if is_path(src):
        with open(src, "rb") as f:
            return f.read(n)
    return bytes(memoryview(src).cast("B")[:n])


def is_writable_buffer(obj) -> bool:
    if isinstance(obj, (bytes, str)) or is_path(obj) or hasattr(obj, "write"):
        return False
    try:
        return not memoryview(obj).readonly
    except TypeError:
        return False


def write_file(path, blob) -> None:
    """Write `blob` to `path` atomically: a failed write leaves no partial file."""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.partial"
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def copy_into(out, blob):
    """Copy `blob` into the writable buffer `out`; the written part as a memoryview."""
    view = memoryview(out).cast("B")
    n = len(blob)
    if n > len(view):
        from .errors import EncodeError
        raise EncodeError(f"output needs {n} bytes, dest has {len(view)}")
    view[:n] = blob
    return view[:n]
