"""jpegls (CharLS) against imagecodecs both ways; bit depths, near-lossless,
interleave modes; bad input; threads."""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders
from opencodecs.codecs.images.jpeg import jpeg_segments

jls = oc.get_codec("jpegls")
rng = np.random.default_rng(11)


def image(shape, bits, dtype):
    """Smooth ramps plus noise, within `bits` bits."""
    top = (1 << bits) - 1
    h, w = shape[:2]
    ramp = np.add.outer(np.arange(h), np.arange(w)) / (h + w) * top
    if len(shape) == 3:
        ramp = np.stack([np.roll(ramp, 7 * k, axis=1) for k in range(shape[2])], -1)
    noisy = ramp + rng.normal(0, max(1, top / 200), ramp.shape)
    return np.clip(np.round(noisy), 0, top).astype(dtype)


def without_spiff(blob):
    """A CharLS stream with its SPIFF header (what imagecodecs writes) removed:
    SOI, APP8 SPIFF, APP8 end of directory, SOI again, then the frame."""
    return blob[:2] + blob[blob.index(b"\xff\xd8", 2) + 2:]


CASES = [((60, 70), 8, np.uint8), ((60, 70, 3), 8, np.uint8), ((60, 70, 4), 8, np.uint8),
         ((60, 70), 16, np.uint16), ((60, 70, 3), 16, np.uint16), ((33, 17), 12, np.uint16),
         ((40, 30), 2, np.uint8), ((40, 30), 5, np.uint8), ((40, 30, 3), 10, np.uint16)]


@pytest.mark.parametrize("shape, bits, dtype", CASES)
def test_lossless_round_trip(shape, bits, dtype):
    data = image(shape, bits, dtype)
    blob = jls.encode(data, bitdepth=bits)
    assert blob[:4] == b"\xff\xd8\xff\xf7"
    decoded = jls.decode(blob)
    assert decoded.dtype == dtype and np.array_equal(decoded, data)
    assert np.array_equal(imagecodecs.jpegls_decode(blob), data)


@pytest.mark.parametrize("shape, dtype", [((60, 70), np.uint8), ((60, 70, 3), np.uint8),
                                          ((60, 70, 4), np.uint8), ((60, 70), np.uint16),
                                          ((60, 70, 3), np.uint16)])
@pytest.mark.parametrize("near", [0, 1, 3])
def test_codestream_is_byte_identical_to_imagecodecs(shape, dtype, near):
    # Same CharLS settings (2.4.1 here, 2.4.3 in imagecodecs): the same
    # codestream; imagecodecs only adds a SPIFF header.
    data = image(shape, 8 * np.dtype(dtype).itemsize, dtype)
    theirs = imagecodecs.jpegls_encode(data, level=near)
    assert jls.encode(data, near_lossless=near) == without_spiff(theirs)
    assert np.array_equal(jls.decode(theirs), imagecodecs.jpegls_decode(theirs))


@pytest.mark.parametrize("near", [1, 2, 5, 20])
def test_near_lossless_error_is_bounded(near):
    data = image((80, 90, 3), 12, np.uint16)
    blob = jls.encode(data, near_lossless=near, bitdepth=12)
    error = np.abs(jls.decode(blob).astype(int) - data)
    assert error.max() <= near and error.max() > 0
    assert len(blob) < len(jls.encode(data, bitdepth=12))


def test_interleave_none_planar_stream():
    # Three grey scans under one three-component frame: CharLS decodes such
    # streams plane by plane; we interleave the planes into (H, W, 3).
    data = image((30, 40, 3), 8, np.uint8)
    scans = []
    for k in range(3):
        blob = jls.encode(np.ascontiguousarray(data[..., k]))
        sos = next(o for m, o, p in jpeg_segments(blob) if m == 0xF7) + 13
        assert blob[sos:sos + 2] == b"\xff\xda"
        scan = bytearray(blob[sos:-2])
        scan[5] = k + 1  # component id
        scans.append(bytes(scan))
    frame = b"\xff\xf7\x00\x11\x08" + (30).to_bytes(2, "big") + (40).to_bytes(2, "big") + b"\x03"
    frame += b"".join(bytes((k + 1, 0x11, 0)) for k in range(3))
    stream = b"\xff\xd8" + frame + b"".join(scans) + b"\xff\xd9"
    assert np.array_equal(jls.decode(stream), data)
    assert np.array_equal(imagecodecs.jpegls_decode(stream), data)
    out = bytearray(data.nbytes)
    assert jls.decode(stream, out=out) is out and bytes(out) == data.tobytes()


@pytest.mark.parametrize("data, opts", [
    (image((8, 8), 8, np.uint8), {"near_lossless": -1}),
    (image((8, 8), 8, np.uint8), {"near_lossless": 128}),
    (image((8, 8), 8, np.uint8), {"near_lossless": 1.5}),
    (image((8, 8), 8, np.uint8), {"bitdepth": 9}),
    (image((8, 8), 8, np.uint8), {"bitdepth": 1}),
    (image((8, 8), 16, np.uint16), {"bitdepth": 12}),  # values above 4095
    (image((8, 8), 4, np.uint8), {"bitdepth": 3}),
    (np.zeros((8, 8), np.float32), {}), (np.zeros((8, 8, 2), np.uint8), {}),
    (np.zeros((0, 8), np.uint8), {})])
def test_invalid_encode_input_raises(data, opts):
    with pytest.raises(oc.EncodeError):
        jls.encode(data, **opts)


def test_unknown_option_raises_type_error():
    data = image((8, 8), 8, np.uint8)
    with pytest.raises(TypeError):
        jls.encode(data, level=1)
    with pytest.raises(TypeError):
        jls.decode(jls.encode(data), near_lossless=1)


def test_large_image_round_trip():
    data = np.tile(image((256, 4096), 16, np.uint16), (36, 1))
    assert data.nbytes > 64 << 20
    assert np.array_equal(jls.decode(jls.encode(data)), data)


@pytest.mark.parametrize("make_out", [lambda d: np.empty_like(d), lambda d: bytearray(d.nbytes),
                                      lambda d: np.empty(d.nbytes, np.uint8)])
def test_decode_into_out(make_out):
    data = image((50, 60, 3), 16, np.uint16)
    out = make_out(data)
    assert jls.decode(jls.encode(data), out=out) is out
    assert bytes(memoryview(out).cast("B")) == data.tobytes()


def test_decode_into_wrong_size_out_raises():
    data = image((50, 60), 16, np.uint16)
    for out in (np.empty((50, 60), np.uint8), np.empty((50, 61), np.uint16), bytearray(10)):
        with pytest.raises(oc.DecodeError):
            jls.decode(jls.encode(data), out=out)


def test_encode_into_buffer():
    data = image((50, 60), 8, np.uint8)
    blob = jls.encode(data)
    view = jls.encode(data, dest=bytearray(len(blob) + 10))
    assert bytes(view) == blob
    with pytest.raises(oc.EncodeError):
        jls.encode(data, dest=bytearray(10))


def test_write_read_and_dispatch(tmp_path):
    data = image((50, 60), 16, np.uint16)
    oc.write(tmp_path / "x.jls", data)
    assert np.array_equal(oc.read(tmp_path / "x.jls"), data)
    for blob in (jls.encode(data), imagecodecs.jpegls_encode(data)):  # with and without SPIFF
        assert oc.codec_for_bytes(blob) is jls
        assert np.array_equal(oc.read(blob), data)
    assert oc.codec_for_bytes(oc.get_codec("jpeg").encode(data.astype(np.uint8))).name == "jpeg"


def test_truncated_streams_are_refused_before_charls_decodes_them():
    # CharLS 2.4 spins for seconds on some truncated scans; we refuse them up front.
    blob = jls.encode(image((40, 50), 8, np.uint8))
    for cut in (100, 200, len(blob) // 2, len(blob) - 3):
        with pytest.raises(oc.DecodeError, match="truncated"):
            jls.decode(blob[:cut])


def with_frame_size(blob, height, width):
    out = bytearray(blob)
    at = blob.index(b"\xff\xf7")
    out[at + 5:at + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(out)


def test_hostile_input():
    valid = jls.encode(image((40, 50, 3), 8, np.uint8))
    small = jls.encode(image((8, 8), 16, np.uint16))
    check_decoders("jpegls", valid,
                   must_fail=("empty", "one byte", "truncated to 8", "size lie", "16-bit size lie"),
                   extra=[("size lie", with_frame_size(valid, 65535, 65535)),
                          ("16-bit size lie", with_frame_size(small, 60000, 65535)),
                          ("wide lie", with_frame_size(valid, 40, 65535))])


def test_threads_give_identical_results():
    items = [image((64, 48 + 4 * i) + ((3,) if i % 2 else ()), 12, np.uint16) for i in range(12)]
    serial = [jls.encode(x, near_lossless=i % 3) for i, x in enumerate(items)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda a: jls.encode(a[1], near_lossless=a[0] % 3), enumerate(items)))
        decoded = list(pool.map(jls.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, jls.decode(b)) for d, b in zip(decoded, serial))
