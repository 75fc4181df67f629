"""JPEG 2000 (OpenJPEG): JP2 files and raw J2K codestreams, lossless and lossy.

Options:
- lossless / quality: lossless (reversible 5/3 wavelet) unless `quality` is
  given; `lossless=False` alone means quality 75. `quality` 0-100 sets the
  target PSNR of the irreversible 9/7 wavelet as a share of what rounding to
  the sample depth gives: quality / 100 * (6.02 * bits + 10.79) dB, so 75 is
  about 44 dB for 8-bit and 80 dB for 16-bit images, 100 near-lossless.
- codec: "jp2" (boxed file, the default) or "j2k" (bare codestream);
  `oc.write` picks it from the file extension.
- numthreads: OpenJPEG's worker threads (code blocks decode in parallel).

Decoding checks the codestream's SIZ marker (dimensions, components, tiles)
before OpenJPEG allocates anything.
"""

import os
import struct
from typing import NamedTuple

import numpy as np

from ...core.codec import numthreads_or_default
from ...core.errors import DecodeError, EncodeError
from ...core.io import is_path
from ...core.registry import register
from .base import ImageCodec, check_image_size, check_quality, decode_target, image_array

SOC_SIZ = b"\xff\x4f\xff\x51"
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
DEFAULT_LOSSY_QUALITY = 75
# Images smaller than this decode on one thread: starting OpenJPEG's pool costs more.
_MT_MIN_SAMPLES = 1 << 18
# A complete codestream holds at least one tile-part per tile: SOT (12 bytes) + SOD (2).
_MIN_TILE_BYTES = 14


class Siz(NamedTuple):
    """What a codestream's SIZ marker declares."""

    width: int
    height: int
    components: list  # (bits, signed, dx, dy) per component
    tiles: int
    rsiz: int
    offset: int  # where the codestream starts: 0, or inside a JP2 file


def _boxes(buf, start, end):
    """(type, content start, content end) of the JP2 boxes in buf[start:end]."""
    pos = start
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if length == 1:
            if pos + 16 > end:
                return
            length = struct.unpack_from(">Q", buf, pos + 8)[0]
            header = 16
        elif length == 0:
            length = end - pos
        if length < header or pos + length > end:
            return
        yield kind, pos + header, pos + length
        pos += length


def _codestream_start(codec: str, buf) -> int:
    """Offset of the codestream in a J2K codestream or JP2 file."""
    if buf[:4] == SOC_SIZ:
        return 0
    if buf[:12] != JP2_SIGNATURE:
        raise DecodeError(f"{codec}: not a JPEG 2000 codestream or JP2 file")
    for kind, start, end in _boxes(buf, 0, len(buf)):
        if kind == b"jp2h":
            if any(sub == b"pclr" for sub, _, _ in _boxes(buf, start, end)):
                raise DecodeError(f"{codec}: JP2 palette images (pclr box) are not supported")
        elif kind == b"jp2c":
            return start
    raise DecodeError(f"{codec}: JP2 file without a codestream (jp2c box)")


def read_siz(codec: str, buf) -> Siz:
    """The SIZ marker of a codestream (or of the codestream in a JP2 file)."""
    buf = memoryview(buf).cast("B")
    pos = _codestream_start(codec, buf)
    if buf[pos:pos + 4] != SOC_SIZ or len(buf) < pos + 42:
        raise DecodeError(f"{codec}: codestream does not start with SOC and SIZ markers")
    (length, rsiz, xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz,
     ncomp) = struct.unpack_from(">HHIIIIIIIIH", buf, pos + 4)
    if length != 38 + 3 * ncomp or len(buf) < pos + 4 + length or ncomp == 0:
        raise DecodeError(f"{codec}: invalid SIZ marker")
    if xsiz <= xosiz or ysiz <= yosiz or xtsiz == 0 or ytsiz == 0 or xtosiz > xosiz or ytosiz > yosiz:
        raise DecodeError(f"{codec}: invalid image or tile geometry in the SIZ marker")
    components = []
    for k in range(ncomp):
        ssiz, dx, dy = struct.unpack_from(">BBB", buf, pos + 42 + 3 * k)
        components.append(((ssiz & 0x7F) + 1, bool(ssiz & 0x80), dx, dy))
    tiles = -(-(xsiz - xtosiz) // xtsiz) * -(-(ysiz - ytosiz) // ytsiz)
    return Siz(xsiz - xosiz, ysiz - yosiz, components, tiles, rsiz, pos)


def decoded_layout(codec: str, siz: Siz, nbytes: int) -> tuple:
    """(shape, dtype) of the decoded image; DecodeError for layouts we do not decode,
    for headers the input cannot back, and for sizes over max_decoded_bytes."""
    bits, signed, dx, dy = siz.components[0]
    if len(siz.components) > 4:
        raise DecodeError(f"{codec}: {len(siz.components)} components; at most 4 are supported")
    if any(c != siz.components[0] for c in siz.components) or dx != 1 or dy != 1:
        raise DecodeError(f"{codec}: components with differing depths or subsampling "
                          f"are not supported: {siz.components}")
    if bits > 16:
        raise DecodeError(f"{codec}: {bits}-bit samples are not supported (at most 16)")
    if siz.tiles * _MIN_TILE_BYTES > nbytes:
        raise DecodeError(f"{codec}: {siz.tiles} tiles cannot fit in {nbytes} bytes")
    dtype = np.dtype(("i" if signed else "u") + ("1" if bits <= 8 else "2"))
    shape = check_image_size(codec, siz.height, siz.width, len(siz.components), dtype)
    return shape, dtype


def decode_with_openjpeg(codec: str, native, buf, out, numthreads):
    """Decode a J2K codestream or JP2 file (HTJ2K included) with the _openjpeg module."""
    siz = read_siz(codec, buf)
    shape, dtype = decoded_layout(codec, siz, memoryview(buf).nbytes)
    target = decode_target(codec, out, dtype, shape)
    threads = numthreads_or_default(numthreads) if np.prod(shape) >= _MT_MIN_SAMPLES else 1
    native.decode(buf, native.JP2 if siz.offset else native.J2K, target, siz.height, siz.width,
                  len(siz.components), dtype.kind == "i", threads, codec)
    return target if out is None else out


def psnr_for_quality(quality: int, bits: int) -> float:
    """Target PSNR (dB) for `quality`: that share of the PSNR of rounding to `bits`."""
    return max(1.0, quality / 100 * (6.02 * bits + 10.79))


def wavelet_levels(height: int, width: int) -> int:
    """Five decomposition levels, fewer for small images: the lowest band keeps
    at least 8 pixels a side (as imagecodecs chooses)."""
    return max(0, min(5, min(height, width).bit_length() - 4))


def lossy_quality(codec: str, lossless, quality):
    """The quality to encode at, or None for lossless."""
    if quality is None:
        return DEFAULT_LOSSY_QUALITY if lossless is False else None
    if lossless:
        raise EncodeError(f"{codec}: lossless=True and quality= exclude each other")
    return check_quality(codec, quality)


@register
class Jpeg2k(ImageCodec):
    name = "jpeg2k"
    aliases = ("jpeg2000", "j2k", "jp2")
    file_extensions = (".jp2", ".j2k", ".jpx", ".jpc")
    description = "JPEG 2000: JP2 files and J2K codestreams, lossless and lossy"
    library = "OpenJPEG"
    _native = "_openjpeg"
    supported_dtypes = tuple(map(np.dtype, (np.uint8, np.uint16, np.int8, np.int16)))
    channels = (1, 2, 3, 4)
    _containers = {"jp2": "JP2", "j2k": "J2K"}

    def signature(self, head):
        return head[:4] == SOC_SIZ or head[:12] == JP2_SIGNATURE

    def encode(self, data, *, dest=None, **opts):
        if is_path(dest) and opts.get("codec") is None:
            bare = os.fspath(dest).lower().endswith((".j2k", ".jpc"))
            opts["codec"] = "j2k" if bare else "jp2"
        return super().encode(data, dest=dest, **opts)

    def _encode(self, data, out, *, lossless=None, quality=None, codec=None, numthreads=None):
        arr, h, w, c = image_array(self, data)
        container = self._containers.get("jp2" if codec is None else codec)
        if container is None:
            raise EncodeError(f"{self.name}: codec must be 'jp2' or 'j2k', got {codec!r}")
        quality = lossy_quality(self.name, lossless, quality)
        bits = arr.dtype.itemsize * 8
        psnr = 0.0 if quality is None else psnr_for_quality(quality, bits)
        return self.native.encode(arr, getattr(self.native, container), h, w, c, arr.dtype.itemsize,
                                  arr.dtype.kind == "i", wavelet_levels(h, w) + 1, psnr,
                                  numthreads_or_default(numthreads), out)

    def _decode(self, buf, out, *, numthreads=None):
        return decode_with_openjpeg(self.name, self.native, buf, out, numthreads)
