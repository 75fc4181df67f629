"""The one persistent thread pool every codec and container decodes through.

`parallel_for(fn, n)` runs fn(0..n-1) on up to `numthreads` threads, the caller
being one of them, with dynamic scheduling (a shared counter), so uneven tiles
balance themselves. Native codecs release the GIL, so the threads decode at
once. Nested calls cannot deadlock: a caller never waits for a helper task
that has not started; it cancels it and does the work itself.
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

from .codec import numthreads_or_default

_lock = threading.Lock()
_pool = None


def shared_pool() -> ThreadPoolExecutor:
    """The process-wide pool, created on first use."""
    global _pool
    with _lock:
        if _pool is None:
            # Sized generously: tasks a caller does not need are cancelled, and
            # nested parallel_for calls each need their own helpers.
            _pool = ThreadPoolExecutor(max_workers=max(4, 2 * numthreads_or_default(None)),
                                       thread_name_prefix="opencodecs")
        return _pool


def parallel_for(fn, n: int, numthreads=None) -> None:
    """Call fn(i) for every i in range(n) on up to `numthreads` threads."""
    threads = min(numthreads_or_default(numthreads), n)
    if threads <= 1:
        for i in range(n):
            fn(i)
        return
    counter = itertools.count()
    failed = []

    def work():
        for i in counter:
            if i >= n or failed:
                return
            try:
                fn(i)
            except BaseException as e:
                failed.append(e)
                return

    pool = shared_pool()
    helpers = [pool.submit(work) for _ in range(threads - 1)]
    work()
    for f in helpers:
        if not f.cancel():
            f.result()
    if failed:
        raise failed[0]


def map_parallel(fn, items, numthreads=None) -> list:
    """[fn(item) for item in items], computed in parallel, in order."""
    items = list(items)
    results = [None] * len(items)

    def one(i):
        results[i] = fn(items[i])

    parallel_for(one, len(items), numthreads)
    return results


def decode_into(codec, blobs, out, *, numthreads=None, **opts):
    """Decode blobs[i] into out[i] in parallel; `out` is preallocated, one row per blob.

    Each blob decodes straight into its row of the caller's array: no
    intermediate buffers, no copies, the GIL released inside every decode.
    """
    if len(blobs) != len(out):
        raise ValueError(f"{len(blobs)} blobs for an output with {len(out)} rows")
    decode = codec.decode

    def one(i):
        decode(blobs[i], out=out[i], **opts)

    parallel_for(one, len(blobs), numthreads)
    return out
