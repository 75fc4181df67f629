"""NDTiff workloads against ndstorage: open a 10,000-image dataset, random
frame reads, and streaming writes."""

import contextlib
import io
import os
import shutil
import tempfile

import numpy as np

from opencodecs.formats.ndtiff import NDTiffReader, NDTiffWriter

from .data import microscopy_u16
from .harness import Side, Workload


def workloads(fast=False, only="") -> list:
    names = ("ndtiff open", "ndtiff random frame reads", "ndtiff write")
    if not any(only in n for n in names):
        return []
    import ndstorage

    quiet = contextlib.redirect_stdout(io.StringIO())  # ndstorage prints progress
    folder = tempfile.mkdtemp(prefix="oc-bench-ndtiff-")
    n_images = 2000 if fast else 10_000
    frame = microscopy_u16((64, 64))
    with quiet:
        ds = ndstorage.NDTiffDataset(folder, name="big", writable=True, summary_metadata={"Prefix": "big"})
        for i in range(n_images):
            ds.put_image({"time": i // 100, "channel": (i // 10) % 10, "z": i % 10}, frame, {"i": i})
        ds.finish()
        big = ds.path
        ds.close()

    def ours_open():
        with NDTiffReader(big) as r:
            return r.shape

    def ndstorage_open():
        with contextlib.redirect_stdout(io.StringIO()):
            d = ndstorage.Dataset(big)
            shape = (len(d.axes["time"]), len(d.axes["channel"]), len(d.axes["z"]))
            d.close()
        return shape + frame.shape

    # Random reads: 200 frames of 1024x1024 uint16 from a 256-image dataset.
    reads_folder = tempfile.mkdtemp(prefix="oc-bench-ndtiff-reads-")
    image = microscopy_u16((1024, 1024))
    with quiet:
        ds = ndstorage.NDTiffDataset(reads_folder, name="frames", writable=True, summary_metadata={})
        for i in range(256):
            ds.put_image({"time": i}, image, {})
        ds.finish()
        frames = ds.path
        ds.close()
    picks = np.random.default_rng(0).integers(0, 256, 200).tolist()
    reader = NDTiffReader(frames)
    with quiet:
        reference = ndstorage.Dataset(frames)

    def ours_reads():
        return [reader.read_image(time=t) for t in picks]

    def ndstorage_reads():
        return [reference.read_image(time=t) for t in picks]

    def ours_batch():  # ndarray indexing: one array, frames read in parallel
        return reader[picks]

    # Writes: 100 frames of 2048x2048 uint16 (800 MiB).
    frame_w = microscopy_u16((2048, 2048))
    count_w = 20 if fast else 100
    write_root = tempfile.mkdtemp(prefix="oc-bench-ndtiff-write-")

    def ours_write():
        path = os.path.join(write_root, "ours")
        shutil.rmtree(path, ignore_errors=True)
        with NDTiffWriter(path, name="w") as w:
            for i in range(count_w):
                w.put_image({"time": i}, frame_w, {"i": i})
        return count_w

    def ndstorage_write():
        path = os.path.join(write_root, "ref")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        with contextlib.redirect_stdout(io.StringIO()):
            d = ndstorage.NDTiffDataset(path, name="w", writable=True, summary_metadata={})
            for i in range(count_w):
                d.put_image({"time": i}, frame_w, {"i": i})
            d.finish()
            d.close()
        return count_w

    equal_lists = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))  # noqa: E731
    return [w for w in [
        Workload(f"ndtiff open {n_images}-image dataset", Side("opencodecs", ours_open),
                 [Side("ndstorage", ndstorage_open)], check=lambda a, b: a == b, target=5.0),
        Workload("ndtiff random frame reads (200 x 1024² uint16)", Side("opencodecs", ours_reads),
                 [Side("ndstorage", ndstorage_reads)], check=equal_lists, target=2.2),
        Workload("ndtiff random frame reads, batch (reader[frames])", Side("opencodecs", ours_batch),
                 [Side("ndstorage per frame", ndstorage_reads)], check=equal_lists, target=2.2,
                 note="ndstorage has no batch read: its fastest path is the per-frame loop"),
        Workload(f"ndtiff write {count_w} x 2048² uint16", Side("opencodecs", ours_write),
                 [Side("ndstorage", ndstorage_write)], check=lambda a, b: a == b, target=1.5,
                 sizes={"bytes": count_w * frame_w.nbytes}),
    ] if only in w.name]
