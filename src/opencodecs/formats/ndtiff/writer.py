"""NDTiffWriter: a streaming, crash-safe NDTiff dataset writer.

Each image goes to disk as one TIFF page laid out as Micro-Manager writes it
(IFD, small values, pixels, JSON metadata) with ONE gathered system call
(os.pwritev: the pixels are written straight from the caller's array), then
the previous page's next-IFD pointer is patched to it, then its entry is
appended to NDTiff.index. So at every moment the TIFF chain ends at a
complete page and the index lists only complete images: a writer killed
mid-acquisition leaves a dataset that opens with every image it finished.

Files are pre-allocated in large steps (posix_fallocate) so the file system
lays them out contiguously without growing them per image, and truncated to
their real size on close. A file is closed and the next one started before it
would pass 4 GiB (the index stores 32-bit offsets).
"""

import json
import os
import struct

import numpy as np

from ...core.codec import Writer
from ...core.errors import EncodeError
from .reader import INDEX_NAME, NDTIFF_MAGIC, SUMMARY_MD_HEADER

MAJOR_VERSION, MINOR_VERSION = 3, 3
MAX_FILE_SIZE = 4 << 30
PREALLOCATE = 256 << 20
ENTRIES = 13
MM_METADATA = 51123
_BIT_DEPTH_TYPES = {8: 0, 16: 1, 10: 3, 12: 4, 14: 5, 11: 6}
RGB_TYPE = 2


class NDTiffWriter(Writer):
    """Write images one by one: `put_image({"time": t, "channel": c, "z": z}, image, metadata)`.

    `path` is the dataset folder (created; it must not hold a dataset yet);
    `name` prefixes the TIFF file names as Micro-Manager does.
    """

    def __init__(self, path, *, name=None, summary_metadata=None, bit_depth=None):
        self.path = os.fspath(path)
        os.makedirs(self.path, exist_ok=True)
        if os.path.exists(os.path.join(self.path, INDEX_NAME)):
            raise FileExistsError(f"ndtiff: {self.path} already holds a dataset")
        self._prefix = f"{name}_" if name else ""
        self._summary = json.dumps(summary_metadata or {}).encode()
        self._bit_depth = bit_depth
        self._index = os.open(os.path.join(self.path, INDEX_NAME),
                              os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._fd = None
        self._file_count = 0
        self._shape = None
        self._closed = False

    # -- files -----------------------------------------------------------------

    def _start_file(self) -> None:
        self._finish_file()
        suffix = "" if self._file_count == 0 else f"_{self._file_count}"
        self._file_name = f"{self._prefix}NDTiffStack{suffix}.tif"
        self._fd = os.open(os.path.join(self.path, self._file_name),
                           os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self._file_count += 1
        first_ifd = 28 + len(self._summary)
        first_ifd += first_ifd & 1
        header = struct.pack("<2sHIIIIII", b"II", 42, first_ifd, NDTIFF_MAGIC, MAJOR_VERSION,
                             MINOR_VERSION, SUMMARY_MD_HEADER, len(self._summary))
        os.pwrite(self._fd, header + self._summary + bytes(first_ifd - 28 - len(self._summary)), 0)
        self._end = first_ifd
        self._allocated = 0
        self._last_next_pointer = 4  # the header's first-IFD field, already correct

    def _finish_file(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, self._end)
            os.close(self._fd)
            self._fd = None

    def _reserve(self, end: int) -> None:
        if end > self._allocated and hasattr(os, "posix_fallocate"):
            self._allocated = min(MAX_FILE_SIZE, max(end, self._allocated + PREALLOCATE))
            try:
                os.posix_fallocate(self._fd, 0, self._allocated)
            except OSError:  # file systems without fallocate: plain appends
                self._allocated = MAX_FILE_SIZE

    # -- images -----------------------------------------------------------------

    def _pixel_type(self, image: np.ndarray) -> tuple:
        if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
            return RGB_TYPE, 8
        if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
            raise EncodeError(f"ndtiff: images are (H, W) uint8/uint16 or (H, W, 3) uint8, "
                              f"got {image.shape} {image.dtype}")
        depth = self._bit_depth or (8 if image.dtype == np.uint8 else 16)
        if depth not in _BIT_DEPTH_TYPES or (depth > 8) != (image.dtype == np.uint16):
            raise EncodeError(f"ndtiff: bit depth {depth} does not fit {image.dtype}")
        return _BIT_DEPTH_TYPES[depth], depth

    def put_image(self, coordinates: dict, image, metadata=None) -> None:
        """Append one image with its axes (ints, or strings such as channel names)."""
        if self._closed:
            raise ValueError("ndtiff: the writer is closed")
        for axis, value in coordinates.items():
            if not isinstance(axis, str) or isinstance(value, bool) or not isinstance(value, (int, str)):
                raise EncodeError(f"ndtiff: axis {axis!r}={value!r}: names are str, values int or str")
        image = np.ascontiguousarray(image)
        pixel_type, depth = self._pixel_type(image)
        if self._shape is None:
            self._shape = (image.shape, image.dtype)
        elif self._shape != (image.shape, image.dtype):
            raise EncodeError(f"ndtiff: every image must be {self._shape[0]} {self._shape[1]}")
        meta = metadata if isinstance(metadata, bytes) else json.dumps(metadata or {}).encode()
        rgb = pixel_type == RGB_TYPE
        small = (6 if rgb else 0) + 16
        ifd_size = 2 + ENTRIES * 12 + 4
        page_size = ifd_size + small + image.nbytes + len(meta)
        if self._fd is None or self._end + page_size + 1 >= MAX_FILE_SIZE:
            self._start_file()
        ifd = self._end
        pixels = ifd + ifd_size + small
        meta_at = pixels + image.nbytes
        h, w = image.shape[:2]
        bits = pixels - 16 - 6 if rgb else depth if depth <= 8 else 16
        entries = [
            (256, 4, 1, w), (257, 4, 1, h), (258, 3, 3 if rgb else 1, bits), (259, 3, 1, 1),
            (262, 3, 1, 2 if rgb else 1), (273, 4, 1, pixels), (277, 3, 1, 3 if rgb else 1),
            (278, 3, 1, h), (279, 4, 1, image.nbytes), (282, 5, 1, pixels - 16),
            (283, 5, 1, pixels - 8), (296, 3, 1, 3), (MM_METADATA, 2, len(meta), meta_at)]
        head = struct.pack("<H", ENTRIES) + b"".join(struct.pack("<HHII", *e) for e in entries)
        head += struct.pack("<I", 0)  # the last page, until the next one exists
        head += (struct.pack("<HHH", 8, 8, 8) if rgb else b"") + struct.pack("<IIII", 1, 1, 1, 1)
        end = meta_at + len(meta)
        end += end & 1
        self._reserve(end)
        written = os.pwritev(self._fd, [head, memoryview(image).cast("B"), meta], ifd)
        if written != page_size:
            raise OSError(f"ndtiff: short write ({written} of {page_size} bytes)")
        os.pwrite(self._fd, struct.pack("<I", ifd), self._last_next_pointer)
        self._last_next_pointer = ifd + 2 + ENTRIES * 12
        self._end = end
        axes = json.dumps(dict(sorted(coordinates.items()))).encode()
        name = self._file_name.encode()
        os.write(self._index, struct.pack("<I", len(axes)) + axes + struct.pack("<I", len(name)) + name
                 + struct.pack("<8I", pixels, w, h, pixel_type, 0, meta_at, len(meta), 0))

    def write_frame(self, data, **opts) -> None:
        self.put_image(opts.pop("coordinates"), data, opts.pop("metadata", None))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finish_file()
            os.close(self._index)

    # Every image already written stays readable: an abort just closes.
    abort = close
