"""Series and pyramid levels: how a TIFF file's pages make up images.

A series is one image stored in one or more pages (a z-stack, a time
series, an OME-TIFF image); its `levels` are the same image at reduced
resolutions, levels[0] being the series itself. Series are found as follows:

- OME-TIFF: one series per OME Image, planes mapped to pages by TiffData,
  shape and axes from DimensionOrder and the sizes, size-1 axes squeezed
  (as tifffile does).
- Otherwise, in page order: a page whose ImageDescription is tifffile's
  "shaped" JSON starts a series of as many pages as its shape needs;
  other pages of one shape and dtype that follow one another form a series
  (shape (pages, *page shape), or the page's shape for one page).
- Levels come from each page's SubIFDs, or, for a one-page series, from the
  reduced-resolution pages (NewSubfileType bit 0) that follow it.
"""

import json
from collections.abc import Sequence

import numpy as np

from ...core.codec import check_decoded_size, numthreads_or_default
from ...core.errors import DecodeError
from ...core.parallel import parallel_for


class Series:
    """An image stored in pages: `shape`, `axes`, `dtype`, `pages`, `levels`.

    `pages` gives one page per plane, in C order of the leading axes (shape
    without the page's own axes); None marks a plane the file lacks, which
    reads as zeros. The series keeps only where its pages are (`keys`: a page
    number, or (page number, SubIFD number)); pages are parsed when used and
    the reader keeps the most recent, so a series of 100,000 pages stays small.
    """

    def __init__(self, reader, keys: list, shape: tuple, axes: str, kind: str,
                 checked: bool = False):
        self._reader = reader
        self._checked = checked  # pages known to agree and to hold their data
        self.keys = keys
        self.shape = tuple(shape)
        self.axes = axes
        self.kind = kind  # "ome", "shaped", "generic", "level", or "pages" (TiffReader.read)
        self.levels = [self]
        self._first = next(k for k in keys if k is not None)
        self.dtype = self.first_page.dtype

    @property
    def first_page(self):
        return self._reader.page(self._first)

    @property
    def pages(self) -> "PageList":
        return PageList(self._reader, self.keys)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<Series {self.kind} {self.shape} {self.axes} {self.dtype}, {len(self.levels)} levels>"

    def asarray(self, *, out=None, numthreads=None) -> np.ndarray:
        """The whole image: pages decoded in parallel (or each page's chunks, for few pages)."""
        first = self.first_page
        pages = self.pages
        if not self._checked:  # before the output is allocated
            for page in pages:
                if page is not None:
                    _check_member(page, first)
            self._checked = True
        if out is None:
            check_decoded_size("tiff", self.dtype, self.shape)
            out = np.empty(self.shape, self.dtype)
        elif out.shape != self.shape or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise DecodeError(f"tiff: out must be a C-contiguous {self.dtype} array of shape {self.shape}")
        frames = out.reshape(len(pages), *first.shape)
        threads = numthreads_or_default(numthreads)
        if len(pages) < 2 * threads:
            for k in range(len(pages)):
                _read_page(pages[k], frames[k], threads)
        else:
            parallel_for(lambda k: _read_page(pages[k], frames[k], 1), len(pages), threads)
        return out

    def read_region(self, y: int, x: int, h: int, w: int, *, plane: int = 0, out=None,
                    numthreads=None) -> np.ndarray:
        """A rectangle of one plane (page) of the series; see TiffPage.read_region."""
        page = self.pages[plane]
        if page is None:
            raise DecodeError(f"tiff: plane {plane} of the series is not in the file")
        return page.read_region(y, x, h, w, out=out, numthreads=numthreads)


class PageList(Sequence):
    """The pages of a series, parsed (or taken from the reader's cache) when asked for."""

    def __init__(self, reader, keys):
        self._reader = reader
        self._keys = keys

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._reader.page(k) for k in self._keys[index]]
        return self._reader.page(self._keys[index])

    def __len__(self):
        return len(self._keys)


def _check_member(page, first) -> None:
    """DecodeError unless `page` can be a plane of a series whose first page is `first`."""
    if page.shape != first.shape or page.dtype != first.dtype:
        raise DecodeError(f"tiff: {page.name} has shape {page.shape} {page.dtype}, unlike "
                          f"{first.name} ({first.shape} {first.dtype}) of the same series")
    page.check_stored_size()


def _read_page(page, frame, numthreads):
    if page is None:
        frame[...] = 0
    else:
        page.asarray(out=frame, numthreads=numthreads)


def ome_series(reader, ome) -> list:
    """The series of an OME-TIFF file, one per OME image with data."""
    n_pages = len(reader.pages)
    series = []
    for image in ome.images:
        ifds = image.plane_ifds(n_pages, ome.uuid)
        if (ifds < 0).all():
            continue
        keys = [int(i) if i >= 0 else None for i in ifds.ravel()]
        first = reader.page(next(k for k in keys if k is not None))
        if first.width != image.sizes["X"] or first.length != image.sizes["Y"]:
            raise DecodeError(f"tiff: OME image {image.name!r} is {image.sizes['Y']}x"
                              f"{image.sizes['X']}, its first page {first.shape}")
        plane_axes = image.axes[:-2]
        kept = [i for i, n in enumerate(ifds.shape) if n > 1]
        shape = tuple(ifds.shape[i] for i in kept) + first.shape
        axes = "".join(plane_axes[i] for i in kept) + _page_axes(first)
        series.append(_with_levels(reader, Series(reader, keys, shape, axes, "ome")))
    return series


def generic_series(reader) -> list:
    """The series of a file without OME-XML (see the module docstring)."""
    pages = reader.pages
    n_pages = len(pages)
    series = []
    i = 0
    while i < n_pages:
        page = pages[i]
        if page.is_reduced and series and len(series[-1].keys) == 1 \
                and series[-1].kind != "level" and _same_kind(page, series[-1].first_page):
            series[-1].levels.append(Series(reader, [i], page.shape, _page_axes(page), "level"))
            i += 1
            continue
        page.check_stored_size()
        shaped = _shaped_description(page)
        if shaped is not None and shaped[0] % page.size == 0:
            count = min(max(shaped[0] // page.size, 1), n_pages - i)
            for j in range(i + 1, i + count):
                _check_member(pages[j], page)
            if count * page.size == shaped[0]:
                shape, axes = shaped[1], shaped[2] or "Q" * (len(shaped[1]) - page.ndim) + _page_axes(page)
            else:
                shape, axes = (count, *page.shape), "I" + _page_axes(page)
            kind = "shaped"
        else:
            count = 1
            while i + count < n_pages:
                other = pages[i + count]
                if other.is_reduced or other.shape != page.shape or other.dtype != page.dtype \
                        or _shaped_description(other) is not None:
                    break
                other.check_stored_size()
                count += 1
            shape = page.shape if count == 1 else (count, *page.shape)
            axes = _page_axes(page) if count == 1 else "I" + _page_axes(page)
            kind = "generic"
        keys = list(range(i, i + count))
        series.append(_with_levels(reader, Series(reader, keys, shape, axes, kind, checked=True)))
        i += count
    return series


def level_page(reader, level: int):
    """The first page of pyramid level `level` of the first series, found
    without parsing the rest of the file: page 0, its SubIFD `level - 1`, or
    the `level`-th of the reduced-resolution pages that follow it."""
    page = reader.pages[0]
    if level == 0:
        return page
    if page.subifds:
        if not 0 < level <= len(page.subifds):
            raise IndexError(f"tiff: level {level} out of range for {len(page.subifds) + 1} levels")
        return reader.subifd(page, level - 1)
    for k in range(1, level + 1):
        try:
            reduced = reader.pages[k]
        except IndexError:
            reduced = None
        if reduced is None or not reduced.is_reduced or not _same_kind(reduced, page):
            raise IndexError(f"tiff: level {level} out of range for {k} levels")
    return reduced


def _with_levels(reader, series: Series) -> Series:
    """Attach the levels the series' SubIFDs hold."""
    n_levels = len(series.first_page.subifds)
    if n_levels:
        n_levels = min(len(p.subifds) for p in series.pages if p is not None)
    lead = series.shape[:len(series.shape) - series.first_page.ndim]
    for k in range(n_levels):
        keys = [None if key is None else (key, k) for key in series.keys]
        first = reader.page(next(key for key in keys if key is not None))
        axes = series.axes[:len(lead)] + _page_axes(first)
        series.levels.append(Series(reader, keys, lead + first.shape, axes, "level"))
    return series


def _page_axes(page) -> str:
    if page.ndim == 2:
        return "YX"
    return "SYX" if page.shape[0] == page.samples and page.planar == 2 else "YXS"


def _same_kind(page, other) -> bool:
    return page.dtype == other.dtype and page.samples == other.samples


def _shaped_description(page):
    """(number of values, shape, axes or None) from tifffile's JSON description, or None."""
    text = page.description
    if not text.startswith("{") or '"shape"' not in text:
        return None
    try:
        meta = json.loads(text)
        shape = tuple(int(n) for n in meta["shape"])
    except (ValueError, KeyError, TypeError):
        return None
    if not shape or min(shape) < 0:
        return None
    axes = meta.get("axes")
    if not isinstance(axes, str) or len(axes) != len(shape):
        axes = None
    return int(np.prod(shape, dtype=object)), shape, axes
