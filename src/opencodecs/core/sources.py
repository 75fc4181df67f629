"""DataSource: random-access bytes from a file, a buffer, or (later) the network.

`read_at(offset, n)` and `read_many([(offset, n), ...])` return memoryviews;
for memory-mapped files and in-memory buffers they are zero-copy views. Every
range is checked against the source's size, so a corrupt offset in a container
gives a DecodeError, never a short or out-of-bounds read. `read_many` is where
remote sources coalesce nearby ranges into few requests.
"""

import mmap
import os

from .errors import DecodeError
from .io import is_path

# Ranges closer than this are fetched as one span by sources that pay per request.
COALESCE_GAP = 64 << 10


class DataSource:
    """Random access to a fixed-size sequence of bytes."""

    size: int = 0
    name: str = "<source>"

    def read_at(self, offset: int, n: int) -> memoryview:
        self._check(offset, n)
        return self._read(offset, n)

    def read_many(self, ranges) -> list:
        """One memoryview per (offset, n), in order; nearby ranges are read together."""
        ranges = list(ranges)
        for offset, n in ranges:
            self._check(offset, n)
        views = [None] * len(ranges)
        for start, stop, members in coalesce(ranges, COALESCE_GAP):
            span = self._read(start, stop - start)
            for i in members:
                offset, n = ranges[i]
                views[i] = span[offset - start:offset - start + n]
        return views

    def _check(self, offset: int, n: int) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise DecodeError(f"{self.name}: read of {n} bytes at offset {offset} "
                              f"is outside the {self.size}-byte source (truncated or corrupt)")

    def _read(self, offset: int, n: int) -> memoryview:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def coalesce(ranges, gap: int):
    """Merge (offset, n) ranges lying within `gap` bytes of each other.

    Yields (start, stop, [indices into ranges]) spans in offset order.
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    start = stop = None
    members = []
    for i in order:
        offset, n = ranges[i]
        if members and offset <= stop + gap:
            stop = max(stop, offset + n)
            members.append(i)
            continue
        if members:
            yield start, stop, members
        start, stop, members = offset, offset + n, [i]
    if members:
        yield start, stop, members


class BufferSource(DataSource):
    """Bytes already in memory (bytes, bytearray, memoryview, mmap, ndarray)."""

    def __init__(self, buffer, name: str = "<buffer>"):
        view = memoryview(buffer)
        self._view = view if view.format == "B" and view.ndim == 1 else view.cast("B")
        self.size = self._view.nbytes
        self.name = name

    def _read(self, offset, n):
        return self._view[offset:offset + n]

    def read_many(self, ranges):
        ranges = list(ranges)
        for offset, n in ranges:
            self._check(offset, n)
        return [self._view[o:o + n] for o, n in ranges]

    def close(self):
        self._view.release()


class FileSource(BufferSource):
    """A local file: memory-mapped (zero-copy views), or read with pread where mmap fails."""

    def __init__(self, path_or_file):
        if is_path(path_or_file):
            self._file = open(path_or_file, "rb")
            self._owns_file = True
            name = os.fspath(path_or_file)
        else:
            self._file = path_or_file
            self._owns_file = False
            name = getattr(path_or_file, "name", "<file>")
        self._fd = self._file.fileno()
        self._map = None
        size = os.fstat(self._fd).st_size
        try:
            if size:
                self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            pass
        if self._map is not None:
            super().__init__(self._map, name)
        else:
            self._view = None
            self.size = size
            self.name = str(name)

    def _read(self, offset, n):
        if self._view is not None:
            return self._view[offset:offset + n]
        data = os.pread(self._fd, n, offset)
        if len(data) != n:
            raise DecodeError(f"{self.name}: short read of {len(data)}/{n} bytes at {offset}")
        return memoryview(data)

    def read_many(self, ranges):
        return BufferSource.read_many(self, ranges) if self._view is not None \
            else DataSource.read_many(self, ranges)

    def close(self):
        if self._view is not None:
            self._view.release()
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # views handed out are still alive; GC closes it
                pass
        if self._owns_file:
            self._file.close()


def open_source(src) -> DataSource:
    """A DataSource over a path, a binary file object, or an in-memory buffer."""
    if isinstance(src, DataSource):
        return src
    if is_path(src):
        return FileSource(src)
    if hasattr(src, "read"):
        try:
            src.fileno()
        except (AttributeError, OSError, ValueError):
            getbuffer = getattr(src, "getbuffer", None)  # io.BytesIO: zero-copy
            return BufferSource(getbuffer() if getbuffer else src.read())
        return FileSource(src)
    return BufferSource(src)
