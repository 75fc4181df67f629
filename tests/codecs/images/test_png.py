"""png against imagecodecs and Pillow, both ways; every PNG kind on decode; bad input; threads."""

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import Image

import opencodecs as oc
from hostile import check_decoders

png = oc.get_codec("png")
rng = np.random.default_rng(7)
FILTERS = ("none", "sub", "up", "average", "paeth", "adaptive")


def smooth_image(shape, dtype):
    """Gradients plus noise: every filter has something to predict."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    top = np.iinfo(dtype).max
    base = (x * 7 + y * 3) % (top // 2)
    if len(shape) == 3:
        base = np.stack([base + 50 * k for k in range(shape[2])], -1)
    return (base + rng.integers(0, 9, shape)).clip(0, top).astype(dtype)


def pillow_png(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width, height, depth=8, color_type=2, interlace=0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))


def raw_png(header: bytes, rows: bytes, *extra: bytes) -> bytes:
    """A PNG from already filtered rows, chunks in `extra` after IHDR."""
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


LAYOUTS = [((40, 33), np.uint8), ((40, 33, 2), np.uint8), ((40, 33, 3), np.uint8),
           ((40, 33, 4), np.uint8), ((40, 33), np.uint16), ((40, 33, 2), np.uint16),
           ((40, 33, 3), np.uint16), ((40, 33, 4), np.uint16), ((1, 1), np.uint8), ((1, 1, 3), np.uint16)]


@pytest.mark.parametrize("shape,dtype", LAYOUTS)
@pytest.mark.parametrize("filter", FILTERS)
def test_round_trip_and_parity_with_imagecodecs_both_ways(shape, dtype, filter):
    image = smooth_image(shape, dtype)
    blob = png.encode(image, filter=filter)
    decoded = png.decode(blob)
    assert decoded.dtype == image.dtype and decoded.shape == image.shape
    np.testing.assert_array_equal(decoded, image)
    np.testing.assert_array_equal(imagecodecs.png_decode(blob), image)
    np.testing.assert_array_equal(png.decode(imagecodecs.png_encode(image)), image)


@pytest.mark.parametrize("mode,dtype,channels", [("L", np.uint8, 1), ("LA", np.uint8, 2), ("RGB", np.uint8, 3),
                                                 ("RGBA", np.uint8, 4), ("I;16", np.uint16, 1)])
def test_parity_with_pillow_both_ways(mode, dtype, channels):
    image = smooth_image((37, 50) if channels == 1 else (37, 50, channels), dtype)
    pil = Image.fromarray(image)
    assert pil.mode == mode
    np.testing.assert_array_equal(png.decode(pillow_png(pil)), image)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png.encode(image)))), image)


def pillow_variants():
    grey = smooth_image((29, 41), np.uint8)
    rgb = smooth_image((29, 41, 3), np.uint8)
    return {
        "1-bit": pillow_png(Image.fromarray(grey > 100)),
        "2-bit": pillow_png(Image.fromarray(grey), bits=2),
        "4-bit": pillow_png(Image.fromarray(grey), bits=4),
        "palette": pillow_png(Image.fromarray(rgb).quantize(60)),
        "palette 4-bit": pillow_png(Image.fromarray(rgb).quantize(16), bits=4),
        "palette + tRNS": pillow_png(Image.fromarray(rgb).quantize(60), transparency=5),
        "grey + tRNS": pillow_png(Image.fromarray(grey), transparency=7),
        "RGB + tRNS": pillow_png(Image.fromarray(rgb), transparency=(1, 2, 3)),
        "grey 16 + tRNS": pillow_png(Image.fromarray(grey.astype(np.uint16) * 257), transparency=514),
    }


@pytest.mark.parametrize("kind", list(pillow_variants()))
def test_pillow_variants_decode_as_imagecodecs_does(kind):
    """Palette -> RGB (RGBA with tRNS), 1/2/4-bit grey -> uint8 0-255, tRNS key -> alpha."""
    blob = pillow_variants()[kind]
    ours, reference = png.decode(blob), imagecodecs.png_decode(blob)
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    np.testing.assert_array_equal(ours, reference)
    pil = Image.open(io.BytesIO(blob))
    expected = np.asarray(pil.convert("RGBA" if ours.shape[-1:] == (4,) else "RGB")) if pil.mode == "P" else None
    if kind == "1-bit":
        expected = np.asarray(pil) * np.uint8(255)
    elif kind in ("2-bit", "4-bit"):
        expected = np.asarray(pil)
    if expected is not None:
        np.testing.assert_array_equal(ours, expected)


def adam7_png(image):
    """An interlaced 8-bit RGB or 16-bit grey PNG, passes written with filter None."""
    passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
    rows = b""
    for y0, x0, dy, dx in passes:
        sub = image[y0::dy, x0::dx]
        if sub.size:
            rows += b"".join(b"\0" + row.astype(image.dtype.newbyteorder(">")).tobytes() for row in sub)
    depth, color_type = (16, 0) if image.dtype == np.uint16 else (8, 2)
    return raw_png(ihdr(image.shape[1], image.shape[0], depth, color_type, interlace=1), rows)


@pytest.mark.parametrize("shape,dtype", [((21, 19, 3), np.uint8), ((13, 22), np.uint16)])
def test_adam7_interlaced_decode(shape, dtype):
    image = smooth_image(shape, dtype)
    blob = adam7_png(image)
    np.testing.assert_array_equal(imagecodecs.png_decode(blob), image)  # the test file is right
    decoded = png.decode(blob)
    assert decoded.dtype == image.dtype
    np.testing.assert_array_equal(decoded, image)


def test_big_endian_input_needs_no_swap():
    image = smooth_image((20, 30, 3), np.uint16)
    np.testing.assert_array_equal(png.decode(png.encode(image.astype(">u2"))), image)


def test_icc_profile_both_ways():
    image = smooth_image((16, 16, 3), np.uint8)
    profile = bytes(range(256)) * 20
    ours = png.encode(image, icc=profile)
    assert png.read_icc(ours) == profile
    assert Image.open(io.BytesIO(ours)).info["icc_profile"] == profile
    np.testing.assert_array_equal(png.decode(ours), image)
    theirs = pillow_png(Image.fromarray(image), icc_profile=profile)
    assert png.read_icc(theirs) == profile
    assert png.read_icc(png.encode(image)) is None


def test_levels():
    image = smooth_image((64, 80, 3), np.uint8)
    sizes = []
    for level in range(13):
        blob = png.encode(image, level=level)
        np.testing.assert_array_equal(imagecodecs.png_decode(blob), image)
        sizes.append(len(blob))
    assert sizes[0] > image.nbytes > sizes[12]  # level 0 stores
    for level in (-1, 13, 2.5, "6", True):
        with pytest.raises(oc.EncodeError):
            png.encode(image, level=level)


def test_default_level_files_no_larger_than_imagecodecs_default():
    image = smooth_image((256, 256, 3), np.uint8)
    assert len(png.encode(image)) <= len(imagecodecs.png_encode(image))


def test_bad_options_and_images():
    image = smooth_image((8, 8), np.uint8)
    with pytest.raises(oc.EncodeError):
        png.encode(image, filter="median")
    with pytest.raises(TypeError):
        png.encode(image, quality=90)
    with pytest.raises(TypeError):
        png.decode(png.encode(image), level=3)
    for bad in (image.astype(np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8),
                np.zeros((2, 2, 2, 2), np.uint8)):
        with pytest.raises(oc.EncodeError):
            png.encode(bad)


def test_many_idat_chunks(monkeypatch):
    image = smooth_image((50, 60, 4), np.uint8)
    monkeypatch.setattr(png.native, "IDAT_MAX", 1000)
    blob = png.encode(image, level=0)
    lengths = [struct.unpack(">I", blob[i - 4:i])[0] for i in range(len(blob)) if blob[i:i + 4] == b"IDAT"]
    assert len(lengths) > 10 and set(lengths[:-1]) == {1000} and 0 < lengths[-1] <= 1000
    np.testing.assert_array_equal(imagecodecs.png_decode(blob), image)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(blob))), image)
    np.testing.assert_array_equal(png.decode(blob), image)


def test_decode_into_out():
    image = smooth_image((30, 20, 3), np.uint16)
    blob = png.encode(image)
    out = np.empty_like(image)
    assert png.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, image)
    raw = bytearray(image.nbytes)
    assert png.decode(blob, out=raw) is raw
    assert bytes(raw) == image.tobytes()
    palette = pillow_variants()["palette"]  # the libspng path too
    out = np.empty((29, 41, 3), np.uint8)
    np.testing.assert_array_equal(png.decode(palette, out=out), imagecodecs.png_decode(palette))
    for wrong in (bytearray(image.nbytes - 1), np.empty((30, 20, 4), np.uint16)):
        with pytest.raises(oc.DecodeError):
            png.decode(blob, out=wrong)


def test_encode_into_buffer():
    image = smooth_image((30, 20, 3), np.uint8)
    dest = bytearray(image.nbytes + 1000)
    view = png.encode(image, dest=dest)
    assert bytes(view) == png.encode(image)
    for size in (10, 40, len(bytes(view)) - 1):
        with pytest.raises(oc.EncodeError):
            png.encode(image, dest=bytearray(size))


def test_over_64_mib_round_trip():
    y, x = np.mgrid[0:4100, 0:6000]
    image = np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)
    assert image.nbytes > 64 << 20
    blob = png.encode(image, level=1)
    np.testing.assert_array_equal(png.decode(blob), image)


def test_files_and_magic(tmp_path):
    image = smooth_image((12, 14, 4), np.uint8)
    path = tmp_path / "x.png"
    oc.write(path, image)
    np.testing.assert_array_equal(oc.read(path), image)
    assert oc.codec_for_bytes(path.read_bytes()[:16]) is png


def test_extra_image_data_is_ignored_like_libpng_does():
    image = smooth_image((24, 24, 3), np.uint8)
    rows = b"".join(b"\0" + row.tobytes() for row in image)
    blob = raw_png(ihdr(24, 24), rows + b"\0" * 100)
    np.testing.assert_array_equal(imagecodecs.png_decode(blob), image)
    np.testing.assert_array_equal(png.decode(blob), image)


def test_hostile_input():
    valid = png.encode(smooth_image((24, 24, 3), np.uint8))
    rows = bytes(24 * (1 + 24 * 3))
    body = valid[33:]  # after signature and IHDR
    sig = b"\x89PNG\r\n\x1a\n"
    bad_idat_crc = bytearray(valid)
    bad_idat_crc[-13] ^= 1  # last byte of the IDAT CRC
    extra = [
        ("huge dimensions", sig + ihdr(0x7FFFFFFF, 0x7FFFFFFF) + body),
        ("60000x60000 from a small file", sig + ihdr(60000, 60000) + body),
        ("zero width", sig + ihdr(0, 24) + body),
        ("bad IDAT CRC", bytes(bad_idat_crc)),
        ("bad filter type", raw_png(ihdr(24, 24), bytes([9]) + rows[1:])),
        ("too little image data", raw_png(ihdr(24, 24), rows[:-10])),
        ("no IDAT", sig + ihdr(24, 24) + chunk(b"IEND", b"")),
        ("huge palette image", sig + ihdr(50000, 50000, 8, 3) + chunk(b"PLTE", bytes(30)) + body),
        ("huge interlaced", sig + ihdr(50000, 50000, 16, 6, 1) + body),
    ]
    must_fail = ("empty", "one byte") + tuple(label for label, _ in extra)
    check_decoders("png", valid, must_fail=must_fail, extra=extra)
    check_decoders("png", adam7_png(smooth_image((21, 19, 3), np.uint8)))  # the libspng path
    check_decoders("png", pillow_variants()["palette + tRNS"])


def test_threads_give_identical_results():
    images = [smooth_image((64 + i, 48, 1 + i % 4), np.uint8 if i % 2 else np.uint16) for i in range(16)]
    images = [im[..., 0] if im.shape[2] == 1 else im for im in images]
    serial = [png.encode(im) for im in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(png.encode, images))
        decoded = list(pool.map(png.decode, serial))
    assert parallel == serial
    for d, im in zip(decoded, images):
        np.testing.assert_array_equal(d, im)
