"""CZI workloads against aicspylibczi, pylibCZIrw and czifile, on files that
pylibCZIrw writes: every subblock, one plane, and a mosaic region."""

import os
import tempfile

import numpy as np

from opencodecs.formats.czi import CziReader

from .data import microscopy_u16
from .harness import Side, Workload


def _write_reference(path, tiles, compression, positions, channels=1):
    from pylibCZIrw import czi as pyczi
    with pyczi.create_czi(path, exist_ok=True, compression_options=compression) as w:
        for c in range(channels):
            for tile, (x, y) in zip(tiles, positions):
                w.write(tile[..., None], plane={"C": c, "T": 0, "Z": 0}, location=(x, y), scene=0)


def workloads(fast=False, only="") -> list:
    names = ("czi_read all subblocks", "czi plane", "czi mosaic region")
    if not any(only in n for n in names):
        return []
    import aicspylibczi
    from pylibCZIrw import czi as pyczi

    folder = tempfile.mkdtemp(prefix="oc-bench-czi-")
    side = 1000 if fast else 2000
    tiles = [microscopy_u16((side, side), seed=i) for i in range(14)]
    positions = [((i % 7) * side, (i // 7) * side) for i in range(14)]  # a 7x2 mosaic
    path = os.path.join(folder, "zstd1.czi")
    _write_reference(path, tiles, "zstd1:ExplicitLevel=1;PreProcess=HiLoByteUnpack", positions)
    expected = np.stack(tiles)

    def ours_all():
        with CziReader(path) as r:
            return r.read()

    def aics_all():
        czi = aicspylibczi.CziFile(path)
        return np.stack([np.squeeze(czi.read_mosaic(region=(x, y, side, side), C=0, scale_factor=1.0))
                         for x, y in positions])

    def pylibczirw_all():
        with pyczi.open_czi(path) as c:
            return np.stack([c.read(roi=(x, y, side, side), plane={"C": 0})[..., 0] for x, y in positions])

    def ours_plane():
        with CziReader(path) as r:
            return r.read_plane(C=0)

    def aics_plane():
        return np.squeeze(aicspylibczi.CziFile(path).read_mosaic(C=0, scale_factor=1.0))

    def pylibczirw_plane():
        with pyczi.open_czi(path) as c:
            return c.read(plane={"C": 0})[..., 0]

    roi = (side // 2, side // 2, side * 2, side)  # spans 3 columns x 2 rows of tiles

    def ours_region():
        with CziReader(path) as r:
            return r.read_region(*roi, C=0)

    def aics_region():
        return np.squeeze(aicspylibczi.CziFile(path).read_mosaic(region=roi, C=0, scale_factor=1.0))

    def pylibczirw_region():
        with pyczi.open_czi(path) as c:
            return c.read(roi=roi, plane={"C": 0})[..., 0]

    assert np.array_equal(ours_all(), expected)
    equal = np.array_equal
    size = {"file": os.path.getsize(path)}
    return [w for w in [
        Workload("czi_read all subblocks (14 x 2000² uint16, zstd1 hi/lo)", Side("opencodecs", ours_all),
                 [Side("aicspylibczi", aics_all), Side("pylibCZIrw", pylibczirw_all)],
                 check=equal, sizes=size, target=2.5,
                 note="czifile 2019.7.2 cannot read zstd subblocks (KeyError 6): no row"),
        Workload("czi plane (7x2 mosaic)", Side("opencodecs", ours_plane),
                 [Side("aicspylibczi", aics_plane), Side("pylibCZIrw", pylibczirw_plane)],
                 check=equal, target=2.0),
        Workload("czi mosaic region (6 tiles)", Side("opencodecs", ours_region),
                 [Side("aicspylibczi", aics_region), Side("pylibCZIrw", pylibczirw_region)],
                 check=equal, target=2.0),
    ] if only in w.name]
