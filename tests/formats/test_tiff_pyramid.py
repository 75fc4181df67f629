"""Pyramid levels from SubIFDs and from reduced-resolution pages, against tifffile."""

import io

import numpy as np
import pytest
import tifffile
from tiff_helpers import image

from opencodecs.formats.tiff.reader import TiffReader


def write_pyramid(base, n_levels, *, subifds=True, pages=1, **options) -> bytes:
    """`pages` pages of `base`, each with `n_levels - 1` halvings (SubIFDs or reduced pages)."""
    buf = io.BytesIO()
    options = {"tile": (32, 32), "compression": "zstd", "metadata": None, **options}
    with tifffile.TiffWriter(buf) as tif:
        for p in range(pages):
            data = base + p if base.dtype.kind != "b" else base
            tif.write(data, subifds=n_levels - 1 if subifds else None, **options)
            for k in range(1, n_levels):
                tif.write(data[::2 ** k, ::2 ** k], subfiletype=1, **options)
    return buf.getvalue()


@pytest.mark.parametrize("subifds", [True, False])
def test_levels_match_tifffile(subifds):
    base = image((300, 260), "u2")
    blob = write_pyramid(base, 4, subifds=subifds)
    with TiffReader(blob) as reader, tifffile.TiffFile(io.BytesIO(blob)) as tif:
        theirs = tif.series[0].levels
        assert len(reader.levels) == len(theirs) == 4
        assert len(reader.series) == len(tif.series) == 1
        for k, (ours, ref) in enumerate(zip(reader.levels, theirs)):
            assert ours.shape == ref.shape and ours.dtype == ref.dtype
            np.testing.assert_array_equal(ours.asarray(), ref.asarray())
            np.testing.assert_array_equal(reader.level(k).asarray(), base[::2 ** k, ::2 ** k])
            np.testing.assert_array_equal(reader.asarray(level=k), ref.asarray())


@pytest.mark.parametrize("subifds", [True, False])
def test_read_region_per_level(subifds):
    base = image((300, 260, 3), "u1")
    blob = write_pyramid(base, 3, subifds=subifds, photometric="rgb")
    rng = np.random.default_rng(0)
    with TiffReader(blob) as reader:
        for level in range(3):
            expected = base[::2 ** level, ::2 ** level]
            h, w = expected.shape[:2]
            for _ in range(5):
                y, x = int(rng.integers(0, h - 10)), int(rng.integers(0, w - 10))
                rh, rw = int(rng.integers(1, h - y + 1)), int(rng.integers(1, w - x + 1))
                np.testing.assert_array_equal(reader.read_region(level, y, x, rh, rw),
                                              expected[y:y + rh, x:x + rw])
        with pytest.raises(IndexError):
            reader.read_region(3, 0, 0, 1, 1)
        with pytest.raises(IndexError):
            reader.read_region(-1, 0, 0, 1, 1)


def test_read_region_parses_only_the_level_it_needs():
    blob = write_pyramid(image((512, 512), "u2"), 5)
    with TiffReader(blob) as reader:
        reader.read_region(3, 0, 0, 16, 16)
        assert len(reader.pages._cache) == 1 and len(reader._subifds) == 1
        assert reader._chain._count == 1


def test_multipage_series_with_subifd_levels():
    """A stack whose every page has SubIFDs: each level stacks the pages' SubIFDs."""
    base = image((128, 96), "u2")
    blob = write_pyramid(base, 3, pages=4, photometric="minisblack")
    with TiffReader(blob) as reader, tifffile.TiffFile(io.BytesIO(blob)) as tif:
        assert [s.shape for s in reader.series] == [s.shape for s in tif.series]
        levels = reader.levels
        assert [lv.shape for lv in levels] == [lv.shape for lv in tif.series[0].levels]
        assert levels[1].shape == (4, 64, 48)
        for ours, ref in zip(levels, tif.series[0].levels):
            np.testing.assert_array_equal(ours.asarray(), ref.asarray())
        np.testing.assert_array_equal(levels[2].read_region(5, 6, 10, 12, plane=3),
                                      (base + 3)[::4, ::4][5:15, 6:18])


def test_strip_pyramid_and_tile_access_per_level():
    base = image((200, 200), "f4")
    blob = write_pyramid(base, 3, tile=None, rowsperstrip=16, compression="zlib")
    with TiffReader(blob) as reader:
        np.testing.assert_array_equal(reader.read_region(2, 10, 10, 20, 20),
                                      base[::4, ::4][10:30, 10:30])
        assert not reader.levels[1].pages[0].is_tiled
    blob = write_pyramid(base, 3)
    with TiffReader(blob) as reader:
        page = reader.levels[1].pages[0]
        np.testing.assert_array_equal(page.read_tile((1, 1)), base[::2, ::2][32:64, 32:64])


def test_single_page_has_one_level():
    with TiffReader(write_pyramid(image((40, 40), "u1"), 1)) as reader:
        assert len(reader.levels) == 1 and reader.levels[0] is reader.series[0]
        np.testing.assert_array_equal(reader.read_region(0, 0, 0, 40, 40), image((40, 40), "u1"))
