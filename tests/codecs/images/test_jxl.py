"""jxl against imagecodecs (libjxl 0.11), both ways: stills over layouts and dtypes,
animations (frames, durations, random access), Exif/XMP boxes; options, out=,
bad input, threads."""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import ImageCms

import opencodecs as oc
from hostile import check_decoders
from opencodecs.codecs.images.jxl import distance_from_quality

jxl = oc.get_codec("jxl")
rng = np.random.default_rng(17)
LOSSY_PSNR_FLOOR = 34.0  # dB, distance 1.0 on a smooth 8-bit image with noise


def photo(h, w, channels=3, dtype=np.uint8):
    """Smooth gradients with sensor noise in the dtype's range (0..1 for floats)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = [x / w * 0.8 + 0.1, y / h * 0.8 + 0.1, (x + y) / (h + w) * 0.5 + 0.3, (x * y) % 256 / 255]
    img = np.clip(np.stack(planes[:channels], -1) + rng.normal(0, 0.015, (h, w, channels)), 0, 1)
    if np.dtype(dtype).kind == "u":
        img = (img * np.iinfo(dtype).max).round()
    img = img.astype(dtype)
    return img[..., 0] if channels == 1 else img


def psnr(a, b, top=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(top ** 2 / mse)


IMG = photo(64, 96)
DTYPES = [np.uint8, np.uint16, np.float16, np.float32]


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_lossless_round_trip_and_parity_both_ways(channels, dtype):
    img = photo(40, 56, channels, dtype)
    blob = jxl.encode(img, lossless=True, effort=3)
    ours = jxl.decode(blob)
    assert ours.dtype == img.dtype and np.array_equal(ours, img)
    assert np.array_equal(imagecodecs.jpegxl_decode(blob), img)
    theirs = imagecodecs.jpegxl_encode(img, lossless=True, effort=3)
    assert np.array_equal(jxl.decode(theirs), img)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (3, 517, 4), (263, 7)])
def test_odd_sizes(shape):
    img = photo(shape[0], shape[1], shape[2] if len(shape) == 3 else 1)
    assert np.array_equal(jxl.decode(jxl.encode(img, lossless=True)), img)


def test_lossy_psnr_and_decoders_agree_both_ways():
    blob = jxl.encode(IMG)  # distance 1.0
    ours = jxl.decode(blob)
    assert psnr(ours, IMG) > LOSSY_PSNR_FLOOR
    # libjxl 0.7 here and 0.11 in imagecodecs render lossy images within one level.
    assert np.abs(imagecodecs.jpegxl_decode(blob).astype(int) - ours).max() <= 1
    theirs = imagecodecs.jpegxl_encode(IMG, distance=1.0, lossless=False)
    assert np.abs(jxl.decode(theirs).astype(int) - imagecodecs.jpegxl_decode(theirs)).max() <= 1
    assert psnr(jxl.decode(theirs), IMG) > LOSSY_PSNR_FLOOR


def test_lossy_float_and_uint16():
    for dtype, top in ((np.float32, 1.0), (np.uint16, 65535.0)):
        img = photo(64, 96, 3, dtype)
        out = jxl.decode(jxl.encode(img, distance=0.5))
        assert out.dtype == img.dtype and psnr(out, img, top) > LOSSY_PSNR_FLOOR


def test_quality_uses_libjxl_mapping():
    assert distance_from_quality(100) == 0.0
    assert distance_from_quality(90) == pytest.approx(1.0)
    assert distance_from_quality(30) == pytest.approx(6.4)
    assert distance_from_quality(0) == 25.0
    assert np.array_equal(jxl.decode(jxl.encode(IMG, quality=100)), IMG)  # 100 is lossless
    assert jxl.encode(IMG, quality=90) == jxl.encode(IMG, distance=1.0)
    assert jxl.encode(IMG, quality=0) == jxl.encode(IMG, distance=15)  # clamped to libjxl 0.7's 15
    low, high = jxl.encode(IMG, quality=40), jxl.encode(IMG, quality=95)
    assert len(low) < len(high) and psnr(jxl.decode(low), IMG) < psnr(jxl.decode(high), IMG)


def test_distance_zero_is_lossless_and_effort_changes_size():
    assert np.array_equal(jxl.decode(jxl.encode(IMG, distance=0)), IMG)
    sizes = {e: len(jxl.encode(IMG, lossless=True, effort=e)) for e in (1, 9)}
    assert sizes[9] < sizes[1]


@pytest.mark.parametrize("opts", [{"effort": 0}, {"effort": 10}, {"distance": 16}, {"distance": -1},
                                  {"distance": "1"}, {"quality": 101}, {"quality": 90, "distance": 1.0},
                                  {"lossless": True, "quality": 90}, {"durations": [10, 20]},
                                  {"durations": -5}, {"durations": float("nan")}, {"durations": "fast"}])
def test_invalid_options_raise(opts):
    with pytest.raises(oc.EncodeError):
        jxl.encode(np.stack([IMG] * 3), **opts) if "durations" in opts else jxl.encode(IMG, **opts)


@pytest.mark.parametrize("bad", [IMG.astype(np.int16), IMG.astype(np.float64), np.zeros((4, 4, 5), np.uint8),
                                 np.zeros((0, 4), np.uint8), np.zeros((2, 2, 2, 2, 3), np.uint8)],
                         ids=["int16", "float64", "5 channels", "empty", "5-d"])
def test_unsupported_layouts_raise(bad):
    with pytest.raises(oc.EncodeError):
        jxl.encode(bad)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        jxl.encode(IMG, level=3)
    with pytest.raises(TypeError):
        jxl.decode(jxl.encode(IMG), quality=3)


ANIM = np.stack([photo(48, 64, 3) for _ in range(7)])


def test_animation_frames_durations_and_random_access():
    durations = [10, 20, 30, 40, 50, 60, 1000]
    blob = jxl.encode(ANIM, lossless=True, durations=durations, effort=2)
    assert np.array_equal(jxl.decode(blob), ANIM)
    assert np.array_equal(imagecodecs.jpegxl_decode(blob), ANIM)
    with jxl.open(blob) as r:
        assert r.n_frames == 7 and r.shape == ANIM.shape and r.dtype == np.uint8
        assert r.durations == tuple(map(float, durations))
        assert np.array_equal(r[5], ANIM[5]) and np.array_equal(r[-1], ANIM[-1])
        assert np.array_equal(r[2:6], ANIM[2:6]) and np.array_equal(r[::3], ANIM[::3])
        assert all(np.array_equal(a, b) for a, b in zip(r, ANIM))
        assert np.array_equal(r.read(), ANIM)
        with pytest.raises(IndexError):
            r[7]


def test_animation_from_imagecodecs():
    theirs = imagecodecs.jpegxl_encode(ANIM, lossless=True, effort=2)
    assert np.array_equal(jxl.decode(theirs), ANIM)
    r = jxl.open(theirs)
    assert r.durations == (100.0,) * 7  # imagecodecs: 10 ticks per second, one tick per frame
    assert np.array_equal(r[3], ANIM[3])


def test_grey_animation_needs_the_flag():
    frames = ANIM[..., 0].copy()  # (7, 48, 64): an RGB-looking shape
    blob = jxl.encode(frames, animation=True, lossless=True, numthreads=1)
    assert jxl.decode(blob).shape == frames.shape and jxl.open(blob).durations == (100.0,) * 7
    with pytest.raises(oc.EncodeError):
        jxl.encode(frames)  # 48 channels


def test_lossy_animation_parallel_and_serial_decode_agree():
    blob = jxl.encode(ANIM, durations=40)
    together = jxl.decode(blob, numthreads=1)
    assert np.array_equal(jxl.decode(blob, numthreads=4), together)
    assert all(np.array_equal(jxl.open(blob)[i], together[i]) for i in range(7))
    assert psnr(together, ANIM) > LOSSY_PSNR_FLOOR


def test_still_image_reader():
    r = oc.get_codec("jxl").open(jxl.encode(IMG, lossless=True))
    assert r.n_frames == 1 and r.shape == (1,) + IMG.shape and r.durations == (0.0,)
    assert np.array_equal(r[0], IMG) and np.array_equal(r.read(), IMG[None])
    assert r.exif is None and r.xmp is None


def test_exif_and_xmp_boxes():
    exif = b"II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    blob = jxl.encode(IMG, lossless=True, exif=exif, xmp=xmp)
    assert blob[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n"
    r = jxl.open(blob)
    assert r.exif == exif and r.xmp == xmp.encode()
    assert np.array_equal(r[0], IMG) and np.array_equal(imagecodecs.jpegxl_decode(blob), IMG)
    assert jxl.open(jxl.encode(IMG, xmp=b"<x/>")).exif is None


def test_fewer_bits_than_the_dtype_decode_to_their_own_values():
    img = rng.integers(0, 4096, (32, 48), dtype=np.uint16)
    theirs = imagecodecs.jpegxl_encode(img, lossless=True, bitspersample=12)
    assert np.array_equal(jxl.decode(theirs), img)


def test_large_image_round_trip():
    big = np.zeros((4096, 5600, 3), np.uint8)  # 65.6 MiB, cheap to compress
    big[..., 0] = np.arange(5600) % 256
    big[..., 1] = (np.arange(4096) % 256)[:, None]
    assert big.nbytes > 64 << 20
    assert np.array_equal(jxl.decode(jxl.encode(big, lossless=True, effort=1)), big)


@pytest.mark.parametrize("make_out", [lambda a: np.empty_like(a), lambda a: bytearray(a.nbytes),
                                      lambda a: np.empty(a.size, a.dtype)])
def test_decode_into_out(make_out):
    for img in (photo(32, 48, 4, np.uint16), ANIM):
        blob = jxl.encode(img, lossless=True, effort=1)
        out = make_out(img)
        assert jxl.decode(blob, out=out) is out
        assert bytes(memoryview(out).cast("B")) == img.tobytes()


@pytest.mark.parametrize("out", [np.empty((64, 96, 4), np.uint8), bytearray(IMG.nbytes + 1),
                                 np.empty((64, 192, 3), np.uint8)[:, ::2], bytes(IMG.nbytes)])
def test_decode_into_wrong_out_raises(out):
    with pytest.raises(oc.DecodeError):
        jxl.decode(jxl.encode(IMG, lossless=True), out=out)


def test_encode_into_buffer():
    dest = bytearray(IMG.nbytes)
    view = jxl.encode(IMG, dest=dest, lossless=True)
    assert np.array_equal(jxl.decode(view), IMG)
    with pytest.raises(oc.EncodeError):
        jxl.encode(IMG, dest=bytearray(10))


def test_write_read_open_and_detection(tmp_path):
    path = tmp_path / "x.jxl"
    oc.write(path, ANIM, lossless=True, durations=25)
    assert np.array_equal(oc.read(path), ANIM)
    with oc.open(path) as r:
        assert r.durations == (25.0,) * 7 and np.array_equal(r[6], ANIM[6])
    assert oc.codec_for_bytes(path.read_bytes()) is jxl
    assert oc.codec_for_bytes(jxl.encode(IMG, xmp=b"<x/>")) is jxl


def _bits(fields) -> bytes:
    """Pack (value, nbits) fields least significant bit first, as JPEG XL headers are read."""
    acc = n = 0
    for value, nbits in fields:
        acc |= value << n
        n += nbits
    return acc.to_bytes((n + 7) // 8, "little")


def _codestream_header(width, height):
    """A bare codestream: signature, a size header of width x height, default metadata."""
    return b"\xff\x0a" + _bits([(0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30),
                                (1, 1)])


def test_hostile_input():
    lies = [("2^30 square codestream", _codestream_header(1 << 30, 1 << 30)),
            ("2^30 x 16 codestream", _codestream_header(1 << 30, 16) + bytes(64))]
    for valid in (jxl.encode(IMG, lossless=True), jxl.encode(IMG),
                  jxl.encode(ANIM[:3], lossless=True, durations=5, exif=b"II*\0\x08\0\0\0")):
        check_decoders("jxl", valid, extra=lies,
                       must_fail=("empty", "one byte", "truncated to 16") + tuple(c[0] for c in lies))


def test_threads_give_identical_results():
    items = [photo(32 + i, 48, 1 + i % 4) for i in range(16)]
    serial = [jxl.encode(x, distance=1.5, numthreads=1) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: jxl.encode(x, distance=1.5, numthreads=1), items))
        decoded = list(pool.map(jxl.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, jxl.decode(b, numthreads=1)) for d, b in zip(decoded, serial))


def test_icc_profile():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    blob = jxl.encode(IMG, icc=icc, lossless=True)
    assert jxl.open(blob).icc == icc
    assert np.array_equal(jxl.decode(blob), IMG) and np.array_equal(imagecodecs.jpegxl_decode(blob), IMG)
    assert jxl.open(jxl.encode(IMG)).icc is None  # a named colour space (sRGB), no profile
    with pytest.raises(oc.EncodeError):
        jxl.encode(IMG, icc=b"")
    with pytest.raises(oc.EncodeError):
        jxl.encode(IMG, icc=b"not an ICC profile")
