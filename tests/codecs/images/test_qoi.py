"""qoi against the qoi package and imagecodecs, both ways; bad input; threads."""

import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
import qoi as qoi_package

import opencodecs as oc
from hostile import check_decoders

qoi = oc.get_codec("qoi")
rng = np.random.default_rng(11)


def image(shape):
    """Smooth areas, flat runs, repeats and noise: every QOI operation occurs."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x + 2 * y + 40 * k) % 256 for k in range(shape[2])], -1)
    base = base + rng.integers(-3, 4, shape) * (x[..., None] % 5 == 0)
    base[h // 3: h // 2] = 17  # long runs
    base[:, w // 4] = rng.integers(0, 256, (h, shape[2]))  # big jumps (RGB/RGBA ops)
    if shape[2] == 4:
        base[..., 3] = np.where((x // 7) % 3 == 0, 255, (x * 5) % 256)
    return base.clip(0, 255).astype(np.uint8)


SHAPES = [(1, 1, 3), (1, 1, 4), (7, 5, 3), (64, 48, 3), (64, 48, 4), (300, 257, 3), (250, 300, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_and_parity_both_ways(shape):
    data = image(shape)
    blob = qoi.encode(data)
    np.testing.assert_array_equal(qoi.decode(blob), data)
    np.testing.assert_array_equal(qoi_package.decode(blob), data)
    np.testing.assert_array_equal(imagecodecs.qoi_decode(blob), data)
    np.testing.assert_array_equal(qoi.decode(qoi_package.encode(data)), data)
    theirs = imagecodecs.qoi_encode(data)
    np.testing.assert_array_equal(qoi.decode(theirs), data)
    # The same qoi.h: the same operations (imagecodecs marks RGBA as linear in the header).
    assert blob[14:] == theirs[14:]


def test_colorspace_byte():
    data = image((8, 8, 3))
    assert qoi.encode(data)[13] == 0
    linear = qoi.encode(data, linear=True)
    assert linear[13] == 1
    np.testing.assert_array_equal(qoi.decode(linear), data)


def test_run_at_the_start_enters_the_index():
    """A run of the initial pixel puts it in the index, as the spec ("every pixel
    seen") and qoi.h have it; the Rust crate behind the qoi package differs here."""
    ops = bytes([0xC0 | 1, 53, 0xFE, 9, 9, 9, 53])  # run of 2 of (0,0,0,255); index 53; RGB; index 53
    blob = b"qoif" + struct.pack(">II", 5, 1) + b"\x04\x00" + ops + b"\0" * 7 + b"\1"
    expected = imagecodecs.qoi_decode(blob)
    np.testing.assert_array_equal(qoi.decode(blob), expected)
    assert expected[0, 2].tolist() == [0, 0, 0, 255]


def test_bad_images():
    for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 3), np.uint16),
                np.zeros((0, 4, 3), np.uint8)):
        with pytest.raises(oc.EncodeError):
            qoi.encode(bad)
    with pytest.raises(TypeError):
        qoi.encode(image((4, 4, 3)), level=3)


def test_decode_into_out():
    data = image((40, 30, 4))
    blob = qoi.encode(data)
    out = np.empty_like(data)
    assert qoi.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert qoi.decode(blob, out=raw) is raw and bytes(raw) == data.tobytes()
    for wrong in (bytearray(data.nbytes + 1), np.empty((40, 30, 3), np.uint8)):
        with pytest.raises(oc.DecodeError):
            qoi.decode(blob, out=wrong)


def test_encode_into_buffer():
    data = image((40, 30, 3))
    dest = bytearray(data.nbytes * 2)
    assert bytes(qoi.encode(data, dest=dest)) == qoi.encode(data)
    with pytest.raises(oc.EncodeError):
        qoi.encode(data, dest=bytearray(20))


def test_over_64_mib_round_trip():
    y, x = np.mgrid[0:4200, 0:4200]
    data = np.stack([x % 256, y % 256, (x // 16) % 256, np.full_like(x, 255)], -1).astype(np.uint8)
    assert data.nbytes > 64 << 20
    np.testing.assert_array_equal(qoi.decode(qoi.encode(data)), data)


def test_files_and_magic(tmp_path):
    data = image((12, 14, 3))
    path = tmp_path / "x.qoi"
    oc.write(path, data)
    np.testing.assert_array_equal(oc.read(path), data)
    assert oc.codec_for_bytes(path.read_bytes()[:16]) is qoi


def header(width, height, channels=3, colorspace=0):
    return b"qoif" + struct.pack(">IIBB", width, height, channels, colorspace)


def test_hostile_input():
    valid = qoi.encode(image((40, 40, 4)))
    body = valid[14:]
    extra = [
        ("huge dimensions", header(0xFFFFFFFF, 0xFFFFFFFF) + body),
        ("more pixels than the input holds", header(40000, 40000) + body),
        ("zero width", header(0, 40) + body),
        ("two channels", header(40, 40, 2) + body),
        ("bad colorspace", header(40, 40, 4, 7) + body),
        ("header only", valid[:14]),
        ("ops cut before the end marker", valid[:-30] + valid[-8:]),
    ]
    must_fail = ("empty", "one byte", "truncated to 8") + tuple(label for label, _ in extra)
    check_decoders("qoi", valid, must_fail=must_fail, extra=extra)


def test_threads_give_identical_results():
    images = [image((50 + i, 40, 3 + i % 2)) for i in range(16)]
    serial = [qoi.encode(im) for im in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(qoi.encode, images))
        decoded = list(pool.map(qoi.decode, serial))
    assert parallel == serial
    for d, im in zip(decoded, images):
        np.testing.assert_array_equal(d, im)
