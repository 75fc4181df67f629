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
from .io import is_path, is_url

# Ranges closer than this are fetched as one span by sources that pay per request.
COALESCE_GAP = 64 << 10


class DataSource:
    """Random access to a fixed-size sequence of bytes."""

    size: int = 0
    name: str = "<source>"
    # True where any read is a zero-copy view of memory (a buffer, a mapped
    # file): readers may then read large spans freely.
    in_memory: bool = False

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

    def read_into(self, offset: int, out) -> None:
        """Fill the writable buffer `out` with the bytes at `offset` (one copy, no views)."""
        target = memoryview(out).cast("B")
        self._check(offset, target.nbytes)
        self._read_into(offset, target)

    def _read_into(self, offset: int, target: memoryview) -> None:
        target[:] = self._read(offset, target.nbytes)

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

    in_memory = True

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
            self.in_memory = False

    def _read_into(self, offset, target):
        # pread copies from the page cache straight into the caller's memory:
        # cheaper than touching a mapping page by page (one fault per 4 KiB).
        done = 0
        while done < target.nbytes:
            n = os.preadv(self._fd, [target[done:]], offset + done)
            if n <= 0:
                raise DecodeError(f"{self.name}: short read at {offset + done}")
            done += n

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
    """A DataSource over a path, an http(s) URL, a binary file object, or a buffer."""
    if isinstance(src, DataSource):
        return src
    if is_url(src):
        return HTTPSource(src)
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


class HTTPSource(DataSource):
    """A file on an HTTP(S) server that answers Range requests.

    Each thread keeps its own keep-alive connection. Small reads (headers,
    directories) fetch the aligned 64 KiB block around them and keep the last
    few blocks, so parsing a container costs a request or two. `read_many`
    coalesces nearby ranges into spans (COALESCE_GAP) and fetches the spans in
    parallel, `max_workers` at a time, so a read of many tiles costs few requests.
    """

    BLOCK = 64 << 10
    CACHED_BLOCKS = 16

    def __init__(self, url: str, *, max_workers: int = 8, timeout: float = 30.0, headers=None):
        import threading
        from concurrent.futures import ThreadPoolExecutor
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.name = url
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._local = threading.local()
        self._blocks = {}  # block index -> bytes, oldest first
        self._blocks_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=max(1, max_workers),
                                            thread_name_prefix="opencodecs-http")
        self.requests = 0  # range requests sent, for tests and benchmarks
        self.size = self._probe_size()

    def _connection(self):
        import http.client
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = cls(self._netloc, timeout=self._timeout)
        return conn

    def _get(self, first: int, last: int):
        """(status, headers, body) of GET with Range bytes=first-last, retried once on a stale connection."""
        import http.client
        headers = {**self._headers, "Range": f"bytes={first}-{last}"}
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request("GET", self._path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                self.requests += 1
                return response.status, response, body
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise

    def _probe_size(self) -> int:
        """The total size, from the answer to a request for the first block (kept)."""
        status, response, body = self._get(0, self.BLOCK - 1)
        if status == 404:
            raise FileNotFoundError(f"{self.name}: HTTP 404")
        if status != 206:
            raise OSError(f"{self.name}: the server does not answer range requests (HTTP {status})")
        total = response.getheader("Content-Range", "").rpartition("/")[2]
        if not total.isdigit():
            raise OSError(f"{self.name}: no total size in Content-Range")
        self._blocks[0] = body
        return int(total)

    def _block(self, index: int) -> bytes:
        with self._blocks_lock:
            block = self._blocks.get(index)
        if block is None:
            start = index * self.BLOCK
            block = bytes(self._fetch(start, min(self.BLOCK, self.size - start)))
            with self._blocks_lock:
                self._blocks[index] = block
                while len(self._blocks) > self.CACHED_BLOCKS:
                    del self._blocks[next(iter(self._blocks))]
        return block

    def _read(self, offset, n):
        if n == 0:
            return memoryview(b"")
        first, last = offset // self.BLOCK, (offset + n - 1) // self.BLOCK
        if last - first <= 1 and n <= self.BLOCK:  # small read: through the block cache
            data = b"".join(self._block(i) for i in range(first, last + 1))
            start = offset - first * self.BLOCK
            return memoryview(data)[start:start + n]
        return self._fetch(offset, n)

    def _fetch(self, offset, n):
        if n == 0:
            return memoryview(b"")
        status, _, body = self._get(offset, offset + n - 1)
        if status != 206 or len(body) != n:
            raise OSError(f"{self.name}: range {offset}+{n} answered HTTP {status} with {len(body)} bytes")
        return memoryview(body)

    def read_many(self, ranges) -> list:
        ranges = list(ranges)
        for offset, n in ranges:
            self._check(offset, n)
        spans = list(coalesce(ranges, COALESCE_GAP))
        bodies = list(self._executor.map(lambda s: self._fetch(s[0], s[1] - s[0]), spans))
        views = [None] * len(ranges)
        for (start, _, members), body in zip(spans, bodies):
            for i in members:
                offset, n = ranges[i]
                views[i] = body[offset - start:offset - start + n]
        return views

    def close(self) -> None:
        self._executor.shutdown(wait=False)
