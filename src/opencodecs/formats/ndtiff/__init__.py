"""Micro-Manager / Pycro-Manager NDTiff datasets: reader and streaming writer.

NDTiff files are TIFF files; this package reads them through their index and
writes them with their own IFDs, and formats/tiff knows nothing of it.
"""

import os

from ...core.codec import Codec
from ...core.io import is_path
from ...core.registry import register
from .reader import INDEX_NAME, NDTiffReader  # noqa: F401
from .writer import NDTiffWriter  # noqa: F401


@register
class NDTiff(Codec):
    name = "ndtiff"
    file_extensions = (".ndtiff",)  # datasets are folders: see signature/open
    description = "Micro-Manager NDTiff datasets (a folder with NDTiff.index)"
    library = "built in"
    multi_frame = True
    chunked = True
    parallel_decode = True
    can_encode = False  # write with NDTiffWriter (a streaming, per-image API)

    def signature(self, head):
        return False  # a dataset is a folder, found by its NDTiff.index

    def open(self, src, **opts):
        return NDTiffReader(src, **opts)

    def decode(self, src, *, out=None, **opts):
        if not is_path(src) or not (os.path.isdir(src) or os.path.basename(src) == INDEX_NAME):
            raise TypeError("ndtiff: pass the dataset folder (or its NDTiff.index)")
        with NDTiffReader(src, **opts) as reader:
            data = reader.read()
        if out is not None:
            out[...] = data
            return out
        return data
