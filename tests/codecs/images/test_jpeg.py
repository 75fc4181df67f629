"""jpeg (libjpeg-turbo, TurboJPEG API) against imagecodecs and Pillow both
ways; JPEGTables for TIFF tiles; ICC profiles; bad input; threads; mozjpeg."""

import io
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import Image, ImageCms

import opencodecs as oc
from hostile import check_decoders
from opencodecs.codecs.images.jpeg import jpeg_segments

jpeg = oc.get_codec("jpeg")
rng = np.random.default_rng(7)


def photo(h=120, w=160):
    """Smooth gradients, a disc with an edge, and sensor noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([90 + 80 * y / h, 60 + 100 * x / w, 200 - 60 * (x + y) / (h + w)], -1)
    img[np.hypot(y - h / 2, x - w / 3) < h / 4] = (220, 40, 60)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


RGB = photo()
GREY = np.ascontiguousarray(RGB[..., 1])


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


def pil_bytes(arr, **opts):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **opts)
    return buf.getvalue()


def pil_decode(blob):
    return np.asarray(Image.open(io.BytesIO(blob)))


# PSNR floors on this noisy photo-like image (sensor noise caps them).
@pytest.mark.parametrize("image, quality, subsampling, floor", [
    (RGB, 95, "444", 36.0), (RGB, 95, "420", 32.5), (RGB, 75, "422", 30.5),
    (GREY, 95, None, 41.0), (GREY, 75, None, 34.5)])
def test_round_trip_above_psnr_floor(image, quality, subsampling, floor):
    blob = jpeg.encode(image, quality=quality, subsampling=subsampling)
    decoded = jpeg.decode(blob)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert psnr(decoded, image) > floor


@pytest.mark.parametrize("quality", [10, 50, 75, 90, 95, 100])
@pytest.mark.parametrize("subsampling", ["444", "422", "420", "440", "411"])
def test_encode_is_byte_identical_to_imagecodecs(quality, subsampling):
    # Same libjpeg-turbo settings (accurate DCT, standard Huffman tables):
    # the system 2.1.5 and imagecodecs' bundled 3.1 write the same bytes.
    ours = jpeg.encode(RGB, quality=quality, subsampling=subsampling)
    assert ours == imagecodecs.jpeg8_encode(RGB, level=quality, subsampling=subsampling)


def test_defaults_match_imagecodecs_and_pillow():
    assert jpeg.encode(RGB) == imagecodecs.jpeg8_encode(RGB)  # quality 95, 4:2:0
    assert jpeg.encode(GREY) == imagecodecs.jpeg8_encode(GREY)
    assert jpeg.encode(RGB) == pil_bytes(RGB, quality=95)
    assert jpeg.encode(RGB, progressive=True) == pil_bytes(RGB, quality=95, progressive=True)
    assert jpeg.encode(GREY, quality=80) == pil_bytes(GREY, quality=80)


@pytest.mark.parametrize("make", [
    lambda: imagecodecs.jpeg8_encode(RGB, level=90, subsampling="444"),
    lambda: imagecodecs.jpeg8_encode(RGB, level=60, subsampling="422"),
    lambda: imagecodecs.jpeg8_encode(GREY, level=85),
    lambda: pil_bytes(RGB, quality=85, progressive=True),
    lambda: pil_bytes(RGB, quality=90, restart_marker_blocks=3),
    lambda: pil_bytes(GREY, quality=70, progressive=True, restart_marker_rows=2),
    lambda: pil_bytes(RGB, quality=92, subsampling="4:2:0", optimize=True),
])
def test_decode_is_pixel_identical_to_imagecodecs_and_pillow(make):
    blob = make()
    ours = jpeg.decode(blob)
    assert np.array_equal(ours, imagecodecs.jpeg8_decode(blob))
    assert np.array_equal(ours, pil_decode(blob))


def test_references_decode_ours_identically():
    for blob in (jpeg.encode(RGB, quality=80, subsampling="422"),
                 jpeg.encode(RGB, progressive=True), jpeg.encode(GREY, progressive=True)):
        ours = jpeg.decode(blob)
        assert np.array_equal(imagecodecs.jpeg8_decode(blob), ours)
        assert np.array_equal(pil_decode(blob), ours)


def test_rgb_stored_as_grey():
    blob = jpeg.encode(RGB, subsampling="gray")
    assert jpeg.decode(blob).shape == RGB.shape[:2]
    assert np.array_equal(jpeg.decode(blob), pil_decode(blob))


def test_progressive_handle_does_not_corrupt_later_baseline_encodes():
    # libjpeg-turbo 2.1.5 keeps state in a handle after a progressive encode.
    jpeg.encode(RGB, progressive=True)
    blob = jpeg.encode(RGB)
    assert blob == imagecodecs.jpeg8_encode(RGB)
    jpeg.decode(blob)


def test_cmyk_decodes_to_four_channels_as_stored():
    cmyk = rng.integers(0, 256, (48, 40, 4), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(buf, "JPEG", quality=100, subsampling=0)
    blob = buf.getvalue()
    ours = jpeg.decode(blob)
    assert ours.shape == (48, 40, 4)
    assert np.array_equal(ours, imagecodecs.jpeg8_decode(blob))
    # Pillow writes Adobe (inverted) CMYK and inverts it back on reading.
    assert np.array_equal(255 - ours, pil_decode(blob))
    assert np.abs((255 - ours).astype(int) - cmyk).mean() < 1


def split_tables(blob):
    """A JPEG as TIFF stores it: (tables-only stream, abbreviated image stream)."""
    tables = [bytes(blob[o:o + 4 + len(p)]) for m, o, p in jpeg_segments(blob) if m in (0xDB, 0xC4)]
    image = bytearray(blob)
    for m, o, p in sorted(((m, o, p) for m, o, p in jpeg_segments(blob) if m in (0xDB, 0xC4)),
                          key=lambda t: -t[1]):
        del image[o:o + 4 + len(p)]
    return b"\xff\xd8" + b"".join(tables) + b"\xff\xd9", bytes(image)


def test_tables_join_a_hand_made_abbreviated_pair():
    blob = jpeg.encode(RGB, quality=80)
    tables, tile = split_tables(blob)
    assert b"\xff\xdb" not in tile[:200] and b"\xff\xc4" not in tile[:600]
    with pytest.raises(oc.DecodeError):
        jpeg.decode(tile)  # no tables of its own
    assert np.array_equal(jpeg.decode(tile, tables=tables), jpeg.decode(blob))
    with pytest.raises(oc.DecodeError):
        jpeg.decode(tile, tables=b"\x00\x01")


def test_tables_decode_libtiff_strips_as_tifffile_does(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "strips.tif"
    image = photo(256, 320)
    Image.fromarray(image).save(path, compression="jpeg")  # libtiff: JPEGTables + abbreviated strips
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tables = page.tags["JPEGTables"].value
        expected = page.asarray()
        fh = tif.filehandle
        rows = []
        for offset, count in zip(page.dataoffsets, page.databytecounts):
            fh.seek(offset)
            rows.append(jpeg.decode(fh.read(count), tables=tables))
    assert len(rows) > 1
    assert np.array_equal(np.concatenate(rows)[:image.shape[0]], expected)


def test_tiled_tifffile_jpeg_tiles_decode(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, RGB, tile=(64, 64), compression="jpeg")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        expected = page.asarray()
        fh = tif.filehandle
        fh.seek(page.dataoffsets[0])
        tile = jpeg.decode(fh.read(page.databytecounts[0]))
    assert np.array_equal(tile, expected[:64, :64])


def srgb_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_icc_profile_round_trips_both_ways():
    icc = srgb_profile()
    blob = jpeg.encode(RGB, icc=icc)
    assert jpeg.icc_profile(blob) == icc
    assert Image.open(io.BytesIO(blob)).info["icc_profile"] == icc
    assert np.array_equal(jpeg.decode(blob), jpeg.decode(jpeg.encode(RGB)))
    theirs = pil_bytes(RGB, icc_profile=icc)
    assert jpeg.icc_profile(theirs) == icc
    assert jpeg.icc_profile(jpeg.encode(RGB)) is None


def test_large_icc_profile_spans_several_segments():
    icc = rng.integers(0, 256, 150_000, dtype=np.uint8).tobytes()
    blob = jpeg.encode(GREY, icc=icc)
    assert sum(1 for m, _, p in jpeg_segments(blob) if m == 0xE2) == 3
    assert jpeg.icc_profile(blob) == icc
    assert Image.open(io.BytesIO(blob)).info["icc_profile"] == icc
    with pytest.raises(oc.EncodeError):
        jpeg.encode(GREY, icc=b"")


def test_large_image_round_trip():
    y, x = np.mgrid[0:5000, 0:5000]
    big = np.stack([(x // 20) % 256, (y // 20) % 256, ((x + y) // 40) % 256], -1).astype(np.uint8)
    assert big.nbytes > 64 << 20
    decoded = jpeg.decode(jpeg.encode(big, quality=50))
    assert psnr(decoded, big) > 40


@pytest.mark.parametrize("make_out", [
    lambda shape: np.empty(shape, np.uint8),
    lambda shape: bytearray(int(np.prod(shape))),
    lambda shape: np.empty(int(np.prod(shape)) // 4, np.float32)])
def test_decode_into_out(make_out):
    blob = jpeg.encode(RGB)
    out = make_out(RGB.shape)
    assert jpeg.decode(blob, out=out) is out
    assert np.array_equal(np.frombuffer(out, np.uint8).reshape(RGB.shape), jpeg.decode(blob))


@pytest.mark.parametrize("shape", [(120, 160), (120, 160, 4), (121, 160, 3)])
def test_decode_into_wrong_size_out_raises(shape):
    with pytest.raises(oc.DecodeError):
        jpeg.decode(jpeg.encode(RGB), out=np.empty(shape, np.uint8))


def test_encode_into_buffer():
    blob = jpeg.encode(RGB)
    dest = bytearray(len(blob) + 100)
    view = jpeg.encode(RGB, dest=dest)
    assert bytes(view) == blob
    with pytest.raises(oc.EncodeError):
        jpeg.encode(RGB, dest=bytearray(100))


@pytest.mark.parametrize("data, opts", [
    (RGB, {"quality": 101}), (RGB, {"quality": -1}), (RGB, {"quality": 9.5}),
    (RGB, {"subsampling": "410"}), (GREY, {"subsampling": "444"}),
    (np.zeros((8, 8, 4), np.uint8), {}), (np.zeros((8, 8, 2), np.uint8), {}),
    (np.zeros((8, 8), np.uint16), {}), (np.zeros((0, 8), np.uint8), {}),
    (np.zeros(8, np.uint8), {})])
def test_invalid_encode_input_raises(data, opts):
    with pytest.raises(oc.EncodeError):
        jpeg.encode(data, **opts)


def test_alpha_is_refused_with_a_hint():
    with pytest.raises(oc.EncodeError, match="alpha"):
        jpeg.encode(np.zeros((8, 8, 4), np.uint8))


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        jpeg.encode(RGB, level=3)
    with pytest.raises(TypeError):
        jpeg.decode(jpeg.encode(RGB), quality=3)


def test_write_read_and_dispatch(tmp_path):
    for ext in (".jpg", ".jpeg", ".JPG"):
        path = tmp_path / ("x" + ext)
        oc.write(path, RGB, quality=90)
        assert np.array_equal(oc.read(path), jpeg.decode(path.read_bytes()))
    blob = jpeg.encode(GREY)
    assert oc.codec_for_bytes(blob) is jpeg
    assert oc.codec_for_path("photo.jpg") is jpeg
    assert np.array_equal(oc.read(blob), jpeg.decode(blob))
    assert oc.codec_for_bytes(oc.get_codec("jpegls").encode(GREY)).name == "jpegls"


def test_unsupported_jpegs_raise_and_leave_the_decoder_usable():
    valid = jpeg.encode(RGB)
    twelve_bit = imagecodecs.jpeg8_encode((RGB.astype(np.uint16) * 16), bitspersample=12)
    lossless = imagecodecs.jpeg8_encode(RGB, lossless=True)
    for blob, message in ((twelve_bit, "precision 12"), (lossless, "SOF type 0xc3"),
                          (valid[:len(valid) // 2], "Premature end")):
        with pytest.raises(oc.DecodeError, match=message):
            jpeg.decode(blob)
        # TurboJPEG 2.1 leaves a handle failing after some errors; ours is replaced.
        assert np.array_equal(jpeg.decode(valid), pil_decode(valid))


def test_corrupt_entropy_data_raises_instead_of_returning_made_up_pixels():
    blob = bytearray(jpeg.encode(RGB))
    sos = blob.index(b"\xff\xda")
    blob[sos + 200:sos + 260] = b"\x00" * 60
    blob[-500:-450] = b"\xff" * 50
    with pytest.raises(oc.DecodeError, match="Corrupt JPEG data|Premature end"):
        jpeg.decode(bytes(blob))


def with_frame_size(blob, height, width, frame=None):
    """`blob` with its SOF height and width (and marker) replaced."""
    out = bytearray(blob)
    for m, o, p in jpeg_segments(blob):
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            out[o + 5:o + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
            if frame is not None:
                out[o + 1] = frame
            return bytes(out)
    raise AssertionError("no frame header")


def test_hostile_input():
    valid = jpeg.encode(photo(40, 56), quality=80)
    check_decoders("jpeg", valid,
                   must_fail=("empty", "one byte", "truncated to 8", "size lie",
                              "arithmetic size lie", "progressive size lie", "no frame"),
                   extra=[("size lie", with_frame_size(valid, 65500, 65500)),
                          ("arithmetic size lie", with_frame_size(valid, 60000, 60000, 0xC9)),
                          ("progressive size lie",
                           with_frame_size(jpeg.encode(GREY, progressive=True), 60000, 60000)),
                          ("no frame", valid[:valid.index(b"\xff\xc0")] + b"\xff\xd9"),
                          ("tables only", split_tables(valid)[0])])
    check_decoders("jpeg", split_tables(valid)[1], opts={"tables": split_tables(valid)[0]})


def test_threads_give_identical_results():
    images = [photo(64 + 8 * i, 80) for i in range(8)] + [GREY] * 4
    opts = [{"quality": 60 + 3 * i, "progressive": i % 3 == 0} for i in range(len(images))]
    serial = [jpeg.encode(img, **o) for img, o in zip(images, opts)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda a: jpeg.encode(a[0], **a[1]), zip(images, opts)))
        decoded = list(pool.map(jpeg.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, jpeg.decode(b)) for d, b in zip(decoded, serial))


moz = oc.get_codec("mozjpeg")
# MozJPEG is in no Debian release: every build has it but one made with
# -Dupstream-libs=never (and under -Dall-codecs the build fails without it).
needs_mozjpeg = pytest.mark.skipif(not moz.has_native, reason="built with -Dupstream-libs=never")


@needs_mozjpeg
@pytest.mark.parametrize("image", [RGB, GREY], ids=["rgb", "grey"])
@pytest.mark.parametrize("quality", [60, 85, 95])
def test_mozjpeg_decoders_agree_both_ways(image, quality):
    blob = moz.encode(image, quality=quality)
    ours = moz.decode(blob)
    assert ours.shape == image.shape and psnr(ours, image) > 30
    assert np.array_equal(ours, imagecodecs.jpeg8_decode(blob))
    assert np.array_equal(ours, pil_decode(blob))
    theirs = imagecodecs.jpeg8_encode(image, level=quality)
    assert np.array_equal(moz.decode(theirs), imagecodecs.jpeg8_decode(theirs))


@needs_mozjpeg
def test_mozjpeg_writes_smaller_files_than_libjpeg_turbo_at_the_same_quality():
    for image in (RGB, GREY):
        assert len(moz.encode(image, quality=85)) < 0.8 * len(jpeg.encode(image, quality=85))


@needs_mozjpeg
def test_mozjpeg_and_libjpeg_turbo_share_one_process_and_never_jpeg_dispatch():
    # Both libraries export the same tj* names: each module keeps its own private.
    a, b = moz.encode(RGB, quality=85), jpeg.encode(RGB, quality=85)
    assert a != b
    assert np.array_equal(jpeg.decode(a), moz.decode(a)) and np.array_equal(jpeg.decode(b), moz.decode(b))
    # It never takes JPEG bytes or the .jpg extension from jpeg.
    assert oc.codec_for_bytes(a) is jpeg
    assert oc.codec_for_path("x.jpg") is jpeg
