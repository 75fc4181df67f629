"""rgbe against imagecodecs, both ways; orientations, flat and old-style scanlines; bad input; threads."""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

rgbe = oc.get_codec("rgbe")
rng = np.random.default_rng(3)


def hdr_image(h, w):
    """Dark to very bright, with flat areas (runs) and a black patch."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w, y / h, (x + y) / (h + w)], -1) ** 2.2
    image = base * (1 + 1000 * np.exp(-((x - w / 3) ** 2 + (y - h / 2) ** 2) / (w * h / 10)))[..., None]
    image *= 1 + 0.05 * rng.random((h, w, 3))
    image[: h // 4, : w // 4] = 0.25
    image[-2:, -3:] = 0
    return image.astype(np.float32)


def rgbe_quantised(image):
    """What RGBE keeps of an image: 8-bit mantissas under the largest channel's exponent."""
    v = image.max(-1, keepdims=True)
    _, e = np.frexp(v)
    scale = np.ldexp(1.0, 8 - e)
    q = np.floor(image * scale) / scale
    return np.where(v < 1e-32, 0, q).astype(np.float32)


SHAPES = [(1, 1), (3, 5), (6, 7), (16, 8), (20, 64), (9, 300), (2, 32767), (2, 32768)]


@pytest.mark.parametrize("h,w", SHAPES)
def test_round_trip_and_parity_both_ways(h, w):
    image = hdr_image(h, w)
    blob = rgbe.encode(image)
    decoded = rgbe.decode(blob)
    assert decoded.dtype == np.float32 and decoded.shape == (h, w, 3)
    np.testing.assert_array_equal(decoded, rgbe_quantised(image))  # exact, not merely close
    np.testing.assert_array_equal(imagecodecs.rgbe_decode(blob), decoded)
    theirs = imagecodecs.rgbe_encode(image)
    np.testing.assert_array_equal(rgbe.decode(theirs), decoded)
    assert blob[:40] == theirs[:40]  # the same header, the same first pixels


def test_flat_scanlines():
    image = hdr_image(12, 40)
    flat = rgbe.encode(image, rle=False)
    assert len(flat) == flat.index(b"+X 40\n") + 6 + 12 * 40 * 4
    np.testing.assert_array_equal(rgbe.decode(flat), rgbe.decode(rgbe.encode(image)))
    np.testing.assert_array_equal(imagecodecs.rgbe_decode(flat), rgbe.decode(flat))


def test_special_values():
    image = np.array([[[0, 0, 0], [-1, 2, np.nan], [np.inf, 1, 0], [1e-33, 1e-33, 1e-33], [1, 0.5, 0.25]]],
                     np.float32)
    decoded = rgbe.decode(rgbe.encode(image))
    assert decoded[0, 0].tolist() == [0, 0, 0]
    assert decoded[0, 1].tolist() == [0, 2, 0]  # negative and NaN -> 0
    assert decoded[0, 2, 0] > 1e38 and decoded[0, 2, 2] == 0  # infinity saturates
    assert decoded[0, 3].tolist() == [0, 0, 0]  # below 1e-32: black
    assert decoded[0, 4].tolist() == [1, 0.5, 0.25]


def with_resolution(blob, line):
    head, rest = blob.split(b"\n\n", 1)
    return head + b"\n\n" + line + rest[rest.index(b"\n") + 1:]


def test_orientations():
    image = hdr_image(10, 20)
    expected = rgbe.decode(rgbe.encode(image))
    bottom_up = with_resolution(rgbe.encode(image[::-1].copy()), b"+Y 10 +X 20\n")
    np.testing.assert_array_equal(rgbe.decode(bottom_up), expected)
    mirrored = with_resolution(rgbe.encode(image[:, ::-1].copy()), b"-Y 10 -X 20\n")
    np.testing.assert_array_equal(rgbe.decode(mirrored), expected)
    both = with_resolution(rgbe.encode(image[::-1, ::-1].copy()), b"+Y 10 -X 20\n")
    out = bytearray(image.nbytes)
    rgbe.decode(both, out=out)
    np.testing.assert_array_equal(np.frombuffer(out, np.float32).reshape(image.shape), expected)
    with pytest.raises(oc.DecodeError, match="rotated"):
        rgbe.decode(with_resolution(rgbe.encode(image), b"+X 20 -Y 10\n"))


def test_old_style_run_length_scanlines():
    """Flat pixels where (1, 1, 1, n) repeats the previous one, n in ever higher bytes."""
    pixel, other = bytes([128, 64, 32, 129]), bytes([10, 20, 30, 130])
    # 300 pixels: 1 + (255 + 1 * 256 - 256 ...) -> 1 + 43 + 1*256 = 300, then a second row of 300
    row1 = pixel + bytes([1, 1, 1, 43]) + bytes([1, 1, 1, 1])
    row2 = other + bytes([1, 1, 1, 43]) + bytes([1, 1, 1, 1])
    blob = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 300\n" + row1 + row2
    decoded = rgbe.decode(blob)
    np.testing.assert_array_equal(decoded[0], np.tile([1.0, 0.5, 0.25], (300, 1)))
    np.testing.assert_array_equal(decoded[1], np.tile(np.array([10, 20, 30]) / 64, (300, 1)))


def test_header_variants():
    image = hdr_image(4, 9)
    blob = rgbe.encode(image)
    expected = rgbe.decode(blob)
    other = blob.replace(b"#?RADIANCE\n", b"#?RGBE\n# made by a test\nEXPOSURE=1.0\n")
    np.testing.assert_array_equal(rgbe.decode(other), expected)
    with pytest.raises(oc.DecodeError, match="xyze"):
        rgbe.decode(blob.replace(b"32-bit_rle_rgbe", b"32-bit_rle_xyze"))


def test_bad_images_and_options():
    for bad in (np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.float32), np.zeros((4, 4, 3), np.float64),
                np.zeros((0, 4, 3), np.float32)):
        with pytest.raises(oc.EncodeError):
            rgbe.encode(bad)
    with pytest.raises(TypeError):
        rgbe.encode(hdr_image(2, 2), level=3)


def test_decode_into_out():
    image = hdr_image(20, 30)
    blob = rgbe.encode(image)
    out = np.empty_like(image)
    assert rgbe.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, rgbe.decode(blob))
    for wrong in (bytearray(image.nbytes - 4), np.empty((20, 30, 4), np.float32)):
        with pytest.raises(oc.DecodeError):
            rgbe.decode(blob, out=wrong)


def test_encode_into_buffer():
    image = hdr_image(20, 30)
    expected = rgbe.encode(image)
    for size in (len(expected), len(expected) * 3):  # tight (below the worst case) and roomy
        assert bytes(rgbe.encode(image, dest=bytearray(size))) == expected
    with pytest.raises(oc.EncodeError):
        rgbe.encode(image, dest=bytearray(len(expected) - 1))


def test_over_64_mib_round_trip():
    y, x = np.mgrid[0:2400, 0:2400].astype(np.float32)
    image = np.stack([x, y, x + y], -1)
    assert image.nbytes > 64 << 20
    np.testing.assert_array_equal(rgbe.decode(rgbe.encode(image)), rgbe_quantised(image))


def test_files_and_magic(tmp_path):
    image = hdr_image(12, 14)
    path = tmp_path / "x.hdr"
    oc.write(path, image)
    np.testing.assert_array_equal(oc.read(path), rgbe.decode(rgbe.encode(image)))
    assert oc.codec_for_bytes(path.read_bytes()[:16]) is rgbe


def test_hostile_input():
    valid = rgbe.encode(hdr_image(24, 40))
    data = valid[valid.index(b"+X 40\n") + 6:]
    extra = [
        ("huge dimensions", b"#?RADIANCE\n\n-Y 99999999 +X 99999999\n" + data),
        ("more pixels than the input holds", b"#?RADIANCE\n\n-Y 30000 +X 30000\n" + data),
        ("wrong scanline width", with_resolution(valid, b"-Y 24 +X 41\n")),
        ("no blank line", valid.replace(b"\n\n", b"\n")),
        ("no resolution", valid[:valid.index(b"-Y")]),
        ("zero height", with_resolution(valid, b"-Y 0 +X 40\n")),
        ("old-style run first", b"#?RADIANCE\n\n-Y 1 +X 4\n" + bytes([1, 1, 1, 4]) * 2),
        ("run past the scanline", b"#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08" + bytes([200, 1]) * 4),
    ]
    must_fail = ("empty", "one byte", "truncated to 8") + tuple(label for label, _ in extra)
    check_decoders("rgbe", valid, must_fail=must_fail, extra=extra)
    check_decoders("rgbe", rgbe.encode(hdr_image(5, 6), rle=False))


def test_threads_give_identical_results():
    images = [hdr_image(10 + i, 20 + 3 * i) for i in range(16)]
    serial = [rgbe.encode(im) for im in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(rgbe.encode, images))
        decoded = list(pool.map(rgbe.decode, serial))
    assert parallel == serial
    for d, blob in zip(decoded, serial):
        np.testing.assert_array_equal(d, rgbe.decode(blob))
