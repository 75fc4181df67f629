"""CziWriter: tiles and mosaics into a Zeiss CZI file.

Layout, as libCZI writes it: the file header segment (512 bytes) at offset 0,
the subblock segments, the metadata segment, then the subblock directory;
the header is rewritten at close with their positions. Segments are aligned
to 32 bytes. Subblocks are stored uncompressed ("none"), as raw zstd
("zstd0"), or as CZI's zstd with header ("zstd1", the default), packing the
low bytes of 16-bit pixels before the high bytes ("hi/lo") where that helps.

The file is written under a temporary name and renamed on close: a failed or
interrupted write leaves nothing that looks like a valid CZI.
"""

import os
import struct
import uuid
from xml.sax.saxutils import escape

import numpy as np

from ...core.codec import Writer
from ...core.errors import EncodeError
from ...core.registry import get_codec
from . import layout
from .layout import PIXEL_TYPE_CODES, SEGMENT_HEADER

_ALIGN = 32
_COMPRESSIONS = {"none": layout.UNCOMPRESSED, "zstd0": layout.ZSTD0, "zstd1": layout.ZSTD1,
                 "zstd": layout.ZSTD1}
_DIM_ORDER = ("X", "Y", "C", "Z", "T", "S", "M")


def pixel_type_of(dtype, samples: int) -> str:
    """The CZI pixel type name for numpy `dtype` with `samples` per pixel."""
    name = {(np.dtype("u1"), 1): "Gray8", (np.dtype("u2"), 1): "Gray16",
            (np.dtype("f4"), 1): "Gray32Float", (np.dtype("u1"), 3): "Bgr24",
            (np.dtype("u2"), 3): "Bgr48", (np.dtype("u1"), 4): "Bgra32",
            (np.dtype("f4"), 3): "Bgr96Float", (np.dtype("i4"), 1): "Gray32",
            (np.dtype("f8"), 1): "Gray64"}.get((np.dtype(dtype).newbyteorder("="), samples))
    if name is None:
        raise EncodeError(f"czi: no pixel type for {np.dtype(dtype)} with {samples} sample(s); "
                          f"supported: uint8/uint16/float32 grey, uint8/uint16 BGR, uint8 BGRA")
    return name


def _padded(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


class CziWriter(Writer):
    """Write tiles with `write_tile(tile, x=, y=, C=, Z=, T=, S=, M=)`, then close.

    `compression`: "zstd1" (default), "zstd0" or "none"; `level`: zstd level;
    `hilo`: pack 16-bit pixels' low bytes first (zstd1 only; default True).
    """

    def __init__(self, path, *, compression="zstd1", level=1, hilo=True, metadata_xml=None):
        if compression not in _COMPRESSIONS:
            raise EncodeError(f"czi: compression must be one of {', '.join(_COMPRESSIONS)}, "
                              f"got {compression!r}")
        self.path = os.fspath(path)
        self._partial = f"{self.path}.{os.getpid()}.partial"
        self._compression = _COMPRESSIONS[compression]
        self._level = level
        self._hilo = hilo
        self._metadata_xml = metadata_xml
        self._entries = []  # (pixel type code, file position, compression, dims)
        self._file = open(self._partial, "wb")
        self._file.write(bytes(SEGMENT_HEADER.size + 512))  # header, rewritten at close
        self._pos = SEGMENT_HEADER.size + 512
        self._closed = False

    def _payload(self, tile: np.ndarray) -> bytes:
        if self._compression == layout.UNCOMPRESSED:
            return tile.tobytes()
        zstd = get_codec("zstd")
        if self._compression == layout.ZSTD0:
            return zstd.encode(tile, level=self._level)
        hilo = self._hilo and tile.dtype.itemsize == 2
        data = get_codec("byteshuffle").encode(tile, itemsize=2) if hilo else tile
        return bytes([3, 1, int(hilo)]) + zstd.encode(data, level=self._level)

    def write_tile(self, tile, *, x=0, y=0, C=0, Z=0, T=0, S=0, M=None, scale=1) -> None:
        """One subblock: `tile` shaped (H, W) or (H, W, samples) at (x, y) of plane (C, Z, T, S).

        `scale` > 1 makes it a pyramid subblock: it covers `scale` times its
        stored size of the full-resolution image.
        """
        tile = np.ascontiguousarray(tile)
        if tile.ndim not in (2, 3):
            raise EncodeError(f"czi: a tile is (H, W) or (H, W, samples), got shape {tile.shape}")
        samples = 1 if tile.ndim == 2 else tile.shape[2]
        pixel_type = PIXEL_TYPE_CODES[pixel_type_of(tile.dtype, samples)]
        tile = tile.astype(tile.dtype.newbyteorder("<"), copy=False)
        if M is None:  # mosaic index: running count within the plane
            M = sum(1 for e in self._entries if e[3][2:6] == (C, Z, T, S))
        h, w = tile.shape[:2]
        dims = ((x, w * scale, w), (y, h * scale, h), C, Z, T, S, M)
        pyramid = 0 if scale == 1 else 1
        payload = self._payload(tile)
        entry = self._entry_bytes(pixel_type, self._pos, self._compression, dims, pyramid)
        head = struct.pack("<iiq", 0, 0, len(payload)) + entry
        head += bytes(max(256, len(head)) - len(head))
        used = len(head) + len(payload)
        allocated = _padded(used)
        self._file.write(SEGMENT_HEADER.pack(b"ZISRAWSUBBLOCK", allocated, used))
        self._file.write(head)
        self._file.write(payload)
        self._file.write(bytes(allocated - used))
        self._entries.append((pixel_type, self._pos, self._compression, dims, pyramid))
        self._pos += SEGMENT_HEADER.size + allocated

    def write_frame(self, data, **opts) -> None:
        self.write_tile(data, **opts)

    @staticmethod
    def _entry_bytes(pixel_type, position, compression, dims, pyramid) -> bytes:
        out = struct.pack("<2siqiiB5si", b"DV", pixel_type, position, 0, compression, pyramid,
                          b"", len(_DIM_ORDER))
        for letter, value in zip(_DIM_ORDER, dims):
            start, size, stored = value if isinstance(value, tuple) else (value, 1, 1)
            out += struct.pack("<4siifi", letter.encode(), start, size, 0.0, stored)
        return out

    def _segment(self, sid: bytes, data: bytes) -> int:
        """Append a segment; its file position."""
        pos = self._pos
        allocated = _padded(len(data))
        self._file.write(SEGMENT_HEADER.pack(sid, allocated, len(data)))
        self._file.write(data + bytes(allocated - len(data)))
        self._pos += SEGMENT_HEADER.size + allocated
        return pos

    def _default_metadata(self) -> str:
        def extent(k):
            ends = [e[3][k][0] + e[3][k][1] for e in self._entries]
            return max(ends) - min(e[3][k][0] for e in self._entries)

        def count(k):
            return len({e[3][k] for e in self._entries})

        types = sorted({e[0] for e in self._entries})
        pixel_type = layout.PIXEL_TYPES[types[0]][0]
        channels = "".join(f'<Channel Id="Channel:{c}"><PixelType>{pixel_type}</PixelType></Channel>'
                           for c in sorted({e[3][2] for e in self._entries}))
        sizes = "".join(f"<Size{k}>{v}</Size{k}>" for k, v in (
            ("X", extent(0)), ("Y", extent(1)), ("Z", count(3)), ("C", count(2)), ("T", count(4)),
            ("S", count(5)), ("M", max(e[3][6] for e in self._entries) + 1)))
        return ("<ImageDocument><Metadata><Information><Image>" + sizes
                + f"<Dimensions><Channels>{channels}</Channels></Dimensions>"
                + f"<PixelType>{escape(pixel_type)}</PixelType></Image>"
                + "<Application><Name>opencodecs</Name></Application></Information>"
                + "</Metadata></ImageDocument>")

    def close(self) -> None:
        if self._closed:
            return
        if not self._entries:
            self.abort()
            raise EncodeError("czi: nothing was written (no tiles)")
        xml = (self._metadata_xml or self._default_metadata()).encode()
        metadata = self._segment(b"ZISRAWMETADATA", struct.pack("<ii", len(xml), 0) + bytes(248) + xml)
        entries = b"".join(self._entry_bytes(*e) for e in self._entries)
        directory = self._segment(b"ZISRAWDIRECTORY",
                                  struct.pack("<i", len(self._entries)) + bytes(124) + entries)
        guid = uuid.uuid4().bytes
        header = layout.FILE_HEADER.pack(1, 0, 0, 0, guid, guid, 0, directory, metadata, 0, 0)
        self._file.seek(0)
        self._file.write(SEGMENT_HEADER.pack(b"ZISRAWFILE", 512, 512) + header)
        self._file.close()
        os.replace(self._partial, self.path)
        self._closed = True

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._file.close()
        try:
            os.unlink(self._partial)
        except FileNotFoundError:
            pass


_AXES = {2: "YX", 3: "CYX", 4: "CZYX", 5: "TCZYX"}


def write_czi(path, data, *, axes=None, tile=None, compression="zstd1", level=1, hilo=True) -> None:
    """Write an array as a CZI file, one subblock per plane (or per `tile` of it).

    `axes` names the array's axes from T, C, Z, Y, X (and a trailing S of 3 or 4
    samples for BGR/BGRA); by default "YX", "CYX", "CZYX" or "TCZYX" by ndim.
    """
    arr = np.asarray(data)
    colour = axes is not None and axes.endswith("S")
    axes = axes or _AXES.get(arr.ndim)
    if axes is None or len(axes) != arr.ndim or not set(axes) <= set("TCZYXS"):
        raise EncodeError(f"czi: cannot map an array of shape {arr.shape} to axes {axes!r}")
    plane_axes = axes[:-3] if colour else axes[:-2]
    h, w = arr.shape[len(plane_axes)], arr.shape[len(plane_axes) + 1]
    th, tw = tile or (h, w)
    with CziWriter(path, compression=compression, level=level, hilo=hilo) as writer:
        for index in np.ndindex(*arr.shape[:len(plane_axes)]):
            plane = arr[index]
            coords = dict(zip(plane_axes, index))
            for y in range(0, h, th):
                for x in range(0, w, tw):
                    writer.write_tile(plane[y:y + th, x:x + tw], x=x, y=y, C=coords.get("C", 0),
                                      Z=coords.get("Z", 0), T=coords.get("T", 0))
