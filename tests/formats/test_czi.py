"""CZI: files written by pylibCZIrw read identical to pylibCZIrw and aicspylibczi;
our files read back by both; corrupt files give clear errors."""

import os
import struct

import numpy as np
import pytest

import opencodecs as oc
from hostile import run_cases, assert_no_bad_outcomes
from opencodecs.formats.czi import CziReader, CziWriter

pyczi = pytest.importorskip("pylibCZIrw.czi")
aicspylibczi = pytest.importorskip("aicspylibczi")

rng = np.random.default_rng(11)
COMPRESSIONS = {
    "uncompressed": None,
    "zstd0": "zstd0:ExplicitLevel=1",
    "zstd1-hilo": "zstd1:ExplicitLevel=2;PreProcess=HiLoByteUnpack",
}
# pylibCZIrw takes (H, W, samples) tiles; these are its pixel types.
DTYPES = {"Gray8": (np.uint8, 1), "Gray16": (np.uint16, 1), "Gray32Float": (np.float32, 1),
          "Bgr24": (np.uint8, 3)}
TILES = [(0, 0), (120, 0), (0, 90), (120, 90)]  # a 2x2 mosaic of 120x90 tiles


def _tile(dtype, samples):
    shape = (90, 120, samples)
    if np.dtype(dtype).kind == "f":
        return rng.normal(100, 20, shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)


@pytest.fixture(scope="module", params=[(c, t) for c in COMPRESSIONS for t in DTYPES],
                ids=lambda p: f"{p[0]}-{p[1]}")
def reference_file(request, tmp_path_factory):
    """A 2-channel, 2x2-mosaic file written by pylibCZIrw, and its planes."""
    compression, pixel_type = request.param
    dtype, samples = DTYPES[pixel_type]
    path = str(tmp_path_factory.mktemp("czi") / f"{compression}-{pixel_type}.czi")
    opts = {} if COMPRESSIONS[compression] is None else {"compression_options": COMPRESSIONS[compression]}
    tiles = {}
    with pyczi.create_czi(path, exist_ok=True, **opts) as w:
        for c in range(2):
            for (x, y) in TILES:
                tile = _tile(dtype, samples)
                tiles[c, x, y] = tile
                w.write(tile, plane={"C": c, "T": 0, "Z": 0}, location=(x, y), scene=0)
    return path, tiles, samples


def _squeeze(arr, samples):
    return arr[..., 0] if samples == 1 and arr.ndim == 3 else arr


def test_planes_match_pylibczirw(reference_file):
    path, tiles, samples = reference_file
    with CziReader(path) as ours, pyczi.open_czi(path) as ref:
        for c in range(2):
            expected = _squeeze(ref.read(plane={"C": c, "T": 0, "Z": 0}), samples)
            got = ours.read_plane(C=c)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


def test_subblocks_match_what_was_written_and_aicspylibczi(reference_file):
    path, tiles, samples = reference_file
    with CziReader(path) as ours:
        assert ours.n_frames == 8
        stack = ours.read()
        for i, entry in enumerate(ours.entries):
            key = (entry.start("C"), entry.dims["X"][0], entry.dims["Y"][0])
            np.testing.assert_array_equal(stack[i], _squeeze(tiles[key], samples))
            np.testing.assert_array_equal(ours[i], stack[i])
    czi = aicspylibczi.CziFile(path)
    if samples == 1:
        mosaic = czi.read_mosaic(C=1, scale_factor=1.0)
        with CziReader(path) as ours:
            np.testing.assert_array_equal(np.squeeze(mosaic), ours.read_plane(C=1))


def test_region_reads_only_intersecting_subblocks(reference_file):
    path, tiles, samples = reference_file
    with CziReader(path) as ours, pyczi.open_czi(path) as ref:
        roi = (100, 70, 60, 40)  # straddles all four tiles
        expected = _squeeze(ref.read(plane={"C": 1, "T": 0, "Z": 0}, roi=roi), samples)
        np.testing.assert_array_equal(ours.read_region(*roi, C=1), expected)
        roi = (130, 100, 50, 50)  # inside the bottom-right tile only
        np.testing.assert_array_equal(
            ours.read_region(*roi, C=0),
            _squeeze(tiles[0, 120, 90], samples)[10:60, 10:60])


def test_directory_metadata_and_entries(reference_file):
    path, _, samples = reference_file
    with oc.open(path) as reader:
        assert isinstance(reader, CziReader)
        assert reader.dimension_sizes()["C"] == (0, 2)
        assert reader.metadata_xml.startswith("<ImageDocument>")
        assert reader.metadata_bytes.decode() == reader.metadata_xml
        assert b"<METADATA>" in reader.subblock_metadata_bytes(0)
        entry = reader.entries[0]
        assert entry.shape == ((90, 120) if samples == 1 else (90, 120, samples))
        assert reader.bounding_box(C=0) == (0, 0, 240, 180)


def test_oc_read_gives_channels_stack(reference_file):
    path, _, samples = reference_file
    arr = oc.read(path)
    with pyczi.open_czi(path) as ref:
        for c in range(2):
            np.testing.assert_array_equal(arr[c], _squeeze(ref.read(plane={"C": c}), samples))


@pytest.mark.parametrize("compression", ["none", "zstd0", "zstd1"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_our_files_read_back_by_both_references(tmp_path, compression, dtype):
    arr = (rng.integers(0, 200, (2, 3, 150, 260)) if dtype != np.float32
           else rng.normal(0, 1, (2, 3, 150, 260))).astype(dtype)
    path = str(tmp_path / "ours.czi")
    oc.write(path, arr, compression=compression, tile=(64, 100))  # axes CZYX, a mosaic per plane
    with pyczi.open_czi(path) as ref:
        for c in range(2):
            for z in range(3):
                np.testing.assert_array_equal(ref.read(plane={"C": c, "Z": z})[..., 0], arr[c, z])
    czi = aicspylibczi.CziFile(path)
    np.testing.assert_array_equal(np.squeeze(czi.read_mosaic(C=1, Z=2, scale_factor=1.0)), arr[1, 2])
    np.testing.assert_array_equal(oc.read(path), arr)


def test_bgr_tiles_round_trip(tmp_path):
    path = str(tmp_path / "bgr.czi")
    tile = rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)
    with CziWriter(path) as w:
        w.write_tile(tile, x=10, y=20)
    with pyczi.open_czi(path) as ref:
        np.testing.assert_array_equal(ref.read(), tile)
    with CziReader(path) as ours:
        assert ours.entries[0].pixel_type == "Bgr24"
        np.testing.assert_array_equal(ours[0], tile)


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "bad.czi"
    with pytest.raises(oc.EncodeError):
        with CziWriter(path) as w:
            w.write_tile(np.zeros((4, 4), np.uint16))
            w.write_tile(np.zeros((4, 4), np.complex64))
    assert list(tmp_path.iterdir()) == []


def _corruptions(valid: bytes):
    header_dir = struct.unpack_from("<q", valid, 32 + 16 + 32 + 4)[0]
    cases = []
    cut = lambda n: valid[:n]  # noqa: E731
    cases.append(("truncated directory", cut(header_dir + 40)))
    cases.append(("truncated data", cut(len(valid) // 2)))
    lie = bytearray(valid)
    struct.pack_into("<i", lie, header_dir + 32, 10**8)  # entry count
    cases.append(("directory count lie", bytes(lie)))
    past = bytearray(valid)
    struct.pack_into("<q", past, 32 + 16 + 32 + 4, len(valid) + 10**6)
    cases.append(("directory past end", bytes(past)))
    entry = header_dir + 32 + 128
    pos = bytearray(valid)
    struct.pack_into("<q", pos, entry + 6, len(valid) - 10)  # first subblock position
    cases.append(("subblock past end", bytes(pos)))
    size = bytearray(valid)
    stored_x = entry + 32 + 16  # first dimension entry's stored size
    struct.pack_into("<i", size, stored_x, 10**6)
    cases.append(("stored size lie", bytes(size)))
    return cases


def test_corrupt_files_give_clear_errors(tmp_path):
    path = str(tmp_path / "v.czi")
    oc.write(path, rng.integers(0, 999, (2, 64, 64), dtype=np.uint16), compression="zstd1")
    valid = open(path, "rb").read()
    cases = _corruptions(valid)
    results = run_cases("czi", cases)
    assert_no_bad_outcomes("czi", results, must_fail=[label for label, _ in cases])
    random_cases = [(f"flip {i}", valid[:i] + bytes([valid[i] ^ 0x5A]) + valid[i + 1:])
                    for i in range(0, len(valid), max(1, len(valid) // 60))]
    assert_no_bad_outcomes("czi", run_cases("czi", random_cases + [("empty", b""), ("junk", os.urandom(999))]))


def test_pyramid_levels_match_pylibczirw_zoom(tmp_path):
    full = rng.integers(0, 4000, (256, 512), dtype=np.uint16)
    half = full.reshape(128, 2, 256, 2).mean(axis=(1, 3)).astype(np.uint16)
    path = str(tmp_path / "pyramid.czi")
    with CziWriter(path) as w:
        w.write_tile(full[:, :256], x=0, y=0)
        w.write_tile(full[:, 256:], x=256, y=0)
        w.write_tile(half, x=0, y=0, scale=2)
    with CziReader(path) as ours, pyczi.open_czi(path) as ref:
        np.testing.assert_array_equal(ours.read_plane(), full)
        np.testing.assert_array_equal(ours.read_plane(level=1), half)
        np.testing.assert_array_equal(ref.read(zoom=0.5)[..., 0], ours.read_plane(level=1))
        np.testing.assert_array_equal(ours.read_region(128, 64, 256, 128, level=1), half[32:96, 64:192])
        with pytest.raises(IndexError):
            ours.read_plane(level=2)


def test_from_http_reads_directory_and_only_needed_subblocks(tmp_path, http_server):
    base, root, log = http_server
    arr = rng.integers(0, 4000, (2, 512, 1024), dtype=np.uint16)
    oc.write(root / "remote.czi", arr, compression="zstd1", tile=(128, 128))  # 64 subblocks
    before = len(log.read_text().splitlines()) if log.exists() else 0
    with CziReader.from_http(f"{base}/remote.czi", max_workers=4) as reader:
        opened = len(log.read_text().splitlines())
        region = reader.read_region(300, 100, 100, 50, C=1)  # one 128x128 tile... or two
        np.testing.assert_array_equal(region, arr[1, 100:150, 300:400])
        np.testing.assert_array_equal(reader.read_plane(C=0), arr[0])
    requests_to_open = opened - before
    assert requests_to_open <= 4  # size probe, header, directory
    with CziReader(root / "remote.czi") as local:
        np.testing.assert_array_equal(local.read_plane(C=1), arr[1])
