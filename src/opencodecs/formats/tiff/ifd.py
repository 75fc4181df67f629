"""TIFF structure: the header, IFDs and their tags, and the lazy chain of IFDs.

An IFD is read with two DataSource reads (its entry count, then its entries
and next pointer) parsed by one numpy structured dtype, plus one read_many
for every value stored out of line. Tag values are decoded to Python values
only when asked for. The chain of IFDs is walked only as far as needed, by
the native walker in `_tiff_chain`, so page 5000 of a file is found without
parsing pages 1 to 4999.
"""

import threading
from collections.abc import Mapping

import numpy as np

from ...core.codec import import_native
from ...core.errors import DecodeError
from .tags import FIELD_TYPES, TAG_NAMES

TAG_CODES = {name: code for code, name in TAG_NAMES.items()}

_ASCII, _BYTE, _UNDEFINED, _RATIONAL, _SRATIONAL = 2, 1, 7, 5, 10
_UNSIGNED = {1, 3, 4, 13, 16, 18}  # BYTE, SHORT, LONG, IFD, LONG8, IFD8
# The chain walker reads windows of the file: from memory, large ones (free);
# from other sources, small ones at each IFD, which a remote source serves
# from the blocks it caches.
_WINDOW_MEMORY = 64 << 20
_WINDOW_SMALL = 4 << 10
_GUESS_ENTRIES = 32
# Out-of-line tag values spread over at most this many bytes are read at once.
_VALUES_SPAN = 64 << 10


class Layout:
    """How one file spells its structures: byte order and classic TIFF or BigTIFF."""

    def __init__(self, byteorder: str, bigtiff: bool):
        self.byteorder = byteorder  # "<" or ">"
        self.order = "little" if byteorder == "<" else "big"  # for int.from_bytes
        self.bigtiff = bigtiff
        self.header_size = 16 if bigtiff else 8
        self.count_size = 8 if bigtiff else 2
        self.entry_size = 20 if bigtiff else 12
        self.pointer_size = 8 if bigtiff else 4
        pointer = byteorder + ("u8" if bigtiff else "u4")
        self.count_dtype = np.dtype(byteorder + ("u8" if bigtiff else "u2"))
        self.pointer_dtype = np.dtype(pointer)
        self.entry_dtype = np.dtype([("code", byteorder + "u2"), ("type", byteorder + "u2"),
                                     ("count", pointer), ("value", f"V{self.pointer_size}")])

    @property
    def big_endian(self) -> bool:
        return self.byteorder == ">"


def read_header(source) -> tuple:
    """(Layout, offset of the first IFD); DecodeError if this is no TIFF file."""
    if source.size < 8:
        raise DecodeError(f"tiff: {source.size} bytes is too short for a TIFF header")
    head = bytes(source.read_at(0, min(16, source.size)))
    byteorder = {b"II": "<", b"MM": ">"}.get(head[:2])
    if byteorder is None:
        raise DecodeError(f"tiff: not a TIFF file (starts with {head[:4]!r})")
    order = "little" if byteorder == "<" else "big"
    version = int.from_bytes(head[2:4], order)
    if version == 42:
        layout, first = Layout(byteorder, False), int.from_bytes(head[4:8], order)
    elif version == 43:
        if len(head) < 16 or int.from_bytes(head[4:6], order) != 8:
            raise DecodeError("tiff: BigTIFF header is truncated or has an offset size other than 8")
        layout, first = Layout(byteorder, True), int.from_bytes(head[8:16], order)
    else:
        raise DecodeError(f"tiff: unknown TIFF version {version} (expected 42, or 43 for BigTIFF)")
    if first == 0:
        raise DecodeError("tiff: the file has no IFD (first IFD offset is 0)")
    if not layout.header_size <= first < source.size:
        raise DecodeError(f"tiff: first IFD offset {first} is outside the {source.size}-byte file")
    return layout, first


class Tags(Mapping):
    """One IFD's tags: values by tag code or by name, decoded on first access.

    Values follow tifffile: ASCII as str, BYTE/UNDEFINED arrays as bytes,
    RATIONAL as (numerator, denominator) pairs, one number as a Python
    scalar, several as a tuple. Iterating gives names (codes for unnamed tags).
    `array(code)` gives a numeric tag as a numpy array, for large ones such
    as TileOffsets.
    """

    def __init__(self, entries: dict, byteorder: str, values: dict):
        self._entries = entries  # code -> (field type, count, raw bytes)
        self._byteorder = byteorder
        self._values = values  # code -> decoded value, filled on access

    @staticmethod
    def _code(key):
        return TAG_CODES[key] if isinstance(key, str) else int(key)

    def __getitem__(self, key):
        code = self._code(key)
        try:
            return self._values[code]
        except KeyError:
            pass
        field, count, raw = self._raw(code)
        value = self._values[code] = _decode_value(field, count, raw, self._byteorder)
        return value

    def get(self, key, default=None):
        code = TAG_CODES.get(key) if isinstance(key, str) else key
        if code in self._values:  # the common case, kept fast: integers decoded up front
            return self._values[code]
        return self[code] if code in self._entries else default

    def _raw(self, code):
        field, count, raw = self._entries[code]
        if raw is None:
            raise DecodeError(f"tiff: the values of tag {TAG_NAMES.get(code, code)} lie "
                              f"outside the file")
        return field, count, raw

    def __contains__(self, key):
        try:
            return self._code(key) in self._entries
        except (KeyError, TypeError, ValueError):
            return False

    def __iter__(self):
        return (TAG_NAMES.get(code, code) for code in self._entries)

    def __len__(self):
        return len(self._entries)

    def array(self, key) -> np.ndarray:
        """A numeric tag's values as a native-order 1-D array."""
        field, count, raw = self._raw(self._code(key))
        if field in (_ASCII, _RATIONAL, _SRATIONAL):
            raise DecodeError(f"tiff: tag {key!r} holds {FIELD_TYPES[field][0]} values, "
                              f"not an array of numbers")
        dtype = np.dtype(self._byteorder + FIELD_TYPES[field][2])
        return np.frombuffer(raw, dtype, count).astype(dtype.newbyteorder("="), copy=False)

    def __repr__(self):
        return f"<Tags {', '.join(str(k) for k in self)}>"


def _decode_value(field: int, count: int, raw, byteorder: str):
    if field == _ASCII:
        data = bytes(raw).rstrip(b"\0")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    if field in (_BYTE, _UNDEFINED) and count != 1:
        return bytes(raw)
    char = FIELD_TYPES[field][2]
    if field in (_RATIONAL, _SRATIONAL):
        pairs = np.frombuffer(raw, byteorder + char, 2 * count).reshape(-1, 2).tolist()
        values = tuple(map(tuple, pairs))
    else:
        values = tuple(np.frombuffer(raw, byteorder + char, count).tolist())
    return values[0] if count == 1 else values


def read_ifd(source, layout: Layout, offset: int) -> tuple:
    """(Tags, next IFD offset) of the IFD at `offset`."""
    # One read holds an IFD of up to _GUESS_ENTRIES entries; larger ones take two.
    count_size, order = layout.count_size, layout.order
    guess = min(source.size - offset, count_size + _GUESS_ENTRIES * layout.entry_size
                + layout.pointer_size)
    head = source.read_at(offset, guess)
    if len(head) < count_size:
        raise DecodeError(f"tiff: IFD at offset {offset} is cut off by the end of the file")
    count = int.from_bytes(head[:count_size], order)
    entries_size = count * layout.entry_size
    size = entries_size + layout.pointer_size
    if offset + count_size + size > source.size:
        raise DecodeError(f"tiff: IFD at offset {offset} declares {count} entries, "
                          f"more than the {source.size}-byte file holds")
    if count_size + size <= len(head):
        body = head[count_size:count_size + size]
    else:
        body = source.read_at(offset + count_size, size)
    entries = np.frombuffer(body, layout.entry_dtype, count).tolist()
    next_offset = int.from_bytes(body[entries_size:], order)
    inline = layout.pointer_size
    found, values, ranges, pending = {}, {}, [], []
    for code, field, n, value in entries:
        if code in found or field not in FIELD_TYPES:
            continue  # a repeated tag keeps its first value; unknown types are skipped
        nbytes = n * FIELD_TYPES[field][1]
        if nbytes <= inline:
            value = value[:nbytes]
            found[code] = (field, n, value)
            if n == 1 and field in _UNSIGNED:  # most tags: one unsigned integer
                values[code] = int.from_bytes(value, order)
            continue
        start = int.from_bytes(value, order)
        found[code] = (field, n, None)  # values outside the file: an error if ever used
        if start + nbytes <= source.size:
            pending.append((code, field, n))
            ranges.append((start, nbytes))
    if ranges:
        for (code, field, n), raw in zip(pending, _read_values(source, ranges)):
            found[code] = (field, n, raw)
    return Tags(found, layout.byteorder, values), next_offset


def _read_values(source, ranges) -> list:
    """The bytes of `ranges`: one read when they lie close together (as writers
    put them, after the IFD), else one read_many."""
    start = min(o for o, _ in ranges)
    stop = max(o + n for o, n in ranges)
    if stop - start > _VALUES_SPAN:
        return source.read_many(ranges)
    span = source.read_at(start, stop - start)
    return [span[o - start:o - start + n] for o, n in ranges]


class IfdChain:
    """The offsets of the file's main chain of IFDs, found only as far as asked.

    `offset(i)` walks the chain up to IFD i (once; offsets found are kept);
    `len()` walks it to its end. Loops and pointers outside the file raise
    DecodeError when the walk reaches them.
    """

    def __init__(self, source, layout: Layout, first: int):
        self._source = source
        self._layout = layout
        self._offsets = np.zeros(64, np.uint64)
        self._offsets[0] = first
        self._count = 1
        self._complete = False
        self._brent = np.array([first, 1, 0], np.uint64)  # loop detector state
        self._window = memoryview(b"")
        self._base = 0
        self._window_size = _WINDOW_MEMORY if source.in_memory else _WINDOW_SMALL
        self._walker = import_native("tiff", "_tiff_chain", "the IFD chain walker")
        self._lock = threading.Lock()  # one walk at a time; readers of found offsets need none

    def offset(self, index: int) -> int:
        if index >= self._count:
            with self._lock:
                if index >= self._count:
                    self._walk(index + 1 - self._count)
            if index >= self._count:
                raise IndexError(f"page {index} out of range for {self._count} pages")
        return int(self._offsets[index])

    def __len__(self):
        with self._lock:
            while not self._complete:
                self._walk(1 << 20)
        return self._count

    def _walk(self, hops: int) -> None:
        walker, layout = self._walker, self._layout
        while hops > 0 and not self._complete:
            if self._count + hops > len(self._offsets):
                grown = np.zeros(max(2 * len(self._offsets), self._count + min(hops, 1 << 20)),
                                 np.uint64)
                grown[:self._count] = self._offsets[:self._count]
                self._offsets = grown
            room = self._offsets[self._count:self._count + hops]
            last = int(self._offsets[self._count - 1])
            found, reached, status = walker.walk(
                self._window, self._base, last, room, self._source.size,
                layout.bigtiff, layout.big_endian, self._brent)
            self._count += found
            hops -= found
            if status == walker.END:
                self._complete = True
            elif status == walker.NEED_WINDOW:
                self._read_window(reached, progressed=found > 0)
            elif status == walker.LOOP:
                raise DecodeError(f"tiff: IFD loop: IFD {self._count - 1} points back to "
                                  f"IFD offset {reached}")
            elif status == walker.BAD_OFFSET:
                raise DecodeError(f"tiff: IFD {self._count - 1} points to the next IFD at offset "
                                  f"{reached}, outside the {self._source.size}-byte file")

    def _read_window(self, offset: int, progressed: bool) -> None:
        """Read the part of the file from `offset` on that the walker looks at next."""
        size = self._source.size
        if not progressed and self._base == offset:
            if offset + len(self._window) >= size:
                raise DecodeError(f"tiff: IFD at offset {offset} runs past the end of the "
                                  f"{size}-byte file (truncated)")
            self._window_size *= 2  # one IFD larger than the window: widen it
        self._window = self._source.read_at(offset, min(self._window_size, size - offset))
        self._base = offset

    def release(self) -> None:
        """Drop the view of the file the walker holds."""
        self._window = memoryview(b"")
        self._base = 0
