"""BC1-BC7 GPU texture blocks and the DirectDraw Surface (.dds) files that hold
them; decode only, with our own C decoder (bcn.c).

Decoded pixels: BC1-BC3 and BC7 RGBA uint8 (H, W, 4); BC4 (H, W) and BC5
(H, W, 2) uint8, or int8 SNORM values (-127..127) for the signed variants;
BC6H RGB float16 (H, W, 3).

Options:
- level: the mipmap level (0, the full size, by default).
- index: one frame of a file with several (array slices x cube faces, or the
  depth slices of a volume); by default every frame, stacked as (N, H, W, ...)
  when there is more than one. `open()` gives a Reader over the frames.
- bc, shape, signed: decode bare blocks instead of a .dds file, e.g.
  `decode(blocks, bc=1, shape=(h, w))`, so that other containers can use it.
- numthreads: block rows decode in parallel on the shared pool.
"""

import struct
from typing import NamedTuple

import numpy as np

from ...core.codec import Reader, numthreads_or_default
from ...core.errors import DecodeError
from ...core.io import as_buffer
from ...core.parallel import parallel_for
from ...core.registry import register
from .base import ImageCodec, check_image_size, decode_target

MAGIC = b"DDS "
_HEADER_SIZE = 4 + 124  # magic + DDS_HEADER
_DX10_SIZE = 20  # DDS_HEADER_DXT10

# format number -> (bytes per block, channels, dtype of an unsigned pixel)
_FORMATS = {1: (8, 4, np.uint8), 2: (16, 4, np.uint8), 3: (16, 4, np.uint8), 4: (8, 1, np.uint8),
            5: (16, 2, np.uint8), 6: (16, 3, np.float16), 7: (16, 4, np.uint8)}
_SIGNED_DTYPES = {np.dtype(np.uint8): np.dtype(np.int8), np.dtype(np.float16): np.dtype(np.float16)}

# (format, signed) of the FourCC codes and DXGI formats that name BCn blocks
_FOURCC = {b"DXT1": (1, False), b"DXT2": (2, False), b"DXT3": (2, False), b"DXT4": (3, False),
           b"DXT5": (3, False), b"ATI1": (4, False), b"BC4U": (4, False), b"BC4S": (4, True),
           b"ATI2": (5, False), b"BC5U": (5, False), b"BC5S": (5, True)}
_DXGI = {70: (1, False), 71: (1, False), 72: (1, False), 73: (2, False), 74: (2, False),
         75: (2, False), 76: (3, False), 77: (3, False), 78: (3, False), 79: (4, False),
         80: (4, False), 81: (4, True), 82: (5, False), 83: (5, False), 84: (5, True),
         94: (6, False), 95: (6, False), 96: (6, True), 97: (7, False), 98: (7, False),
         99: (7, False)}

_DDSD_MIPMAPCOUNT = 0x20000
_DDSD_DEPTH = 0x800000
_DDPF_FOURCC = 0x4
_DDSCAPS2_CUBEMAP = 0x200
_DDSCAPS2_FACES = (0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000)
_DDSCAPS2_VOLUME = 0x200000
_DX10_CUBE = 0x4
_DX10_TEXTURE3D = 4
_MT_MIN_BLOCK_ROWS = 16  # fewer block rows than this decode on one thread


def _pixel(fmt: int, signed: bool) -> tuple:
    """(channels, dtype) of a decoded pixel."""
    _, channels, dtype = _FORMATS[fmt]
    return channels, _SIGNED_DTYPES[np.dtype(dtype)] if signed else np.dtype(dtype)


def _level_bytes(fmt: int, height: int, width: int) -> int:
    return -(-height // 4) * -(-width // 4) * _FORMATS[fmt][0]


class Surface(NamedTuple):
    """What a DDS header declares."""

    format: int
    signed: bool
    height: int
    width: int
    depth: int  # volume textures: slices at level 0
    levels: int
    items: int  # array slices x cube faces
    data_start: int

    def level_size(self, level: int) -> tuple:
        """(height, width, depth) of a mipmap level."""
        return (max(1, self.height >> level), max(1, self.width >> level), max(1, self.depth >> level))

    def frames(self, level: int) -> int:
        return self.items * self.level_size(level)[2]

    def _level_bytes(self, level: int) -> int:
        h, w, d = self.level_size(level)
        return _level_bytes(self.format, h, w) * d

    def frame_offset(self, level: int, index: int) -> int:
        """Where frame `index` of `level` starts: items one after the other, each
        a chain of mipmap levels, each level its depth slices."""
        item, z = divmod(index, self.level_size(level)[2])
        chain = sum(map(self._level_bytes, range(self.levels)))
        before = sum(map(self._level_bytes, range(level)))
        h, w, _ = self.level_size(level)
        return self.data_start + item * chain + before + z * _level_bytes(self.format, h, w)

    def end(self) -> int:
        """Where the blocks of the last item end."""
        return self.data_start + self.items * sum(map(self._level_bytes, range(self.levels)))


def read_surface(buf) -> Surface:
    """The DDS header of `buf`, checked against the bytes that follow it."""
    buf = memoryview(buf).cast("B")
    if len(buf) < _HEADER_SIZE or buf[:4] != MAGIC:
        raise DecodeError("bcdec: not a DDS file (no 'DDS ' header)")
    size, flags, height, width, _, depth, mipcount = struct.unpack_from("<7I", buf, 4)
    pf_flags, fourcc = struct.unpack_from("<I4s", buf, 4 + 76)
    caps2 = struct.unpack_from("<I", buf, 4 + 108)[0]
    if size != 124 or not pf_flags & _DDPF_FOURCC:
        raise DecodeError("bcdec: only DDS files of BC1-BC7 blocks are supported")
    levels = mipcount if flags & _DDSD_MIPMAPCOUNT and mipcount else 1
    items = 1
    volume = caps2 & _DDSCAPS2_VOLUME and flags & _DDSD_DEPTH
    start = _HEADER_SIZE
    if fourcc == b"DX10":
        if len(buf) < _HEADER_SIZE + _DX10_SIZE:
            raise DecodeError("bcdec: truncated DX10 header")
        dxgi, dimension, misc, array_size = struct.unpack_from("<4I", buf, _HEADER_SIZE)
        if dxgi not in _DXGI:
            raise DecodeError(f"bcdec: DXGI format {dxgi} is not a BC1-BC7 format")
        fmt, signed = _DXGI[dxgi]
        items = max(array_size, 1) * (6 if misc & _DX10_CUBE else 1)
        volume = dimension == _DX10_TEXTURE3D
        start += _DX10_SIZE
    elif fourcc in _FOURCC:
        fmt, signed = _FOURCC[fourcc]
        if caps2 & _DDSCAPS2_CUBEMAP:
            items = sum(bool(caps2 & face) for face in _DDSCAPS2_FACES)
    else:
        raise DecodeError(f"bcdec: FourCC {bytes(fourcc)!r} is not a BC1-BC7 format")
    surface = Surface(fmt, signed, height, width, max(depth, 1) if volume else 1, levels, items, start)
    if not (0 < height < 1 << 24 and 0 < width < 1 << 24 and levels <= 32 and items <= 1 << 20
            and surface.depth < 1 << 24):
        raise DecodeError(f"bcdec: invalid dimensions {height}x{width}, depth {depth}, "
                          f"{levels} levels, {items} items")
    if surface.end() > len(buf):
        raise DecodeError(f"bcdec: the header declares {surface.end() - start} bytes of blocks, "
                          f"the file holds {len(buf) - start}")
    return surface


@register
class Bcdec(ImageCodec):
    name = "bcdec"
    aliases = ("dds", "bcn")
    file_extensions = (".dds",)
    description = "BC1-BC7 (DXT, RGTC, BPTC) texture blocks and DDS files, decode only"
    library = "built in"
    _native = "_bcdec"
    can_encode = False
    multi_frame = True
    supported_dtypes = tuple(map(np.dtype, (np.uint8, np.int8, np.float16)))
    channels = (1, 2, 3, 4)

    def signature(self, head):
        return head[:4] == MAGIC

    def _decode(self, buf, out, *, level=0, index=None, bc=None, shape=None, signed=False,
                numthreads=None):
        if bc is not None:
            return self._decode_blocks(buf, out, bc, shape, signed, numthreads)
        if shape is not None:
            raise DecodeError("bcdec: shape= goes with bc= (bare blocks); DDS files know theirs")
        surface = read_surface(buf)
        level = _check_index("level", level, surface.levels)
        frames = surface.frames(level)
        height, width, _ = surface.level_size(level)
        indices = range(frames) if index is None else [_check_index("index", index, frames)]
        channels, dtype = _pixel(surface.format, surface.signed)
        shape = check_image_size(self.name, height, width, channels, dtype, frames=len(indices))
        target = decode_target(self.name, out, dtype, shape)
        frame_bytes = target.reshape(len(indices), -1).view(np.uint8)
        for row, i in enumerate(indices):
            self._decode_image(buf, surface.frame_offset(level, i), surface.format, surface.signed,
                               height, width, frame_bytes[row], numthreads)
        return target if out is None else out

    def _decode_blocks(self, buf, out, bc, shape, signed, numthreads):
        if bc not in _FORMATS:
            raise DecodeError(f"bcdec: bc must be one of 1..7, got {bc!r}")
        try:
            height, width = (int(n) for n in shape)
        except (TypeError, ValueError):
            raise DecodeError(f"bcdec: bare blocks need shape=(height, width), got {shape!r}") from None
        signed = bool(signed)
        if signed and bc not in (4, 5, 6):
            raise DecodeError(f"bcdec: BC{bc} has no signed variant")
        channels, dtype = _pixel(bc, signed)
        shape = check_image_size(self.name, height, width, channels, dtype)
        if _level_bytes(bc, height, width) > memoryview(buf).nbytes:
            raise DecodeError(f"bcdec: a {height}x{width} BC{bc} image needs "
                              f"{_level_bytes(bc, height, width)} bytes, got {memoryview(buf).nbytes}")
        target = decode_target(self.name, out, dtype, shape)
        self._decode_image(buf, 0, bc, signed, height, width, target, numthreads)
        return target if out is None else out

    def _decode_image(self, buf, offset, fmt, signed, height, width, out, numthreads):
        """Decode one image, its block rows spread over the shared pool."""
        decode = self.native.decode
        rows = -(-height // 4)
        threads = numthreads_or_default(numthreads) if rows >= 2 * _MT_MIN_BLOCK_ROWS else 1
        if threads == 1:
            decode(buf, offset, fmt, signed, width, height, out, 0, rows)
            return
        step = max(_MT_MIN_BLOCK_ROWS, -(-rows // (4 * threads)))
        parallel_for(lambda k: decode(buf, offset, fmt, signed, width, height, out,
                                      k * step, min(rows, (k + 1) * step)),
                     -(-rows // step), threads)

    def open(self, src, **opts):
        return DdsReader(self, src, **opts)


def _check_index(option: str, value, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < count:
        raise DecodeError(f"bcdec: {option} must be an integer in 0..{count - 1}, got {value!r}")
    return int(value)


class DdsReader(Reader):
    """The frames of a DDS file (array slices x cube faces, or volume slices) at one level."""

    def __init__(self, codec, src, *, level=0, numthreads=None):
        self._codec = codec
        self._buf = as_buffer(src)
        self._numthreads = numthreads
        surface = read_surface(self._buf)
        self.levels = surface.levels  # mipmap levels in the file
        self._level = _check_index("level", level, surface.levels)
        self.n_frames = surface.frames(self._level)
        height, width, _ = surface.level_size(self._level)
        channels, self.dtype = _pixel(surface.format, surface.signed)
        self.shape = (self.n_frames, height, width) + ((channels,) if channels > 1 else ())

    def _frame(self, index):
        return self._codec.decode(self._buf, level=self._level, index=index,
                                  numthreads=self._numthreads)

    def close(self):
        self._buf = None
