"""HEIF/HEIC still images (libheif: x265 to encode, libde265 to decode).

Layouts: RGB and RGBA; uint8 is 8-bit, uint16 is 10- or 12-bit (`bitdepth=`,
default 10; values must fit). Decoding gives the primary image as RGB or
RGBA (a grey file comes back as RGB), uint16 holding the file's 10/12-bit
values for deep images.

Options: `quality` 0-100 (default 75; x265 at YUV 4:2:0); `lossless=True`
(x265 lossless at 4:4:4 with RGB kept as GBR planes: exact); `numthreads`
on decode (libheif's decoding threads). x265 picks its own encoder threads.
`icc=` (bytes) stores an ICC profile; `oc.get_codec("heif").open(src).icc`
gives a file's profile back.
"""

import numpy as np

from ...core.codec import numthreads_or_default
from ...core.io import copy_into
from ...core.registry import register
from .base import (ImageCodec, ImageReader, check_bitdepth, check_quality, ftyp_brands, icc_bytes,
                   image_array, image_target)

# Brands of HEVC-coded HEIF files; the generic image brands count when no AVIF brand is there.
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


@register
class Heif(ImageCodec):
    name = "heif"
    aliases = ("heic",)
    file_extensions = (".heif", ".heic")
    description = "HEIF/HEIC still images, HEVC lossy or lossless (RGB, RGBA; 8/10/12-bit)"
    library = "libheif"
    _native = "_heif"
    channels = (3, 4)
    supported_dtypes = (np.dtype(np.uint8), np.dtype(np.uint16))

    def signature(self, head):
        brands = ftyp_brands(head)
        return bool(brands & _HEVC_BRANDS) or bool(brands & _GENERIC_BRANDS and not brands & _AVIF_BRANDS)

    def _encode(self, data, out, *, quality=75, lossless=False, bitdepth=None, icc=None):
        arr, h, w, c = image_array(self, data)
        quality = check_quality(self.name, quality)
        depth = check_bitdepth(self.name, arr, bitdepth, 10, (10, 12))
        blob = self.native.encode(arr, h, w, c, depth, quality, bool(lossless), icc_bytes(self.name, icc))
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out, *, numthreads=None):
        def allocate(h, w, c, dtype):
            return image_target(self.name, out, h, w, c, dtype)

        result = self.native.decode(buf, allocate, numthreads_or_default(numthreads))
        return result if out is None else out

    def open(self, src, **opts):
        return ImageReader(self, src, opts)

    def _icc(self, buf):
        return self.native.icc(buf)
