"""TIFF reading against tifffile on the same files, each on its fastest honest path.

- random tiles: 200 random 256x256 zstd tiles of an 8192x8192 uint16 image,
  against tifffile's fastest per-tile path (seek/read the tile's bytes, then
  TiffPage.decode), against its zarr store (a selection per tile, the path
  most users take), with the floor: zstd-decoding the same tiles already in
  memory on the same threads.
- pyramid crop: a 1024x1024 region of a 5-level SubIFD pyramid, the file
  opened each time, against tifffile's zarr store.
- full read: the whole 8192x8192 image against tifffile.imread(maxworkers=2).
- page 5000: open a 10,000-page file and read page 5000.
"""

import atexit
import os
import shutil
import tempfile

import numpy as np
import tifffile

import opencodecs as oc
from opencodecs.core.parallel import decode_into
from opencodecs.formats.tiff.reader import TiffReader

from .data import microscopy_u16
from .harness import Side, Workload

TILE = 256


def _files(fast: bool) -> dict:
    """Write the test files once per run (into a temporary directory)."""
    size = 4096 if fast else 8192
    folder = tempfile.mkdtemp(prefix="oc-bench-tiff-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    image = microscopy_u16((size, size))
    paths = {"image": image, "tiled": os.path.join(folder, "tiled.tif"),
             "pyramid": os.path.join(folder, "pyramid.tif"),
             "pages": os.path.join(folder, "pages.tif")}
    tifffile.imwrite(paths["tiled"], image, tile=(TILE, TILE), compression="zstd",
                     compressionargs={"level": 3}, metadata=None)
    with tifffile.TiffWriter(paths["pyramid"]) as tif:
        opts = dict(tile=(TILE, TILE), compression="zstd", metadata=None)
        tif.write(image, subifds=4, **opts)
        level = image
        for _ in range(4):
            level = level[::2, ::2]
            tif.write(level, subfiletype=1, **opts)
    stack = microscopy_u16((64, 10_000 * 64)).reshape(64, 10_000, 64).transpose(1, 0, 2)
    tifffile.imwrite(paths["pages"], stack[:1000 if fast else 10_000], metadata=None)
    return paths


def random_tiles(paths, fast) -> list:
    path = paths["tiled"]
    n_tiles = 200
    reader = TiffReader(path)
    page = reader.pages[0]
    indices = np.random.default_rng(0).choice(len(page.dataoffsets), n_tiles, replace=False).tolist()
    grid_cols = page.chunk_grid[2]
    out = np.empty((n_tiles, TILE, TILE), np.uint16)

    tif = tifffile.TiffFile(path)
    tpage = tif.pages[0]
    fh = tif.filehandle

    def tifffile_per_tile():
        tiles = []
        for i in indices:
            fh.seek(tpage.dataoffsets[i])
            data = fh.read(tpage.databytecounts[i])
            tiles.append(tpage.decode(data, i)[0])
        return tiles

    store = tifffile.imread(path, aszarr=True)
    import zarr
    z = zarr.open(store, mode="r")

    def tifffile_zarr():
        tiles = []
        for i in indices:
            y, x = divmod(i, grid_cols)
            tiles.append(z[y * TILE:(y + 1) * TILE, x * TILE:(x + 1) * TILE])
        return tiles

    blobs = [bytes(b) for b in reader._source.read_many(
        zip(page.dataoffsets[indices].tolist(), page.databytecounts[indices].tolist()))]
    zstd = oc.get_codec("zstd")
    floor_out = np.empty_like(out)

    def ours_batch():
        return page.read_tiles(indices, out=out)

    def ours_one_by_one():
        return [page.read_tile(i) for i in indices]

    def same_tiles(ours, theirs):
        return all(np.array_equal(a.reshape(TILE, TILE), b.reshape(TILE, TILE))
                   for a, b in zip(ours, theirs))

    sizes = {"compressed tiles": sum(map(len, blobs))}
    note = (f"{n_tiles} of {len(page.dataoffsets)} tiles, image {page.shape} uint16, zstd level 3; "
            "ours decodes into a reused out= array (tifffile's decode has no out)")
    return [
        Workload("tiff_random_tile_read: read_tiles vs tifffile per-tile decode",
                 Side("opencodecs read_tiles", ours_batch),
                 [Side("tifffile seek/read + TiffPage.decode", tifffile_per_tile)],
                 check=same_tiles, sizes=sizes, note=note, target=2.0,
                 floor=Side("zstd decode of the same tiles in memory, same threads",
                            lambda: decode_into(zstd, blobs, floor_out))),
        Workload("tiff_random_tile_read: read_tiles vs tifffile zarr store",
                 Side("opencodecs read_tiles", ours_batch),
                 [Side("tifffile aszarr + zarr selection per tile", tifffile_zarr)],
                 check=same_tiles, target=5.0),
        Workload("tiff_random_tile_read: read_tile one at a time (one thread each)",
                 Side("opencodecs read_tile x200", ours_one_by_one),
                 [Side("tifffile seek/read + TiffPage.decode", tifffile_per_tile)],
                 check=same_tiles,
                 floor=Side("zstd decode of the same tiles in memory into new arrays, one thread",
                            lambda: [zstd.decode(b, out=np.empty((TILE, TILE), np.uint16))
                                     for b in blobs]),
                 note="per-call overhead: no batching, no threads; every side returns 200 new "
                      "arrays (their first-touch page faults are in every time)"),
    ]


def pyramid_crop(paths, fast) -> list:
    path = paths["pyramid"]
    y, x, h, w = 1000 + 17, 2000 + 33, 1024, 1024  # unaligned: 5x5 tiles

    def ours():
        with TiffReader(path) as reader:
            return reader.read_region(0, y, x, h, w)

    def tifffile_zarr():
        import zarr
        with tifffile.imread(path, aszarr=True) as store:
            return zarr.open(store, mode="r")["0"][y:y + h, x:x + w]

    return [Workload("tiff_pyramid_crop: 1024x1024 region, file opened each time",
                     Side("opencodecs read_region", ours),
                     [Side("tifffile aszarr + zarr selection", tifffile_zarr)],
                     check=np.array_equal, target=4.0,
                     note="5-level SubIFD pyramid, 256x256 zstd tiles, region at (1017, 2033)")]


def full_read(paths, fast) -> list:
    path = paths["tiled"]
    threads = oc.config.numthreads
    with TiffReader(path) as reader:
        page = reader.pages[0]
        blobs = [bytes(b) for b in reader._source.read_many(
            zip(page.dataoffsets.tolist(), page.databytecounts.tolist()))]
    tiles = np.empty((len(blobs), TILE, TILE), np.uint16)
    zstd = oc.get_codec("zstd")
    return [Workload(f"tiff_full_read: {paths['image'].shape} uint16 zstd tiles",
                     Side(f"opencodecs (numthreads={threads})", lambda: oc.read(path)),
                     [Side("tifffile.imread(maxworkers=2)",
                           lambda: tifffile.imread(path, maxworkers=2))],
                     check=np.array_equal, target=1.8,
                     floor=Side("zstd decode of every tile in memory, same threads",
                                lambda: decode_into(zstd, blobs, tiles)),
                     sizes={"file": os.path.getsize(path)})]


def open_page_5000(paths, fast) -> list:
    path = paths["pages"]
    index = 500 if fast else 5000

    def ours():
        with TiffReader(path) as reader:
            return reader[index]

    def theirs():
        with tifffile.TiffFile(path) as tif:
            return tif.pages[index].asarray()

    return [Workload(f"tiff open {'1,000' if fast else '10,000'}-page file, read page {index}",
                     Side("opencodecs", ours), [Side("tifffile", theirs)],
                     check=np.array_equal, target=10.0,
                     note="64x64 uint16 uncompressed pages")]


def workloads(fast=False, only="") -> list:
    names = ("tiff_random_tile_read", "tiff_pyramid_crop", "tiff_full_read", "tiff open")
    if not any(only in name for name in names):
        return []
    paths = _files(fast)
    return (random_tiles(paths, fast) + pyramid_crop(paths, fast) + full_read(paths, fast)
            + open_page_5000(paths, fast))
