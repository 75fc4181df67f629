"""JPEG-LS (ISO/IEC 14495-1) through CharLS: lossless and near-lossless.

Grey (H, W), RGB (H, W, 3) and RGBA (H, W, 4) images of 2 to 16 bits:
uint8 arrays hold up to 8 bits, uint16 arrays more. Encode options:
`near_lossless=0` (lossless; above 0 every sample is within that distance
of the original) and `bitdepth` (8 for uint8, default 16 for uint16; e.g.
12 for 12-bit data, whose values must then fit). RGB is stored sample-
interleaved, RGBA line-interleaved (as imagecodecs does), grey on its own.
Streams are written without a SPIFF header, so they start FF D8 FF F7;
streams with one decode as well.
"""

import numpy as np

from ...core.errors import DecodeError, EncodeError
from ...core.io import copy_into
from ...core.registry import register
from ..compression import check_int
from .base import ImageCodec, image_array, image_target
from .jpeg import is_jpegls

# Before allocating, a header is checked against what the input can hold:
# every line of a JPEG-LS scan costs at least one bit, and one bit codes at
# most a run of 2**15 pixels.
_MAX_PIXELS_PER_BIT = 1 << 15


@register
class JpegLs(ImageCodec):
    name = "jpegls"
    aliases = ("jpeg-ls", "jls")
    file_extensions = (".jls",)
    description = "JPEG-LS, lossless and near-lossless, 2-16 bit grey/RGB/RGBA"
    library = "CharLS"
    _native = "_jpegls"
    supported_dtypes = (np.dtype(np.uint8), np.dtype(np.uint16))

    def signature(self, head):
        return is_jpegls(head)

    def _encode(self, data, out, *, near_lossless=0, bitdepth=None):
        arr, h, w, c = image_array(self, data)
        bits = _bitdepth(arr, bitdepth)
        near = check_int(self.name, "near_lossless", near_lossless, 0, ((1 << bits) - 1) // 2)
        blob = self.native.encode(arr, w, h, c, bits, near)
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out):
        native = self.native
        h, w, c, bits, planar = native.header(buf)
        size = memoryview(buf).nbytes
        if h > 8 * size or h * w > 8 * size * _MAX_PIXELS_PER_BIT:
            raise DecodeError(f"jpegls: header claims {h}x{w} pixels, more than {size} bytes "
                              "of JPEG-LS can hold")
        if c not in self.channels:
            raise DecodeError(f"jpegls: {c} components; grey, RGB and RGBA are supported")
        dtype = np.uint8 if bits <= 8 else np.uint16
        target = image_target(self.name, out, h, w, c, dtype)
        if not planar:
            native.decode(buf, target)
            return target if out is None else out
        planes = np.empty((c, h, w), dtype)
        native.decode(buf, planes)
        np.copyto(target.reshape(h, w, c), np.moveaxis(planes, 0, -1))
        return target if out is None else out


def _bitdepth(arr, bitdepth) -> int:
    """Bits per sample: 2-8 for uint8 images (default 8), 2-16 for uint16
    (default 16); the image's values must fit."""
    top_bits = 8 if arr.dtype == np.uint8 else 16
    bits = check_int("jpegls", "bitdepth", top_bits if bitdepth is None else bitdepth, 2, top_bits)
    if bits < top_bits and arr.size and int(arr.max()) >= 1 << bits:
        raise EncodeError(f"jpegls: values must be below {1 << bits} for {bits}-bit samples, "
                          f"the image has {int(arr.max())}")
    return bits
