"""TiffReader: classic TIFF and BigTIFF, either byte order, read lazily.

Opening a file reads its header and first IFD only. `reader.pages[i]` walks
the IFD chain as far as page i (once) and parses that one IFD; `reader[i]`
decodes it. `read_region(level, y, x, h, w)` reads only the tiles a
rectangle needs. `series`, `levels` and `asarray()` give the images the
pages make up (see formats.tiff.pyramid), `ome_metadata` the OME-XML parsed.
Every read goes through the DataSource (read_at / read_many).
"""

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from ...core.codec import Reader
from ...core.errors import DecodeError
from ...core.sources import open_source
from . import pyramid
from .ifd import IfdChain, read_header, read_ifd
from .ome import is_ome_xml, parse_ome_xml
from .page import TiffPage


class PageCache:
    """Parsed pages by key, safe to use from several threads. Bounded, for
    files of 100,000 pages: once full, further pages are parsed each time they
    are used (scans over every page then keep the first ones instead of
    evicting each page before its next use)."""

    def __init__(self, parse, size: int = 16384):
        self._parse = parse
        self._size = size
        self._pages = {}

    def get(self, key):
        page = self._pages.get(key)
        if page is None:
            page = self._parse(key)
            if len(self._pages) < self._size:
                self._pages[key] = page
        return page

    def __contains__(self, key):
        return key in self._pages

    def __len__(self):
        return len(self._pages)


class Pages(Sequence):
    """The pages of the file's main IFD chain: `pages[i]` walks the chain to
    page i (once) and parses that page only."""

    def __init__(self, reader):
        self._reader = reader
        self._cache = PageCache(self._parse)

    def _parse(self, index):
        return self._reader._page_at(self._reader._chain.offset(index), f"page {index}")

    def __getitem__(self, index) -> TiffPage:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
            if index < 0:
                raise IndexError("page index out of range")
        return self._cache.get(index)

    def __len__(self):
        return len(self._reader._chain)

    def __iter__(self):
        i = 0
        while True:
            try:
                page = self[i]
            except IndexError:
                return
            yield page
            i += 1


class TiffReader(Reader):
    """A TIFF file's pages, series, pyramid levels and metadata.

    Frames (the Reader interface: `reader[i]`, iteration, `shape`, `read()`)
    are the pages of the main IFD chain. `asarray()` gives the first series,
    as tifffile.imread does. `numthreads` bounds the threads decoding uses.
    """

    is_chunked = True

    def __init__(self, src, *, numthreads=None):
        self._owns_source = not hasattr(src, "read_many")
        self._source = open_source(src)
        try:
            self._layout, first = read_header(self._source)
            self._chain = IfdChain(self._source, self._layout, first)
            self._subifds = PageCache(self._parse_subifd)
            self.numthreads = numthreads
            self.pages = Pages(self)
            self.pages[0]  # a file whose first IFD is broken fails here
        except BaseException:
            self.close()
            raise

    # -- structure ------------------------------------------------------------

    @property
    def byteorder(self) -> str:
        return self._layout.byteorder

    @property
    def is_bigtiff(self) -> bool:
        return self._layout.bigtiff

    def _page_at(self, offset: int, name: str) -> TiffPage:
        tags, _ = read_ifd(self._source, self._layout, offset)
        return TiffPage(self._source, self._layout.byteorder, offset, tags, name)

    def subifd(self, page: TiffPage, k: int) -> TiffPage:
        """The page in SubIFD `k` of `page`."""
        offsets = page.subifds
        if not 0 <= k < len(offsets):
            raise IndexError(f"{page.name} has {len(offsets)} SubIFDs, no SubIFD {k}")
        return self._subifds.get((offsets[k], f"{page.name} SubIFD {k}"))

    def _parse_subifd(self, key) -> TiffPage:
        offset, name = key
        if not self._layout.header_size <= offset < self._source.size:
            raise DecodeError(f"tiff: {name} offset {offset} is outside the file")
        return self._page_at(offset, name)

    def page(self, key):
        """A page by its key in a Series: page number, (page number, SubIFD number), or None."""
        if key is None:
            return None
        if isinstance(key, tuple):
            return self.subifd(self.pages[key[0]], key[1])
        return self.pages[key]

    # -- Reader interface -------------------------------------------------------

    @property
    def n_frames(self) -> int:
        return len(self.pages)

    @property
    def shape(self) -> tuple:
        return (self.n_frames, *self.pages[0].shape)

    @property
    def dtype(self):
        return self.pages[0].dtype

    def _frame(self, index):
        return self.pages[index].asarray(numthreads=self.numthreads)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return super().__getitem__(index)
        return self.pages[index].asarray(numthreads=self.numthreads)

    def iter_frames(self):
        for page in self.pages:
            yield page.asarray(numthreads=self.numthreads)

    def read(self) -> np.ndarray:
        """Every page stacked: (pages, *page shape); pages must agree in shape and dtype."""
        n = len(self.pages)
        return pyramid.Series(self, list(range(n)), (n, *self.pages[0].shape), "I",
                              "pages").asarray(numthreads=self.numthreads)

    # -- images -------------------------------------------------------------

    @cached_property
    def ome_metadata(self):
        """The OmeMetadata of an OME-TIFF file (from page 0's ImageDescription), else None."""
        text = self.pages[0].description
        return parse_ome_xml(text) if is_ome_xml(text) else None

    @property
    def is_ome(self) -> bool:
        return is_ome_xml(self.pages[0].description)

    @cached_property
    def series(self) -> list:
        """The images in the file (formats.tiff.pyramid explains how pages group)."""
        if self.is_ome:
            try:
                found = pyramid.ome_series(self, self.ome_metadata)
            except DecodeError:
                found = None  # unusable OME-XML: read the pages as if it were absent
            if found:
                return found
        return pyramid.generic_series(self)

    @property
    def levels(self) -> list:
        """The pyramid levels of the first series (a Series each; levels[0] is full size)."""
        return self.series[0].levels

    def level(self, index: int):
        return self.levels[index]

    def asarray(self, *, out=None, series: int = 0, level: int = 0, numthreads=None):
        """One series at one level, like tifffile.imread (the first series by default)."""
        image = self.series[series].levels[level]
        return image.asarray(out=out, numthreads=self.numthreads if numthreads is None else numthreads)

    def read_region(self, level: int, y: int, x: int, h: int, w: int, *, out=None, numthreads=None):
        """A rectangle of the first series' first plane at pyramid level `level`,
        reading only the tiles or strips it needs. Only page 0 and the level's
        IFD are parsed: page 0 itself, its SubIFD `level - 1`, or the
        `level`-th reduced-resolution page after it."""
        if level < 0:
            raise IndexError(f"tiff: level {level} is negative")
        return pyramid.level_page(self, level).read_region(
            y, x, h, w, out=out, numthreads=self.numthreads if numthreads is None else numthreads)

    # -- lifetime -------------------------------------------------------------

    def close(self):
        chain = getattr(self, "_chain", None)
        if chain is not None:
            chain.release()
        self.__dict__.pop("series", None)
        if self._owns_source:
            self._source.close()

    def __repr__(self):
        kind = "BigTIFF" if self.is_bigtiff else "TIFF"
        return f"<TiffReader {kind} {self._source.name!r}>"
