"""TIFF, BigTIFF and OME-TIFF: native reader (formats.tiff.reader), parallel
writer (formats.tiff.writer), pyramids and OME-XML (formats.tiff.ome)."""

import numpy as np

from ...core.codec import Codec
from ...core.registry import register
from .writer import TiffWriter  # noqa: F401


@register
class Tiff(Codec):
    name = "tiff"
    aliases = ("tif", "bigtiff")
    file_extensions = (".tif", ".tiff", ".btf", ".tf8")
    description = "TIFF 6.0 and BigTIFF: strips, tiles, pages, pyramids"
    library = "built in"
    multi_frame = True
    chunked = True
    parallel_decode = True
    supports_color = True
    supported_dtypes = tuple(np.dtype(t) for t in (
        "u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", "f2", "f4", "f8", "bool"))

    def signature(self, head):
        return head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")

    def open(self, src, **opts):
        from .reader import TiffReader
        return TiffReader(src, **opts)

    def _decode(self, buf, out, **opts):
        from .reader import TiffReader
        with TiffReader(buf) as reader:
            return reader.asarray(out=out, **opts)

    def _encode(self, data, out, **opts):
        from .writer import encode_tiff
        return encode_tiff(data, out, **opts)
