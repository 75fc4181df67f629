"""The ZISRAW (Zeiss CZI) file layout: segments, the file header, the subblock
directory (parsed in one vectorised pass), subblock and attachment headers.

Every segment starts with a 32-byte header: a 16-byte ASCII id
("ZISRAWFILE", "ZISRAWDIRECTORY", "ZISRAWSUBBLOCK", "ZISRAWMETADATA",
"ZISRAWATTACH", "ZISRAWATTDIR", "DELETED"), the allocated and the used size
(int64). All integers are little-endian.
"""

import struct
from dataclasses import dataclass

import numpy as np

from ...core.errors import DecodeError

SEGMENT_HEADER = struct.Struct("<16sqq")
FILE_HEADER = struct.Struct("<iiii16s16siqqiq")  # after the segment header
SUBBLOCK_HEADER = struct.Struct("<iiq")  # metadata size, attachment size, data size
METADATA_HEADER = struct.Struct("<ii")  # xml size, attachment size (then 248 reserved)
ENTRY_FIXED = 32  # a DirectoryEntryDV without its dimension entries
DIM_ENTRY = 20
MAX_DIMS = 16

# Pixel types: code -> (name, numpy dtype, samples per pixel)
PIXEL_TYPES = {
    0: ("Gray8", np.dtype("u1"), 1),
    1: ("Gray16", np.dtype("<u2"), 1),
    2: ("Gray32Float", np.dtype("<f4"), 1),
    3: ("Bgr24", np.dtype("u1"), 3),
    4: ("Bgr48", np.dtype("<u2"), 3),
    8: ("Bgr96Float", np.dtype("<f4"), 3),
    9: ("Bgra32", np.dtype("u1"), 4),
    12: ("Gray32", np.dtype("<i4"), 1),
    13: ("Gray64", np.dtype("<f8"), 1),
}
PIXEL_TYPE_CODES = {name: code for code, (name, _, _) in PIXEL_TYPES.items()}

# Compression codes
UNCOMPRESSED, JPEG, LZW, JPEGXR, ZSTD0, ZSTD1 = 0, 1, 2, 4, 5, 6
COMPRESSION_NAMES = {0: "uncompressed", 1: "jpeg", 2: "lzw", 4: "jpegxr", 5: "zstd0", 6: "zstd1"}


def _dim_dtype():
    return np.dtype([("dimension", "S4"), ("start", "<i4"), ("size", "<i4"),
                     ("start_coordinate", "<f4"), ("stored_size", "<i4")])


def entry_dtype(ndims: int) -> np.dtype:
    """A DirectoryEntryDV with `ndims` dimension entries, packed."""
    return np.dtype([("schema", "S2"), ("pixel_type", "<i4"), ("file_position", "<i8"),
                     ("file_part", "<i4"), ("compression", "<i4"), ("pyramid_type", "u1"),
                     ("reserved", "S5"), ("dim_count", "<i4"),
                     ("dims", _dim_dtype(), (ndims,))])


@dataclass(frozen=True)
class FileHeader:
    version: tuple
    primary_file_guid: bytes
    file_guid: bytes
    file_part: int
    directory_position: int
    metadata_position: int
    attachment_directory_position: int


def read_segment_header(source, offset: int, expected: bytes):
    """(used size, data offset) of the segment at `offset`, checking its id."""
    sid, allocated, used = SEGMENT_HEADER.unpack(source.read_at(offset, SEGMENT_HEADER.size))
    sid = sid.rstrip(b"\0")
    if sid != expected:
        raise DecodeError(f"czi: expected a {expected.decode()} segment at offset {offset}, "
                          f"found {sid[:16]!r}")
    if used < 0 or allocated < 0:
        raise DecodeError(f"czi: corrupt {expected.decode()} segment size at offset {offset}")
    return used, offset + SEGMENT_HEADER.size


def read_file_header(source) -> FileHeader:
    if source.size < SEGMENT_HEADER.size + FILE_HEADER.size:
        raise DecodeError("czi: file too short for a ZISRAW header")
    _, data = read_segment_header(source, 0, b"ZISRAWFILE")
    (major, minor, _, _, primary, guid, part, directory, metadata, _pending,
     attachments) = FILE_HEADER.unpack(source.read_at(data, FILE_HEADER.size))
    return FileHeader((major, minor), primary, guid, part, directory, metadata, attachments)


class Directory:
    """The subblock directory as numpy columns, one row per subblock.

    `dims` maps each dimension letter ("X", "Y", "C", "Z", "T", "S", "M", ...)
    to int arrays `start`, `size`, `stored_size` (-1 where a subblock lacks it).
    """

    def __init__(self, entries: np.ndarray, dims: dict):
        self.pixel_type = entries["pixel_type"]
        self.file_position = entries["file_position"]
        self.compression = entries["compression"]
        self.pyramid_type = entries["pyramid_type"]
        self.dims = dims
        self.count = len(entries)


def read_directory(source, offset: int) -> Directory:
    """Parse the ZISRAWDIRECTORY segment at `offset` (vectorised when, as
    usual, every entry has the same number of dimensions)."""
    used, data = read_segment_header(source, offset, b"ZISRAWDIRECTORY")
    (count,) = struct.unpack("<i", source.read_at(data, 4))
    start = data + 128
    if count < 0 or count * (ENTRY_FIXED + DIM_ENTRY) > source.size - start:
        raise DecodeError(f"czi: directory claims {count} entries, more than the file can hold")
    if count == 0:
        return Directory(np.zeros(0, entry_dtype(0)), {})
    (ndims,) = struct.unpack("<i", source.read_at(start + 28, 4))
    if not 0 < ndims <= MAX_DIMS:
        raise DecodeError(f"czi: directory entry with {ndims} dimensions")
    dtype = entry_dtype(ndims)
    if start + count * dtype.itemsize <= source.size:
        entries = np.frombuffer(source.read_at(start, count * dtype.itemsize), dtype)
        if not (entries["dim_count"] == ndims).all() or not (entries["schema"] == b"DV").all():
            entries = _read_entries_one_by_one(source, start, count)
    else:
        entries = _read_entries_one_by_one(source, start, count)
    return _columns(entries)


def _read_entries_one_by_one(source, start: int, count: int) -> list:
    """Entries with differing dimension counts: walk them (rare)."""
    rows = []
    pos = start
    for _ in range(count):
        schema, ndims = source.read_at(pos, 2), struct.unpack("<i", source.read_at(pos + 28, 4))[0]
        if bytes(schema) != b"DV" or not 0 < ndims <= MAX_DIMS:
            raise DecodeError(f"czi: corrupt directory entry at offset {pos}")
        dtype = entry_dtype(ndims)
        rows.append(np.frombuffer(source.read_at(pos, dtype.itemsize), dtype)[0])
        pos += dtype.itemsize
    return rows


def _columns(entries) -> Directory:
    """Columns by dimension letter, from a structured array or a list of rows."""
    if not isinstance(entries, np.ndarray):  # mixed dimension counts: pad to one shape
        ndims = max(len(e["dims"]) for e in entries)
        padded = np.zeros(len(entries), entry_dtype(ndims))
        for i, e in enumerate(entries):
            for name in ("pixel_type", "file_position", "compression", "pyramid_type", "dim_count"):
                padded[i][name] = e[name]
            padded[i]["dims"][:len(e["dims"])] = e["dims"]
        entries = padded
    dim_rows = entries["dims"]  # (count, ndims); empty slots have dimension b""
    rows = np.arange(len(entries))
    dims = {}
    for letter in np.unique(dim_rows["dimension"]):
        if not letter:
            continue
        mask = dim_rows["dimension"] == letter
        has = mask.any(axis=1)
        picked = dim_rows[rows, mask.argmax(axis=1)]
        dims[letter.decode("ascii", "replace")] = {
            k: np.where(has, picked[k], -1).astype(np.int64) for k in ("start", "size", "stored_size")}
    return Directory(entries, dims)
