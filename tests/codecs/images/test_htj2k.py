"""htj2k (OpenJPH encodes, OpenJPEG decodes) against imagecodecs (OpenJPH 0.26), both
directions; bad input; threads."""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

htj2k = oc.get_codec("htj2k")
rng = np.random.default_rng(11)


def image(shape, dtype):
    """Smooth gradients plus noise, over most of the dtype's range."""
    info = np.iinfo(dtype)
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 7.0) + np.cos(y / 11.0)) / 4 + 0.5
    if len(shape) == 3:
        base = base[..., None] * np.linspace(0.6, 1.0, shape[2])
    span = float(info.max) - float(info.min)
    values = info.min + span * (0.1 + 0.8 * base) + rng.normal(0, span / 200, shape)
    return np.clip(values, info.min, info.max).astype(dtype)


def psnr(a, b, peak):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def imagecodecs_decode(blob, shape):
    decoded = imagecodecs.htj2k_decode(blob)
    # imagecodecs returns components without a colour transform planar: (C, H, W)
    return np.moveaxis(decoded, 0, -1) if decoded.shape != shape else decoded


RGB8 = image((90, 70, 3), np.uint8)
GREY16 = image((90, 70), np.uint16)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_lossless_round_trip(dtype, channels):
    data = image((41, 29) if channels == 1 else (41, 29, channels), dtype)
    decoded = htj2k.decode(htj2k.encode(data))
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (3, 3), (17, 5), (70, 1)])
def test_tiny_and_thin_images(shape):
    data = image(shape, np.uint16)
    np.testing.assert_array_equal(htj2k.decode(htj2k.encode(data)), data)


@pytest.mark.parametrize("quality, floor_db", [(60, 33), (75, 40), (90, 48)])
def test_lossy_quality_floor(quality, floor_db):
    blob = htj2k.encode(RGB8, quality=quality)
    assert psnr(htj2k.decode(blob), RGB8, 255) >= floor_db
    assert len(blob) < len(htj2k.encode(RGB8))


def test_lossy_quality_orders_sizes_and_16_bit_error():
    sizes = [len(htj2k.encode(GREY16, quality=q)) for q in (30, 60, 90)]
    assert sizes == sorted(sizes)
    assert psnr(htj2k.decode(htj2k.encode(GREY16, quality=75)), GREY16, 65535) >= 75
    assert htj2k.encode(RGB8, lossless=False) == htj2k.encode(RGB8, quality=75)


@pytest.mark.parametrize("data", [RGB8, GREY16, RGB8[..., 0], image((40, 30, 4), np.uint8),
                                  image((40, 30, 2), np.uint16), image((40, 30), np.int16)],
                         ids=["rgb8", "grey16", "grey8", "rgba8", "grey-alpha16", "int16"])
def test_lossless_parity_with_imagecodecs(data):
    ours = htj2k.encode(data)
    np.testing.assert_array_equal(imagecodecs_decode(ours, data.shape), data)
    np.testing.assert_array_equal(htj2k.decode(imagecodecs.htj2k_encode(data)), data)


@pytest.mark.parametrize("data", [RGB8, GREY16], ids=["rgb8", "grey16"])
def test_lossy_parity_with_imagecodecs(data):
    # OpenJPEG and OpenJPH round the 9/7 wavelet's output apart by at most one
    for blob in (htj2k.encode(data, quality=70), imagecodecs.htj2k_encode(data, level=0.01)):
        ours = htj2k.decode(blob).astype(np.int64)
        theirs = imagecodecs_decode(blob, data.shape).astype(np.int64)
        assert np.abs(ours - theirs).max() <= 1


def test_image_over_64_mib():
    ramp = np.add.outer(np.arange(4352, dtype=np.uint16), np.arange(8192, dtype=np.uint16) // 64)
    assert ramp.nbytes > 64 << 20
    blob = htj2k.encode(ramp)
    np.testing.assert_array_equal(htj2k.decode(blob), ramp)


def test_classic_jpeg2000_and_jph_decode():
    jpeg2k = oc.get_codec("jpeg2k")
    np.testing.assert_array_equal(htj2k.decode(jpeg2k.encode(RGB8)), RGB8)
    # an HTJ2K codestream in a JP2 file (.jph)
    codestream = htj2k.encode(RGB8)
    boxed = jpeg2k.encode(RGB8)
    start = boxed.index(b"jp2c") + 4
    jph = boxed[:start - 8] + (len(codestream) + 8).to_bytes(4, "big") + b"jp2c" + codestream
    np.testing.assert_array_equal(htj2k.decode(jph), RGB8)


def test_detection_and_files(tmp_path):
    blob = htj2k.encode(GREY16)
    assert oc.codec_for_bytes(blob) is htj2k  # HT bit in Rsiz: more specific than jpeg2k
    assert oc.codec_for_bytes(oc.get_codec("jpeg2k").encode(GREY16, codec="j2k")).name == "jpeg2k"
    path = tmp_path / "x.j2c"
    oc.write(path, GREY16)
    assert path.read_bytes() == blob
    np.testing.assert_array_equal(oc.read(path), GREY16)
    np.testing.assert_array_equal(oc.read(blob), GREY16)


@pytest.mark.parametrize("make_out", [lambda: np.empty(RGB8.shape, RGB8.dtype),
                                      lambda: bytearray(RGB8.nbytes)])
def test_decode_into_out(make_out):
    out = make_out()
    assert htj2k.decode(htj2k.encode(RGB8), out=out) is out
    assert bytes(memoryview(out).cast("B")) == RGB8.tobytes()


@pytest.mark.parametrize("delta", [-1, 1])
def test_decode_into_wrong_size_out_raises(delta):
    with pytest.raises(oc.DecodeError, match="htj2k: "):
        htj2k.decode(htj2k.encode(RGB8), out=bytearray(RGB8.nbytes + delta))


def test_encode_into_buffer():
    expected = htj2k.encode(RGB8, quality=80)
    dest = np.zeros(len(expected) + 10, np.uint8)
    assert bytes(htj2k.encode(RGB8, quality=80, dest=dest)) == expected
    with pytest.raises(oc.EncodeError):
        htj2k.encode(RGB8, quality=80, dest=bytearray(len(expected) - 1))


def test_invalid_options():
    for quality in (-5, 200, 1.5, "x"):
        with pytest.raises(oc.EncodeError):
            htj2k.encode(RGB8, quality=quality)
    with pytest.raises(oc.EncodeError):
        htj2k.encode(RGB8, lossless=True, quality=50)
    for bad in (GREY16.astype(np.float32), np.zeros((3, 3, 6), np.uint8), np.zeros((5,), np.uint8)):
        with pytest.raises(oc.EncodeError):
            htj2k.encode(bad)
    with pytest.raises(TypeError):
        htj2k.encode(RGB8, codec="j2k")
    with pytest.raises(TypeError):
        htj2k.decode(htj2k.encode(RGB8), level=1)


def test_hostile_input():
    small = image((24, 20, 3), np.uint8)
    valid = htj2k.encode(small)
    huge = bytearray(valid)
    huge[8:16] = (0xFFFFFF00).to_bytes(4, "big") * 2  # Xsiz, Ysiz
    check_decoders("htj2k", valid, extra=[("huge dimensions", bytes(huge))],
                   must_fail=("empty", "one byte", "truncated to 16", "huge dimensions"))
    check_decoders("htj2k", htj2k.encode(small, quality=50))


def test_threads_give_identical_results():
    items = [RGB8, GREY16, RGB8[..., 1], image((30, 50, 4), np.uint16)] * 4
    options = [{}, {"quality": 85}]
    work = [(x, o) for x in items for o in options]
    serial = [htj2k.encode(x, **o) for x, o in work]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda a: htj2k.encode(a[0], **a[1]), work))
        decoded = list(pool.map(lambda b: htj2k.decode(b, numthreads=1), serial))
    assert parallel == serial
    for blob, result in zip(serial, decoded):
        np.testing.assert_array_equal(result, htj2k.decode(blob))
