"""TIFF write workloads against tifffile: a 256 MiB tiled uint16 image written
to a new file in a temporary directory, uncompressed and with zstd level 1,
each side writing its own file on the same disk.

Each call first deletes the file the previous call wrote (on every side, inside
the timing): rewriting a file in place lets its old page-cache pages be reused
at once, while a writer that replaces files atomically (ours) holds both
copies until the rename. On this VM fresh pages are costly and come and go
with the host, so the overwrite case swings by 5x from run to run; a new file
is the common case and measures the writers, not the page allocator."""

import atexit
import os
import shutil
import tempfile

import numpy as np

import opencodecs as oc
from opencodecs.core.io import preallocate
from opencodecs.core.parallel import map_parallel
from opencodecs.formats.tiff import TiffWriter

from .data import microscopy_u16
from .harness import Side, Workload

TILE = (256, 256)


def _image(fast):
    """Microscopy-like uint16: 256 MiB (64 MiB with --fast) from a tiled 16 MiB field."""
    reps = (2, 2) if fast else (4, 4)
    return np.tile(microscopy_u16((2048, 4096)), reps)


def workloads(fast=False, only="") -> list:
    names = ("tiff_write uncompressed", "tiff_write zstd")
    if not any(only in n for n in names):
        return []
    import tifffile

    image = _image(fast)
    mib = image.nbytes >> 20
    folder = tempfile.mkdtemp(prefix="oc-bench-tiff-write-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    paths = {side: os.path.join(folder, f"{side}.tif") for side in ("ours", "tifffile", "floor")}

    def new_file(side):
        try:
            os.unlink(paths[side])
        except FileNotFoundError:
            pass
        return paths[side]

    def ours(**opts):
        with TiffWriter(new_file("ours"), numthreads=2) as w:
            w.write_page(image, tile=TILE, **opts)
        return paths["ours"]

    def peer(**opts):
        tifffile.imwrite(new_file("tifffile"), image, tile=TILE, **opts)
        return paths["tifffile"]

    def same_pixels(a, b):
        return np.array_equal(tifffile.imread(a), image) and np.array_equal(tifffile.imread(b), image)

    def raw_write():  # the floor: the image's bytes in one write, the file handled as ours is
        tmp = new_file("floor") + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        preallocate(fd, 0, image.nbytes)
        os.write(fd, image)
        os.close(fd)
        os.replace(tmp, paths["floor"])

    zstd = oc.get_codec("zstd")
    h, w = image.shape
    tiles = [np.ascontiguousarray(image[y:y + TILE[0], x:x + TILE[1]])
             for y in range(0, h, TILE[0]) for x in range(0, w, TILE[1])]

    def zstd_tiles_in_memory():  # the floor: encoding the same tiles, already cut, 2 threads
        return map_parallel(lambda t: zstd.encode(t, level=1, numthreads=1), tiles, 2)

    def size(path):
        return os.path.getsize(path)

    result = []
    if only in names[0]:
        ours(), peer()
        result.append(Workload(
            name=f"tiff_write uncompressed {mib} MiB tiled uint16",
            ours=Side("opencodecs", ours),
            peers=[Side("tifffile.imwrite", peer)],
            check=same_pixels, floor=Side("raw bytes: one write(), preallocated, renamed", raw_write),
            sizes={"opencodecs": size(paths["ours"]), "tifffile": size(paths["tifffile"])},
            note="tile 256x256; each call writes a new file", target=1.2))
    if only in names[1]:
        ours(compression="zstd", level=1)
        peer(compression="zstd", compressionargs={"level": 1}, maxworkers=2)
        result.append(Workload(
            name=f"tiff_write zstd level 1 {mib} MiB tiled uint16",
            ours=Side("opencodecs", lambda: ours(compression="zstd", level=1)),
            peers=[Side("tifffile.imwrite maxworkers=2",
                        lambda: peer(compression="zstd", compressionargs={"level": 1}, maxworkers=2))],
            check=same_pixels, floor=Side("zstd-encode the tiles in memory, 2 threads", zstd_tiles_in_memory),
            sizes={"opencodecs": size(paths["ours"]), "tifffile": size(paths["tifffile"])},
            note="tile 256x256, 2 threads each side", target=1.3))
    return result
