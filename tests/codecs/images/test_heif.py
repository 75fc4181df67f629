"""heif against pillow-heif (imagecodecs' wheel has no HEIF), both ways; bit depths,
options, out=, bad input, threads."""

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pillow_heif
import pytest
from PIL import ImageCms

import opencodecs as oc
from hostile import check_decoders

heif = oc.get_codec("heif")
rng = np.random.default_rng(13)
LOSSY_PSNR_FLOOR = 32.0  # dB, quality 75 (YUV 4:2:0) on a smooth image with noise


def photo(h, w, channels=3, dtype=np.uint8, top=255):
    """Smooth gradients with sensor noise, scaled to 0..top; alpha (with zeros) as channel 4."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = [x / w * 0.8 + 0.1, y / h * 0.8 + 0.1, (x + y) / (h + w) * 0.5 + 0.3, (x * y) % 256 / 255]
    img = np.stack(planes[:channels], -1) + rng.normal(0, 0.015, (h, w, channels))
    return np.clip(img * top, 0, top).round().astype(dtype)


def psnr(a, b, top=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(top ** 2 / mse)


def ref_decode(blob):
    """pillow-heif's decode, deep images at their own bit depth (it scales them to 16 bits)."""
    image = pillow_heif.open_heif(blob, convert_hdr_to_8bit=False)
    arr = np.asarray(image)
    return arr >> (16 - image.info["bit_depth"]) if arr.dtype == np.uint16 else arr


def ref_encode(img, depth=8, **opts):
    mode = ("RGBA" if img.shape[2] == 4 else "RGB") + (";16" if img.dtype == np.uint16 else "")
    data = (img << (16 - depth)) if img.dtype == np.uint16 else img
    f = io.BytesIO()
    pillow_heif.from_bytes(mode=mode, size=img.shape[1::-1], data=data.tobytes()).save(f, **opts)
    return f.getvalue()


LOSSLESS = {"quality": -1, "chroma": 444, "matrix_coefficients": 0}  # pillow-heif's exact mode
IMG = photo(64, 96)
RGBA = photo(64, 96, 4)
U10 = photo(64, 96, 3, np.uint16, 1023)


@pytest.mark.parametrize("img, depth", [(IMG, 8), (RGBA, 8), (U10, 10), (photo(1, 1), 8),
                                        (photo(33, 17, 4, np.uint16, 4095), 12)],
                         ids=["rgb", "rgba", "rgb10", "1x1", "odd rgba12"])
def test_lossless_round_trip_and_parity_both_ways(img, depth):
    blob = heif.encode(img, lossless=True, bitdepth=None if depth == 8 else depth)
    assert np.array_equal(heif.decode(blob), img)
    assert np.array_equal(ref_decode(blob), img)
    if depth != 12:  # pillow-heif's x265 has no 12-bit build
        assert np.array_equal(heif.decode(ref_encode(img, depth, **LOSSLESS)), img)


@pytest.mark.parametrize("img, top", [(IMG, 255), (RGBA, 255), (U10, 1023)], ids=["rgb", "rgba", "rgb10"])
def test_lossy_psnr_and_decoders_agree_both_ways(img, top):
    blob = heif.encode(img)
    ours = heif.decode(blob)
    assert ours.shape == img.shape and ours.dtype == img.dtype
    assert psnr(ours, img, top) > LOSSY_PSNR_FLOOR
    # libheif 1.15 / libde265 1.0.11 here, 1.23 / 1.1.3 in pillow-heif: rounding may differ by 1.
    assert np.abs(ref_decode(blob).astype(int) - ours).max() <= top // 255
    theirs = ref_encode(img, 8 if top == 255 else 10, quality=75)
    assert np.abs(heif.decode(theirs).astype(int) - ref_decode(theirs)).max() <= top // 255
    assert psnr(heif.decode(theirs), img, top) > LOSSY_PSNR_FLOOR


def test_higher_quality_is_larger_and_closer():
    low, high = heif.encode(IMG, quality=20), heif.encode(IMG, quality=95)
    assert len(low) < len(high)
    assert psnr(heif.decode(low), IMG) < psnr(heif.decode(high), IMG)


@pytest.mark.parametrize("img, opts", [(IMG, {"quality": 101}), (IMG, {"quality": "high"}),
                                       (IMG, {"bitdepth": 10}), (U10, {"bitdepth": 16}),
                                       (photo(8, 8, 3, np.uint16, 4095), {}), (IMG[..., 0], {}),
                                       (IMG.astype(np.float32), {}), (np.zeros((0, 3, 3), np.uint8), {})],
                         ids=["quality", "quality type", "8-bit depth", "16-bit depth",
                              "values over 10 bits", "grey", "float", "empty"])
def test_invalid_options_and_layouts_raise(img, opts):
    with pytest.raises(oc.EncodeError):
        heif.encode(img, **opts)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        heif.encode(IMG, speed=3)
    with pytest.raises(TypeError):
        heif.decode(heif.encode(IMG), quality=3)


def test_large_image_round_trip():
    big = np.zeros((4096, 5600, 3), np.uint8)  # 65.6 MiB, cheap to compress
    big[..., 0] = np.arange(5600) % 256
    big[..., 1] = (np.arange(4096) % 256)[:, None]
    assert big.nbytes > 64 << 20
    blob = heif.encode(big, quality=10)
    assert heif.decode(blob).shape == big.shape


@pytest.mark.parametrize("make_out", [lambda: np.empty_like(U10), lambda: bytearray(U10.nbytes),
                                      lambda: np.empty(U10.size, np.uint16)])
def test_decode_into_out(make_out):
    blob = heif.encode(U10, lossless=True)
    out = make_out()
    assert heif.decode(blob, out=out) is out
    assert bytes(memoryview(out).cast("B")) == U10.tobytes()


@pytest.mark.parametrize("out", [np.empty((64, 96, 4), np.uint16), bytearray(U10.nbytes + 2),
                                 np.empty((64, 192, 3), np.uint16)[:, ::2]])
def test_decode_into_wrong_out_raises(out):
    with pytest.raises(oc.DecodeError):
        heif.decode(heif.encode(U10, lossless=True), out=out)


def test_encode_into_buffer():
    dest = bytearray(IMG.nbytes)
    view = heif.encode(IMG, dest=dest)
    assert np.array_equal(heif.decode(view), heif.decode(heif.encode(IMG)))
    with pytest.raises(oc.EncodeError):
        heif.encode(IMG, dest=bytearray(10))


def test_write_read_and_detection(tmp_path):
    for name in ("x.heic", "x.heif"):
        oc.write(tmp_path / name, RGBA, lossless=True)
        assert np.array_equal(oc.read(tmp_path / name), RGBA)
        assert oc.codec_for_bytes((tmp_path / name).read_bytes()) is heif
    assert oc.codec_for_bytes(oc.get_codec("avif").encode(IMG, speed=10)) is not heif


def _with_ispe(blob, width, height):
    """`blob` with its image spatial extents box claiming width x height."""
    i = blob.index(b"ispe") + 8
    return blob[:i] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + blob[i + 8:]


def test_hostile_input():
    valid = heif.encode(RGBA, quality=60)
    lies = [("ispe 2^31 square", _with_ispe(valid, 1 << 31, 1 << 31)),
            ("ispe 100000 square", _with_ispe(valid, 100_000, 100_000))]
    check_decoders("heif", valid, extra=lies + [("ispe 1x1", _with_ispe(valid, 1, 1))],
                   must_fail=("empty", "one byte", "truncated to 16") + tuple(c[0] for c in lies))


def test_threads_give_identical_results():
    items = [photo(32 + i, 48, 3 + i % 2) for i in range(8)]
    serial = [heif.encode(x, quality=70) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: heif.encode(x, quality=70), items))
        decoded = list(pool.map(heif.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, heif.decode(b)) for d, b in zip(decoded, serial))


def test_icc_profile_both_ways():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    blob = heif.encode(RGBA, icc=icc, lossless=True)
    assert heif.open(blob).icc == icc
    assert pillow_heif.open_heif(blob).info["icc_profile"] == icc
    assert np.array_equal(heif.decode(blob), RGBA)  # the GBR matrix survives next to the profile
    assert heif.open(ref_encode(IMG, icc_profile=icc)).icc == icc
    assert heif.open(heif.encode(IMG)).icc is None
    with pytest.raises(oc.EncodeError):
        heif.encode(IMG, icc=b"")
