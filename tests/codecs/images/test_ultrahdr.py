"""ultrahdr (gain-map JPEG, our own implementation) against imagecodecs'
libultrahdr 1.4 both ways; metadata forms; dispatch; bad input; threads.

Tolerances: relative error |a - b| / max(b, 0.05) in linear light (1.0 = SDR
white), so that near-black pixels do not dominate. Against the original HDR
our round trip stays within 4 % on average (JPEG base and map, 8-bit map);
against libultrahdr's decode of the same file within 1 % on average: the two
differ in chroma upsampling (libultrahdr takes the nearest 4:2:0 chroma
sample, libjpeg-turbo interpolates), in YCbCr -> RGB rounding, and in map
interpolation (inverse distance weights there, bilinear here).
"""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders
from opencodecs.codecs.images.jpeg import jpeg_segments

uhdr = oc.get_codec("ultrahdr")
jpeg = oc.get_codec("jpeg")
rng = np.random.default_rng(3)


def hdr_image(h=96, w=128):
    """Linear light: smooth gradients with noise, a bright disc (4x SDR white)
    and a saturated red highlight."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.1 + 0.5 * x / w, 0.05 + 0.6 * y / h, 0.3 - 0.2 * x / w], -1)
    img[np.hypot(y - h / 3, x - w / 3) < h / 5] *= 4.0
    img[h - 20:h - 8, w - 40:w - 10] = (6.0, 0.4, 0.2)
    img *= 1 + 0.02 * rng.standard_normal((h, w, 1)).astype(np.float32)
    return img.astype(np.float16)


HDR = hdr_image()
TRUTH = HDR.astype(np.float32)


def rgba(img):
    return np.concatenate([img, np.ones(img.shape[:2] + (1,), img.dtype)], -1)


def relative_error(a, b):
    a, b = np.asarray(a, np.float32)[..., :3], np.asarray(b, np.float32)[..., :3]
    return np.abs(a - b) / np.maximum(b, 0.05)


@pytest.fixture(scope="module")
def ours():
    return uhdr.encode(HDR)


@pytest.fixture(scope="module")
def theirs():
    return imagecodecs.ultrahdr_encode(rgba(HDR))


@pytest.mark.parametrize("opts, mean, p99", [
    ({}, 0.03, 0.15),
    ({"gainmap_channels": 1}, 0.04, 0.25),
    # A map at 1/4 resolution blurs the HDR/SDR ratio across sharp edges.
    ({"gainmap_scale": 4}, 0.05, 0.6),
    ({"gainmap_channels": 1, "gainmap_scale": 4, "gainmap_quality": 85}, 0.06, 0.6)])
def test_round_trip_reconstructs_the_hdr(opts, mean, p99):
    decoded = uhdr.decode(uhdr.encode(HDR, **opts))
    assert decoded.shape == HDR.shape[:2] + (4,) and decoded.dtype == np.float16
    assert np.all(decoded[..., 3] == 1)
    error = relative_error(decoded, TRUTH)
    assert error.mean() < mean and np.percentile(error, 99) < p99


def test_float32_input_and_alpha_are_accepted():
    a = uhdr.decode(uhdr.encode(rgba(HDR.astype(np.float32))))
    assert relative_error(a, TRUTH).mean() < 0.03


def test_imagecodecs_decodes_ours_like_we_do(ours):
    error = relative_error(imagecodecs.ultrahdr_decode(ours), uhdr.decode(ours))
    assert error.mean() < 0.01 and np.percentile(error, 99) < 0.05
    assert np.array_equal(imagecodecs.ultrahdr_decode(ours, dtype=np.uint8),
                          uhdr.decode(ours, dtype="uint8"))


def test_we_decode_imagecodecs_files_like_it_does(theirs):
    # libultrahdr writes a Display P3 base and an sRGB-primaries gain map
    # ICC profile: the map applies in P3, the result converts to BT.709.
    assert imagecodecs.ultrahdr_check(theirs)
    ours = uhdr.decode(theirs)
    error = relative_error(ours, imagecodecs.ultrahdr_decode(theirs))
    assert error.mean() < 0.01 and np.percentile(error, 99) < 0.05
    assert np.array_equal(uhdr.decode(theirs, dtype="uint8"),
                          imagecodecs.ultrahdr_decode(theirs, dtype=np.uint8))
    hlg = uhdr.decode(theirs, dtype="uint16")
    reference = imagecodecs.ultrahdr_decode(theirs, dtype=np.uint16)
    assert hlg.dtype == np.uint16 and np.all(hlg[..., 3] == 3)
    assert np.abs(hlg.astype(int) - reference).mean() < 2


def test_sdr_rendition_given():
    sdr = np.round(255 * np.clip(TRUTH, 0, 1) ** (1 / 2.2)).astype(np.uint8)  # clipped, gamma 2.2
    blob = uhdr.encode(HDR, sdr=sdr, quality=100)
    base = uhdr.decode(blob, dtype="uint8")
    assert np.abs(base[..., :3].astype(int) - sdr).mean() < 2
    assert relative_error(uhdr.decode(blob), TRUTH).mean() < 0.03
    # RGBA accepted, alpha ignored
    assert uhdr.encode(HDR, sdr=np.dstack([sdr, sdr[..., :1]])) == uhdr.encode(HDR, sdr=sdr)


def test_boost_scales_the_map_between_hdr_capacities(ours):
    base = uhdr.decode(ours, dtype="uint8")[..., :3] / 255.0
    sdr_linear = np.where(base <= 0.04045, base / 12.92, ((base + 0.055) / 1.055) ** 2.4)
    # On an SDR display (headroom 1) nothing is boosted: the base, in linear light.
    assert np.abs(uhdr.decode(ours, boost=1.0)[..., :3] - sdr_linear).max() < 2e-3
    assert np.array_equal(uhdr.decode(ours, boost=1e6), uhdr.decode(ours))
    half = uhdr.decode(ours, boost=2.0).astype(np.float32)
    assert (half[..., :3] <= uhdr.decode(ours)[..., :3].astype(np.float32) + 1e-2).all()
    with pytest.raises(oc.DecodeError):
        uhdr.decode(ours, boost=0)


def replace_segment(blob, start, marker, tag, new_marker):
    """`blob` with the first `marker` segment after `start` whose payload
    starts with `tag` given `new_marker` instead (same length, offsets kept)."""
    out = bytearray(blob)
    for m, o, p in jpeg_segments(memoryview(blob)[start:]):
        if m == marker and bytes(p[:len(tag)]) == tag:
            out[start + o + 1] = new_marker
            return bytes(out)
    raise AssertionError("segment not found")


def gain_map_start(blob):
    return blob.index(b"\xff\xd8", 4)


def without_iso(blob):
    """`blob` with both ISO 21496-1 boxes disabled: XMP metadata only."""
    iso = b"urn:iso:std:iso:ts:21496:-1"
    blob = replace_segment(blob, gain_map_start(blob), 0xE2, iso, 0xEF)
    return replace_segment(blob, 0, 0xE2, iso, 0xEF)


@pytest.mark.parametrize("channels", [1, 3])
def test_xmp_only_metadata_decodes_the_same(channels):
    blob = uhdr.encode(HDR, gainmap_channels=channels)
    xmp_only = without_iso(blob)
    assert oc.codec_for_bytes(xmp_only) is uhdr  # found by the base's hdrgm XMP
    assert np.array_equal(uhdr.decode(xmp_only), uhdr.decode(blob))
    if channels == 1:  # libultrahdr 1.4 reads no rdf:Seq (per-channel) XMP values
        assert np.array_equal(imagecodecs.ultrahdr_decode(xmp_only), imagecodecs.ultrahdr_decode(blob))


def test_gain_map_without_metadata_is_refused(ours):
    xmp_only = replace_segment(ours, gain_map_start(ours), 0xE2, b"urn:iso:std:iso:ts:21496:-1", 0xEF)
    neither = replace_segment(xmp_only, gain_map_start(ours), 0xE1, b"http://ns.adobe.com/xap", 0xEF)
    with pytest.raises(oc.DecodeError, match="metadata"):
        uhdr.decode(neither)


def test_hdr_base_renditions_are_refused(ours):
    blob = bytearray(ours)
    iso = blob.index(b"urn:iso:std:iso:ts:21496:-1\0", gain_map_start(ours)) + 28
    blob[iso + 4] |= 4  # flags: the map maps the alternate (HDR) image to the base
    with pytest.raises(oc.DecodeError, match="HDR base"):
        uhdr.decode(bytes(blob))


def test_dispatch(tmp_path, ours, theirs):
    for blob in (ours, theirs):
        assert oc.codec_for_bytes(blob) is uhdr
        assert oc.read(blob).dtype == np.float16
    plain = jpeg.encode(np.zeros((8, 8, 3), np.uint8))
    assert oc.codec_for_bytes(plain) is jpeg
    assert oc.codec_for_path("x.jpg") is jpeg  # the extension stays with jpeg: the SDR base
    (tmp_path / "x.jpg").write_bytes(ours)
    assert np.array_equal(oc.read(tmp_path / "x.jpg"), uhdr.decode(ours, dtype="uint8")[..., :3])
    assert oc.read(tmp_path / "x.jpg", format="ultrahdr").dtype == np.float16
    oc.write(tmp_path / "y.jpg", HDR, format="ultrahdr")
    assert oc.codec_for_bytes((tmp_path / "y.jpg").read_bytes()) is uhdr


@pytest.mark.parametrize("dtype", ["float16", "uint16", "uint8"])
def test_decode_into_out(ours, dtype):
    out = np.empty(HDR.shape[:2] + (4,), dtype)
    assert uhdr.decode(ours, out=out, dtype=dtype) is out
    assert np.array_equal(out, uhdr.decode(ours, dtype=dtype))
    with pytest.raises(oc.DecodeError):
        uhdr.decode(ours, out=np.empty(HDR.shape, dtype), dtype=dtype)


def test_encode_into_buffer(ours):
    view = uhdr.encode(HDR, dest=bytearray(len(ours) + 10))
    assert bytes(view) == ours
    with pytest.raises(oc.EncodeError):
        uhdr.encode(HDR, dest=bytearray(100))


@pytest.mark.parametrize("data, opts", [
    (HDR.astype(np.uint8), {}), (HDR[..., 0], {}),
    (HDR, {"sdr": np.zeros((4, 4, 3), np.uint8)}), (HDR, {"sdr": HDR}),
    (HDR, {"gainmap_channels": 2}), (HDR, {"gainmap_scale": 0}), (HDR, {"quality": 101}),
    (HDR, {"gainmap_quality": -1})])
def test_invalid_encode_input_raises(data, opts):
    with pytest.raises(oc.EncodeError):
        uhdr.encode(data, **opts)


def test_invalid_options_raise(ours):
    with pytest.raises(TypeError):
        uhdr.encode(HDR, level=3)
    with pytest.raises(TypeError):
        uhdr.decode(ours, quality=3)
    with pytest.raises(oc.DecodeError):
        uhdr.decode(ours, dtype="float32")


def test_hostile_input():
    small = uhdr.encode(hdr_image(24, 32), gainmap_scale=2)
    start = gain_map_start(small)
    mpf = small.index(b"MPF\0") + 4
    outside = bytearray(small)
    entry = mpf + 50 + 16  # second MP entry: attribute, size, offset
    outside[entry + 4:entry + 8] = (1 << 30).to_bytes(4, "big")
    huge_map = bytearray(small)
    sof = huge_map.index(b"\xff\xc0", start)
    huge_map[sof + 5:sof + 9] = b"\xff\xdc\xff\xdc"
    check_decoders("ultrahdr", small,
                   must_fail=("empty", "one byte", "truncated to 8", "no MPF", "outside",
                              "huge map"),
                   extra=[("no MPF", jpeg.encode(np.zeros((8, 8, 3), np.uint8))),
                          ("outside", bytes(outside)), ("huge map", bytes(huge_map)),
                          ("bad ISO", small[:start] + replace_segment(
                              small, start, 0xE2, b"urn:iso", 0xE2)[start:].replace(
                              b"21496:-1\0\0\0", b"21496:-1\0\0\1"))])


def test_threads_give_identical_results():
    images = [hdr_image(40 + 8 * i, 48) for i in range(8)]
    serial = [uhdr.encode(img) for img in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(uhdr.encode, images))
        decoded = list(pool.map(uhdr.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(d, uhdr.decode(b, numthreads=1)) for d, b in zip(decoded, serial))
