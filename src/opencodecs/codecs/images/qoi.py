"""QOI ("Quite OK Image"): lossless uint8 RGB and RGBA.

Encoded by qoi.h; decoded by our own loop straight into the output array
(qoi.h's decoder allocates its own buffer, which would cost a copy).
Encode option: `linear=True` marks the channels as linear instead of sRGB
(the header's colorspace byte; it changes no pixel).
"""

import numpy as np

from ...core.errors import EncodeError
from ...core.registry import register
from .base import ImageCodec, check_image_size, decode_target, image_array


@register
class Qoi(ImageCodec):
    name = "qoi"
    file_extensions = (".qoi",)
    description = "QOI: lossless uint8 RGB / RGBA"
    library = "qoi.h"
    _native = "_qoi"
    channels = (3, 4)

    def signature(self, head):
        return head[:4] == b"qoif"

    def _encode(self, data, out, *, linear=False):
        arr, h, w, c = image_array(self, data)
        limit = self.native.PIXELS_MAX
        if h >= limit // w:
            raise EncodeError(f"qoi: qoi.h encodes fewer than {limit} pixels, got {h}x{w}")
        return self.native.encode(arr, h, w, c, 1 if linear else 0, out)

    def _decode(self, buf, out):
        native = self.native
        h, w, c, _ = native.info(buf)
        target = decode_target(self.name, out, np.uint8, check_image_size(self.name, h, w, c, np.uint8))
        native.decode(buf, target, c)
        return target if out is None else out
