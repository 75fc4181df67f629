"""avif against imagecodecs and Pillow, both ways; bit depths, options, out=, bad input, threads."""

import io
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import Image, ImageCms, features

import opencodecs as oc
from hostile import check_decoders

avif = oc.get_codec("avif")
rng = np.random.default_rng(11)
LOSSY_PSNR_FLOOR = 32.0  # dB, quality 75 on a smooth image with noise


def photo(h, w, channels=3, dtype=np.uint8, top=255):
    """Smooth gradients with sensor noise, scaled to 0..top; alpha (with zeros) as channel 4."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = [x / w * 0.8 + 0.1, y / h * 0.8 + 0.1, (x + y) / (h + w) * 0.5 + 0.3, (x * y) % 256 / 255]
    img = np.stack(planes[:channels], -1) + rng.normal(0, 0.015, (h, w, channels))
    img = np.clip(img * top, 0, top).round().astype(dtype)
    return img[..., 0] if channels == 1 else img


def psnr(a, b, top=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(top ** 2 / mse)


IMG = photo(64, 96)
RGBA = photo(64, 96, 4)
GREY = photo(64, 96, 1)
U12 = photo(64, 96, 3, np.uint16, 4095)
U10_GREY = photo(64, 96, 1, np.uint16, 1023)


@pytest.mark.parametrize("img, opts", [(IMG, {}), (RGBA, {}), (GREY, {}), (U12, {}),
                                       (U10_GREY, {"bitdepth": 10}), (photo(1, 1), {}),
                                       (photo(33, 17, 4, np.uint16, 1023), {"bitdepth": 10})],
                         ids=["rgb", "rgba", "grey", "rgb12", "grey10", "1x1", "odd rgba10"])
def test_lossless_round_trip_and_parity_both_ways(img, opts):
    blob = avif.encode(img, lossless=True, speed=8, **opts)
    assert np.array_equal(avif.decode(blob), img)
    assert np.array_equal(imagecodecs.avif_decode(blob), img)
    depth = opts.get("bitdepth", 8 if img.dtype == np.uint8 else 12)
    theirs = imagecodecs.avif_encode(img, level=100, speed=8, bitspersample=depth)
    assert np.array_equal(avif.decode(theirs), img)


@pytest.mark.parametrize("img, top", [(IMG, 255), (RGBA, 255), (GREY, 255), (U12, 4095)],
                         ids=["rgb", "rgba", "grey", "rgb12"])
def test_lossy_psnr_and_decoders_agree_both_ways(img, top):
    blob = avif.encode(img, quality=75, speed=8)
    ours = avif.decode(blob)
    assert ours.shape == img.shape and ours.dtype == img.dtype
    assert psnr(ours, img, top) > LOSSY_PSNR_FLOOR
    assert np.array_equal(imagecodecs.avif_decode(blob), ours)
    if img.ndim == 3:
        assert np.array_equal(ours[..., 3], img[..., 3]) if img.shape[2] == 4 else True  # exact alpha
    theirs = imagecodecs.avif_encode(img, level=75, speed=8, bitspersample=8 if top == 255 else 12)
    assert np.array_equal(avif.decode(theirs), imagecodecs.avif_decode(theirs))
    assert psnr(avif.decode(theirs), img, top) > LOSSY_PSNR_FLOOR


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_pillow_both_ways():
    blob = avif.encode(RGBA, quality=80, speed=8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(blob))), avif.decode(blob))
    f = io.BytesIO()
    Image.fromarray(IMG).save(f, "AVIF", quality=80, speed=8)
    theirs = f.getvalue()
    assert oc.codec_for_bytes(theirs) is avif
    assert np.array_equal(avif.decode(theirs), np.asarray(Image.open(io.BytesIO(theirs))))
    assert psnr(avif.decode(theirs), IMG) > LOSSY_PSNR_FLOOR


def test_quality_maps_to_libavif_quantizers():
    from opencodecs.codecs.images.avif import quality_to_quantizer
    assert [quality_to_quantizer(q) for q in (0, 50, 75, 100)] == [63, 32, 16, 0]
    low, high = avif.encode(IMG, quality=20, speed=8), avif.encode(IMG, quality=95, speed=8)
    assert len(low) < len(high)
    assert psnr(avif.decode(low), IMG) < psnr(avif.decode(high), IMG)


@pytest.mark.parametrize("img, opts", [(IMG, {"quality": 101}), (IMG, {"speed": 11}),
                                       (IMG, {"speed": -1}), (IMG, {"bitdepth": 10}),
                                       (U12, {"bitdepth": 16}), (U12, {"bitdepth": 10}),
                                       (photo(8, 8, 3, np.uint16, 65535), {}),
                                       (IMG.astype(np.float32), {}), (IMG[..., :2], {}),
                                       (np.zeros((0, 5, 3), np.uint8), {})],
                         ids=["quality", "speed high", "speed low", "8-bit depth", "16-bit depth",
                              "values over 10 bits", "values over 12 bits", "float", "2 channels", "empty"])
def test_invalid_options_and_layouts_raise(img, opts):
    with pytest.raises(oc.EncodeError):
        avif.encode(img, **opts)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        avif.encode(IMG, level=3)
    with pytest.raises(TypeError):
        avif.decode(avif.encode(IMG, speed=10), quality=3)


def test_large_image_round_trip():
    big = np.zeros((4096, 5600, 3), np.uint8)  # 65.6 MiB, cheap to compress
    big[..., 0] = np.arange(5600) % 256
    big[..., 1] = (np.arange(4096) % 256)[:, None]
    assert big.nbytes > 64 << 20
    blob = avif.encode(big, quality=10, speed=10)
    assert np.array_equal(avif.decode(blob), imagecodecs.avif_decode(blob))


@pytest.mark.parametrize("make_out", [lambda: np.empty_like(U12), lambda: bytearray(U12.nbytes),
                                      lambda: np.empty(U12.size, np.uint16)])
def test_decode_into_out(make_out):
    blob = avif.encode(U12, lossless=True, speed=10)
    out = make_out()
    assert avif.decode(blob, out=out) is out
    assert bytes(memoryview(out).cast("B")) == U12.tobytes()


@pytest.mark.parametrize("out", [np.empty((64, 96, 4), np.uint16), bytearray(U12.nbytes - 1),
                                 np.empty((64, 192, 3), np.uint16)[:, ::2]])
def test_decode_into_wrong_out_raises(out):
    with pytest.raises(oc.DecodeError):
        avif.decode(avif.encode(U12, lossless=True, speed=10), out=out)


def test_encode_into_buffer():
    dest = bytearray(IMG.nbytes)
    view = avif.encode(IMG, dest=dest, speed=10)
    assert np.array_equal(avif.decode(view), avif.decode(avif.encode(IMG, speed=10)))
    with pytest.raises(oc.EncodeError):
        avif.encode(IMG, dest=bytearray(10), speed=10)


def test_write_read_and_detection(tmp_path):
    path = tmp_path / "x.avif"
    oc.write(path, RGBA, lossless=True, speed=10)
    assert np.array_equal(oc.read(path), RGBA)
    assert oc.codec_for_bytes(path.read_bytes()) is avif


def _with_ispe(blob, width, height):
    """`blob` with its image spatial extents box claiming width x height."""
    i = blob.index(b"ispe") + 8
    return blob[:i] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + blob[i + 8:]


def test_hostile_input():
    valid = avif.encode(RGBA, quality=60, speed=10)
    lies = [("ispe 2^31 square", _with_ispe(valid, 1 << 31, 1 << 31)),
            ("ispe 100000 square", _with_ispe(valid, 100_000, 100_000))]
    # A smaller extent than the AV1 frame is decoded as that crop by libavif: no failure.
    check_decoders("avif", valid, extra=lies + [("ispe 1x1", _with_ispe(valid, 1, 1))],
                   must_fail=("empty", "one byte", "truncated to 16") + tuple(c[0] for c in lies))


def test_threads_give_identical_results():
    items = [photo(32 + i, 48, 3 + i % 2) for i in range(12)]
    serial = [avif.encode(x, quality=70, speed=9, numthreads=1) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: avif.encode(x, quality=70, speed=9, numthreads=1), items))
        decoded = list(pool.map(avif.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, avif.decode(b, numthreads=1)) for d, b in zip(decoded, serial))


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_icc_profile_both_ways():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    blob = avif.encode(RGBA, icc=icc, lossless=True, speed=10)
    assert avif.open(blob).icc == icc
    assert Image.open(io.BytesIO(blob)).info["icc_profile"] == icc
    assert np.array_equal(avif.decode(blob), RGBA)
    f = io.BytesIO()
    Image.fromarray(IMG).save(f, "AVIF", icc_profile=icc, speed=10)
    assert avif.open(f.getvalue()).icc == icc
    assert avif.open(avif.encode(IMG, speed=10)).icc is None
    with pytest.raises(oc.EncodeError):
        avif.encode(IMG, icc=b"")
