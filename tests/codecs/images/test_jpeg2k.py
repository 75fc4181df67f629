"""jpeg2k (OpenJPEG) against imagecodecs and Pillow, both directions; bad input; threads."""

import io
import re
import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import Image

import opencodecs as oc
from hostile import check_decoders

jpeg2k = oc.get_codec("jpeg2k")
rng = np.random.default_rng(7)


def image(shape, dtype):
    """Smooth gradients plus noise, over most of the dtype's range."""
    info = np.iinfo(dtype)
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 9.0) + np.cos(y / 13.0)) / 4 + 0.5
    if len(shape) == 3:
        base = base[..., None] * np.linspace(0.6, 1.0, shape[2])
    span = float(info.max) - float(info.min)
    values = info.min + span * (0.1 + 0.8 * base) + rng.normal(0, span / 200, shape)
    return np.clip(values, info.min, info.max).astype(dtype)


def psnr(a, b, peak):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def without_version(blob: bytes) -> bytes:
    """The codestream minus OpenJPEG's 'Created by OpenJPEG version x.y.z' comment."""
    return re.sub(rb"Created by OpenJPEG version [0-9.]+", b"", blob)


RGB8 = image((96, 80, 3), np.uint8)
GREY16 = image((96, 80), np.uint16)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("codec", ["jp2", "j2k"])
def test_lossless_round_trip(dtype, channels, codec):
    data = image((37, 53) if channels == 1 else (37, 53, channels), dtype)
    blob = jpeg2k.encode(data, codec=codec)
    decoded = jpeg2k.decode(blob)
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (2, 2), (5, 3), (33, 31), (64, 1)])
def test_tiny_and_thin_images(shape):
    data = image(shape, np.uint8)
    np.testing.assert_array_equal(jpeg2k.decode(jpeg2k.encode(data)), data)


@pytest.mark.parametrize("quality, floor_db", [(60, 32), (75, 40), (90, 47)])
def test_lossy_quality_floor(quality, floor_db):
    # quality maps to a PSNR target of quality% of (6.02 * 8 + 10.79) dB for 8-bit
    blob = jpeg2k.encode(RGB8, quality=quality)
    assert psnr(jpeg2k.decode(blob), RGB8, 255) >= floor_db
    assert len(blob) < len(jpeg2k.encode(RGB8))


def test_lossy_quality_orders_sizes_and_16_bit_error():
    sizes = [len(jpeg2k.encode(RGB8, quality=q)) for q in (30, 60, 90)]
    assert sizes == sorted(sizes)
    decoded = jpeg2k.decode(jpeg2k.encode(GREY16, quality=75))
    assert psnr(decoded, GREY16, 65535) >= 75  # 16-bit target at 75: 80 dB
    assert jpeg2k.encode(RGB8, quality=70, lossless=False) == jpeg2k.encode(RGB8, quality=70)
    assert jpeg2k.encode(RGB8, lossless=False) == jpeg2k.encode(RGB8, quality=75)


@pytest.mark.parametrize("data", [RGB8, GREY16, RGB8[..., 0]], ids=["rgb8", "grey16", "grey8"])
@pytest.mark.parametrize("codec", ["jp2", "j2k"])
def test_lossless_parity_with_imagecodecs(data, codec):
    ours = jpeg2k.encode(data, codec=codec)
    theirs = imagecodecs.jpeg2k_encode(data, codecformat=codec.upper())
    # Same library, same settings: identical bytes but for the version comment.
    assert without_version(ours) == without_version(theirs)
    np.testing.assert_array_equal(imagecodecs.jpeg2k_decode(ours), data)
    np.testing.assert_array_equal(jpeg2k.decode(theirs), data)


@pytest.mark.parametrize("data", [RGB8, GREY16], ids=["rgb8", "grey16"])
def test_lossy_parity_with_imagecodecs(data):
    # OpenJPEG 2.5.0 (ours) and 2.5.4 (imagecodecs) may round the 9/7 wavelet apart by one
    for blob in (jpeg2k.encode(data, quality=70), imagecodecs.jpeg2k_encode(data, level=40)):
        ours = jpeg2k.decode(blob).astype(np.int64)
        assert np.abs(ours - imagecodecs.jpeg2k_decode(blob)).max() <= 1


def test_rgba_and_grey_alpha_parity_with_imagecodecs():
    for data in (image((40, 30, 4), np.uint8), image((40, 30, 2), np.uint16)):
        np.testing.assert_array_equal(imagecodecs.jpeg2k_decode(jpeg2k.encode(data)), data)
        np.testing.assert_array_equal(jpeg2k.decode(imagecodecs.jpeg2k_encode(data)), data)


@pytest.mark.parametrize("data", [RGB8, GREY16, RGB8[..., 0], image((40, 30, 4), np.uint8)],
                         ids=["rgb8", "grey16", "grey8", "rgba8"])
def test_parity_with_pillow(data):
    buf = io.BytesIO()
    Image.fromarray(data).save(buf, "JPEG2000", irreversible=False)
    np.testing.assert_array_equal(jpeg2k.decode(buf.getvalue()), data)
    for codec in ("jp2", "j2k"):
        with Image.open(io.BytesIO(jpeg2k.encode(data, codec=codec))) as im:
            np.testing.assert_array_equal(np.asarray(im), data)


def test_pillow_lossy_decodes_like_pillow():
    buf = io.BytesIO()
    Image.fromarray(RGB8).save(buf, "JPEG2000", irreversible=True, quality_mode="dB",
                               quality_layers=[38], num_resolutions=4)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        np.testing.assert_array_equal(jpeg2k.decode(buf.getvalue()), np.asarray(im))


def test_codec_option_and_detection():
    jp2, j2k = jpeg2k.encode(RGB8), jpeg2k.encode(RGB8, codec="j2k")
    assert jp2[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    assert j2k[:4] == b"\xff\x4f\xff\x51"
    assert oc.codec_for_bytes(jp2) is jpeg2k
    assert oc.codec_for_bytes(j2k) is jpeg2k
    with pytest.raises(oc.EncodeError):
        jpeg2k.encode(RGB8, codec="jpx")


@pytest.mark.parametrize("ext, head", [(".jp2", b"\x00\x00\x00\x0cjP"), (".j2k", b"\xff\x4f"),
                                       (".jpc", b"\xff\x4f"), (".jpx", b"\x00\x00\x00\x0cjP")])
def test_write_and_read_files(tmp_path, ext, head):
    path = tmp_path / f"x{ext}"
    oc.write(path, GREY16)
    assert path.read_bytes()[:len(head)] == head
    np.testing.assert_array_equal(oc.read(path), GREY16)
    np.testing.assert_array_equal(oc.read(path.read_bytes()), GREY16)


@pytest.mark.parametrize("make_out", [lambda: np.empty(RGB8.shape, RGB8.dtype),
                                      lambda: bytearray(RGB8.nbytes),
                                      lambda: np.empty(RGB8.nbytes, np.uint8)])
def test_decode_into_out(make_out):
    out = make_out()
    assert jpeg2k.decode(jpeg2k.encode(RGB8), out=out) is out
    assert bytes(memoryview(out).cast("B")) == RGB8.tobytes()


@pytest.mark.parametrize("delta", [-1, 1])
def test_decode_into_wrong_size_out_raises(delta):
    with pytest.raises(oc.DecodeError):
        jpeg2k.decode(jpeg2k.encode(RGB8), out=bytearray(RGB8.nbytes + delta))


def test_decode_into_read_only_or_strided_out_raises():
    blob = jpeg2k.encode(RGB8)
    for out in (bytes(RGB8.nbytes), np.empty((RGB8.shape[0], RGB8.shape[1] * 2, 3), np.uint8)[:, ::2]):
        with pytest.raises(oc.DecodeError, match="jpeg2k: "):
            jpeg2k.decode(blob, out=out)


def test_encode_into_buffer():
    expected = jpeg2k.encode(GREY16)
    dest = bytearray(len(expected) + 100)
    view = jpeg2k.encode(GREY16, dest=dest)
    assert bytes(view) == expected
    with pytest.raises(oc.EncodeError):
        jpeg2k.encode(GREY16, dest=bytearray(len(expected) - 1))


def test_invalid_options():
    for quality in (-1, 101, 50.5, "90", True):
        with pytest.raises(oc.EncodeError):
            jpeg2k.encode(RGB8, quality=quality)
    with pytest.raises(oc.EncodeError):
        jpeg2k.encode(RGB8, quality=80, lossless=True)
    for bad in (RGB8.astype(np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8),
                np.zeros((2, 3, 4, 3), np.uint8)):
        with pytest.raises(oc.EncodeError):
            jpeg2k.encode(bad)
    with pytest.raises(TypeError):
        jpeg2k.encode(RGB8, level=5)
    with pytest.raises(TypeError):
        jpeg2k.decode(jpeg2k.encode(RGB8), quality=5)


def test_multithreaded_decode_matches_single_threaded():
    data = image((600, 520, 3), np.uint8)
    blob = jpeg2k.encode(data, quality=80, numthreads=2)
    assert blob == jpeg2k.encode(data, quality=80, numthreads=1)
    np.testing.assert_array_equal(jpeg2k.decode(blob, numthreads=2), jpeg2k.decode(blob, numthreads=1))


def test_image_over_64_mib():
    ramp = np.add.outer(np.arange(4352, dtype=np.uint16), np.arange(8192, dtype=np.uint16) // 64)
    assert ramp.nbytes > 64 << 20
    blob = jpeg2k.encode(ramp, codec="j2k")
    np.testing.assert_array_equal(jpeg2k.decode(blob), ramp)


def test_htj2k_codestreams_decode():
    # OpenJPEG 2.5 reads HTJ2K (Part 15) codestreams too.
    blob = imagecodecs.htj2k_encode(GREY16)
    np.testing.assert_array_equal(jpeg2k.decode(blob), GREY16)


def _patched(blob, offset, fmt, *values):
    patched = bytearray(blob)
    struct.pack_into(fmt, patched, offset, *values)
    return bytes(patched)


def test_unsupported_layouts_raise():
    j2k = jpeg2k.encode(RGB8[:8, :8], codec="j2k")
    subsampled = _patched(j2k, 42 + 3 + 1, ">BB", 2, 2)  # second component 2x2 subsampled
    deep = _patched(j2k, 42, ">B", 23)  # 24-bit first component
    for blob in (subsampled, deep):
        with pytest.raises(oc.DecodeError, match="jpeg2k: "):
            jpeg2k.decode(blob)


def test_hostile_input():
    small = image((24, 20, 3), np.uint8)
    j2k = jpeg2k.encode(small, codec="j2k")
    # SIZ: Xsiz at 8, Ysiz at 12, XTsiz at 24, YTsiz at 28, Csiz at 40
    extra = [
        ("huge dimensions", _patched(j2k, 8, ">II", 0xFFFFFFF0, 0xFFFFFFF0)),
        ("60000 squared", _patched(j2k, 8, ">II", 60000, 60000)),
        ("a million tiles", _patched(_patched(j2k, 8, ">II", 1000, 1000), 24, ">II", 1, 1)),
        ("16384 components", _patched(j2k, 40, ">H", 16384)),
        ("jp2 box past the end", _patched(jpeg2k.encode(small), 32, ">I", 0x7FFFFFFF)),
    ]
    check_decoders("jpeg2k", j2k, extra=extra,
                   must_fail=("empty", "one byte", "truncated to 16", "huge dimensions",
                              "60000 squared", "a million tiles", "16384 components",
                              "jp2 box past the end"))
    check_decoders("jpeg2k", jpeg2k.encode(small, quality=60))


def test_threads_give_identical_results():
    items = [RGB8, GREY16, RGB8[..., 0], image((50, 40, 4), np.uint8)] * 4
    options = [{}, {"quality": 80}]
    serial = [jpeg2k.encode(x, numthreads=1, **o) for x in items for o in options]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda a: jpeg2k.encode(a[0], numthreads=1, **a[1]),
                                 [(x, o) for x in items for o in options]))
        decoded = list(pool.map(jpeg2k.decode, serial))
    assert parallel == serial
    for blob, result in zip(serial, decoded):
        np.testing.assert_array_equal(result, jpeg2k.decode(blob))
