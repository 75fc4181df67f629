"""CziReader: subblocks, planes and mosaic regions of Zeiss CZI files.

The file header and the subblock directory are read once (the directory in one
vectorised pass); metadata and attachments on first use. Subblocks decode in
parallel through the shared pool with the GIL released, straight into the
output array where they fill it, else into a tile that is pasted in place.
Everything is read through a DataSource, so a local file is memory-mapped and
a URL (`CziReader.from_http`) fetches only the directory and the subblocks a
read needs.

Colour subblocks (Bgr24, Bgr48, Bgra32) come back in the stored BGR(A) order,
as libCZI returns them.
"""

import struct
import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...core.codec import Reader, check_decoded_size
from ...core.errors import DecodeError
from ...core.parallel import parallel_for
from ...core.registry import get_codec
from ...core.sources import open_source
from . import layout
from .layout import PIXEL_TYPES, SEGMENT_HEADER, SUBBLOCK_HEADER

# Bytes at the start of a subblock segment that locate its metadata and data:
# segment header, sizes, and the directory entry up to its dimension count.
_SUBBLOCK_PREFIX = SEGMENT_HEADER.size + SUBBLOCK_HEADER.size + layout.ENTRY_FIXED


@dataclass(frozen=True)
class CziSubBlockEntry:
    """One subblock as the directory describes it.

    `dims` maps a dimension letter to (start, size, stored_size): X and Y in
    pixels of the full-resolution image (stored_size < size for pyramid
    subblocks), the others (C, Z, T, S, M, ...) as indices.
    """

    index: int
    pixel_type: str
    dtype: np.dtype
    samples: int
    compression: int
    file_position: int
    pyramid_type: int
    dims: dict

    @property
    def shape(self) -> tuple:
        """The decoded (stored) shape: (height, width) or (height, width, samples)."""
        h, w = self.dims["Y"][2], self.dims["X"][2]
        return (h, w) if self.samples == 1 else (h, w, self.samples)

    def start(self, letter: str, default: int = 0) -> int:
        return self.dims[letter][0] if letter in self.dims else default


@dataclass(frozen=True)
class CziAttachment:
    name: str
    content_type: str
    file_position: int


class CziReader(Reader):
    """Random access to the subblocks of a CZI file; see the module docstring."""

    is_chunked = True

    def __init__(self, src, *, numthreads=None):
        self._source = open_source(src)
        self.numthreads = numthreads
        try:
            self.header = layout.read_file_header(self._source)
            if self.header.directory_position <= 0:
                raise DecodeError("czi: file has no subblock directory")
            self._dir = layout.read_directory(self._source, self.header.directory_position)
            for letter in ("X", "Y"):
                if not self._dir.count:
                    break
                col = self._dir.dims.get(letter)
                if col is None or (col["size"] < 1).any():
                    raise DecodeError(f"czi: subblocks without an {letter} extent")
                if ((col["stored_size"] < 1) | (col["stored_size"] > col["size"])).any():
                    raise DecodeError(f"czi: a subblock's stored {letter} size is outside 1..its size")
            unknown = set(np.unique(self._dir.pixel_type)) - set(PIXEL_TYPES)
            if unknown:
                raise DecodeError(f"czi: unsupported pixel type(s) {sorted(unknown)}")
        except BaseException:
            self._source.close()
            raise

    @classmethod
    def from_http(cls, url: str, *, max_workers: int = 8, numthreads=None, **http_options):
        """A reader over HTTP range requests: the header and directory up front,
        subblocks on demand, fetched `max_workers` at a time."""
        from ...core.sources import HTTPSource
        return cls(HTTPSource(url, max_workers=max_workers, **http_options), numthreads=numthreads)

    # -- the directory -----------------------------------------------------

    @property
    def n_frames(self) -> int:
        return self._dir.count

    @cached_property
    def dtype(self):
        codes = np.unique(self._dir.pixel_type)
        if len(codes) == 0:
            return np.dtype("u1")
        dtypes = {PIXEL_TYPES[int(c)][1] for c in codes}
        if len(dtypes) > 1:
            return None  # mixed pixel types: per subblock, see entries
        return dtypes.pop().newbyteorder("=")

    @property
    def shape(self) -> tuple:
        """(n_subblocks, *subblock shape) when all subblocks share a shape, else (n,)."""
        d = self._dir
        uniform = d.count and len(np.unique(d.pixel_type)) == 1 and all(
            len(np.unique(d.dims[k]["stored_size"])) == 1 for k in ("X", "Y"))
        return (d.count,) + self._stored_shape(0) if uniform else (d.count,)

    def _stored_shape(self, i: int) -> tuple:
        _, _, samples = PIXEL_TYPES[int(self._dir.pixel_type[i])]
        h = int(self._dir.dims["Y"]["stored_size"][i])
        w = int(self._dir.dims["X"]["stored_size"][i])
        return (h, w) if samples == 1 else (h, w, samples)

    @cached_property
    def entries(self) -> list:
        """A CziSubBlockEntry per subblock, in directory order."""
        d = self._dir
        return [
            CziSubBlockEntry(
                index=i,
                pixel_type=PIXEL_TYPES[int(d.pixel_type[i])][0],
                dtype=PIXEL_TYPES[int(d.pixel_type[i])][1].newbyteorder("="),
                samples=PIXEL_TYPES[int(d.pixel_type[i])][2],
                compression=int(d.compression[i]),
                file_position=int(d.file_position[i]),
                pyramid_type=int(d.pyramid_type[i]),
                dims={k: (int(v["start"][i]), int(v["size"][i]), int(v["stored_size"][i]))
                      for k, v in d.dims.items() if v["size"][i] >= 0})
            for i in range(d.count)]

    def dimension_sizes(self) -> dict:
        """{letter: (first index, count)} over all subblocks, like libCZI's bounds."""
        out = {}
        for letter, col in self._dir.dims.items():
            if letter in ("X", "Y"):
                continue
            present = col["start"][col["size"] >= 0]
            if len(present):
                out[letter] = (int(present.min()), int(present.max() - present.min() + 1))
        return out

    # -- metadata and attachments --------------------------------------------

    @cached_property
    def metadata_bytes(self) -> bytes:
        """The metadata segment's XML, as raw UTF-8 bytes (read once, on first use)."""
        pos = self.header.metadata_position
        if pos <= 0:
            return b""
        used, data = layout.read_segment_header(self._source, pos, b"ZISRAWMETADATA")
        xml_size, _ = layout.METADATA_HEADER.unpack(self._source.read_at(data, 8))
        if xml_size < 0 or xml_size > used:
            raise DecodeError(f"czi: metadata segment claims {xml_size} bytes of XML")
        return bytes(self._source.read_at(data + 256, xml_size))

    @cached_property
    def metadata_xml(self) -> str:
        return self.metadata_bytes.decode("utf-8", errors="replace").rstrip("\0")

    @cached_property
    def attachments(self) -> list:
        """A CziAttachment per entry of the attachment directory."""
        pos = self.header.attachment_directory_position
        if pos <= 0:
            return []
        _, data = layout.read_segment_header(self._source, pos, b"ZISRAWATTDIR")
        (count,) = struct.unpack("<i", self._source.read_at(data, 4))
        if count < 0 or data + 256 + 128 * count > self._source.size:
            raise DecodeError(f"czi: attachment directory claims {count} entries")
        raw = self._source.read_at(data + 256, 128 * count)
        out = []
        for i in range(count):
            entry = raw[128 * i:128 * (i + 1)]
            (position,) = struct.unpack_from("<q", entry, 12)
            content_type = bytes(entry[40:48]).rstrip(b"\0").decode("ascii", "replace")
            name = bytes(entry[48:128]).rstrip(b"\0").decode("utf-8", "replace")
            out.append(CziAttachment(name, content_type, position))
        return out

    def read_attachment(self, which) -> bytes:
        """The data of an attachment, by index or name."""
        att = self.attachments[which] if isinstance(which, int) else \
            next((a for a in self.attachments if a.name == which), None)
        if att is None:
            raise KeyError(f"czi: no attachment named {which!r}")
        used, data = layout.read_segment_header(self._source, att.file_position, b"ZISRAWATTACH")
        (size,) = struct.unpack("<i", self._source.read_at(data, 4))
        if size < 0 or size > used:
            raise DecodeError(f"czi: attachment claims {size} bytes")
        return bytes(self._source.read_at(data + 256, size))

    def subblock_metadata_bytes(self, i: int) -> bytes:
        """The XML metadata stored with subblock `i`."""
        meta, _ = self._locate([self._index(i)])[0]
        return bytes(self._source.read_at(*meta))

    # -- subblocks -------------------------------------------------------------

    def _index(self, i) -> int:
        i = int(i)
        if i < 0:
            i += self.n_frames
        if not 0 <= i < self.n_frames:
            raise IndexError(f"subblock {i} out of range for {self.n_frames} subblocks")
        return i

    def _locate(self, indices) -> list:
        """((metadata offset, size), (data offset, size)) of each subblock."""
        positions = [int(self._dir.file_position[i]) for i in indices]
        heads = self._source.read_many([(p, _SUBBLOCK_PREFIX) for p in positions])
        out = []
        for i, pos, head in zip(indices, positions, heads):
            sid, _, used = SEGMENT_HEADER.unpack_from(head)
            if sid.rstrip(b"\0") != b"ZISRAWSUBBLOCK":
                raise DecodeError(f"czi: subblock {i} does not start with a subblock segment")
            meta_size, att_size, data_size = SUBBLOCK_HEADER.unpack_from(head, SEGMENT_HEADER.size)
            (ndims,) = struct.unpack_from("<i", head, _SUBBLOCK_PREFIX - 4)
            if not 0 < ndims <= layout.MAX_DIMS or min(meta_size, att_size, data_size) < 0:
                raise DecodeError(f"czi: corrupt header of subblock {i}")
            entry_size = layout.ENTRY_FIXED + layout.DIM_ENTRY * ndims
            meta = pos + SEGMENT_HEADER.size + max(256, SUBBLOCK_HEADER.size + entry_size)
            if meta + meta_size + data_size > pos + SEGMENT_HEADER.size + used:
                raise DecodeError(f"czi: subblock {i} data runs past its segment")
            out.append(((meta, meta_size), (meta + meta_size, data_size)))
        return out

    def _decode_into(self, i: int, blob, out: np.ndarray) -> None:
        """Decode subblock `i`'s stored data into `out` (its stored shape)."""
        compression = int(self._dir.compression[i])
        if compression == layout.UNCOMPRESSED:
            if len(blob) != out.nbytes:
                raise DecodeError(f"czi: subblock {i} holds {len(blob)} bytes, expected {out.nbytes}")
            out.reshape(-1).view(np.uint8)[:] = np.frombuffer(blob, np.uint8)
        elif compression == layout.ZSTD0:
            get_codec("zstd").decode(blob, out=out)
        elif compression == layout.ZSTD1:
            _decode_zstd1(i, blob, out)
        elif compression == layout.LZW:
            get_codec("lzw").decode(blob, out=out)
        elif compression in (layout.JPEGXR, layout.JPEG):
            image = get_codec("jpegxr" if compression == layout.JPEGXR else "jpeg").decode(blob)
            if image.shape != out.shape or image.dtype != out.dtype:
                raise DecodeError(f"czi: subblock {i} decodes to {image.shape} {image.dtype}, "
                                  f"the directory says {out.shape} {out.dtype}")
            out[...] = image
        else:
            name = layout.COMPRESSION_NAMES.get(compression, f"code {compression}")
            raise DecodeError(f"czi: subblock {i} uses unsupported compression {name}")
        if out.dtype.byteorder == ">":  # never for CZI (little-endian), kept honest
            out.byteswap(inplace=True)

    def read_subblocks(self, indices, out=None) -> np.ndarray:
        """Subblocks of one shape and pixel type, decoded in parallel into one array."""
        indices = [self._index(i) for i in indices]
        shapes = {self._stored_shape(i) for i in indices}
        types = {int(self._dir.pixel_type[i]) for i in indices}
        if len(shapes) > 1 or len(types) > 1:
            raise ValueError("czi: these subblocks differ in shape or pixel type; read them one by one")
        shape = (len(indices),) + (shapes.pop() if indices else ())
        dtype = PIXEL_TYPES[types.pop()][1] if indices else self.dtype
        check_decoded_size("czi", dtype, shape)
        if out is None:
            out = np.empty(shape, dtype)
        elif out.shape != shape or out.dtype != dtype:
            raise ValueError(f"czi: out must be {shape} {dtype}, got {out.shape} {out.dtype}")
        places = self._locate(indices)
        blobs = self._source.read_many([data for _, data in places])
        parallel_for(lambda k: self._decode_into(indices[k], blobs[k], out[k]), len(indices),
                     self.numthreads)
        return out

    def _frame(self, index: int) -> np.ndarray:
        return self.read_subblocks([index])[0]

    def read(self) -> np.ndarray:
        """Every subblock, stacked (they must share a shape; else use read_plane)."""
        return self.read_subblocks(range(self.n_frames))

    @cached_property
    def axes(self) -> str:
        """Axes of `asarray()`: T, C, Z where the file has more than one, then Y, X (and S for colour)."""
        sizes = self.dimension_sizes()
        axes = "".join(a for a in "TCZ" if sizes.get(a, (0, 1))[1] > 1) + "YX"
        return axes + ("S" if self.n_frames and PIXEL_TYPES[int(self._dir.pixel_type[0])][2] > 1 else "")

    def asarray(self, *, level=0, out=None) -> np.ndarray:
        """The whole image: every (T, C, Z) plane's mosaic over the union of their
        bounding boxes, stacked along the axes in `axes`."""
        sizes = self.dimension_sizes()
        ranges = {a: range(sizes[a][0], sizes[a][0] + sizes[a][1]) if a in sizes else range(1)
                  for a in "TCZ"}
        d = self._dir
        x0, y0 = int(d.dims["X"]["start"].min()), int(d.dims["Y"]["start"].min())
        x1 = int((d.dims["X"]["start"] + d.dims["X"]["size"]).max())
        y1 = int((d.dims["Y"]["start"] + d.dims["Y"]["size"]).max())
        planes = [self.read_region(x0, y0, x1 - x0, y1 - y0, T=t, C=c, Z=z, level=level)
                  for t in ranges["T"] for c in ranges["C"] for z in ranges["Z"]]
        stack = np.stack(planes).reshape(
            tuple(len(ranges[a]) for a in "TCZ") + planes[0].shape)
        keep = tuple(i for i, a in enumerate("TCZ") if len(ranges[a]) > 1)
        result = stack.reshape(tuple(stack.shape[i] for i in keep) + planes[0].shape)
        if out is not None:
            out[...] = result
            return out
        return result

    # -- planes and mosaics -----------------------------------------------------

    def _select(self, planes: dict, level: int):
        """Indices of the subblocks in the plane at pyramid `level` (0 = full resolution)."""
        d = self._dir
        mask = np.ones(d.count, bool)
        for letter, value in planes.items():
            if value is None:
                continue
            if letter not in d.dims:
                if value != 0:
                    return np.zeros(0, np.int64), 1
                continue
            col = d.dims[letter]
            mask &= (col["start"] == value) | (col["size"] < 0)
        size, stored = d.dims["X"]["size"], d.dims["X"]["stored_size"]
        factor = np.where(stored > 0, np.round(size / np.maximum(stored, 1)), 1).astype(np.int64)
        factors = np.unique(factor[mask])
        if level >= len(factors):
            raise IndexError(f"czi: pyramid level {level} not present (levels: {len(factors)})")
        scale = int(factors[level])
        return np.nonzero(mask & (factor == scale))[0], scale

    def bounding_box(self, *, C=0, Z=0, T=0, S=None, level=0) -> tuple:
        """(x, y, width, height) of a plane, in full-resolution pixels."""
        idx, _ = self._select({"C": C, "Z": Z, "T": T, "S": S}, level)
        if len(idx) == 0:
            raise IndexError(f"czi: no subblocks in plane C={C} Z={Z} T={T} S={S}")
        x0 = self._dir.dims["X"]["start"][idx]
        y0 = self._dir.dims["Y"]["start"][idx]
        x1 = x0 + self._dir.dims["X"]["size"][idx]
        y1 = y0 + self._dir.dims["Y"]["size"][idx]
        return int(x0.min()), int(y0.min()), int(x1.max() - x0.min()), int(y1.max() - y0.min())

    def read_plane(self, *, C=0, Z=0, T=0, S=None, level=0) -> np.ndarray:
        """The plane's whole mosaic, stitched from its tiles (at `level`, downscaled)."""
        return self.read_region(*self.bounding_box(C=C, Z=Z, T=T, S=S, level=level),
                                C=C, Z=Z, T=T, S=S, level=level)

    def read_region(self, x, y, width, height, *, C=0, Z=0, T=0, S=None, level=0,
                    background=0) -> np.ndarray:
        """The region (x, y, width, height), in full-resolution pixels, of a plane.

        Only subblocks that intersect the region are read and decoded (in
        parallel); later mosaic tiles (higher M) are drawn over earlier ones,
        as libCZI does. At `level` k the result is downscaled by that level's
        factor; uncovered pixels are `background`.
        """
        idx, scale = self._select({"C": C, "Z": Z, "T": T, "S": S}, level)
        d = self._dir
        xs, ys = d.dims["X"], d.dims["Y"]
        x0, y0 = xs["start"][idx], ys["start"][idx]
        hit = (x0 < x + width) & (x0 + xs["size"][idx] > x) & (y0 < y + height) & (y0 + ys["size"][idx] > y)
        idx = idx[hit]
        if "M" in d.dims:  # draw order: higher M on top
            idx = idx[np.argsort(d.dims["M"]["start"][idx], kind="stable")]
        types = {int(t) for t in d.pixel_type[idx]} or {int(d.pixel_type[0]) if d.count else 0}
        if len(types) > 1:
            raise DecodeError("czi: subblocks of one plane differ in pixel type")
        _, dtype, samples = PIXEL_TYPES[types.pop()]
        out_h, out_w = -(-height // scale), -(-width // scale)
        shape = (out_h, out_w) if samples == 1 else (out_h, out_w, samples)
        check_decoded_size("czi", dtype, shape)
        out = np.full(shape, background, dtype)
        if len(idx) == 0:
            return out
        tiles = [None] * len(idx)
        places = self._locate(list(idx))
        blobs = self._source.read_many([data for _, data in places])

        def decode(k):
            i = int(idx[k])
            tile = np.empty(self._stored_shape(i), dtype)
            self._decode_into(i, blobs[k], tile)
            tiles[k] = tile

        parallel_for(decode, len(idx), self.numthreads)
        for k, i in enumerate(idx):  # paste in draw order
            _paste(out, tiles[k], (int(xs["start"][i]) - x) // scale, (int(ys["start"][i]) - y) // scale)
        return out

    def close(self):
        self._source.close()


def _paste(out: np.ndarray, tile: np.ndarray, left: int, top: int) -> None:
    """Copy `tile` into `out` with its corner at (top, left), clipped to `out`."""
    h, w = tile.shape[:2]
    oy0, ox0 = max(top, 0), max(left, 0)
    oy1, ox1 = min(top + h, out.shape[0]), min(left + w, out.shape[1])
    if oy0 < oy1 and ox0 < ox1:
        out[oy0:oy1, ox0:ox1] = tile[oy0 - top:oy1 - top, ox0 - left:ox1 - left]


def _decode_zstd1(i: int, blob, out: np.ndarray) -> None:
    """CZI's "zstd1": a small header (its size, then chunks; chunk 1 = hi/lo
    byte packing of 16-bit data) followed by a zstd frame."""
    view = memoryview(blob).cast("B")
    if len(view) < 1 or not 1 <= view[0] <= len(view):
        raise DecodeError(f"czi: subblock {i}: corrupt zstd1 header")
    header, payload = view[1:view[0]], view[view[0]:]
    hilo = False
    pos = 0
    while pos < len(header):
        if header[pos] != 1 or pos + 1 >= len(header):
            raise DecodeError(f"czi: subblock {i}: unknown zstd1 header chunk {header[pos]}")
        hilo = bool(header[pos + 1] & 1)
        pos += 2
    if not hilo:
        get_codec("zstd").decode(payload, out=out)
        return
    if out.dtype.itemsize != 2:
        raise DecodeError(f"czi: subblock {i}: hi/lo byte packing needs 16-bit pixels")
    packed = _scratch(out.nbytes)
    get_codec("zstd").decode(payload, out=packed)
    get_codec("byteshuffle").decode(packed, out=out, itemsize=2)  # low bytes first, then high


_local = threading.local()


def _scratch(nbytes: int) -> np.ndarray:
    """A per-thread byte buffer, reused: fresh 8 MB buffers cost page faults every time."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _local.buf = np.empty(nbytes, np.uint8)
    return buf[:nbytes]
