"""PNG: 8/16-bit grey, grey+alpha, RGB and RGBA.

Encode: rows filtered by our own C, compressed by one libdeflate call.
    level   libdeflate level 0-12 (0 stores). The default, 2, gives files as
            small as imagecodecs.png_encode's default (zlib level 6 with
            libpng's adaptive filters) or smaller, several times faster.
    filter  "adaptive" (per row, the filter with the smallest sum of absolute
            differences), or one filter for every row: "none", "sub", "up",
            "average", "paeth".
    icc     an ICC profile (bytes) to store in an iCCP chunk.
Decode (libspng, plus a libdeflate fast path for non-interlaced 8/16-bit
files): palette images become RGB, or RGBA when they have transparency
(tRNS); 1/2/4-bit grey becomes uint8 scaled to 0-255 as libpng does; a tRNS
key colour on grey or RGB adds an alpha channel; 16-bit samples come out as
native uint16. `read_icc(src)` returns the stored ICC profile.
"""

import sys

import numpy as np

from ...core.config import config
from ...core.errors import EncodeError
from ...core.io import as_buffer
from ...core.registry import register
from ..compression import check_level
from .base import ImageCodec, check_image_size, decode_target, image_array

_FILTERS = {"none": 0, "sub": 1, "up": 2, "average": 3, "paeth": 4, "adaptive": 5}
_DTYPES = (np.dtype(np.uint8), np.dtype("<u2"), np.dtype(">u2"))
DEFAULT_LEVEL = 2


@register
class Png(ImageCodec):
    name = "png"
    file_extensions = (".png",)
    description = "PNG: 8/16-bit grey, grey+alpha, RGB, RGBA; palette and 1/2/4-bit decode"
    library = "libspng + libdeflate"
    _native = "_png"
    supported_dtypes = (np.dtype(np.uint8), np.dtype(np.uint16))
    channels = (1, 2, 3, 4)

    def signature(self, head):
        return head[:8] == b"\x89PNG\r\n\x1a\n"

    def _encode(self, data, out, *, level=DEFAULT_LEVEL, filter="adaptive", icc=None):
        native = self.native
        level = check_level(self.name, level, native.MIN_LEVEL, native.MAX_LEVEL)
        if filter not in _FILTERS:
            raise EncodeError(f"png: filter must be one of {', '.join(_FILTERS)}, got {filter!r}")
        arr, h, w, c = image_array(self, data, dtypes=_DTYPES)
        if max(h, w) > 0x7FFFFFFF:
            raise EncodeError(f"png: image sides are limited to 2**31 - 1 pixels, got {h}x{w}")
        if icc is not None:
            icc = memoryview(icc).cast("B")
        swap16 = arr.dtype == np.dtype("<u2")  # PNG stores big-endian
        return native.encode(arr, h, w, c, arr.dtype.itemsize, swap16, _FILTERS[filter], level,
                             icc, native.IDAT_MAX, out)

    def _decode(self, buf, out):
        native = self.native
        h, w, c, itemsize = native.info(buf, config.max_decoded_bytes)
        dtype = np.uint16 if itemsize == 2 else np.uint8
        target = decode_target(self.name, out, dtype, check_image_size(self.name, h, w, c, dtype))
        native.decode(buf, target, sys.byteorder == "little", config.max_decoded_bytes)
        return target if out is None else out

    def read_icc(self, src):
        """The ICC profile stored in the PNG's iCCP chunk (bytes), or None."""
        return self.native.read_icc(as_buffer(src), config.max_decoded_bytes)
