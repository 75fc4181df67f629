"""NDTiff: datasets written by ndstorage read identical; ours read by ndstorage
and tifffile; an interrupted write still opens with every completed image."""

import os
import struct
import subprocess
import sys

import numpy as np
import pytest
import tifffile

import opencodecs as oc
from hostile import assert_no_bad_outcomes
from opencodecs.formats.ndtiff import NDTiffReader, NDTiffWriter

ndstorage = pytest.importorskip("ndstorage")
rng = np.random.default_rng(21)


def _write_with_ndstorage(folder, images, summary=None):
    ds = ndstorage.NDTiffDataset(str(folder), name="ref", writable=True,
                                 summary_metadata=summary or {"Prefix": "ref"})
    for coords, (img, meta) in images.items():
        ds.put_image(dict(coords), img, meta)
    ds.finish()
    path = ds.path
    ds.close()
    return path


def _images(dtype=np.uint16, axes=(("time", range(3)), ("channel", range(2)), ("z", range(4)))):
    out = {}
    names = [a for a, _ in axes]
    for index in np.ndindex(*[len(v) for _, v in axes]):
        coords = tuple((n, list(v)[i]) for n, (_, v), i in zip(names, axes, index))
        img = rng.integers(0, 255 if dtype == np.uint8 else 4095, (48, 64), dtype=dtype)
        out[coords] = (img, {"coords": dict(coords), "Exposure-ms": 12.5})
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_ndstorage_datasets_read_identical(tmp_path, dtype):
    images = _images(dtype)
    path = _write_with_ndstorage(tmp_path, images, {"Prefix": "ref", "z-step_um": 0.5})
    with oc.open(os.path.join(path, "NDTiff.index"), format="ndtiff") as reader:
        assert reader.axes == {"time": [0, 1, 2], "channel": [0, 1], "z": [0, 1, 2, 3]}
        assert reader.shape == (3, 2, 4, 48, 64) and reader.dtype == dtype
        assert reader.summary_metadata["z-step_um"] == 0.5
        assert reader.n_frames == 24
        stack = reader.read()
        for coords, (img, meta) in images.items():
            c = dict(coords)
            np.testing.assert_array_equal(reader.read_image(**c), img)
            np.testing.assert_array_equal(stack[c["time"], c["channel"], c["z"]], img)
            assert reader.read_metadata(**c) == meta
        np.testing.assert_array_equal(reader[1, :, 2], stack[1, :, 2])
        np.testing.assert_array_equal(reader[2, 1, 3, 10:20, 5], stack[2, 1, 3, 10:20, 5])


def test_string_and_custom_axes_and_missing_images(tmp_path):
    images = _images(axes=(("channel", ["DAPI", "GFP"]), ("position", range(2)), ("angle", range(2))))
    del images[(("channel", "GFP"), ("position", 1), ("angle", 0))]  # never acquired
    path = _write_with_ndstorage(tmp_path, images)
    with NDTiffReader(path) as reader:
        assert list(reader.axes) == ["position", "channel", "angle"]
        assert reader.axes["channel"] == ["DAPI", "GFP"]
        assert not reader.has_image(channel="GFP", position=1, angle=0)
        with pytest.raises(KeyError):
            reader.read_image(channel="GFP", position=1, angle=0)
        assert not reader[1, 1, 0].any()  # zeros where no image exists
        np.testing.assert_array_equal(reader[0, 1, 1], images[(("channel", "GFP"), ("position", 0),
                                                               ("angle", 1))][0])


@pytest.mark.parametrize("kind", ["uint16", "uint8", "rgb", "12-bit"])
def test_our_datasets_read_by_ndstorage_and_tifffile(tmp_path, kind):
    dtype = np.uint8 if kind in ("uint8", "rgb") else np.uint16
    shape = (40, 56, 3) if kind == "rgb" else (40, 56)
    top = 4095 if kind == "12-bit" else np.iinfo(dtype).max
    images = {}
    folder = tmp_path / "ours"
    with NDTiffWriter(folder, name="acq", summary_metadata={"Prefix": "acq"},
                      bit_depth=12 if kind == "12-bit" else None) as writer:
        for t in range(2):
            for c in ("DAPI", "GFP"):
                img = rng.integers(0, top, shape, dtype=dtype)
                images[t, c] = img
                writer.put_image({"time": t, "channel": c}, img, {"t": t})
    ref = ndstorage.Dataset(str(folder))
    for (t, c), img in images.items():
        np.testing.assert_array_equal(ref.read_image(time=t, channel=c), img)
        assert ref.read_metadata(time=t, channel=c) == {"t": t}
    ref.close()
    with tifffile.TiffFile(folder / "acq_NDTiffStack.tif") as tif:
        assert len(tif.pages) == 4
        np.testing.assert_array_equal(tif.pages[3].asarray(), images[1, "GFP"])
    with NDTiffReader(folder) as ours:
        np.testing.assert_array_equal(ours.read_image(time=1, channel="DAPI"), images[1, "DAPI"])
        assert ours.bit_depth == (12 if kind == "12-bit" else 8 if dtype == np.uint8 else 16)


_KILLED_WRITER = r"""
import os, sys, numpy as np
from opencodecs.formats.ndtiff import NDTiffWriter
w = NDTiffWriter(sys.argv[1], name="cut")
for i in range(int(sys.argv[2])):
    w.put_image({"time": i}, np.full((32, 32), i, np.uint16), {"i": i})
os._exit(0)  # dies without closing: no truncate, no final flush
"""


def test_interrupted_write_still_opens(tmp_path):
    folder = tmp_path / "cut"
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(folder), "7"], check=True)
    with NDTiffReader(folder) as reader:
        assert reader.n_frames == 7
        for i in range(7):
            assert (reader.read_image(time=i) == i).all()
    with tifffile.TiffFile(folder / "cut_NDTiffStack.tif") as tif:  # the chain ends at a full page
        assert len(tif.pages) == 7
    # An index cut mid-entry (a writer killed inside os.write) loses only that entry.
    index = folder / "NDTiff.index"
    data = index.read_bytes()
    index.write_bytes(data[:-10])
    with NDTiffReader(folder) as reader:
        assert reader.n_frames == 6


def test_writer_rejects_mixed_images(tmp_path):
    with NDTiffWriter(tmp_path / "x") as writer:
        writer.put_image({"time": 0}, np.zeros((4, 4), np.uint16))
        with pytest.raises(oc.EncodeError):
            writer.put_image({"time": 1}, np.zeros((4, 5), np.uint16))
        with pytest.raises(oc.EncodeError):
            writer.put_image({"time": 1}, np.zeros((4, 4), np.float32))
    with pytest.raises(FileExistsError):
        NDTiffWriter(tmp_path / "x")


def test_corrupt_index_and_files(tmp_path):
    folder = tmp_path / "c"
    with NDTiffWriter(folder) as writer:
        for i in range(3):
            writer.put_image({"z": i}, np.full((16, 16), i, np.uint16))
    index = (folder / "NDTiff.index").read_bytes()
    cases = {
        "empty index": b"",
        "garbage index": os.urandom(500),
        "bad json": index.replace(b'{"z": 0}', b'{"z": 0]'),
        "pixel offset past end": index[:-32] + struct.pack("<8I", 10**9, 16, 16, 1, 0, 0, 2, 0),
        "huge dimensions": index[:-28] + struct.pack("<7I", 60000, 60000, 1, 0, 0, 2, 0),
        "unknown pixel type": index[:-20] + struct.pack("<5I", 99, 0, 0, 2, 0),
    }
    code = ("import sys, opencodecs as oc\n"
            "from opencodecs.formats.ndtiff import NDTiffReader\n"
            "try:\n"
            "    NDTiffReader(sys.argv[1]).read(); print('ok')\n"
            "except oc.OpencodecsError as e: print('error:' + type(e).__name__)\n"
            "except BaseException as e: print('BAD:' + type(e).__name__ + str(e))\n")
    results = {}
    for label, blob in cases.items():
        (folder / "NDTiff.index").write_bytes(blob)
        out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True)
        results[label] = out.stdout.strip().splitlines()[-1] if out.returncode == 0 else f"BAD:crash {out.returncode}"
    assert_no_bad_outcomes("ndtiff", results, must_fail=list(cases))
