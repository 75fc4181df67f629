"""TiffReader against tifffile: every layout, sample type and compression
tifffile writes, read back pixel for pixel; random access (pages, tiles,
regions); laziness; bad input."""

import io
import itertools
import shutil
import struct
import subprocess

import numpy as np
import pytest
import tifffile
from hostile import assert_no_bad_outcomes, check_decoders, run_cases
from tiff_helpers import (assert_same_as_tifffile, ifd_offsets, image, patch_next_ifd,
                          patch_value, tag_info, tiff_bytes)

import opencodecs as oc
from opencodecs.core.sources import BufferSource
from opencodecs.formats.tiff.reader import TiffReader

INT_DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8"]
FLOAT_DTYPES = ["f2", "f4", "f8"]
# tifffile's compression names -> the registry codec each needs
BYTE_COMPRESSIONS = {"none": None, "zlib": "deflate", "deflate": "deflate", "zstd": "zstd",
                     "lzma": "lzma", "lzw": "lzw", "packbits": "packbits"}
LAYOUTS = {"strips": {"rowsperstrip": 16}, "tiles": {"tile": (32, 48)}}


def needs_codec(name):
    if name is not None and not oc.has_codec(name):
        pytest.skip(f"codec {name} not in this build")


def needs_predictors():
    pytest.importorskip("opencodecs.codecs.predictors")


def compression_options(compression):
    return {} if compression == "none" else {"compression": compression}


# -- every variant tifffile writes ------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("compression", BYTE_COMPRESSIONS)
def test_byte_compressions_dtypes_layouts(compression, dtype, layout):
    needs_codec(BYTE_COMPRESSIONS[compression])
    blob = tiff_bytes(image((70, 90), dtype), **compression_options(compression), **LAYOUTS[layout])
    assert_same_as_tifffile(blob)


@pytest.mark.parametrize("bigtiff", [False, True])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["u1", "u2", "i4", "f4", "f8", "u8"])
def test_byte_order_and_bigtiff(dtype, layout, byteorder, bigtiff):
    blob = tiff_bytes(image((50, 70), dtype), byteorder=byteorder, bigtiff=bigtiff,
                      compression="zstd", **LAYOUTS[layout])
    assert blob[:2] == (b"II" if byteorder == "<" else b"MM")
    got = assert_same_as_tifffile(blob)
    assert got.dtype.isnative
    with TiffReader(blob) as reader:
        assert reader.is_bigtiff == bigtiff and reader.byteorder == byteorder


PREDICTED = [(d, 2) for d in INT_DTYPES] + [(d, 3) for d in FLOAT_DTYPES]


@pytest.mark.parametrize("samples", [1, 3])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype,predictor", PREDICTED)
def test_predictors(dtype, predictor, layout, byteorder, samples):
    needs_predictors()
    shape = (40, 60) if samples == 1 else (40, 60, samples)
    blob = tiff_bytes(image(shape, dtype), predictor=predictor, compression="zlib",
                      byteorder=byteorder, photometric="minisblack" if samples == 1 else "rgb"
                      if dtype == "u1" else "minisblack", planarconfig="contig", **LAYOUTS[layout])
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        assert tif.pages[0].predictor == predictor
    assert_same_as_tifffile(blob)


@pytest.mark.parametrize("compression", ["zstd", "lzw", "packbits"])
@pytest.mark.parametrize("predictor", [None, 2])
def test_predictor_with_each_byte_codec(compression, predictor):
    needs_codec(BYTE_COMPRESSIONS[compression])
    if predictor:
        needs_predictors()
    blob = tiff_bytes(image((64, 80), "u2"), compression=compression, predictor=predictor,
                      tile=(32, 32))
    assert_same_as_tifffile(blob)


@pytest.mark.parametrize("predictor", [None, True])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["u1", "u2", "f4"])
def test_planar_separate(dtype, layout, predictor):
    if predictor:
        needs_predictors()
    data = image((3, 40, 50), dtype)
    blob = tiff_bytes(data, planarconfig="separate", photometric="rgb" if dtype == "u1" else
                      "minisblack", compression="zlib", predictor=predictor, **LAYOUTS[layout])
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        assert tif.pages[0].planarconfig == 2
    got = assert_same_as_tifffile(blob)
    np.testing.assert_array_equal(got, data)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("samples,extrasamples", [(3, None), (4, ["unassalpha"])])
def test_rgb_and_rgba(samples, extrasamples, layout):
    data = image((33, 47, samples), "u1")
    blob = tiff_bytes(data, photometric="rgb", extrasamples=extrasamples, compression="zstd",
                      **LAYOUTS[layout])
    np.testing.assert_array_equal(assert_same_as_tifffile(blob), data)


@pytest.mark.parametrize("bits", [4, 8, 16])
def test_palette_gives_indices_and_colormap(bits):
    dtype = "u1" if bits <= 8 else "u2"
    data = (image((30, 41), "u2") & ((1 << bits) - 1)).astype(dtype)
    entries = 1 << (8 * np.dtype(dtype).itemsize)
    colormap = np.random.default_rng(1).integers(0, 65536, (3, entries), dtype=np.uint16)
    options = {"bitspersample": bits} if bits == 4 else {"compression": "zlib"}
    blob = tiff_bytes(data, photometric="palette", colormap=colormap, **options)
    got = assert_same_as_tifffile(blob)
    np.testing.assert_array_equal(got, data)
    with TiffReader(blob) as reader, tifffile.TiffFile(io.BytesIO(blob)) as tif:
        page = reader.pages[0]
        assert page.photometric == 3
        np.testing.assert_array_equal(page.colormap, tif.pages[0].colormap)


def test_miniswhite_gives_raw_values():
    data = image((20, 30), "u1")
    blob = tiff_bytes(data, photometric="miniswhite")
    np.testing.assert_array_equal(assert_same_as_tifffile(blob), data)
    with TiffReader(blob) as reader:
        assert reader.pages[0].photometric == 0


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("width", [8, 61])
def test_bilevel_reads_as_bool(width, layout):
    data = image((37, width), bool)
    blob = tiff_bytes(data, compression="zlib", **(LAYOUTS[layout] if width % 16 == 0 or
                                                    layout == "strips" else {}))
    got = assert_same_as_tifffile(blob)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, data)


@pytest.mark.parametrize("bits", [2, 4, 12])
def test_packed_bit_depths(bits):
    dtype = "u1" if bits < 8 else "u2"
    data = (image((21, 33), "u2") % (1 << bits)).astype(dtype)
    blob = tiff_bytes(data, bitspersample=bits)
    np.testing.assert_array_equal(assert_same_as_tifffile(blob), data)


@pytest.mark.parametrize("compression", ["none", "zlib"])
def test_fill_order_2(compression):
    """Bits stored least significant first: the stored (compressed) bytes are
    reversed bit by bit before decoding, as libtiff does."""
    data = image((20, 24), bool)
    stored = np.packbits(data, axis=1).tobytes()
    if compression != "none":
        stored = oc.get_codec("deflate").encode(stored)
    stored = np.packbits(np.unpackbits(np.frombuffer(stored, np.uint8))
                         .reshape(-1, 8)[:, ::-1]).tobytes()
    # tifffile will not write FillOrder: write a private tag and rename it.
    blob = tiff_bytes(np.zeros(len(stored), np.uint8), extratags=[(65100, "H", 1, 2, True)])
    entry, _, _, byteorder = tag_info(blob, 0, 65100)
    blob = bytearray(blob)
    struct.pack_into(byteorder + "H", blob, entry, 266)
    for name, value in (("ImageWidth", 24), ("ImageLength", 20), ("RowsPerStrip", 20),
                        ("BitsPerSample", 1), ("Compression", 1 if compression == "none" else 8)):
        blob = bytearray(patch_value(bytes(blob), 0, name, value))
    start = tag_info(bytes(blob), 0, "StripOffsets")[1]
    offset = struct.unpack_from(byteorder + "I", blob, start)[0]
    blob[offset:offset + len(stored)] = stored
    blob = patch_value(bytes(blob), 0, "StripByteCounts", len(stored))
    assert_same_as_tifffile(blob)
    np.testing.assert_array_equal(oc.read(blob, format="tiff"), data)


@pytest.mark.parametrize("rowsperstrip", [1, 7, 1000])
def test_strip_heights(rowsperstrip):
    blob = tiff_bytes(image((50, 20), "u2"), rowsperstrip=rowsperstrip, compression="zstd")
    assert_same_as_tifffile(blob)


def test_edge_tiles_and_tile_larger_than_image():
    for shape, tile in (((100, 130), (64, 64)), ((10, 20), (32, 48))):
        assert_same_as_tifffile(tiff_bytes(image(shape, "u2"), tile=tile, compression="zstd"))


def test_sparse_tiles_read_as_zeros():
    """A tile stored with 0 bytes reads as zeros (tifffile 2026.3 misreads the
    tiles after it, so the reference here is the data written)."""
    data = image((64, 64), "u2")
    blob = tiff_bytes(data, tile=(32, 32), compression="zstd")
    blob = patch_value(blob, 0, "TileByteCounts", 0, index=1)
    expected = data.copy()
    expected[:32, 32:] = 0
    np.testing.assert_array_equal(oc.read(blob, format="tiff"), expected)


def test_padded_last_strip():
    """A last strip stored at full RowsPerStrip height (as some writers do)."""
    data = image((10, 16), "u1")
    padded = np.concatenate([data, np.zeros((6, 16), "u1")])
    blob = tiff_bytes(padded, rowsperstrip=8, compression="zlib")
    blob = patch_value(blob, 0, "ImageLength", 10)
    np.testing.assert_array_equal(oc.read(blob, format="tiff"), data)


# -- image and array codecs (through the registry, when present) ----------------------

IMAGE_CASES = {
    "jpeg": ("jpeg", (64, 96, 3), "u1", {"photometric": "rgb"}),
    "jpeg ycbcr": ("jpeg", (64, 96, 3), "u1", {"photometric": "ycbcr"}),
    "jpeg grey": ("jpeg", (64, 96), "u1", {}),
    "jpeg2000": ("jpeg2k", (64, 96, 3), "u1", {"compressionargs": {"level": 0}}),
    "jpeg2000 u2": ("jpeg2k", (64, 96), "u2", {"compressionargs": {"level": 0}}),
    "webp": ("webp", (64, 96, 3), "u1", {"compressionargs": {"lossless": True}}),
    "jpegxl": ("jxl", (64, 96, 3), "u1", {"compressionargs": {"lossless": True}}),
    "lerc": ("lerc", (64, 96), "f4", {}),
    "lerc samples": ("lerc", (64, 96, 3), "f4", {"photometric": "minisblack",
                                                 "planarconfig": "contig"}),
    "lerc zstd": ("lerc", (64, 96), "u2", {"compressionargs": {"compression": "zstd"}}),
    "lerc deflate": ("lerc", (64, 96), "u2", {"compressionargs": {"compression": "deflate"}}),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image_and_array_codecs(case, layout):
    codec, shape, dtype, options = IMAGE_CASES[case]
    needs_codec(codec)
    compression = case.split()[0]
    tile = {"tile": (32, 48)} if layout == "tiles" else {"rowsperstrip": 16}
    blob = tiff_bytes(image(shape, dtype), compression=compression, **options, **tile)
    assert_same_as_tifffile(blob)


@pytest.mark.parametrize("case", ["ycbcr tiles", "rgb strips", "grey tiles"])
def test_jpeg_with_jpegtables_from_libtiff(tmp_path, case):
    """libtiff (tiffcp) writes JPEG chunks as abbreviated streams sharing one JPEGTables tag."""
    needs_codec("jpeg")
    tiffcp = shutil.which("tiffcp")
    if tiffcp is None:
        pytest.skip("tiffcp (libtiff-tools) is not installed")
    rgb = case != "grey tiles"
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, image((100, 130, 3) if rgb else (100, 130), "u1"),
                     photometric="rgb" if rgb else "minisblack")
    options = {"ycbcr tiles": ["-c", "jpeg:90", "-t", "-w", "32", "-l", "32"],
               "rgb strips": ["-c", "jpeg:r:90", "-r", "16"],
               "grey tiles": ["-c", "jpeg", "-t", "-w", "32", "-l", "32"]}[case]
    subprocess.run([tiffcp, *options, str(source), str(tmp_path / "out.tif")], check=True)
    blob = (tmp_path / "out.tif").read_bytes()
    with TiffReader(blob) as reader:
        assert reader.pages[0].compression == 7 and "JPEGTables" in reader.pages[0].tags
    assert_same_as_tifffile(blob)


def test_eer_compression_names_the_missing_codec():
    blob = patch_value(tiff_bytes(image((16, 16), "u1")), 0, "Compression", 65001)
    with TiffReader(blob) as reader:
        if oc.has_codec("eer"):
            pytest.skip("the eer codec is present")
        with pytest.raises(oc.CodecUnavailableError, match="eer"):
            reader[0]


# -- pages, series, tags ------------------------------------------------------------

def test_multipage_stack_and_reader_interface(tmp_path):
    data = np.stack([image((20, 30), "u2", seed=i) for i in range(6)])
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, data, compression="zstd", metadata=None)
    with oc.open(path) as reader:
        assert isinstance(reader, TiffReader)
        assert reader.n_frames == len(reader) == 6
        assert reader.shape == (6, 20, 30) and reader.dtype == np.uint16
        np.testing.assert_array_equal(reader[2], data[2])
        np.testing.assert_array_equal(reader[-1], data[-1])
        np.testing.assert_array_equal(reader[1:5:2], data[1:5:2])
        np.testing.assert_array_equal(np.stack(list(reader)), data)
        np.testing.assert_array_equal(reader.read(), data)
        np.testing.assert_array_equal(reader.asarray(), data)
        with pytest.raises(IndexError):
            reader[6]
        with pytest.raises(IndexError):
            reader.pages[-7]
    np.testing.assert_array_equal(oc.read(path), data)


def test_shaped_series_and_generic_series():
    data = image((6, 20, 30), "u1").reshape(2, 3, 20, 30)
    shaped = tiff_bytes(data, photometric="minisblack")  # tifffile's JSON shape in the description
    assert assert_same_as_tifffile(shaped).shape == (2, 3, 20, 30)
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tif:  # two series of different shapes
        tif.write(image((4, 10, 12), "u2"), photometric="minisblack", metadata=None)
        tif.write(image((8, 9), "f4"), metadata=None)
    with TiffReader(buf.getvalue()) as reader, tifffile.TiffFile(io.BytesIO(buf.getvalue())) as tif:
        assert len(reader.series) == 2
        assert [s.shape for s in reader.series] == [s.shape for s in tif.series]
        for ours, theirs in zip(reader.series, tif.series):
            np.testing.assert_array_equal(ours.asarray(), theirs.asarray())
        np.testing.assert_array_equal(reader.asarray(series=1), tif.series[1].asarray())


def test_tags_by_name_and_code():
    blob = tiff_bytes(image((20, 30), "u2"), description="hello world", software="tester",
                      resolution=(2.5, 4), tile=(16, 16), metadata=None)
    with TiffReader(blob) as reader:
        tags = reader.pages[0].tags
        assert tags["ImageDescription"] == tags[270] == "hello world"
        assert tags["Software"] == "tester"
        assert tags["ImageWidth"] == 30 and tags[257] == 20
        assert tags["XResolution"] == (5, 2)
        assert tags["TileOffsets"] == tuple(tags.array("TileOffsets").tolist())
        assert "TileWidth" in tags and 322 in tags and "StripOffsets" not in tags
        assert set(tags) >= {"ImageWidth", "ImageLength", "Compression"}
        page = reader.pages[0]
        assert page.is_tiled and page.tile == (16, 16) and page.description == "hello world"
        assert page.compression_name == "none"


def test_oc_read_and_magic_detection():
    blob = tiff_bytes(image((10, 12), "u1"), bigtiff=True)
    assert oc.codec_for_bytes(blob).name == "tiff"
    np.testing.assert_array_equal(oc.read(blob), tifffile.imread(io.BytesIO(blob)))


def test_out_argument():
    data = image((40, 50), "u2")
    blob = tiff_bytes(data, tile=(16, 16), compression="zstd")
    out = np.empty_like(data)
    assert oc.get_codec("tiff").decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    with pytest.raises(oc.DecodeError):
        oc.get_codec("tiff").decode(blob, out=np.empty((40, 49), np.uint16))
    with pytest.raises(TypeError):
        oc.read(blob, format="tiff", tile_size=3)
    with pytest.raises(TypeError):
        TiffReader(blob, bogus=True)


# -- random access: tiles and regions -----------------------------------------------

@pytest.mark.parametrize("case", ["tiles", "strips", "planar tiles", "planar strips", "bool",
                                  "rgb tiles"])
def test_read_region_matches_slices(case):
    shape = (3, 150, 170) if case.startswith("planar") or case == "rgb tiles" else (150, 170)
    dtype = bool if case == "bool" else "u2"
    data = image(shape, dtype)
    options = {"tile": (32, 48)} if "tiles" in case else {"rowsperstrip": 13}
    if case.startswith("planar"):
        options.update(planarconfig="separate", photometric="minisblack")
    if case == "rgb tiles":
        data = image((150, 170, 3), "u1")
        options.update(photometric="rgb")
    blob = tiff_bytes(data, compression="zlib", **options)
    rng = np.random.default_rng(3)
    with TiffReader(blob) as reader:
        page = reader.pages[0]
        for _ in range(12):
            h, w = int(rng.integers(0, 80)), int(rng.integers(0, 90))
            y, x = int(rng.integers(0, 150 - h + 1)), int(rng.integers(0, 170 - w + 1))
            got = reader.read_region(0, y, x, h, w)
            expected = data[:, y:y + h, x:x + w] if case.startswith("planar") else data[y:y + h, x:x + w]
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(page.read_region(y, x, h, w), expected)
        with pytest.raises(ValueError):
            page.read_region(140, 0, 20, 10)


def test_read_tiles_match_tifffile_segments():
    data = image((100, 130, 3), "u1")
    blob = tiff_bytes(data, tile=(32, 48), photometric="rgb", compression="zstd")
    with TiffReader(blob) as reader, tifffile.TiffFile(io.BytesIO(blob)) as tif:
        page, theirs = reader.pages[0], tif.pages[0]
        fh = tif.filehandle

        def reference(i):
            fh.seek(theirs.dataoffsets[i])
            return theirs.decode(fh.read(theirs.databytecounts[i]), i)[0][0]

        indices = [0, 5, 11, 3, 11]  # repeats and edge tiles
        tiles = page.read_tiles(indices)
        assert tiles.shape == (5, 32, 48, 3)
        for tile, i in zip(tiles, indices):
            np.testing.assert_array_equal(tile, reference(i))
        np.testing.assert_array_equal(page.read_tile((1, 2)), reference(1 * 3 + 2))
        out = np.empty((32, 48, 3), np.uint8)
        assert page.read_tile(4, out=out) is out
        np.testing.assert_array_equal(out, reference(4))
        with pytest.raises(IndexError):
            page.read_tile(12)
        with pytest.raises(IndexError):
            page.read_tile((4, 0))


def test_read_tiles_planar_separate_and_strips():
    data = image((2, 64, 64), "u2")
    blob = tiff_bytes(data, tile=(32, 32), planarconfig="separate", photometric="minisblack")
    with TiffReader(blob) as reader:
        page = reader.pages[0]
        assert page.chunk_grid == (2, 2, 2)
        np.testing.assert_array_equal(page.read_tile((1, 1, 0)), data[1, 32:, :32])
    with TiffReader(tiff_bytes(data[0])) as reader:
        with pytest.raises(ValueError, match="strips"):
            reader.pages[0].read_tile(0)


def test_threads_give_identical_results():
    data = image((300, 300), "f4")
    blob = tiff_bytes(data, tile=(64, 64), compression="zstd")
    with TiffReader(blob) as reader:
        serial = reader.pages[0].asarray(numthreads=1)
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: reader.pages[0].asarray(numthreads=3), range(8)))
    for r in results:
        np.testing.assert_array_equal(r, serial)
    np.testing.assert_array_equal(serial, data)


# -- laziness ------------------------------------------------------------------------

class CountingSource(BufferSource):
    """A BufferSource that counts the calls and bytes read through it."""

    def __init__(self, buffer):
        super().__init__(buffer)
        self.calls = 0
        self.nbytes = 0

    def read_at(self, offset, n):
        self.calls += 1
        self.nbytes += n
        return super().read_at(offset, n)

    def read_many(self, ranges):
        ranges = list(ranges)
        self.calls += 1
        self.nbytes += sum(n for _, n in ranges)
        return super().read_many(ranges)


def test_many_pages_open_lazily():
    pages = 12_000
    data = np.arange(pages, dtype=np.uint16).repeat(64).reshape(pages, 8, 8)
    blob = tiff_bytes(data, photometric="minisblack", metadata=None)
    source = CountingSource(blob)
    reader = TiffReader(source)
    assert source.calls <= 4 and source.nbytes < 1000  # header and the first IFD only
    assert reader._chain._count == 1 and len(reader.pages._cache) == 1
    calls = source.calls
    np.testing.assert_array_equal(reader[5000], data[5000])
    assert len(reader.pages._cache) == 2 and 5000 in reader.pages._cache  # not pages 1-4999
    assert source.calls - calls <= 8
    assert reader._chain._count == 5001
    assert len(reader.pages) == pages
    np.testing.assert_array_equal(reader[11_999], data[-1])
    np.testing.assert_array_equal(reader.asarray(), data)


# -- bad input ------------------------------------------------------------------------

def _bad_cases() -> list:
    stack = tiff_bytes(np.stack([image((40, 50), "u2", seed=i) for i in range(4)]),
                       photometric="minisblack", metadata=None, tile=(16, 16), compression="zstd")
    strips = tiff_bytes(image((40, 50), "u2"), rowsperstrip=8, metadata=None)
    big = tiff_bytes(image((40, 50), "u2"), bigtiff=True, metadata=None, tile=(16, 16))
    float_predicted = tiff_bytes(image((8, 8), "f4"), compression="zlib", predictor=3)
    offsets = ifd_offsets(stack)
    size = len(stack)
    cases = [
        ("truncated header", stack[:6]),
        ("truncated in first IFD", stack[:offsets[0] + 20]),
        ("truncated in tile data", stack[:len(stack) // 2]),
        ("IFD self loop", patch_next_ifd(stack, 0, offsets[0])),
        ("IFD loop", patch_next_ifd(stack, 3, offsets[1])),
        ("next IFD past end", patch_next_ifd(stack, 1, size + 1000)),
        ("next IFD into header", patch_next_ifd(stack, 1, 3)),
        ("first IFD past end", stack[:4] + (size + 8).to_bytes(4, "little") + stack[8:]),
        ("tile offset past end", patch_value(stack, 0, "TileOffsets", size + 10, 2)),
        ("byte count past end", patch_value(stack, 0, "TileByteCounts", size, 3)),
        ("strip offset past end", patch_value(strips, 0, "StripOffsets", 1 << 31, 1)),
        ("absurd width", patch_value(strips, 0, "ImageWidth", 0xFFFF)),
        ("absurd length", patch_value(stack, 0, "ImageLength", 0xFFFF)),
        ("zero width", patch_value(strips, 0, "ImageWidth", 0)),
        ("tile count mismatch", patch_value(stack, 2, "ImageWidth", 100)),
        ("rows per strip zero", patch_value(strips, 0, "RowsPerStrip", 0)),
        ("huge tile", patch_value(patch_value(stack, 0, "TileWidth", 0xFFFF), 0, "TileLength", 0xFFFF)),
        ("signed 13-bit samples", patch_value(tiff_bytes(image((8, 8), "i2")), 0,
                                              "BitsPerSample", 13)),
        ("8-bit floats", patch_value(tiff_bytes(image((8, 8), "f4")), 0, "BitsPerSample", 8)),
        ("predictor 2 on floats", patch_value(float_predicted, 0, "Predictor", 2)),
        ("unknown predictor", patch_value(float_predicted, 0, "Predictor", 7)),
    ]
    first = int.from_bytes(big[8:16], "little")
    lying = bytearray(big)
    lying[first:first + 8] = (1 << 60).to_bytes(8, "little")
    cases.append(("bigtiff entry count 2**60", bytes(lying)))
    return cases, stack


MUST_FAIL = ("truncated header", "truncated in first IFD", "truncated in tile data", "IFD self loop",
             "IFD loop", "next IFD past end", "next IFD into header", "first IFD past end",
             "tile offset past end", "byte count past end", "strip offset past end", "absurd width",
             "absurd length", "zero width", "tile count mismatch", "rows per strip zero",
             "huge tile", "signed 13-bit samples", "8-bit floats", "bigtiff entry count 2**60",
             "predictor 2 on floats", "unknown predictor")


def test_bad_input_gives_clear_errors():
    cases, stack = _bad_cases()
    check_decoders("tiff", stack, extra=cases, must_fail=("empty", "one byte") + MUST_FAIL)


@pytest.mark.parametrize("label", ["IFD loop", "next IFD past end", "tile count mismatch",
                                   "absurd width", "byte count past end"])
def test_bad_input_messages(label):
    cases, _ = _bad_cases()
    blob = dict(cases)[label]
    words = {"IFD loop": "loop", "next IFD past end": "outside", "tile count mismatch": "tiles",
             "absurd width": "cannot come from", "byte count past end": "outside"}[label]
    with pytest.raises(oc.DecodeError, match=words):
        oc.read(blob, format="tiff")


def test_bad_input_through_every_entry_point():
    """Page access, regions and tiles of a corrupt file raise DecodeError too."""
    cases, _ = _bad_cases()
    results = run_cases("tiff", [(label, blob) for label, blob in cases], {"series": 0})
    assert_no_bad_outcomes("tiff", results, MUST_FAIL)
    blob = dict(cases)["byte count past end"]
    with TiffReader(blob) as reader:
        with pytest.raises(oc.DecodeError):
            reader.pages[0].read_tiles([3])
        reader.pages[0].read_tiles([0, 1])  # the intact tiles still read
    with pytest.raises(oc.DecodeError, match="loop"):
        with TiffReader(dict(cases)["IFD loop"]) as reader:
            len(reader.pages)


def test_all_truncations_of_a_small_file():
    blob = tiff_bytes(np.stack([image((12, 10), "u1", seed=i) for i in range(2)]),
                      photometric="minisblack", tile=(16, 16), compression="zlib", metadata=None)
    cases = [(f"cut {n}", blob[:n]) for n in range(0, len(blob), 7)]
    results = run_cases("tiff", cases)
    assert_no_bad_outcomes("tiff", results, must_fail=tuple(results))


def test_combinations_of_options_stay_consistent():
    """A sweep over option combinations against tifffile (small images)."""
    for dtype, tile, byteorder, bigtiff in itertools.product(
            ["u2", "f4"], [None, (16, 32)], ["<", ">"], [False, True]):
        blob = tiff_bytes(image((3, 33, 40), dtype), tile=tile, byteorder=byteorder,
                          bigtiff=bigtiff, compression="zlib", planarconfig="separate",
                          photometric="minisblack", metadata=None)
        assert_same_as_tifffile(blob)


def test_pages_and_regions_over_http(http_server):
    """The same reader over an HTTP range server: few requests for a region."""
    base, root, log = http_server
    data = np.stack([image((512, 512), "u2", seed=i) for i in range(3)])
    tifffile.imwrite(root / "remote.tif", data, tile=(64, 64), compression="zstd",
                     photometric="minisblack", metadata=None)
    before = len(log.read_text().splitlines()) if log.exists() else 0
    with TiffReader(f"{base}/remote.tif") as reader:
        np.testing.assert_array_equal(reader.read_region(0, 100, 200, 50, 60),
                                      data[0, 100:150, 200:260])
        np.testing.assert_array_equal(reader.pages[2].read_region(300, 10, 64, 64),
                                      data[2, 300:364, 10:74])
    assert len(log.read_text().splitlines()) - before <= 8
    np.testing.assert_array_equal(oc.read(f"{base}/remote.tif", format="tiff"), data)


def test_pages_from_many_threads_at_once():
    """Threads asking for pages the chain walk has not reached yet."""
    from concurrent.futures import ThreadPoolExecutor
    data = np.arange(3000, dtype=np.uint16).repeat(4).reshape(3000, 2, 2)
    blob = tiff_bytes(data, photometric="minisblack", metadata=None)
    for _ in range(3):
        with TiffReader(blob) as reader:
            with ThreadPoolExecutor(4) as pool:
                got = list(pool.map(lambda i: reader[i], [2999, 1500, 10, 2500, 700, 2999] * 4))
            for g, i in zip(got, [2999, 1500, 10, 2500, 700, 2999] * 4):
                np.testing.assert_array_equal(g, data[i])


def test_long_series_keep_a_bounded_number_of_pages():
    data = np.arange(3000, dtype=np.uint16).repeat(4).reshape(3000, 2, 2)
    blob = tiff_bytes(data, photometric="minisblack", metadata=None)
    with TiffReader(blob) as reader:
        reader.pages._cache._size = 100
        np.testing.assert_array_equal(reader.asarray(), data)
        np.testing.assert_array_equal(reader.read(), data)
        assert len(reader.pages._cache) == 100
        assert reader.series[0].pages[-1].shape == (2, 2)
