"""TiffWriter: every variant read back exactly by tifffile and walked by libtiff's
tiffinfo without a warning; parallel output byte-identical to serial; failed
writes leave no file."""

import io
import os

import numpy as np
import pytest
import tifffile
from tiff_checks import assert_same, read_back, tiffinfo_clean

import opencodecs as oc
from opencodecs.formats.tiff import TiffWriter
from opencodecs.formats.tiff import writer as tiff_writer

rng = np.random.default_rng(5)

BYTE_CODECS = ["none", "zlib", "zstd", "lzw", "packbits", "lzma"]


def smooth(shape, dtype):
    """Image-like data: a gradient with noise, in the dtype's range."""
    y = np.linspace(0, 1, shape[0])[:, None]
    x = np.linspace(0, 1, shape[1])[None, :]
    base = (y + x) / 2
    if len(shape) == 3:
        base = base[..., None] * np.linspace(0.5, 1, shape[2])
    noise = rng.normal(0, 0.02, shape)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (base * 100 + noise).astype(dtype)
    hi = min(np.iinfo(dtype).max, 60000)
    lo = max(np.iinfo(dtype).min, -1000)
    return np.clip((base + noise) * (hi - lo) + lo, lo, hi).astype(dtype)


def write(path_or_file, arr, **opts):
    writer_opts = {k: opts.pop(k) for k in ("bigtiff", "byteorder", "numthreads") if k in opts}
    with TiffWriter(path_or_file, **writer_opts) as w:
        w.write_page(arr, **opts)


@pytest.mark.parametrize("dtype", ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", "f2", "f4", "f8"])
@pytest.mark.parametrize("tile", [None, (32, 48)])
def test_dtypes_round_trip(tmp_path, dtype, tile):
    arr = smooth((70, 100), dtype)
    path = tmp_path / "a.tif"
    write(path, arr, tile=tile, compression="zstd")
    assert_same(read_back(path), arr)
    tiffinfo_clean(path, decode=True)


# libtiff applies predictors with zlib, zstd, lzw and lzma only.
@pytest.mark.parametrize("compression,predictor", [
    (c, p) for c in BYTE_CODECS for p in (None, 2, 3) if not (p and c in ("none", "packbits"))])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("tile", [None, (32, 16)])
def test_byte_codecs_predictors_byte_orders(tmp_path, compression, predictor, byteorder, tile):
    dtype = "f4" if predictor == 3 else "u2"
    arr = smooth((50, 70), dtype)
    path = tmp_path / "a.tif"
    write(path, arr, tile=tile, compression=compression, predictor=predictor, byteorder=byteorder)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert tif.byteorder == byteorder
        assert page.compression == oc.formats.tiff.tags.COMPRESSION_CODES[compression]
        assert page.predictor == (predictor or 1)
        assert page.is_tiled == (tile is not None)
        assert_same(page.asarray(), arr)
    tiffinfo_clean(path, decode=True)


@pytest.mark.parametrize("predictor,dtype", [(2, "u1"), (2, "i2"), (2, "u4"), (2, "i8"),
                                             (3, "f2"), (3, "f8"), (True, "u2"), (True, "f4")])
def test_predictors_on_every_sample_size(predictor, dtype):
    arr = smooth((40, 60, 3), dtype)
    blob = oc.get_codec("tiff").encode(arr, compression="zlib", predictor=predictor, tile=(16, 32),
                                       photometric="minisblack")
    assert_same(read_back(blob), arr)


@pytest.mark.parametrize("dtype", ["u1", "u2"])
@pytest.mark.parametrize("samples", [3, 4])
def test_rgb_and_rgba(tmp_path, dtype, samples):
    arr = smooth((45, 77, samples), dtype)
    path = tmp_path / "rgb.tif"
    write(path, arr, tile=(16, 16), compression="zlib")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.photometric == 2
        assert page.extrasamples == (() if samples == 3 else (2,))
        assert_same(page.asarray(), arr)
    tiffinfo_clean(path, decode=True)


@pytest.mark.parametrize("samples", [2, 5])
def test_minisblack_with_extra_samples(tmp_path, samples):
    arr = smooth((30, 40, samples), "u2")
    path = tmp_path / "x.tif"
    write(path, arr, compression="zstd")
    assert_same(read_back(path), arr)
    tiffinfo_clean(path)


@pytest.mark.parametrize("tile", [None, (16, 32)])
def test_planar_separate(tmp_path, tile):
    arr = smooth((3, 50, 70), "u2")
    path = tmp_path / "planar.tif"
    write(path, arr, planarconfig="separate", tile=tile, compression="lzw", predictor=2)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.planarconfig == 2 and page.photometric == 2
        assert_same(page.asarray(), arr)
    tiffinfo_clean(path, decode=True)


def test_edge_tiles_and_single_pixel(tmp_path):
    for shape in [(1, 1), (17, 33), (16, 16), (255, 257)]:
        arr = smooth(shape, "u2")
        for tile in (None, (16, 16)):
            blob = oc.get_codec("tiff").encode(arr, tile=tile)
            assert_same(read_back(blob), arr)


def test_non_contiguous_input():
    base = smooth((100, 200, 3), "u1")
    for arr in (base[::2, ::3], base[:, :, ::-1], base.transpose(1, 0, 2)):
        blob = oc.get_codec("tiff").encode(arr, tile=(16, 16), compression="zstd")
        assert_same(read_back(blob), arr)
        assert_same(read_back(oc.get_codec("tiff").encode(arr)), arr)


def test_big_endian_input_array():
    arr = smooth((20, 30), ">u2")
    assert_same(read_back(oc.get_codec("tiff").encode(arr)), arr.astype("u2"))


def test_multi_page_mixed(tmp_path):
    pages = [smooth((40, 50), "u2"), smooth((30, 20, 3), "u1"), smooth((64, 64), "f4")]
    path = tmp_path / "pages.tif"
    with TiffWriter(path) as w:
        w.write_page(pages[0], compression="zstd", tile=(16, 16))
        w.write_page(pages[1])
        w.write_page(pages[2], compression="zlib", predictor=3)
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 3
        for page, arr in zip(tif.pages, pages):
            assert_same(page.asarray(), arr)
    tiffinfo_clean(path, decode=True)


def test_stack_of_pages(tmp_path):
    stack = np.stack([smooth((60, 32), "u2") + i for i in range(50)])
    path = tmp_path / "stack.tif"
    oc.write(path, stack, compression="zstd")
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 50
    assert_same(read_back(path), stack)
    tiffinfo_clean(path)


def test_description_resolution_and_extratags(tmp_path):
    arr = smooth((20, 30), "u1")
    path = tmp_path / "meta.tif"
    write(path, arr, metadata="hello, tiff", resolution=(300, 150.5, "inch"),
          extratags=[(305, 2, None, "custom software"), (297, 3, 2, [1, 3])])
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        assert tags["ImageDescription"].value == "hello, tiff"
        assert tags["XResolution"].value == (300, 1)
        assert tags["YResolution"].value == (301, 2)
        assert tags["ResolutionUnit"].value == 2
        assert tags["Software"].value == "custom software"
        assert tags["PageNumber"].value == (1, 3)
    tiffinfo_clean(path)


def test_bigtiff(tmp_path):
    arr = smooth((100, 120), "u2")
    path = tmp_path / "big.tif"
    with TiffWriter(path, bigtiff=True) as w:
        w.write_page(arr, tile=(32, 32), compression="zstd")
        w.write_page(arr[::-1], metadata="second")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_bigtiff and len(tif.pages) == 2
        assert_same(tif.pages[0].asarray(), arr)
        assert_same(tif.pages[1].asarray(), arr[::-1])
    with open(path, "rb") as f:
        assert f.read(4) == b"II+\0"
    tiffinfo_clean(path, decode=True)


def test_classic_tiff_over_4_gib_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(tiff_writer, "_CLASSIC_LIMIT", 50_000)  # stands for 4 GiB
    path = tmp_path / "too_big.tif"
    with pytest.raises(oc.EncodeError, match="bigtiff=True"):
        with TiffWriter(path) as w:
            w.write_page(smooth((200, 200), "u2"))
    assert os.listdir(tmp_path) == []
    with TiffWriter(path, bigtiff=True) as w:  # BigTIFF has no such limit
        w.write_page(smooth((200, 200), "u2"))
    assert os.listdir(tmp_path) == ["too_big.tif"]


@pytest.mark.parametrize("bigtiff", [False, True])
def test_pyramid_as_subifds(tmp_path, bigtiff):
    base = smooth((256, 384), "u2")
    levels = [base, base[::2, ::2].copy(), base[::4, ::4].copy()]
    path = tmp_path / "pyramid.tif"
    with TiffWriter(path, bigtiff=bigtiff) as w:
        w.write_pyramid(levels, tile=(64, 64), compression="zstd")
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 1
        page = tif.pages[0]
        assert len(page.subifds) == 2
        series = tif.series[0]
        assert [lv.shape for lv in series.levels] == [lv.shape for lv in levels]
        for lv, arr in zip(series.levels, levels):
            assert_same(lv.asarray(), arr)
        assert [lv.keyframe.subfiletype for lv in series.levels] == [0, 1, 1]
    tiffinfo_clean(path)


def test_pyramid_as_reduced_pages(tmp_path):
    base = smooth((128, 128), "u1")
    levels = [base, base[::2, ::2].copy()]
    path = tmp_path / "pyramid_pages.tif"
    with TiffWriter(path) as w:
        w.write_pyramid(levels, subifds=False, tile=(32, 32), compression="zlib")
    with tifffile.TiffFile(path) as tif:
        assert [p.subfiletype for p in tif.pages] == [0, 1]
        assert [p.shape for p in tif.pages] == [(128, 128), (64, 64)]
        assert_same(tif.pages[1].asarray(), levels[1])
        assert [lv.shape for lv in tif.series[0].levels] == [(128, 128), (64, 64)]
    tiffinfo_clean(path)


@pytest.mark.parametrize("compression", ["none", "zstd", "zlib"])
@pytest.mark.parametrize("tile", [None, (32, 32)])
def test_parallel_output_is_byte_identical_to_serial(monkeypatch, compression, tile):
    # Small runs and batches: many batches, each written while the next encodes.
    monkeypatch.setattr(tiff_writer, "_RUN_BYTES", 4096)
    monkeypatch.setattr(tiff_writer, "_BATCH_BYTES", 20_000)
    monkeypatch.setattr(tiff_writer, "_GATHER_BATCH_BYTES", 20_000)
    monkeypatch.setattr(tiff_writer, "_STRIP_BYTES", 2048)
    arr = smooth((300, 250, 3), "u2")
    blobs = []
    for n in (1, 2, 4, 8):
        f = io.BytesIO()
        with TiffWriter(f, numthreads=n) as w:
            w.write_page(arr, tile=tile, compression=compression,
                         predictor=2 if compression != "none" else None)
            w.write_page(arr[:100], tile=tile, compression=compression)
        blobs.append(f.getvalue())
    assert all(b == blobs[0] for b in blobs[1:])
    with tifffile.TiffFile(io.BytesIO(blobs[0])) as tif:
        assert_same(tif.pages[0].asarray(), arr)
        assert_same(tif.pages[1].asarray(), arr[:100])


def test_files_and_memory_give_the_same_bytes(tmp_path):
    arr = smooth((100, 100), "u2")
    path = tmp_path / "a.tif"
    f = io.BytesIO()
    for dest in (path, f):
        write(dest, arr, tile=(32, 32), compression="zstd")
    assert path.read_bytes() == f.getvalue()


def test_exception_in_with_block_leaves_no_file(tmp_path):
    path = tmp_path / "x.tif"
    with pytest.raises(RuntimeError):
        with TiffWriter(path) as w:
            w.write_page(smooth((64, 64), "u2"))
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "x.tif"
    write(path, smooth((10, 10), "u1"))
    before = path.read_bytes()
    with pytest.raises(oc.EncodeError):
        with TiffWriter(path) as w:
            w.write_page(smooth((64, 64), "u2"), compression="zstd")
            w.write_page(smooth((64, 64), "u2"), tile=(10, 10))  # invalid tile
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["x.tif"]


def test_partial_file_until_close(tmp_path):
    path = tmp_path / "x.tif"
    with TiffWriter(path) as w:
        w.write_page(smooth((64, 64), "u2"))
        names = os.listdir(tmp_path)
        assert len(names) == 1 and names[0].endswith(".partial")
    assert os.listdir(tmp_path) == ["x.tif"]


def test_no_page_is_an_error_and_no_file(tmp_path):
    path = tmp_path / "empty.tif"
    with pytest.raises(oc.EncodeError, match="no page"):
        with TiffWriter(path):
            pass
    assert os.listdir(tmp_path) == []


def test_abort_on_a_file_object_zeroes_the_header():
    f = io.BytesIO()
    with pytest.raises(RuntimeError):
        with TiffWriter(f) as w:
            w.write_page(smooth((64, 64), "u2"))
            raise RuntimeError("interrupted")
    assert f.getvalue()[:4] == b"\0\0\0\0"
    with pytest.raises(tifffile.TiffFileError):
        tifffile.imread(io.BytesIO(f.getvalue()))


def test_file_object_at_an_offset():
    f = io.BytesIO()
    f.write(b"prefix")
    arr = smooth((20, 20), "u2")
    write(f, arr)
    assert f.getvalue()[:6] == b"prefix"
    assert_same(read_back(f.getvalue()[6:]), arr)


def test_unseekable_destination_needs_streaming():
    class Sink:
        def write(self, b):
            return len(b)

    with pytest.raises(oc.EncodeError, match="streaming=True"):
        TiffWriter(Sink())


def test_write_frame_is_write_page():
    arr = smooth((20, 20), "u2")
    f = io.BytesIO()
    with TiffWriter(f) as w:
        w.write_frame(arr, compression="zstd")
    assert_same(read_back(f.getvalue()), arr)


def test_codec_encode_into_buffer_and_file(tmp_path):
    arr = smooth((40, 40, 3), "u1")
    codec = oc.get_codec("tiff")
    blob = codec.encode(arr, tile=(16, 16), compression="lzw")
    dest = bytearray(len(blob) + 10)
    view = codec.encode(arr, dest=dest, tile=(16, 16), compression="lzw")
    assert bytes(view) == blob
    oc.write(tmp_path / "a.tiff", arr, compression="packbits")
    assert_same(read_back(tmp_path / "a.tiff"), arr)
    assert oc.codec_for_bytes(blob[:8]).name == "tiff"


@pytest.mark.parametrize("opts,match", [
    (dict(tile=(20, 16)), "multiples of 16"),
    (dict(tile=(16,)), "multiples of 16"),
    (dict(compression="bogus"), "unknown compression"),
    (dict(compression="none", predictor=2), "predictors"),
    (dict(compression="packbits", predictor=2), "predictors"),
    (dict(compression="zstd", predictor=3), "predictor must be"),
    (dict(compression="zstd", predictor=7), "predictor must be"),
    (dict(tile=256), "multiples of 16"),
    (dict(compression="lzw", level=3), "takes no level"),
    (dict(compression="zstd", level=99), "level"),
    (dict(photometric="cmyk"), "unknown photometric"),
    (dict(planarconfig="diagonal"), "planarconfig"),
    (dict(resolution=(1, 2, "parsec")), "resolution"),
    (dict(metadata={"a": 1}), "metadata"),
    (dict(extratags=[(270, 2, None, "twice")], metadata="once"), "given twice"),
])
def test_bad_options_raise_encode_error(opts, match):
    with pytest.raises(oc.EncodeError, match=match):
        oc.get_codec("tiff").encode(smooth((32, 32), "u2"), **opts)


def test_horizontal_predictor_needs_integers():
    with pytest.raises(oc.EncodeError, match="integer"):
        oc.get_codec("tiff").encode(smooth((32, 32), "f4"), compression="zlib", predictor=2)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        oc.get_codec("tiff").encode(smooth((32, 32), "u2"), tiles=(16, 16))


@pytest.mark.parametrize("arr", [np.zeros((0, 10), "u1"), np.zeros((4, 4), complex),
                                 np.zeros((2, 3, 4, 5), "u1")])
def test_bad_arrays(arr):
    with pytest.raises(oc.EncodeError):
        with TiffWriter(io.BytesIO()) as w:
            w.write_page(arr)


# ---- image codecs through the registry: tested where this build has them ----

def _needs(codec):
    if not oc.has_codec(codec):
        pytest.skip(f"the {codec} codec is not in this build")


def psnr(a, b):
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.mark.parametrize("shape", [(64, 96), (64, 96, 3)])
@pytest.mark.parametrize("tile", [None, (32, 32)])
def test_jpeg_tiles(tmp_path, shape, tile):
    _needs("jpeg")
    arr = smooth(shape, "u1")
    path = tmp_path / "jpeg.tif"
    write(path, arr, tile=tile, compression="jpeg", level=95)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.compression == 7
        assert 347 not in page.tags  # self-contained tiles, no JPEGTables
        got = page.asarray()
        if len(shape) == 3:  # RGB is stored as JFIF YCbCr 4:2:0, as tifffile and libtiff write it
            assert page.photometric == 6 and page.tags["YCbCrSubSampling"].value == (2, 2)
    assert got.shape == arr.shape and psnr(got, arr) > 30  # quality 95 on noisy data
    # tiffinfo -D cannot display subsampled YCbCr tiles (it says so even for tifffile's own).
    tiffinfo_clean(path, decode=len(shape) == 2 or tile is None)


@pytest.mark.parametrize("subsampling,factors", [("444", (1, 1)), ("422", (2, 1)), ("411", (4, 1))])
def test_jpeg_subsampling(tmp_path, subsampling, factors):
    _needs("jpeg")
    arr = smooth((64, 96, 3), "u1")
    path = tmp_path / "jpeg.tif"
    write(path, arr, compression="jpeg", compressionargs={"subsampling": subsampling})
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags["YCbCrSubSampling"].value == factors
        assert psnr(tif.pages[0].asarray(), arr) > 30
    tiffinfo_clean(path, decode=True)


def test_jpeg_separate_planes_are_grey_jpegs(tmp_path):
    _needs("jpeg")
    arr = smooth((3, 64, 96), "u1")
    path = tmp_path / "jpeg.tif"
    write(path, arr, compression="jpeg", planarconfig="separate", tile=(32, 32))
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].photometric == 2
        assert psnr(tif.pages[0].asarray(), arr) > 35
    tiffinfo_clean(path, decode=True)


def test_jpeg_subsampling_tiff_cannot_store():
    _needs("jpeg")
    with pytest.raises(oc.EncodeError, match="subsampling"):
        oc.get_codec("tiff").encode(smooth((32, 32, 3), "u1"), compression="jpeg",
                                    compressionargs={"subsampling": "440"})


@pytest.mark.parametrize("compression,codec,dtype,shape,args", [
    ("jpeg2000", "jpeg2k", "u2", (64, 80), {}),
    ("jpeg2000", "jpeg2k", "u1", (64, 80, 3), {}),
    ("webp", "webp", "u1", (64, 80, 3), {"lossless": True}),
    ("webp", "webp", "u1", (64, 80, 4), {"lossless": True}),
    ("jpegxl", "jxl", "u2", (64, 80), {"lossless": True}),
    ("jpegxl", "jxl", "u1", (64, 80, 3), {"lossless": True}),
    ("lerc", "lerc", "f4", (64, 80), {}),
    ("lerc", "lerc", "u2", (64, 80), {}),
    ("lerc", "lerc", "u1", (64, 80, 3), {}),
])
def test_lossless_image_codec_tiles(tmp_path, compression, codec, dtype, shape, args):
    _needs(codec)
    arr = smooth(shape, dtype)
    path = tmp_path / "img.tif"
    write(path, arr, tile=(32, 32), compression=compression, compressionargs=args)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].compression == oc.formats.tiff.tags.COMPRESSION_CODES[compression]
        assert_same(tif.pages[0].asarray(), arr)
    tiffinfo_clean(path, decode=compression in ("webp", "lerc"))  # libtiff has no JPEG 2000 or JPEG XL


def test_lerc_level_is_the_max_z_error(tmp_path):
    _needs("lerc")
    arr = smooth((64, 80), "f4")
    path = tmp_path / "lerc.tif"
    write(path, arr, tile=(32, 32), compression="lerc", level=0.01)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags["LercParameters"].value == (4, 0)
        got = tif.pages[0].asarray()
    assert 0 < np.abs(got - arr).max() <= 0.0101  # float32 rounding on top of the bound
    tiffinfo_clean(path, decode=True)


def test_missing_codec_is_reported(monkeypatch):
    monkeypatch.setattr(tiff_writer, "has_codec", lambda name: False)
    with pytest.raises(oc.CodecUnavailableError, match="zstd"):
        oc.get_codec("tiff").encode(smooth((16, 16), "u1"), compression="zstd")


def test_writers_inside_pool_tasks_do_not_deadlock():
    # Every pool thread busy with a writer whose own write waits in the pool's queue.
    import threading

    from opencodecs.core.parallel import parallel_for

    arr = smooth((256, 256), "u2")
    blobs = [None] * 32

    def one(i):
        f = io.BytesIO()
        with TiffWriter(f, numthreads=4) as w:
            w.write_page(arr, tile=(64, 64), compression="zstd")
        blobs[i] = f.getvalue()

    worker = threading.Thread(target=parallel_for, args=(one, len(blobs), 16), daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "deadlocked"
    assert all(b == blobs[0] for b in blobs)


def test_short_writes_resume_where_they_stopped(tmp_path, monkeypatch):
    real_writev = os.writev

    def stingy_writev(fd, buffers):  # the kernel may take fewer bytes than offered
        return real_writev(fd, [bytes(memoryview(buffers[0]))[:7]])

    arr = smooth((64, 64), "u2")
    f = io.BytesIO()
    write(f, arr, tile=(16, 16), compression="zstd")
    monkeypatch.setattr(tiff_writer.os, "writev", stingy_writev)
    path = tmp_path / "short.tif"
    write(path, arr, tile=(16, 16), compression="zstd")
    assert path.read_bytes() == f.getvalue()
