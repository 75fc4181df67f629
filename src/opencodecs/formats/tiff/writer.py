"""TIFF and BigTIFF writer: strips or tiles, pages, pyramids, parallel encode.

Layout of a file written to a path or a seekable file object::

    header | data 0 | [data and IFDs of page 0's SubIFDs] | IFD 0 | data 1 | IFD 1 | ...

A page's tiles (or strips) are encoded in batches on the shared pool and each
batch goes out in one gathered system call (os.writev of the encoded blobs),
the next batch encoding while the last one is written. Uncompressed tiles are
gathered from the image a run at a time; uncompressed strips are written
straight from the caller's array. The IFD follows its data, when every offset
and byte count is known, and the pointer that leads to it (the header's or
the previous IFD's next-IFD field) is patched in place. Output is the same
bytes whatever the number of threads: every tile is encoded on its own, and
the order of the file is the order of the tiles.

Streaming (``streaming=True``, `TiffWriter.write_stream`) never seeks, so every
offset must be known before the bytes that hold it go out::

    header | IFD 0 | data 0 | IFD 1 | data 1 | ... | IFD N-1 | data N-1

Each page is encoded whole in memory first; the sizes of its IFD and of its
encoded tiles then give every tile offset. The header points at IFD 0, right
after it. IFD k's next-IFD pointer is the end of data k, where IFD k+1 will
start, or 0 for the last page: `total_pages` says which page that is (or, when
not given, a look-ahead of one page).

A failed or interrupted write never leaves a file that looks valid:

- a path is written as ``<path>.<pid>.partial``, renamed over the path when the
  writer closes cleanly, and deleted by `abort()` (an exception in the `with`
  block);
- a seekable file object gets its header zeroed on abort;
- a stream cannot be taken back. A consumer of a stream cut short between
  pages receives whole pages whose last IFD points to a next IFD at the end
  of the stream, where none follows: libtiff refuses the file ("Failed to read
  directory"), tifffile logs an invalid page offset and gives the whole pages.
  Cut inside a page, it receives an IFD whose last tiles lie past the end of
  the data, which fail to decode. Only a stream whose last page went out
  carries a 0 in its last next-IFD pointer.
"""

import os
import struct
import threading
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ...core.codec import Writer, numthreads_or_default
from ...core.errors import CodecUnavailableError, EncodeError
from ...core.io import copy_into, is_path, preallocate
from ...core.parallel import map_parallel, shared_pool
from ...core.registry import get_codec, has_codec
from . import tags as T

__all__ = ["TiffWriter", "encode_tiff"]

_IOV_MAX = 1024
_CLASSIC_LIMIT = 2**32 - 1
# Uncompressed tiles are gathered in runs of about this many bytes (whole tiles
# of one tile row); runs, tiles or strips, are grouped into write batches.
_RUN_BYTES = 1 << 20
_BATCH_BYTES = 16 << 20
# Batches of gathered uncompressed tiles stay this small: the kernel then copies
# them to the page cache from the CPU cache.
_GATHER_BATCH_BYTES = 4 << 20
# Strips hold about this many raw bytes.
_STRIP_BYTES = 256 << 10

_DTYPES = frozenset(np.dtype(t) for t in ("u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", "f2", "f4", "f8"))
_SAMPLE_FORMATS = {"u": T.SAMPLE_FORMAT_UINT, "i": T.SAMPLE_FORMAT_INT, "f": T.SAMPLE_FORMAT_IEEEFP}
_PHOTOMETRICS = {"miniswhite": T.PHOTOMETRIC_MINISWHITE, "minisblack": T.PHOTOMETRIC_MINISBLACK,
                 "rgb": T.PHOTOMETRIC_RGB, "palette": T.PHOTOMETRIC_PALETTE,
                 "separated": T.PHOTOMETRIC_SEPARATED}
_PLANARCONFIGS = {None: T.PLANAR_CONTIG, 1: T.PLANAR_CONTIG, "contig": T.PLANAR_CONTIG,
                  2: T.PLANAR_SEPARATE, "separate": T.PLANAR_SEPARATE}
_RESOLUTION_UNITS = {None: 1, "none": 1, "inch": 2, "centimeter": 3, "cm": 3, 1: 1, 2: 2, 3: 3}
# JPEG chroma subsampling (the jpeg codec's names) -> YCbCrSubSampling (horizontal, vertical)
_YCBCR_SUBSAMPLING = {"444": (1, 1), "422": (2, 1), "420": (2, 2), "411": (4, 1)}
# ReferenceBlackWhite for full-range YCbCr, as rationals
_REFERENCE_BLACK_WHITE = [0, 1, 255, 1, 128, 1, 255, 1, 128, 1, 255, 1]


@dataclass(frozen=True)
class _Compression:
    codec: str | None      # registry name of the codec that encodes a tile
    level_option: str | None  # the codec option that `level=` sets
    raw_samples: bool      # the codec sees sample bytes: file byte order, predictors apply
    fixed: tuple = ()      # options the writer always passes


# TIFF compression names (tifffile's spelling) -> how tiles are encoded.
# Image codecs encode each tile as a self-contained image (JPEG tiles carry
# their own tables: no JPEGTables tag).
_COMPRESSIONS = {
    "none": _Compression(None, None, True),
    "zlib": _Compression("deflate", "level", True),
    "zstd": _Compression("zstd", "level", True, (("numthreads", 1),)),
    "lzw": _Compression("lzw", None, True),
    "packbits": _Compression("packbits", None, True),
    "lzma": _Compression("lzma", "level", True),
    "jpeg": _Compression("jpeg", "quality", False),
    "jpeg2000": _Compression("jpeg2k", "quality", False, (("codec", "j2k"), ("numthreads", 1))),
    "webp": _Compression("webp", "quality", False, (("numthreads", 1),)),
    "jpegxl": _Compression("jxl", "quality", False, (("numthreads", 1),)),
    "lerc": _Compression("lerc", "max_z_error", False),
}
_COMPRESSION_ALIASES = {"deflate": "zlib", "adobe_deflate": "zlib", "jpeg2k": "jpeg2000",
                        "jxl": "jpegxl", None: "none"}
_COMPRESSION_CODES = {name: T.COMPRESSION_CODES[name] for name in _COMPRESSIONS}
# The compressions libtiff applies predictors with.
_PREDICTOR_CODES = frozenset(_COMPRESSION_CODES[name] for name in ("zlib", "zstd", "lzw", "lzma"))


def _compression(name, level, compressionargs):
    """(tag code, codec or None, encode options, raw_samples) for a compression name."""
    key = _COMPRESSION_ALIASES.get(name, name)
    if isinstance(key, int):  # a TIFF compression code
        key = next((k for k, code in _COMPRESSION_CODES.items() if code == key), key)
    elif isinstance(key, str):
        key = _COMPRESSION_ALIASES.get(key.lower(), key.lower())
    spec = _COMPRESSIONS.get(key)
    if spec is None:
        raise EncodeError(f"tiff: unknown compression {name!r}; choose one of {', '.join(_COMPRESSIONS)}")
    options = dict(spec.fixed)
    options.update(compressionargs or {})
    if level is not None:
        if spec.level_option is None:
            raise EncodeError(f"tiff: compression {key!r} takes no level")
        options[spec.level_option] = level
    codec = None
    if spec.codec is not None:
        if not has_codec(spec.codec):
            raise CodecUnavailableError(f"tiff: compression {key!r} needs the {spec.codec} codec, "
                                        "which this build of opencodecs lacks")
        codec = get_codec(spec.codec)
    return _COMPRESSION_CODES[key], codec, options, spec.raw_samples


# ---- IFD packing -------------------------------------------------------------

def _entry(code, typ, values, byteorder):
    """One IFD entry (code, type, count, value bytes in the file's byte order)."""
    if typ not in T.FIELD_TYPES:
        raise EncodeError(f"tiff: tag {code}: unknown field type {typ!r}")
    _, size, char = T.FIELD_TYPES[typ]
    if typ == 2:  # ASCII, NUL-terminated
        data = values.encode() if isinstance(values, str) else bytes(values)
        if not data.endswith(b"\0"):
            data += b"\0"
        return code, typ, len(data), data
    if isinstance(values, (bytes, bytearray, memoryview)) and size == 1:
        data = bytes(values)
    else:
        data = np.asarray(values, dtype=byteorder + char).tobytes()
    return code, typ, len(data) // size, data


def _ifd_formats(byteorder, bigtiff):
    """struct formats of (entry count, entry, pointer)."""
    if bigtiff:
        return byteorder + "Q", byteorder + "HHQ", byteorder + "Q"
    return byteorder + "H", byteorder + "HHI", byteorder + "I"


def _pack_ifd(entries, pos, next_ifd, byteorder, bigtiff) -> bytes:
    """An IFD written at `pos`, followed by the values too large for their entry.

    Its size depends only on the entries' types and counts, never on `pos`.
    """
    count_fmt, entry_fmt, pointer_fmt = _ifd_formats(byteorder, bigtiff)
    inline = struct.calcsize(pointer_fmt)
    entries = sorted(entries, key=lambda e: e[0])
    for a, b in zip(entries, entries[1:]):
        if a[0] == b[0]:
            raise EncodeError(f"tiff: tag {a[0]} given twice")
    values_pos = (pos + struct.calcsize(count_fmt) + len(entries) * (struct.calcsize(entry_fmt) + inline)
                  + inline)
    fields = [struct.pack(count_fmt, len(entries))]
    values = []
    for code, typ, count, data in entries:
        fields.append(struct.pack(entry_fmt, code, typ, count))
        if len(data) <= inline:
            fields.append(data.ljust(inline, b"\0"))
        else:
            fields.append(struct.pack(pointer_fmt, values_pos))
            values.append(data)
            values_pos += len(data)
            if len(data) % 2:  # values start on word boundaries
                values.append(b"\0")
                values_pos += 1
    fields.append(struct.pack(pointer_fmt, next_ifd))
    return b"".join(fields + values)


def _next_pointer_position(pos, n_entries, byteorder, bigtiff) -> int:
    """Where the next-IFD pointer of an IFD at `pos` with n entries lies."""
    count_fmt, entry_fmt, pointer_fmt = _ifd_formats(byteorder, bigtiff)
    return pos + struct.calcsize(count_fmt) + n_entries * (struct.calcsize(entry_fmt)
                                                           + struct.calcsize(pointer_fmt))


def _rational(value):
    """(numerator, denominator) of a positive number, both fitting 32 bits."""
    f = Fraction(value).limit_denominator(1 << 16)
    if f <= 0 or f.numerator > _CLASSIC_LIMIT:
        raise EncodeError(f"tiff: resolution {value!r} is not a positive number below 2**32")
    return f.numerator, f.denominator


# ---- pages -------------------------------------------------------------------

def _as_bytes_view(buf):
    """A flat byte memoryview of a contiguous buffer (bytes, array, memoryview)."""
    return memoryview(buf).cast("B")


def _gather_tiles(plane, y0, x0, n, th, tw, out=None):
    """n tiles of one tile row as one (n, th, tw, s) array, zero-padded at the edges.

    `out`, if given, is a byte buffer of the right size to gather into.
    """
    h, w, s = plane.shape
    rows = min(th, h - y0)
    shape = (n, th, tw, s)
    out = np.empty(shape, plane.dtype) if out is None else out.view(plane.dtype).reshape(shape)
    band = plane[y0:y0 + rows]
    full = min(n, (w - x0) // tw)  # tiles inside the image; only a run's last can stick out
    if full:
        out.transpose(1, 0, 2, 3)[:rows, :full] = band[:, x0:x0 + full * tw].reshape(rows, full, tw, s)
    if full < n:
        cols = w - (x0 + full * tw)
        out[full, :rows, :cols] = band[:, x0 + full * tw:]
        out[full, :, cols:] = 0
    if rows < th:
        out[:, rows:] = 0
    return out


class _Page:
    """One image, ready to encode: its planes, chunk geometry, encoder and tags."""

    def __init__(self, arr, *, byteorder, bigtiff, subfiletype=0, tile=None, compression="none",
                 predictor=None, level=None, compressionargs=None, photometric=None,
                 planarconfig=None, metadata=None, resolution=None, extratags=()):
        arr = np.asarray(arr)
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype not in _DTYPES:
            raise EncodeError(f"tiff: cannot write {arr.dtype} images; supported: "
                              f"{', '.join(sorted(str(d) for d in _DTYPES))}")
        if planarconfig not in _PLANARCONFIGS:
            raise EncodeError(f"tiff: planarconfig must be 'contig' or 'separate', got {planarconfig!r}")
        planar = _PLANARCONFIGS[planarconfig]
        if planar == T.PLANAR_SEPARATE:
            if arr.ndim != 3:
                raise EncodeError(f"tiff: planarconfig='separate' needs an (S, H, W) array, got {arr.shape}")
            self.planes = [arr[i][..., None] for i in range(arr.shape[0])]
            samples, height, width = arr.shape
        else:
            if arr.ndim not in (2, 3):
                raise EncodeError(f"tiff: a page is an (H, W) or (H, W, S) array, got shape {arr.shape}")
            plane = arr[..., None] if arr.ndim == 2 else arr
            self.planes = [plane]
            height, width, samples = plane.shape
        if height == 0 or width == 0 or samples == 0:
            raise EncodeError(f"tiff: cannot write an empty image of shape {arr.shape}")
        self.dtype = arr.dtype
        self.samples = samples
        self.height, self.width = height, width
        self.byteorder, self.bigtiff = byteorder, bigtiff
        self.swap = arr.dtype.itemsize > 1 and byteorder != ("<" if np.little_endian else ">")

        code, self.codec, self.options, raw_samples = _compression(compression, level, compressionargs)
        self.predictor = self._predictor(predictor, code)
        self.raw_samples = raw_samples
        self.photometric = self._photometric(photometric)
        self.ycbcr_subsampling = None
        if code == T.COMPRESSION_CODES["jpeg"] and self.photometric == T.PHOTOMETRIC_RGB and samples == 3:
            self._store_as_ycbcr(planar)
        if tile is None:
            self.tile = None
            row_bytes = width * (samples if planar == T.PLANAR_CONTIG else 1) * arr.dtype.itemsize
            rows = max(16, _STRIP_BYTES // row_bytes // 16 * 16)  # whole JPEG MCUs
            self.rows_per_strip = min(height, rows)
        else:
            try:
                th, tw = map(int, tile)
            except (TypeError, ValueError):
                th = tw = 0
            if th <= 0 or tw <= 0 or th % 16 or tw % 16:
                raise EncodeError(f"tiff: tile must be (height, width), positive multiples of 16, "
                                  f"got {tile!r}")
            self.tile = (th, tw)
        self.chunk_shape = (self.tile or (self.rows_per_strip, width)) + (self.planes[0].shape[2],)
        self.tags = self._tags(code, planar, metadata, resolution, extratags, subfiletype)

    def _predictor(self, predictor, code):
        if predictor in (None, False, 1):
            return T.PREDICTOR_NONE
        if code not in _PREDICTOR_CODES:
            raise EncodeError("tiff: predictors go with the zlib, zstd, lzw and lzma compressions only")
        kind = self.dtype.kind
        if predictor is True:
            return T.PREDICTOR_FLOATINGPOINT if kind == "f" else T.PREDICTOR_HORIZONTAL
        if (predictor, kind == "f") in ((T.PREDICTOR_HORIZONTAL, False), (T.PREDICTOR_FLOATINGPOINT, True)):
            return predictor
        raise EncodeError(f"tiff: predictor must be 2 (integer data), 3 (floating point data) or True, "
                          f"got {predictor!r} for {self.dtype}")

    def _photometric(self, photometric):
        if photometric is None:
            rgb = self.samples in (3, 4) and self.dtype in (np.uint8, np.uint16)
            return T.PHOTOMETRIC_RGB if rgb else T.PHOTOMETRIC_MINISBLACK
        value = _PHOTOMETRICS.get(photometric, photometric)
        if value not in _PHOTOMETRICS.values():
            raise EncodeError(f"tiff: unknown photometric {photometric!r}; "
                              f"choose one of {', '.join(_PHOTOMETRICS)}")
        if value == T.PHOTOMETRIC_RGB and self.samples < 3:
            raise EncodeError(f"tiff: photometric 'rgb' needs 3 or more samples, got {self.samples}")
        return value

    def _store_as_ycbcr(self, planar):
        """RGB JPEG tiles hold YCbCr (JFIF): say so, as libtiff expects, with the subsampling."""
        if planar != T.PLANAR_CONTIG:
            return  # one grey JPEG per plane
        self.options.setdefault("subsampling", "420")
        subsampling = self.options["subsampling"]
        if subsampling not in _YCBCR_SUBSAMPLING:
            raise EncodeError(f"tiff: JPEG subsampling must be one of {', '.join(_YCBCR_SUBSAMPLING)} "
                              f"in TIFF, got {subsampling!r}")
        self.photometric = T.PHOTOMETRIC_YCBCR
        self.ycbcr_subsampling = _YCBCR_SUBSAMPLING[subsampling]

    def _extrasamples(self):
        colour = {T.PHOTOMETRIC_RGB: 3, T.PHOTOMETRIC_SEPARATED: 4}.get(self.photometric, 1)
        extra = max(0, self.samples - colour)
        if not extra:
            return []
        # RGBA: the fourth sample is unassociated alpha; others are unspecified.
        first = 2 if self.photometric == T.PHOTOMETRIC_RGB else 0
        return [first] + [0] * (extra - 1)

    def _tags(self, code, planar, metadata, resolution, extratags, subfiletype):
        bo = self.byteorder
        n = self.samples
        tags = [
            _entry(T.NEW_SUBFILE_TYPE, 4, subfiletype, bo),
            _entry(T.IMAGE_WIDTH, 4, self.width, bo),
            _entry(T.IMAGE_LENGTH, 4, self.height, bo),
            _entry(T.BITS_PER_SAMPLE, 3, [self.dtype.itemsize * 8] * n, bo),
            _entry(T.COMPRESSION, 3, code, bo),
            _entry(T.PHOTOMETRIC, 3, self.photometric, bo),
            _entry(T.SAMPLES_PER_PIXEL, 3, n, bo),
            _entry(T.SAMPLE_FORMAT, 3, [_SAMPLE_FORMATS[self.dtype.kind]] * n, bo),
        ]
        if n > 1:
            tags.append(_entry(T.PLANAR_CONFIGURATION, 3, planar, bo))
        extrasamples = self._extrasamples()
        if extrasamples:
            tags.append(_entry(T.EXTRA_SAMPLES, 3, extrasamples, bo))
        if self.predictor != T.PREDICTOR_NONE:
            tags.append(_entry(T.PREDICTOR, 3, self.predictor, bo))
        if self.ycbcr_subsampling is not None:
            tags.append(_entry(T.YCBCR_SUBSAMPLING, 3, self.ycbcr_subsampling, bo))
            tags.append(_entry(T.REFERENCE_BLACK_WHITE, 5, _REFERENCE_BLACK_WHITE, bo))
        if code == T.COMPRESSION_CODES["lerc"]:
            tags.append(_entry(T.LERC_PARAMETERS, 4, [4, 0], bo))  # LERC version 4, no extra compression
        if self.tile is None:
            tags.append(_entry(T.ROWS_PER_STRIP, 4, self.rows_per_strip, bo))
        else:
            tags.append(_entry(T.TILE_LENGTH, 4, self.tile[0], bo))
            tags.append(_entry(T.TILE_WIDTH, 4, self.tile[1], bo))
        if metadata is not None:
            if not isinstance(metadata, (str, bytes)):
                raise EncodeError(f"tiff: metadata must be a str (the ImageDescription), "
                                  f"got {type(metadata).__name__}")
            tags.append(_entry(T.IMAGE_DESCRIPTION, 2, metadata, bo))
        if resolution is not None:
            tags += self._resolution_tags(resolution)
        for extra in extratags:
            code_, typ, count, value = extra[:4]
            entry = _entry(int(code_), int(typ), value, bo)
            if count is not None and count != entry[2]:
                raise EncodeError(f"tiff: extra tag {code_}: count {count} does not match {entry[2]} values")
            tags.append(entry)
        return tags

    def _resolution_tags(self, resolution):
        bo = self.byteorder
        if len(resolution) not in (2, 3) or (len(resolution) == 3 and resolution[2] not in _RESOLUTION_UNITS):
            raise EncodeError(f"tiff: resolution must be (x, y) or (x, y, unit) with unit one of "
                              f"'none', 'inch', 'centimeter', got {resolution!r}")
        unit = _RESOLUTION_UNITS[resolution[2] if len(resolution) == 3 else None]
        return [_entry(T.X_RESOLUTION, 5, _rational(resolution[0]), bo),
                _entry(T.Y_RESOLUTION, 5, _rational(resolution[1]), bo),
                _entry(T.RESOLUTION_UNIT, 3, unit, bo)]

    def entries(self, offsets, bytecounts, subifds=()):
        """Every tag, with the chunk offsets and byte counts (and SubIFD offsets) filled in."""
        bo = self.byteorder
        long_type = 16 if self.bigtiff else 4
        offsets_tag, counts_tag = ((T.STRIP_OFFSETS, T.STRIP_BYTE_COUNTS) if self.tile is None
                                   else (T.TILE_OFFSETS, T.TILE_BYTE_COUNTS))
        entries = self.tags + [_entry(offsets_tag, long_type, offsets, bo),
                               _entry(counts_tag, long_type, bytecounts, bo)]
        if subifds:
            entries.append(_entry(T.SUB_IFDS, 18 if self.bigtiff else 13, list(subifds), bo))
        return entries

    # -- chunks

    def runs(self):
        """The encode work: (plane, y0, x0, tiles) for tile runs, (plane, y0, None, 1) for strips."""
        runs = []
        for p, plane in enumerate(self.planes):
            if self.tile is None:
                runs += [(p, y, None, 1) for y in range(0, self.height, self.rows_per_strip)]
                continue
            th, tw = self.tile
            tiles_across = -(-self.width // tw)
            # Tiles to encode go one by one, so threads finish a batch together.
            per_run = (max(1, _RUN_BYTES // (th * tw * plane.shape[2] * self.dtype.itemsize))
                       if self.gathers_raw_tiles else 1)
            for y in range(0, self.height, th):
                for i in range(0, tiles_across, per_run):
                    runs.append((p, y, i * tw, min(per_run, tiles_across - i)))
        return runs

    def raw_bytes(self, run):
        th, tw, s = self.chunk_shape
        if run[2] is None:
            th = min(th, self.height - run[1])
        return run[3] * th * tw * s * self.dtype.itemsize

    @property
    def gathers_raw_tiles(self):
        """True if runs are written as gathered: uncompressed tiles, no predictor."""
        return self.tile is not None and self.codec is None and self.predictor == T.PREDICTOR_NONE

    def encode_run(self, run, out=None):
        """(byte views to write, byte count of each chunk) of one run; tiles gathered into `out`."""
        p, y, x, n = run
        plane = self.planes[p]
        if x is None:  # one strip, straight from the caller's rows when possible
            chunk = plane[y:y + self.rows_per_strip]
            owned = False
            chunks = [chunk]
        else:
            chunk = _gather_tiles(plane, y, x, n, *self.tile, out=out)
            owned = True
            chunks = list(chunk)
        if self.codec is None and self.predictor == T.PREDICTOR_NONE:
            # Uncompressed: the whole run is one contiguous blob.
            if self.swap:
                chunk = chunk.byteswap(inplace=owned)
            elif not chunk.flags.c_contiguous:
                chunk = np.ascontiguousarray(chunk)
            size = chunk.nbytes // len(chunks)
            return [_as_bytes_view(chunk)], [size] * len(chunks)
        blobs = [self.encode_chunk(c, owned) for c in chunks]
        return blobs, [len(b) for b in blobs]

    def encode_chunk(self, chunk, owned):
        """One tile or strip (rows, cols, samples) encoded as the page's compression says."""
        if not self.raw_samples:
            image = chunk[..., 0] if chunk.shape[2] == 1 else chunk
            return _as_bytes_view(self.codec.encode(np.ascontiguousarray(image), **self.options))
        if self.predictor != T.PREDICTOR_NONE:
            from ...codecs.predictors import predictor_encode
            if not owned:
                chunk = np.array(chunk)
                owned = True
            predictor_encode(chunk, self.predictor)
        # The floating-point predictor's output is a byte stream already in TIFF order.
        if self.swap and self.predictor != T.PREDICTOR_FLOATINGPOINT:
            chunk = chunk.byteswap(inplace=owned)
        return _as_bytes_view(self.codec.encode(np.ascontiguousarray(chunk), **self.options))


# ---- destinations ------------------------------------------------------------

class _Sink:
    """Where the bytes go: appends (one in flight, on the shared pool) and patches."""

    def __init__(self, limit):
        self.pos = 0
        self._limit = limit
        self._pending = None

    def write(self, views):
        """Queue byte views for writing after whatever is in flight; returns at once."""
        views = [v for v in views if len(v)]
        total = sum(len(v) for v in views)
        if self.pos + total > self._limit:
            raise EncodeError("tiff: a classic TIFF cannot exceed 4 GiB; use bigtiff=True")
        start = self.pos
        self.pos += total
        self.flush()
        args = (views, start, total)
        self._pending = shared_pool().submit(self._write, *args), args

    def flush(self):
        """Wait for the write in flight; run it here if no pool thread has taken it yet."""
        pending, self._pending = self._pending, None
        if pending is not None:
            future, args = pending
            if future.cancel():  # the pool is busy (perhaps with our own caller): no deadlock
                self._write(*args)
            else:
                future.result()

    def patch(self, pos, data):
        self.flush()
        self._patch(pos, data)

    def _write(self, views, start, total):
        raise NotImplementedError

    def _patch(self, pos, data):
        raise EncodeError("tiff: cannot patch an unseekable sink")

    def commit(self):
        try:
            self.flush()
        except BaseException:
            self.abort()
            raise

    def abort(self):
        try:
            self.flush()
        except Exception:
            pass  # the write being discarded failed: nothing more to lose


class _PathSink(_Sink):
    """A file written as <path>.<pid>.partial, renamed over <path> on commit.

    A path that exists and is not a regular file (a FIFO, a device) is written
    in place: it cannot be renamed over.
    """

    def __init__(self, path, limit):
        super().__init__(limit)
        self.path = os.fspath(path)
        special = os.path.exists(self.path) and not os.path.isfile(self.path)
        self.tmp = None if special else f"{self.path}.{os.getpid()}.partial"
        flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        if not special:
            flags |= os.O_CREAT | os.O_TRUNC
        self.fd = os.open(self.tmp or self.path, flags, 0o666)
        # Replacing a file by rename makes ext4 flush the new one to disk on the
        # spot unless its blocks are allocated already: reserve them as we go.
        # A new file is better off with delayed allocation.
        self._preallocate = os.path.isfile(self.path)

    def _write(self, views, start, total):
        if self._preallocate:
            self._preallocate = preallocate(self.fd, start, total)
        i = 0
        while i < len(views):
            n = os.writev(self.fd, views[i:i + _IOV_MAX])
            while n:  # drop what went out; a short write resumes mid-view
                if n >= len(views[i]):
                    n -= len(views[i])
                    i += 1
                else:
                    views[i] = views[i][n:]
                    n = 0

    def _patch(self, pos, data):
        os.pwrite(self.fd, data, pos)

    def commit(self):
        try:
            self.flush()
            self._close_fd()
            if self.tmp is not None:
                os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self):
        super().abort()
        self._close_fd()
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass

    def _close_fd(self):
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


class _ObjectSink(_Sink):
    """A file-like object: .write always; .seek/.tell when seekable (patches)."""

    def __init__(self, obj, limit, seekable):
        super().__init__(limit)
        self.obj = obj
        self.seekable = seekable
        self.origin = obj.tell() if seekable else 0

    def _write(self, views, start, total):
        write = self.obj.write
        for v in views:
            while len(v):  # raw files may write less than asked
                n = write(v)
                v = v[len(v) if n is None else n:]

    def _patch(self, pos, data):
        if not self.seekable:
            super()._patch(pos, data)
        end = self.obj.tell()
        self.obj.seek(self.origin + pos)
        self.obj.write(data)
        self.obj.seek(end)

    def abort(self):
        super().abort()
        if self.seekable:  # no reader takes what was written for a TIFF
            try:
                self._patch(0, b"\0\0\0\0")
            except Exception:
                pass


def _open_sink(dest, streaming, limit):
    if is_path(dest):
        return _PathSink(dest, limit)
    if not hasattr(dest, "write"):
        raise TypeError(f"tiff: cannot write to {type(dest).__name__}; pass a path or an object with .write")
    seekable = False
    try:
        seekable = bool(dest.seekable()) and not streaming
    except (AttributeError, OSError, ValueError):
        pass
    if not seekable and not streaming:
        raise EncodeError("tiff: the destination cannot seek; use TiffWriter(..., streaming=True) "
                          "and write_stream()")
    return _ObjectSink(dest, limit, seekable)


# ---- the writer --------------------------------------------------------------

class TiffWriter(Writer):
    """Write TIFF or BigTIFF files page by page.

    `dest` is a path, a seekable binary file object, or with ``streaming=True``
    any object with ``.write`` (a pipe, a socket file, an upload stream). Use as
    a context manager: the file becomes visible under its name only when the
    block ends without an exception (see the module docstring).
    """

    def __init__(self, dest, bigtiff=False, byteorder="<", streaming=False, numthreads=None):
        if byteorder == "=":
            byteorder = "<" if np.little_endian else ">"
        if byteorder not in ("<", ">"):
            raise EncodeError(f"tiff: byteorder must be '<', '>' or '=', got {byteorder!r}")
        self._byteorder = byteorder
        self._bigtiff = bool(bigtiff)
        self._streaming = bool(streaming)
        self._numthreads = numthreads_or_default(numthreads)
        self._sink = _open_sink(dest, self._streaming, 2**64 - 1 if bigtiff else _CLASSIC_LIMIT)
        self._pages = 0
        self._closed = False
        self._buffers = [np.empty(0, np.uint8)] * 2
        self._turn = 0
        self._scratch = threading.local()
        magic = b"II" if byteorder == "<" else b"MM"
        if self._bigtiff:
            header = magic + struct.pack(byteorder + "HHHQ", 43, 8, 0, 16 if streaming else 0)
        else:
            header = magic + struct.pack(byteorder + "HI", 42, 8 if streaming else 0)
        self._next_pointer = len(header) - (8 if self._bigtiff else 4)
        self._sink.write([header])

    # -- public

    def write_page(self, arr, tile=None, compression="none", predictor=None, level=None,
                   photometric=None, planarconfig=None, metadata=None, resolution=None,
                   subifds=None, extratags=(), compressionargs=None):
        """Append one page: `arr` (H, W) or (H, W, S), or (S, H, W) with planarconfig='separate'.

        tile: (height, width), multiples of 16, or None for strips. compression:
        'none', 'zlib'/'deflate', 'zstd', 'lzw', 'packbits', 'lzma', 'jpeg',
        'jpeg2000', 'webp', 'jpegxl', 'lerc'; `level` is the codec's level (its
        quality for lossy image codecs, max_z_error for lerc); compressionargs
        are passed to the codec as they are. predictor: 2 (horizontal), 3
        (floating point) or True (the natural one). metadata: the
        ImageDescription. resolution: (x, y) or (x, y, unit). subifds: reduced
        images stored as this page's SubIFDs (NewSubfileType 1). extratags:
        (code, field type, count or None, value) tuples.
        """
        self._check_open(streaming=False)
        options = dict(tile=tile, compression=compression, predictor=predictor, level=level,
                       photometric=photometric, planarconfig=planarconfig, resolution=resolution,
                       extratags=extratags, compressionargs=compressionargs)
        page = self._page(arr, metadata=metadata, subfiletype=0, **options)
        subpages = [self._page(a, metadata=None, subfiletype=T.SUBFILE_REDUCED, **options)
                    for a in (subifds or ())]
        offsets, counts = self._write_data(page)
        sub_positions = []
        for sub in subpages:
            sub_offsets, sub_counts = self._write_data(sub)
            sub_positions.append(self._write_ifd(sub.entries(sub_offsets, sub_counts), chained=False))
        self._write_ifd(page.entries(offsets, counts, sub_positions), chained=True)
        # Nothing in flight refers to the caller's array once this returns.
        self._sink.flush()
        self._pages += 1

    write_frame = write_page

    def write_pyramid(self, levels, subifds=True, **options):
        """Level 0 as a page; the reduced levels as its SubIFDs, or as reduced pages after it."""
        levels = list(levels)
        if not levels:
            raise EncodeError("tiff: write_pyramid needs at least one level")
        if subifds:
            self.write_page(levels[0], subifds=levels[1:], **options)
            return
        self.write_page(levels[0], **options)
        options.pop("metadata", None)
        for level in levels[1:]:
            self._write_reduced_page(level, **options)

    def write_stream(self, pages, total_pages=None, **options):
        """Write every page of `pages` without seeking (``streaming=True`` writers).

        total_pages: how many pages come, so that each page goes out as soon as
        it is encoded; without it the writer looks one page ahead. Options are
        write_page's; `metadata` goes to the first page only.
        """
        self._check_open(streaming=True)
        if self._pages:
            raise EncodeError("tiff: write_stream can be called once per streaming writer")
        metadata = options.pop("metadata", None)
        for index, (arr, last) in enumerate(_pages_with_last(pages, total_pages)):
            page = self._page(arr, metadata=metadata if index == 0 else None, subfiletype=0, **options)
            self._stream_page(page, last)
            self._pages += 1

    def close(self):
        if self._closed:
            return
        if not self._pages:
            self.abort()
            raise EncodeError("tiff: no page was written; a TIFF file needs at least one")
        self._closed = True
        self._sink.commit()  # aborts itself if the last bytes cannot go out

    def abort(self):
        """Discard the file (see the module docstring for what each destination keeps)."""
        if not self._closed:
            self._closed = True
            self._sink.abort()

    # -- internals

    def _check_open(self, streaming):
        if self._closed:
            raise EncodeError("tiff: the writer is closed")
        if streaming != self._streaming:
            raise EncodeError("tiff: streaming writers take write_stream(); others write_page()"
                              if self._streaming else
                              "tiff: write_stream() needs TiffWriter(..., streaming=True)")

    def _page(self, arr, **options):
        return _Page(arr, byteorder=self._byteorder, bigtiff=self._bigtiff, **options)

    def _write_reduced_page(self, arr, **options):
        page = self._page(arr, metadata=None, subfiletype=T.SUBFILE_REDUCED, **options)
        offsets, counts = self._write_data(page)
        self._write_ifd(page.entries(offsets, counts), chained=True)
        self._sink.flush()
        self._pages += 1

    def _batches(self, page, reuse_buffers=False):
        """(views, chunk byte counts) per write batch, encoded in parallel.

        reuse_buffers: uncompressed tiles are gathered into two buffers used
        in turn (fresh memory costs a page fault every 4 KiB); only when each
        batch is written before the one after next is made.
        """
        limit = _GATHER_BATCH_BYTES if page.gathers_raw_tiles else _BATCH_BYTES
        batch, batch_bytes = [], 0
        for run in page.runs():
            batch.append(run)
            batch_bytes += page.raw_bytes(run)
            if batch_bytes >= limit:
                yield self._encode_batch(page, batch, reuse_buffers)
                batch, batch_bytes = [], 0
        if batch:
            yield self._encode_batch(page, batch, reuse_buffers)

    def _encode_batch(self, page, runs, reuse_buffers):
        outs = [None] * len(runs)
        if reuse_buffers and page.gathers_raw_tiles:
            sizes = [page.raw_bytes(run) for run in runs]
            buffer = self._gather_buffer(sum(sizes))
            start = 0
            for i, size in enumerate(sizes):
                outs[i] = buffer[start:start + size]
                start += size
        # Tiles gathered only to be encoded go to a scratch buffer per thread.
        scratch = page.tile is not None and page.codec is not None

        def encode(i):
            out = self._thread_scratch(page.raw_bytes(runs[i])) if scratch else outs[i]
            return page.encode_run(runs[i], out)

        results = map_parallel(encode, range(len(runs)), self._numthreads)
        views = [v for blobs, _ in results for v in blobs]
        sizes = [s for _, counts in results for s in counts]
        return views, sizes

    def _write_data(self, page):
        """Write a page's chunks; their offsets and byte counts."""
        offsets, counts = [], []
        for views, sizes in self._batches(page, reuse_buffers=True):
            pos = self._sink.pos
            for size in sizes:
                offsets.append(pos)
                pos += size
            counts += sizes
            self._sink.write(views)
        return offsets, counts

    def _thread_scratch(self, nbytes):
        """This thread's scratch buffer, at least nbytes long."""
        buffer = getattr(self._scratch, "buffer", None)
        if buffer is None or buffer.nbytes < nbytes:
            buffer = self._scratch.buffer = np.empty(nbytes, np.uint8)
        return buffer[:nbytes]

    def _gather_buffer(self, nbytes):
        """The next of the two gather buffers, at least nbytes long."""
        self._turn ^= 1
        buffer = self._buffers[self._turn]
        if buffer.nbytes < nbytes:
            buffer = self._buffers[self._turn] = np.empty(nbytes, np.uint8)
        return buffer[:nbytes]

    def _align(self):
        if self._sink.pos % 2:  # IFDs start on word boundaries
            self._sink.write([b"\0"])

    def _write_ifd(self, entries, chained):
        self._align()
        pos = self._sink.pos
        self._sink.write([_pack_ifd(entries, pos, 0, self._byteorder, self._bigtiff)])
        if chained:
            pointer = struct.pack(self._byteorder + ("Q" if self._bigtiff else "I"), pos)
            self._sink.patch(self._next_pointer, pointer)
            self._next_pointer = _next_pointer_position(pos, len(entries), self._byteorder, self._bigtiff)
        return pos

    def _stream_page(self, page, last):
        """IFD, then data: the page is encoded whole first, so every offset is known."""
        views, sizes = [], []
        for batch_views, batch_sizes in self._batches(page):
            views += batch_views
            sizes += batch_sizes
        pos = self._sink.pos
        bo, big = self._byteorder, self._bigtiff
        ifd_size = len(_pack_ifd(page.entries([0] * len(sizes), sizes), pos, 0, bo, big))
        offsets = np.cumsum([pos + ifd_size] + sizes[:-1]).tolist()
        end = pos + ifd_size + sum(sizes)
        pad = [b"\0"] if end % 2 else []
        ifd = _pack_ifd(page.entries(offsets, sizes), pos, 0 if last else end + len(pad), bo, big)
        self._sink.write([ifd] + views + pad)
        self._sink.flush()


def _pages_with_last(pages, total_pages):
    """(page, is_last) for each page; checks the count against total_pages."""
    it = iter(pages)
    if total_pages is not None:
        if total_pages < 1:
            raise EncodeError(f"tiff: total_pages must be at least 1, got {total_pages}")
        for i in range(total_pages):
            try:
                page = next(it)
            except StopIteration:
                raise EncodeError(f"tiff: the stream ended after {i} of total_pages={total_pages} "
                                  "pages; what was written is a truncated TIFF") from None
            yield page, i == total_pages - 1
        if next(it, None) is not None:
            raise EncodeError(f"tiff: more pages than total_pages={total_pages}")
        return
    try:
        page = next(it)
    except StopIteration:
        raise EncodeError("tiff: write_stream got no pages; a TIFF file needs at least one") from None
    for following in it:
        yield page, False
        page = following
    yield page, True


def _page_ndim(shape, dtype, photometric, planarconfig):
    """How many trailing axes of an array make one page."""
    if _PLANARCONFIGS.get(planarconfig) == T.PLANAR_SEPARATE:
        return 3
    if photometric is not None:
        return 3 if _PHOTOMETRICS.get(photometric, photometric) == T.PHOTOMETRIC_RGB else 2
    rgb = len(shape) >= 3 and shape[-1] in (3, 4) and np.dtype(dtype) in (np.uint8, np.uint16)
    return 3 if rgb else 2


def encode_tiff(data, out=None, *, bigtiff=False, byteorder="<", numthreads=None, **options):
    """A TIFF file in memory holding `data`: one page, or a page per leading index.

    (H, W) and RGB(A) (H, W, 3|4) uint8/uint16 arrays make one page; other
    arrays are stacks of pages over their leading axes. Options are
    TiffWriter.write_page's. Returns bytes, or a memoryview of `out`.
    """
    arr = np.asarray(data)
    ndim = _page_ndim(arr.shape, arr.dtype, options.get("photometric"), options.get("planarconfig"))
    if arr.ndim < ndim:
        raise EncodeError(f"tiff: cannot make a page of an array of shape {arr.shape}")
    pages = arr.reshape((-1,) + arr.shape[arr.ndim - ndim:])
    chunks = []

    class _Collector:
        def write(self, b):
            chunks.append(b)
            return len(b)

    with TiffWriter(_Collector(), bigtiff=bigtiff, byteorder=byteorder, streaming=True,
                    numthreads=numthreads) as writer:
        writer.write_stream(pages, total_pages=len(pages), **options)
    blob = b"".join(chunks)
    return blob if out is None else copy_into(out, blob)
