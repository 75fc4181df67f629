"""Process-wide settings: `oc.config.numthreads`, `oc.config.max_decoded_bytes`."""

import os

from .errors import OpencodecsError


def _threads_from_env() -> int:
    value = os.environ.get("OPENCODECS_NUM_THREADS", "").strip()
    if not value:
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise OpencodecsError(f"OPENCODECS_NUM_THREADS={value!r} is not an integer") from None
    if n < 1:
        raise OpencodecsError(f"OPENCODECS_NUM_THREADS={value!r} must be at least 1")
    return n


class Config:
    """Defaults every codec and container reads at call time."""

    __slots__ = ("_numthreads", "_max_decoded_bytes")

    def __init__(self):
        self._numthreads = _threads_from_env()
        # Decoders refuse to produce more than this from one blob, and check
        # sizes that headers declare against it before allocating.
        self._max_decoded_bytes = 16 << 30

    @property
    def numthreads(self) -> int:
        """Threads for multithreaded codecs and the shared decode pool."""
        return self._numthreads

    @numthreads.setter
    def numthreads(self, value):
        value = (os.cpu_count() or 1) if value is None else int(value)
        if value < 1:
            raise ValueError("numthreads must be at least 1")
        self._numthreads = value

    @property
    def max_decoded_bytes(self) -> int:
        """Largest output one decode may produce (bytes)."""
        return self._max_decoded_bytes

    @max_decoded_bytes.setter
    def max_decoded_bytes(self, value):
        value = int(value)
        if value < 0:
            raise ValueError("max_decoded_bytes must not be negative")
        self._max_decoded_bytes = value

    def __repr__(self):
        return f"Config(numthreads={self.numthreads}, max_decoded_bytes={self.max_decoded_bytes})"


config = Config()
