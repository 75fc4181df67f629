"""One TIFF image (an IFD): its geometry, and decoding its strips and tiles.

Every read goes the same way: find the chunks (tiles or strips) that
intersect the wanted rectangle, fetch their bytes with one read_many, then
decode them in parallel on the shared pool. A chunk that exactly covers a
contiguous part of the output (a full-width strip) decodes straight into it;
any other decodes into a per-thread scratch buffer that stays in cache, where
byte order and predictor are undone, and its needed part is copied out.
"""

import math
import threading
from functools import cached_property

import numpy as np

from ...core.codec import check_decoded_size
from ...core.errors import CodecUnavailableError, DecodeError, EncodeError, UnknownFormatError
from ...core.parallel import parallel_for
from ...core.registry import get_codec
from . import tags as T

# sample format, bits -> dtype. 1-bit data reads as bool (as tifffile reads
# it); other bit depths that are not whole bytes unpack to the smallest uint.
_DTYPES = {
    (T.SAMPLE_FORMAT_UINT, 8): "u1", (T.SAMPLE_FORMAT_UINT, 16): "u2",
    (T.SAMPLE_FORMAT_UINT, 32): "u4", (T.SAMPLE_FORMAT_UINT, 64): "u8",
    (T.SAMPLE_FORMAT_INT, 8): "i1", (T.SAMPLE_FORMAT_INT, 16): "i2",
    (T.SAMPLE_FORMAT_INT, 32): "i4", (T.SAMPLE_FORMAT_INT, 64): "i8",
    (T.SAMPLE_FORMAT_IEEEFP, 16): "f2", (T.SAMPLE_FORMAT_IEEEFP, 32): "f4",
    (T.SAMPLE_FORMAT_IEEEFP, 64): "f8",
}
_SAMPLE_FORMAT_VOID = 4  # "undefined": read as unsigned integers

# Compressions whose codecs give bytes in the file's byte order; the others
# (image and array codecs) give native values.
_BYTE_STREAM = {1, 5, 8, 32946, 32773, 34925, 50000, 34926}
# Registry names where tifffile's spelling differs from ours.
_CODEC_NAMES = {"adobe_deflate": "deflate"}
_LERC_INNER = {1: "deflate", 2: "zstd"}  # LercParameters[1]: compression around the LERC blob

# The most a stored byte can decode to, per compression (others: image and
# array codecs, 1 << 20), so that a header cannot make us allocate what the
# data could never fill. Every chunk may also decode to _SLACK bytes, and a
# sparse chunk (0 bytes stored, read as zeros) may be up to _SPARSE_MAX.
_MAX_RATIO = {1: 1, 32773: 64, 8: 1032, 32946: 1032, 5: 4096, 50000: 32768, 34926: 32768,
              34925: 1 << 16}
_SLACK = 1 << 16
_SPARSE_MAX = 64 << 20
# Scratch buffers above this size are not kept for the next chunk.
_SCRATCH_KEEP = 16 << 20

_NATIVE = "<" if np.little_endian else ">"
_REVERSED_BITS = np.packbits(np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)[:, ::-1])
_scratch = threading.local()


def _scratch_array(shape, dtype) -> np.ndarray:
    """A per-thread buffer viewed as `shape`/`dtype`; reused, so valid until the next call."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _SCRATCH_KEEP:
        return np.empty(shape, dtype)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _scratch.buf = np.empty(max(nbytes, 1 << 16), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class TiffPage:
    """One image of a TIFF file.

    `shape` is (length, width) for one sample per pixel, (length, width,
    samples) for interleaved samples and (samples, length, width) for planar
    configuration 2, as tifffile gives it. Values are returned as stored:
    palette images give colour indices (the palette is `colormap`),
    min-is-white images give the raw values, 1-bit images give bool.
    """

    def __init__(self, source, byteorder: str, offset: int, tags, name: str = "page"):
        self._source = source
        self._byteorder = byteorder
        self.offset = offset
        self.tags = tags
        self.name = name
        self._read_geometry()

    def _fail(self, message):
        raise DecodeError(f"tiff: {self.name}: {message}")

    def _int_tag(self, code, default):
        """A tag holding one integer, or one per sample that must all be equal."""
        value = self.tags.get(code, default)
        if type(value) is int:
            return value
        values = value if isinstance(value, tuple) else (value,)
        if not values or not all(isinstance(v, int) and v == values[0] for v in values):
            self._fail(f"tag {T.TAG_NAMES.get(code, code)}={value!r} is not one integer")
        return values[0]

    def _read_geometry(self):
        tags, get = self.tags, self._int_tag
        for code, what in ((T.IMAGE_WIDTH, "ImageWidth"), (T.IMAGE_LENGTH, "ImageLength")):
            if code not in tags:
                self._fail(f"no {what} tag")
        self.width = get(T.IMAGE_WIDTH, 0)
        self.length = get(T.IMAGE_LENGTH, 0)
        self.samples = get(T.SAMPLES_PER_PIXEL, 1)
        if self.width < 1 or self.length < 1 or self.samples < 1:
            self._fail(f"invalid size {self.length}x{self.width}x{self.samples}")
        if get(T.IMAGE_DEPTH, 1) != 1:
            self._fail("volumetric data (ImageDepth > 1) is not supported")
        self.bits = get(T.BITS_PER_SAMPLE, 1)
        self.sample_format = get(T.SAMPLE_FORMAT, 1)
        self.compression = get(T.COMPRESSION, 1)
        self.photometric = tags.get(T.PHOTOMETRIC)
        self.predictor = get(T.PREDICTOR, 1)
        self.planar = get(T.PLANAR_CONFIGURATION, 1) if self.samples > 1 else 1
        self.subfile_type = get(T.NEW_SUBFILE_TYPE, 0)
        self.fill_order = get(T.FILL_ORDER, 1)
        self.dtype = self._sample_dtype()
        subsampling = tags.get(T.YCBCR_SUBSAMPLING, (1, 1))
        if self.photometric == T.PHOTOMETRIC_YCBCR and self.compression != 7 and \
                subsampling != (1, 1):
            self._fail(f"subsampled YCbCr {subsampling} outside JPEG is not supported")
        self.is_tiled = T.TILE_WIDTH in tags
        if self.is_tiled:
            self.tile = (get(T.TILE_LENGTH, 0), get(T.TILE_WIDTH, 0))
            offsets, counts = T.TILE_OFFSETS, T.TILE_BYTE_COUNTS
            if min(self.tile) < 1:
                self._fail(f"invalid tile size {self.tile}")
        else:
            self.tile = None
            rows = get(T.ROWS_PER_STRIP, self.length)
            if rows < 1:
                self._fail("RowsPerStrip is 0")
            offsets, counts = T.STRIP_OFFSETS, T.STRIP_BYTE_COUNTS
        # Chunks: tiles, or strips (full-width tiles of RowsPerStrip rows).
        self.chunk_shape = self.tile or (min(rows, self.length), self.width)
        separate = self.planar == T.PLANAR_SEPARATE
        self._planes = self.samples if separate else 1
        self._chunk_samples = 1 if separate else self.samples
        self.chunk_grid = (self._planes, _ceil_div(self.length, self.chunk_shape[0]),
                           _ceil_div(self.width, self.chunk_shape[1]))
        n_chunks = self._planes * self.chunk_grid[1] * self.chunk_grid[2]
        row_bytes = _ceil_div(self.chunk_shape[1] * self._chunk_samples * self.bits, 8)
        self._chunk_nbytes = self.chunk_shape[0] * row_bytes
        # A last strip holds only the rows left: that many bytes less per plane.
        self._last_strip_short = 0 if self.is_tiled else \
            (self.chunk_shape[0] * self.chunk_grid[1] - self.length) * row_bytes
        if offsets not in tags or counts not in tags:
            self._fail("no strip or tile offsets and byte counts")
        self.dataoffsets = self._offsets_tag(offsets)
        self.databytecounts = self._offsets_tag(counts)
        if len(self.dataoffsets) != n_chunks or len(self.databytecounts) != n_chunks:
            kind = "tiles" if self.is_tiled else "strips"
            self._fail(f"{len(self.dataoffsets)} {kind} offsets and {len(self.databytecounts)} "
                       f"byte counts for an image of {n_chunks} {kind}")
        if separate:
            self.shape = (self.samples, self.length, self.width)
        elif self.samples > 1:
            self.shape = (self.length, self.width, self.samples)
        else:
            self.shape = (self.length, self.width)

    def _offsets_tag(self, code) -> np.ndarray:
        values = self.tags.array(code)
        if values.dtype.kind not in "ui":
            self._fail(f"tag {T.TAG_NAMES[code]} holds {values.dtype} values, not integers")
        return values.astype(np.uint64)

    def _sample_dtype(self):
        fmt, bits = self.sample_format, self.bits
        if fmt == _SAMPLE_FORMAT_VOID:
            fmt = T.SAMPLE_FORMAT_UINT
        if (fmt, bits) in _DTYPES:
            return np.dtype(_DTYPES[fmt, bits])
        if fmt == T.SAMPLE_FORMAT_UINT and bits == 1:
            return np.dtype(bool)
        if fmt == T.SAMPLE_FORMAT_UINT and 1 < bits < 32:
            return np.dtype("u1" if bits < 8 else "u2" if bits < 16 else "u4")
        self._fail(f"{bits}-bit samples of sample format {fmt} are not supported")

    # -- properties ---------------------------------------------------------

    @property
    def is_reduced(self) -> bool:
        """A reduced-resolution image (NewSubfileType bit 0): a pyramid level."""
        return bool(self.subfile_type & T.SUBFILE_REDUCED)

    @property
    def subifds(self) -> tuple:
        """Offsets of this page's SubIFDs (pyramid levels, usually)."""
        return tuple(self._offsets_tag(T.SUB_IFDS).tolist()) if T.SUB_IFDS in self.tags else ()

    @property
    def description(self) -> str:
        text = self.tags.get(T.IMAGE_DESCRIPTION, "")
        return text if isinstance(text, str) else ""

    @property
    def colormap(self):
        """The palette of a palette-colour image, shape (3, 2**bits) uint16; else None."""
        if T.COLORMAP not in self.tags:
            return None
        colormap = self.tags.array(T.COLORMAP)
        if len(colormap) % 3:
            self._fail(f"ColorMap has {len(colormap)} values, not a multiple of 3")
        return colormap.reshape(3, -1)

    @cached_property
    def _codec(self):
        return _codec_for(self.compression)

    @property
    def compression_name(self) -> str:
        return T.COMPRESSIONS.get(self.compression, str(self.compression))

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __repr__(self):
        layout = f"tiles {self.tile}" if self.is_tiled else f"strips of {self.chunk_shape[0]} rows"
        return (f"<TiffPage {self.name} {self.shape} {self.dtype} {self.compression_name}, "
                f"{layout}>")

    # -- reading ------------------------------------------------------------

    def asarray(self, *, out=None, numthreads=None) -> np.ndarray:
        """The whole image, chunks decoded in parallel."""
        return self.read_region(0, 0, self.length, self.width, out=out, numthreads=numthreads)

    def read_region(self, y: int, x: int, h: int, w: int, *, out=None, numthreads=None):
        """The rectangle of `h` rows and `w` columns at row `y`, column `x`.

        Only the strips or tiles it intersects are read (one read_many) and
        decoded (in parallel); shape as `shape` with length h and width w.
        """
        y, x, h, w = (int(v) for v in (y, x, h, w))
        if h < 0 or w < 0 or y < 0 or x < 0 or y + h > self.length or x + w > self.width:
            raise ValueError(f"tiff: region ({y}, {x}) size {h}x{w} is outside the "
                             f"{self.length}x{self.width} image of {self.name}")
        chunk_rows, chunk_cols = self.chunk_shape
        rows = range(y // chunk_rows, _ceil_div(y + h, chunk_rows)) if h and w else range(0)
        cols = range(x // chunk_cols, _ceil_div(x + w, chunk_cols)) if h and w else range(0)
        grid_cols = self.chunk_grid[2]
        per_plane = self.chunk_grid[1] * grid_cols
        chunks = [p * per_plane + r * grid_cols + c
                  for p in range(self._planes) for r in rows for c in cols]
        blobs = self._fetch(chunks)
        out = self._output(self._region_shape(h, w), out)
        planes = out.reshape(self._planes, h, w, self._chunk_samples)

        def one(k):
            i = chunks[k]
            plane, rest = divmod(i, per_plane)
            row, col = divmod(rest, grid_cols)
            cy, cx = row * chunk_rows, col * chunk_cols
            n_rows = self._chunk_rows(cy)
            y0, y1 = max(cy, y), min(cy + n_rows, y + h)
            x0, x1 = max(cx, x), min(cx + chunk_cols, x + w)
            dst = planes[plane, y0 - y:y1 - y, x0 - x:x1 - x]
            if (y1 - y0, x1 - x0) == (n_rows, chunk_cols) and self._direct_ok(dst):
                self._decode(i, blobs[k], dst)
            else:
                values = self._decode(i, blobs[k], None, n_rows)
                dst[...] = values[y0 - cy:y1 - cy, x0 - cx:x1 - cx]

        parallel_for(one, len(chunks), numthreads)
        return out

    def read_tile(self, index, *, out=None) -> np.ndarray:
        """One tile, full tile size (edge tiles include their padding).

        `index` is the tile's number (tifffile's segment index) or its
        (row, column), or (sample, row, column) for planar configuration 2.
        """
        tiles = self.read_tiles([index], out=None if out is None else out[None], numthreads=1)
        return tiles[0] if out is None else out

    def read_tiles(self, indices, *, out=None, numthreads=None) -> np.ndarray:
        """Several tiles decoded in parallel into one array (n, tile rows, tile cols[, samples]),
        their bytes fetched with one read_many."""
        if not self.is_tiled:
            raise ValueError(f"tiff: {self.name} is stored in strips; use read_region")
        chunks = [self._tile_number(i) for i in indices]
        blobs = self._fetch(chunks)
        shape = (len(chunks), *self.tile) + ((self._chunk_samples,) if self._chunk_samples > 1 else ())
        out = self._output(shape, out)
        tiles = out.reshape(len(chunks), *self.tile, self._chunk_samples)

        def one(k):
            if self._direct_ok(tiles[k]):
                self._decode(chunks[k], blobs[k], tiles[k])
            else:
                tiles[k] = self._decode(chunks[k], blobs[k], None, self.tile[0])

        parallel_for(one, len(chunks), numthreads)
        return out

    # -- internals ----------------------------------------------------------

    def _tile_number(self, index) -> int:
        grid = self.chunk_grid
        if isinstance(index, tuple):
            if len(index) == 2 and grid[0] == 1:
                index = (0, *index)
            if len(index) != 3 or not all(0 <= v < n for v, n in zip(index, grid)):
                raise IndexError(f"tiff: tile {index} out of range for the tile grid {grid}")
            return int(np.ravel_multi_index(index, grid))
        index = int(index)
        if not 0 <= index < len(self.dataoffsets):
            raise IndexError(f"tiff: tile {index} out of range for {len(self.dataoffsets)} tiles")
        return index

    def _region_shape(self, h, w):
        if self._planes > 1:
            return (self.samples, h, w)
        return (h, w, self.samples) if self.samples > 1 else (h, w)

    def _output(self, shape, out):
        if out is None:
            check_decoded_size(f"tiff: {self.name}", self.dtype, shape)
            return np.empty(shape, self.dtype)
        if not isinstance(out, np.ndarray) or out.shape != tuple(shape) or out.dtype != self.dtype \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise DecodeError(f"tiff: out must be a writable C-contiguous {self.dtype} array of "
                              f"shape {tuple(shape)}")
        return out

    def check_stored_size(self) -> None:
        """DecodeError unless the bytes stored for the page could decode to the
        image size its tags claim: checked before allocating the whole image."""
        size = self._source.size
        counts = [min(c, size) for c in self.databytecounts.tolist()]
        self._check_justified(len(counts), sum(counts), counts.count(0))

    def _check_justified(self, n: int, stored: int, n_sparse: int) -> None:
        """DecodeError unless `n` chunks of `stored` bytes in all (`n_sparse`
        of them empty) can decode to what the tags claim they hold."""
        nbytes = self._chunk_nbytes
        ratio = _MAX_RATIO.get(self.compression, 1 << 20)
        possible = stored * ratio + n * _SLACK + n_sparse * nbytes + \
            self._planes * self._last_strip_short
        if n * nbytes > possible or (n_sparse and nbytes > _SPARSE_MAX):
            self._fail(f"{n} chunks of {nbytes} bytes cannot come from {stored} stored "
                       f"bytes of {self.compression_name} data")

    def _fetch(self, chunks) -> list:
        """The stored bytes of `chunks` (one read_many), checked to be able to
        hold what the chunks claim before anything is allocated for them."""
        if len(chunks) == 1:
            i = chunks[0]
            blobs = [self._source.read_at(int(self.dataoffsets[i]), int(self.databytecounts[i]))]
        else:
            blobs = self._source.read_many(zip(self.dataoffsets[chunks].tolist(),
                                               self.databytecounts[chunks].tolist()))
        sizes = [len(b) for b in blobs]
        self._check_justified(len(sizes), sum(sizes), sizes.count(0))
        return blobs

    def _chunk_rows(self, cy: int) -> int:
        """Rows a chunk starting at image row `cy` decodes to (a last strip is shorter)."""
        rows = self.chunk_shape[0]
        return rows if self.is_tiled else min(rows, self.length - cy)

    def _direct_ok(self, dst) -> bool:
        return self.bits % 8 == 0 and dst.flags.c_contiguous

    def _decode(self, i: int, blob, dst, n_rows: int = 0):
        """Decode chunk `i` into `dst` (its exact, contiguous destination), or,
        with dst None, into a scratch array (n_rows, chunk cols, samples) returned."""
        cols, samples = self.chunk_shape[1], self._chunk_samples
        n_rows = n_rows if dst is None else dst.shape[0]
        if self._stored_as_values and len(blob):
            # Uncompressed: the stored bytes seen as values (no copy); one copy
            # into place converts the byte order on the way.
            values = self._stored_values(i, blob, n_rows)
            if dst is None:
                return values
            dst[...] = values
            return dst
        if dst is None and self.bits % 8 == 0:
            dst = _scratch_array((n_rows, cols, samples), self.dtype)
        try:
            if not len(blob):  # a sparse file's missing chunk
                if dst is None:
                    return np.zeros((n_rows, cols, samples), self.dtype)
                dst[...] = 0
                return dst
            if self.fill_order == 2:
                blob = _REVERSED_BITS[np.frombuffer(blob, np.uint8)]
            if dst is None:  # bits that are not whole bytes: unpack
                if self.predictor != T.PREDICTOR_NONE:
                    raise DecodeError(f"predictor {self.predictor} on {self.bits}-bit samples")
                row_bytes = _ceil_div(cols * samples * self.bits, 8)
                packed = _scratch_array((n_rows, row_bytes), np.uint8)
                self._decompress(blob, packed)
                return _unpack_bits(packed, cols * samples, self.bits, self.dtype).reshape(
                    n_rows, cols, samples)
            self._decompress(blob, dst)
            if self.dtype.itemsize > 1 and self._byteorder != _NATIVE and \
                    self.compression in _BYTE_STREAM and self.predictor != T.PREDICTOR_FLOATINGPOINT:
                dst.byteswap(inplace=True)
            if self.predictor != T.PREDICTOR_NONE:
                _undo_predictor(dst, self.predictor)
            return dst
        except DecodeError as e:
            raise DecodeError(f"tiff: {self.name}, chunk {i}: {e}") from None

    @cached_property
    def _stored_as_values(self) -> bool:
        return self.compression == 1 and self.predictor == T.PREDICTOR_NONE and \
            self.bits % 8 == 0 and self.fill_order == 1

    def _stored_values(self, i, blob, n_rows):
        shape = (n_rows, self.chunk_shape[1], self._chunk_samples)
        count = math.prod(shape)
        if len(blob) < count * self.dtype.itemsize:
            self._fail(f"chunk {i}: {len(blob)} bytes of uncompressed data, "
                       f"{count * self.dtype.itemsize} needed")
        return np.frombuffer(blob, self.dtype.newbyteorder(self._byteorder), count).reshape(shape)

    def _decompress(self, blob, dst):
        """The chunk's decoded bytes (or image) into `dst`, exactly."""
        code = self.compression
        if code == 1:
            flat = dst.reshape(-1).view(np.uint8)
            if len(blob) < flat.nbytes:
                raise DecodeError(f"{len(blob)} bytes of uncompressed data, {flat.nbytes} needed")
            flat[...] = np.frombuffer(blob, np.uint8, flat.nbytes)
            return
        codec = self._codec
        if code not in _BYTE_STREAM:
            self._decode_image(codec, blob, dst)
            return
        try:
            codec.decode(blob, out=dst)
        except DecodeError:
            # Some writers pad chunks (a last strip stored full size): decode
            # loosely, keep what is needed. Corrupt data fails again here.
            data = memoryview(codec.decode(blob)).cast("B")
            if data.nbytes < dst.nbytes:
                raise DecodeError(f"decodes to {data.nbytes} bytes, {dst.nbytes} needed") from None
            dst.reshape(-1).view(np.uint8)[...] = np.frombuffer(data, np.uint8, dst.nbytes)

    def _decode_image(self, codec, blob, dst):
        """Image and array codecs: decode into dst seen as an (H, W[, C]) image."""
        image = dst[..., 0] if dst.shape[2] == 1 else dst
        code = self.compression
        if code == 7 and T.JPEG_TABLES in self.tags:
            tables = self.tags[T.JPEG_TABLES]
            if not isinstance(tables, bytes):
                raise DecodeError("JPEGTables is not a byte string")
            codec.decode(blob, out=image, tables=tables)
        elif code == 34887 and T.LERC_PARAMETERS in self.tags:
            params = self.tags[T.LERC_PARAMETERS]
            inner = _LERC_INNER.get(params[1]) if isinstance(params, tuple) else None
            if inner:
                blob = get_codec(inner).decode(blob)
            codec.decode(blob, out=image)
        else:
            codec.decode(blob, out=image)


def _codec_for(code: int):
    """The registry codec for a TIFF compression code."""
    name = T.COMPRESSIONS.get(code)
    if name is None:
        raise DecodeError(f"unknown compression {code}")
    try:
        return get_codec(_CODEC_NAMES.get(name, name))
    except UnknownFormatError:
        raise CodecUnavailableError(f"tiff: compression {code} ({name}) needs the {name!r} "
                                    f"codec, which this build of opencodecs does not have") from None


def _undo_predictor(values, predictor: int) -> None:
    from ...codecs.predictors import predictor_decode
    try:
        predictor_decode(values, predictor)
    except EncodeError as e:  # a predictor that does not fit the samples
        raise DecodeError(str(e)) from None


def _unpack_bits(packed, n: int, bits: int, dtype) -> np.ndarray:
    """Rows of `n` values of `bits` bits each (most significant bit first, rows
    padded to whole bytes) -> (rows, n) of `dtype`."""
    rows = packed.shape[0]
    if bits == 1:
        return np.unpackbits(packed, axis=1, count=n).view(bool)
    bitplanes = np.unpackbits(packed, axis=1, count=n * bits).reshape(rows, n, bits)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(dtype)
    return (bitplanes.astype(dtype) * weights).sum(axis=2, dtype=dtype)
