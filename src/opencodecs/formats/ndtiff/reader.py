"""NDTiffReader: Micro-Manager / Pycro-Manager NDTiff datasets (versions 2 and 3).

A dataset is a folder with TIFF files and an NDTiff.index that lists, per
image, its axes (a JSON object such as {"time": 3, "channel": "DAPI", "z": 7}),
its file and the offsets of its pixels and metadata. The index is scanned in
one native pass and its axes parsed with one JSON call; pixels are then read
straight from the memory-mapped TIFF files at the listed offsets, in parallel
through the shared pool. The dataset behaves as an ndarray shaped by its axes
(`reader.axes`, `reader.shape`) plus (height, width[, 3]); images that were
never acquired read as zeros.
"""

import json
import os
import struct
from functools import cached_property

import numpy as np

from ...core.codec import Reader, check_decoded_size, import_native
from ...core.errors import DecodeError
from ...core.parallel import parallel_for
from ...core.sources import FileSource

INDEX_NAME = "NDTiff.index"
SUMMARY_MD_HEADER = 2355492
NDTIFF_MAGIC = 483729
# Axes in this order first (as Micro-Manager stacks them); others after, by name.
AXIS_ORDER = ("position", "time", "channel", "z")
# NDTiff pixel types -> (dtype, samples, bit depth)
PIXEL_TYPES = {0: (np.uint8, 1, 8), 1: (np.uint16, 1, 16), 2: (np.uint8, 3, 8),
               3: (np.uint16, 1, 10), 4: (np.uint16, 1, 12), 5: (np.uint16, 1, 14),
               6: (np.uint16, 1, 11)}


def _index_path(path) -> str:
    path = os.fspath(path)
    return path if os.path.basename(path) == INDEX_NAME else os.path.join(path, INDEX_NAME)


class NDTiffReader(Reader):
    """An NDTiff dataset as an ndarray over its axes; see the module docstring."""

    is_chunked = True

    def __init__(self, path, *, numthreads=None):
        index_path = _index_path(path)
        self.path = os.path.dirname(index_path)
        self.numthreads = numthreads
        with open(index_path, "rb") as f:
            data = f.read()
        records, count, _ = import_native("ndtiff", "_ndtiff", "built in").scan_index(data)
        self._records = np.frombuffer(records, np.int64).reshape(count, 12)
        if count == 0:
            raise DecodeError(f"ndtiff: {index_path} lists no images")
        r = self._records
        try:
            self._coords = json.loads(b"[" + b",".join(
                data[o:o + n] for o, n in zip(r[:, 0].tolist(), r[:, 1].tolist())) + b"]")
        except (ValueError, UnicodeDecodeError) as e:
            raise DecodeError(f"ndtiff: corrupt axes in {index_path}: {e}") from None
        names = [data[o:o + n].decode("utf-8", "replace")
                 for o, n in zip(r[:, 2].tolist(), r[:, 3].tolist())]
        self._file_names = sorted(set(names))
        self._file_of = np.array([self._file_names.index(n) for n in names], np.int32) \
            if len(self._file_names) > 1 else np.zeros(count, np.int32)
        self._files = {}
        self._check_images()

    # -- index ---------------------------------------------------------------

    def _check_images(self):
        r = self._records
        types = set(np.unique(r[:, 7]).tolist())
        if not types <= set(PIXEL_TYPES):
            raise DecodeError(f"ndtiff: unknown pixel type(s) {sorted(types - set(PIXEL_TYPES))}")
        if (r[:, 8] != 0).any():
            raise DecodeError("ndtiff: compressed pixels are not part of the NDTiff format")
        if len(types) > 1 or len(np.unique(r[:, 5])) > 1 or len(np.unique(r[:, 6])) > 1:
            raise DecodeError("ndtiff: images of different sizes or pixel types in one dataset")
        dtype, samples, self.bit_depth = PIXEL_TYPES[types.pop()]
        self.dtype = np.dtype(dtype)
        h, w = int(r[0, 6]), int(r[0, 5])
        self.image_shape = (h, w) if samples == 1 else (h, w, samples)
        self._image_bytes = self.dtype.itemsize * h * w * samples
        check_decoded_size("ndtiff", self.dtype, self.image_shape)

    @cached_property
    def axes(self) -> dict:
        """{axis name: [values in array order]}: ints ascending, strings as first seen."""
        values = {}
        for coords in self._coords:
            for name, value in coords.items():
                values.setdefault(name, {})[value] = None
        ordered = sorted(values, key=lambda a: (AXIS_ORDER.index(a) if a in AXIS_ORDER else len(AXIS_ORDER), a))
        out = {}
        for name in ordered:
            seen = list(values[name])
            out[name] = sorted(seen) if all(isinstance(v, int) for v in seen) else seen
        return out

    @cached_property
    def _positions(self) -> np.ndarray:
        """Each image's index along every axis (images lacking an axis sit at its first value)."""
        lookup = {name: {v: i for i, v in enumerate(vals)} for name, vals in self.axes.items()}
        names = list(self.axes)
        return np.array([[lookup[n].get(c.get(n, self.axes[n][0]), 0) for n in names]
                         for c in self._coords], np.int64).reshape(len(self._coords), len(names))

    @cached_property
    def _image_at(self) -> np.ndarray:
        """An array over the axes: the index entry of each image, -1 where none."""
        table = np.full([len(v) for v in self.axes.values()], -1, np.int64)
        table[tuple(self._positions.T)] = np.arange(len(self._coords))
        return table

    @property
    def shape(self) -> tuple:
        return tuple(len(v) for v in self.axes.values()) + self.image_shape

    @property
    def n_frames(self) -> int:
        return len(self._coords)

    @cached_property
    def summary_metadata(self) -> dict:
        """The dataset's summary metadata (JSON in the header of every TIFF file)."""
        source = self._file(0)
        magic, _, _, md_header, md_length = struct.unpack("<IIIII", source.read_at(8, 20))
        if md_header != SUMMARY_MD_HEADER:
            return {}
        return json.loads(bytes(source.read_at(28, md_length)))

    @property
    def coordinates(self) -> list:
        """The axes of every image, in index (acquisition) order."""
        return self._coords

    # -- reading ---------------------------------------------------------------

    def _file(self, k: int) -> FileSource:
        source = self._files.get(k)
        if source is None:
            source = self._files[k] = FileSource(os.path.join(self.path, self._file_names[k]))
        return source

    def _read_into(self, entry: int, out: np.ndarray) -> None:
        self._file(int(self._file_of[entry])).read_into(int(self._records[entry, 4]), out)

    def _entry(self, coords: dict) -> int:
        names = list(self.axes)
        unknown = set(coords) - set(names)
        if unknown:
            raise KeyError(f"ndtiff: no axis named {sorted(unknown)}; axes: {names}")
        try:
            key = tuple(self.axes[n].index(coords.get(n, self.axes[n][0])) for n in names)
        except ValueError:
            raise KeyError(f"ndtiff: no image at {coords}") from None
        entry = int(self._image_at[key])
        if entry < 0:
            raise KeyError(f"ndtiff: no image at {coords}")
        return entry

    def has_image(self, **coords) -> bool:
        try:
            self._entry(coords)
        except KeyError:
            return False
        return True

    def read_image(self, **coords) -> np.ndarray:
        """One image by its axes, e.g. read_image(time=3, channel="DAPI", z=7)."""
        out = np.empty(self.image_shape, self.dtype)
        self._read_into(self._entry(coords), out)
        return out

    def read_metadata(self, **coords) -> dict:
        """The JSON metadata stored with one image."""
        r = self._records[self._entry(coords)]
        raw = self._file(int(self._file_of[self._entry(coords)])).read_at(int(r[9]), int(r[10]))
        return json.loads(bytes(raw))

    def _frame(self, index: int) -> np.ndarray:
        out = np.empty(self.image_shape, self.dtype)
        self._read_into(index, out)
        return out

    def __getitem__(self, key):
        """ndarray indexing over (axes..., y, x): reads only the images selected, in parallel."""
        if not isinstance(key, tuple):
            key = (key,)
        naxes = len(self.axes)
        table = self._image_at[key[:naxes]]
        squeeze_table = np.ndim(table) == 0
        entries = np.atleast_1d(table)
        out = np.empty(entries.shape + self.image_shape, self.dtype)
        flat_entries, flat_out = entries.reshape(-1), out.reshape((-1,) + self.image_shape)
        present = np.nonzero(flat_entries >= 0)[0]
        flat_out[flat_entries < 0] = 0  # never acquired
        parallel_for(lambda k: self._read_into(int(flat_entries[present[k]]), flat_out[present[k]]),
                     len(present), self.numthreads)
        if squeeze_table:
            out = out[0]
        return out[(Ellipsis,) + key[naxes:]] if len(key) > naxes else out

    def read(self) -> np.ndarray:
        """The whole dataset as one array (zeros where no image was acquired)."""
        return self[()]

    def close(self):
        for source in self._files.values():
            source.close()
        self._files.clear()
