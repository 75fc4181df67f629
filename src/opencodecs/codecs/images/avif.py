"""AVIF still images (libavif with libaom to encode, dav1d to decode).

Layouts: grey (YUV 4:0:0), RGB and RGBA (YUV 4:4:4, full range); uint8 is
8-bit, uint16 is 10- or 12-bit (`bitdepth=`, default 12: values must fit, as
AV1 has no 16-bit profile). Decoding gives uint8 for 8-bit files and uint16
holding the file's 10/12-bit values (not rescaled) otherwise.

Options: `quality` 0-100 (default 75), mapped to one AV1 quantizer as
libavif 1.x maps its own quality setting, quantizer = ((100 - q) * 63 + 50)
// 100, since libavif 0.11 only takes quantizers; `lossless=True`: quantizer
0 and, for colour, the identity matrix (RGB kept as GBR planes, exact);
`speed` 0-10 (libavif's own knob: 0 slowest and smallest, default 6);
`numthreads` (AV1 encoder and decoder threads). Alpha is always exact.
Image sequences decode to their first frame. `icc=` (bytes) stores an ICC
profile; `oc.get_codec("avif").open(src).icc` gives a file's profile back.
"""

import numpy as np

from ...core.codec import numthreads_or_default
from ...core.config import config
from ...core.io import copy_into
from ...core.registry import register
from ..compression import check_int
from .base import (ImageCodec, ImageReader, check_bitdepth, check_quality, ftyp_brands, icc_bytes,
                   image_array, image_target)

# libavif's own limit on decoded pixels (AVIF_DEFAULT_IMAGE_SIZE_LIMIT).
_MAX_PIXELS = 16384 * 16384


def quality_to_quantizer(quality: int) -> int:
    """AV1 quantizer (0 best .. 63 worst) for a 0-100 quality, as libavif 1.x computes it."""
    return ((100 - quality) * 63 + 50) // 100


@register
class Avif(ImageCodec):
    name = "avif"
    file_extensions = (".avif",)
    description = "AVIF still images, lossy or lossless (grey, RGB, RGBA; 8/10/12-bit)"
    library = "libavif"
    _native = "_avif"
    supported_dtypes = (np.dtype(np.uint8), np.dtype(np.uint16))

    def signature(self, head):
        return bool(ftyp_brands(head) & {b"avif", b"avis"})

    def _encode(self, data, out, *, quality=75, lossless=False, speed=6, bitdepth=None,
                numthreads=None, icc=None):
        arr, h, w, c = image_array(self, data)
        quality = check_quality(self.name, quality)
        speed = check_int(self.name, "speed", speed, 0, 10)
        depth = check_bitdepth(self.name, arr, bitdepth, 12, (10, 12))
        quantizer = 0 if lossless else quality_to_quantizer(quality)
        blob = self.native.encode(arr, h, w, c, depth, quantizer, bool(lossless), speed,
                                  numthreads_or_default(numthreads), icc_bytes(self.name, icc))
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out, *, numthreads=None):
        def allocate(h, w, c, dtype):
            return image_target(self.name, out, h, w, c, dtype)

        result = self.native.decode(buf, allocate, numthreads_or_default(numthreads), _max_pixels())
        return result if out is None else out

    def open(self, src, **opts):
        return ImageReader(self, src, opts)

    def _icc(self, buf):
        return self.native.icc(buf, _max_pixels())


def _max_pixels() -> int:
    """libavif's pixel limit, lowered to max_decoded_bytes (at least a byte a pixel)."""
    return max(1, min(_MAX_PIXELS, config.max_decoded_bytes))
