"""Zeiss CZI (ZISRAW): reader (formats.czi.reader) and writer (formats.czi.writer)."""

import numpy as np

from ...core.codec import Codec
from ...core.registry import register
from .reader import CziAttachment, CziReader, CziSubBlockEntry  # noqa: F401
from .writer import CziWriter, write_czi  # noqa: F401


@register
class Czi(Codec):
    name = "czi"
    file_extensions = (".czi",)
    description = "Zeiss CZI: subblocks, planes, mosaics, pyramids"
    library = "built in"
    multi_frame = True
    chunked = True
    parallel_decode = True
    supports_color = True
    supported_dtypes = tuple(np.dtype(t) for t in ("u1", "u2", "f4", "i4", "f8"))

    def signature(self, head):
        return bytes(head[:10]) == b"ZISRAWFILE"

    def open(self, src, **opts):
        return CziReader(src, **opts)

    def encode(self, data, *, dest=None, **opts):
        """Write `data` (see write_czi for axes, tile, compression) to the path `dest`."""
        from ...core.io import is_path
        if not is_path(dest):
            raise TypeError("czi: encode writes files; pass dest=path (or use oc.write)")
        write_czi(dest, data, **opts)

    def _decode(self, buf, out, *, level=0, numthreads=None):
        with CziReader(buf, numthreads=numthreads) as reader:
            return reader.asarray(level=level, out=out)
