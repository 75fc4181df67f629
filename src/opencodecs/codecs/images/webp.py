"""WebP still images (libwebp): RGB and RGBA uint8, lossy or lossless.

Options: `quality` 0-100 (default 75); `lossless=True`, where libwebp reads
`quality` as compression effort (higher: smaller and slower); `effort` 0-6,
libwebp's "method" (speed/size trade-off, default 4); `numthreads` (libwebp
uses at most one helper thread, on encode and decode, when it is above 1).

`icc=` (bytes) stores an ICC profile; `oc.get_codec("webp").open(src).icc`
gives a file's profile back (None without one).

Grey images are refused rather than expanded to RGB, so that a round trip
never changes the layout. libwebp drops an alpha channel that is 255
everywhere: such an RGBA image decodes as RGB.
"""

from ...core.codec import numthreads_or_default
from ...core.errors import EncodeError
from ...core.io import copy_into
from ...core.registry import register
from ..compression import check_int
from .base import ImageCodec, ImageReader, check_quality, icc_bytes, image_array, image_target


@register
class WebP(ImageCodec):
    name = "webp"
    file_extensions = (".webp",)
    description = "WebP still images, lossy or lossless (RGB, RGBA)"
    library = "libwebp"
    _native = "_webp"
    channels = (3, 4)

    def signature(self, head):
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"

    def _encode(self, data, out, *, quality=75, lossless=False, effort=4, numthreads=None, icc=None):
        arr, h, w, c = image_array(self, data)
        quality = check_quality(self.name, quality)
        effort = check_int(self.name, "effort", effort, 0, 6)
        limit = self.native.MAX_DIMENSION
        if h > limit or w > limit:
            raise EncodeError(f"webp: {h}x{w} image exceeds WebP's {limit} pixel limit")
        threads = numthreads_or_default(numthreads) > 1
        blob = self.native.encode(arr, h, w, c, quality, bool(lossless), effort, threads,
                                  icc_bytes(self.name, icc))
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out, *, numthreads=None):
        native = self.native
        h, w, alpha = native.features(buf)
        c = 4 if alpha else 3
        target = image_target(self.name, out, h, w, c, "uint8")
        native.decode(buf, target, c, numthreads_or_default(numthreads) > 1)
        return target if out is None else out

    def open(self, src, **opts):
        return ImageReader(self, src, opts)

    def _icc(self, buf):
        return self.native.icc(buf)
