"""jpegxr (libjxr) against imagecodecs, both directions; stored channel order,
padded formats and flips; options; bad input in a child process; threads."""

import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import assert_no_bad_outcomes, check_decoders, run_cases, standard_cases
from opencodecs.codecs.images import jpegxr as jxr_module

jpegxr = oc.get_codec("jpegxr")

PIXEL_TYPES = [(bool, 1)] + [(t, c) for t in (np.uint8, np.uint16, np.float16, np.float32) for c in (1, 3, 4)]


def image(shape, dtype, seed=0):
    """Smooth gradients plus noise over most of the dtype's range (0..1 for floats)."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 9.0) + np.cos(y / 13.0)) / 4 + 0.5
    if len(shape) == 3:
        base = base[..., None] * np.linspace(0.6, 1.0, shape[2])
    if dtype == bool:
        return base + rng.normal(0, 0.05, shape) > 0.5
    if np.dtype(dtype).kind == "f":
        return np.clip(base + rng.normal(0, 0.01, shape), 0, 1).astype(dtype)
    top = np.iinfo(dtype).max
    return np.clip(top * (0.1 + 0.8 * base) + rng.normal(0, top / 200, shape), 0, top).astype(dtype)


def shape_of(channels, h=37, w=53):
    return (h, w) if channels == 1 else (h, w, channels)


def psnr(a, b, peak):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def assert_float32_close(decoded, data):
    """libjxr keeps 13 mantissa bits of float32 samples, even lossless (less near 0)."""
    np.testing.assert_allclose(decoded, data, rtol=2.0 ** -12, atol=2.0 ** -16)


# Container surgery: the first IFD as {tag: [type, count, value]}, rewritten at the end.

def ifd_entries(blob: bytes) -> dict:
    ifd = struct.unpack_from("<I", blob, 4)[0]
    n = struct.unpack_from("<H", blob, ifd)[0]
    return {e[0]: list(e[1:]) for e in (struct.unpack_from("<HHII", blob, ifd + 2 + 12 * k) for k in range(n))}


def with_entries(blob: bytes, changes: dict, extra: bytes = b"") -> bytes:
    """`blob` with IFD entries changed or added (value None removes one); `extra`
    is appended after the data, at an offset the caller computes as len(blob)."""
    entries = ifd_entries(blob)
    for tag, entry in changes.items():
        if entry is None:
            entries.pop(tag, None)
        else:
            entries[tag] = list(entry)
    body = blob + extra
    if len(body) % 2:
        body += b"\0"
    table = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, *entries[tag]) for tag in sorted(entries)) + b"\0\0\0\0"
    return body[:4] + struct.pack("<I", len(body)) + body[8:] + table


def with_pixel_format(blob: bytes, name: str) -> bytes:
    """`blob` claiming another pixel format (whose buffer layout libjxr then writes)."""
    at = ifd_entries(blob)[jxr_module.TAG_PIXEL_FORMAT][2]
    guid = next(f.guid for f in jxr_module.PIXEL_FORMATS.values() if f.name == name)
    return blob[:at] + guid + blob[at + 16:]


def codestream_offset(blob: bytes, tag=jxr_module.TAG_IMAGE_OFFSET) -> int:
    return ifd_entries(blob)[tag][2]


def patched(blob: bytes, pos: int, new: bytes) -> bytes:
    return blob[:pos] + new + blob[pos + len(new):]


# Round trips and parity with imagecodecs.

@pytest.mark.parametrize("dtype,channels", PIXEL_TYPES)
def test_decodes_reference_lossless(dtype, channels):
    data = image(shape_of(channels), dtype)
    decoded = jpegxr.decode(imagecodecs.jpegxr_encode(data))
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    if np.dtype(dtype) == np.float32:
        assert_float32_close(decoded, data)
    else:
        np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("dtype,channels", PIXEL_TYPES)
def test_reference_decodes_ours_and_bytes_match(dtype, channels):
    data = image(shape_of(channels), dtype)
    blob = jpegxr.encode(data)
    # Same library, same settings (lossless, 4:4:4, no overlap, 96 dpi): same bytes.
    assert blob == imagecodecs.jpegxr_encode(data)
    decoded = imagecodecs.jpegxr_decode(blob)
    np.testing.assert_array_equal(decoded, jpegxr.decode(blob))
    if np.dtype(dtype) == np.float32:
        assert_float32_close(decoded, data)
    else:
        np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("photometric,channels,alpha", [
    ("CMYK", 4, False), ("CMYK", 5, True),
    *[("MINISBLACK", n, False) for n in (3, 5, 6, 7, 8)],
    *[("MINISBLACK", n, True) for n in range(4, 10)],
])
def test_decodes_reference_cmyk_and_n_channel(dtype, photometric, channels, alpha):
    data = image((29, 41, channels), dtype)
    blob = imagecodecs.jpegxr_encode(data, photometric=photometric, hasalpha=alpha)
    decoded = jpegxr.decode(blob)
    np.testing.assert_array_equal(decoded, imagecodecs.jpegxr_decode(blob))
    if not (dtype == np.uint16 and channels >= 8):  # libjxr's own 16-bit 8-channel coding is inexact
        np.testing.assert_array_equal(decoded, data)


def test_alpha_format_without_alpha_plane_decodes_with_zero_alpha():
    # imagecodecs labels 4-channel non-RGB uint8 data 32bpp3ChannelsAlpha but writes no alpha plane.
    data = image((29, 41, 4), np.uint8)
    blob = imagecodecs.jpegxr_encode(data, photometric="MINISBLACK")
    decoded = jpegxr.decode(blob)
    np.testing.assert_array_equal(decoded, imagecodecs.jpegxr_decode(blob))
    np.testing.assert_array_equal(decoded[..., :3], data[..., :3])
    assert not decoded[..., 3].any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (2, 2), (5, 3), (16, 16), (17, 1), (1, 300), (300, 1), (33, 31)])
def test_tiny_and_thin_images(shape):
    data = image(shape, np.uint8)
    np.testing.assert_array_equal(jpegxr.decode(jpegxr.encode(data)), data)
    assert jpegxr.decode(jpegxr.encode(data, quality=60)).shape == shape


def test_large_image_round_trip():
    data = image((1024, 1536, 3), np.uint8)
    np.testing.assert_array_equal(jpegxr.decode(jpegxr.encode(data)), data)


# Stored channel order, padded and premultiplied formats, orientation.

def test_bgr_comes_back_in_stored_order():
    data = image((37, 53, 3), np.uint8)
    bgr = with_pixel_format(jpegxr.encode(data), "24bppBGR")
    decoded = jpegxr.decode(bgr)
    np.testing.assert_array_equal(decoded, data[..., ::-1])
    np.testing.assert_array_equal(decoded, imagecodecs.jpegxr_decode(bgr)[..., ::-1])  # imagecodecs swaps to RGB


def test_bgra_comes_back_in_stored_order():
    data = image((37, 53, 4), np.uint8)
    decoded = jpegxr.decode(with_pixel_format(jpegxr.encode(data), "32bppBGRA"))
    np.testing.assert_array_equal(decoded, data[..., [2, 1, 0, 3]])


@pytest.mark.parametrize("source,padded,dtype,order", [
    ("24bppRGB", "32bppBGR", np.uint8, [2, 1, 0]),
    ("24bppRGB", "32bppRGB", np.uint8, [0, 1, 2]),
    ("48bppRGBHalf", "64bppRGBHalf", np.float16, [0, 1, 2]),
    ("96bppRGBFloat", "128bppRGBFloat", np.float32, [0, 1, 2]),
])
def test_padded_formats_drop_the_padding(source, padded, dtype, order):
    data = image((37, 53, 3), dtype)
    blob = with_pixel_format(jpegxr.encode(data), padded)
    decoded = jpegxr.decode(blob)
    assert decoded.shape == data.shape and decoded.dtype == data.dtype
    # imagecodecs cannot decode these (its converter refuses them): compare with the unpadded format.
    np.testing.assert_array_equal(decoded, jpegxr.decode(jpegxr.encode(data))[..., order])
    out = np.zeros_like(data)
    assert jpegxr.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, decoded)


@pytest.mark.parametrize("name", ["32bppPRGBA", "32bppPBGRA"])
def test_premultiplied_alpha_stays_as_stored(name):
    data = image((37, 53, 4), np.uint8)
    decoded = jpegxr.decode(with_pixel_format(jpegxr.encode(data), name))
    order = [2, 1, 0, 3] if "BGR" in name else [0, 1, 2, 3]
    np.testing.assert_array_equal(decoded, data[..., order])


@pytest.mark.parametrize("orientation,flip", [
    (0, lambda a: a), (1, lambda a: a[::-1]), (2, lambda a: a[:, ::-1]), (3, lambda a: a[::-1, ::-1]),
])
def test_container_flips_are_applied(orientation, flip):
    data = image((37, 53, 3), np.uint8)
    blob = with_entries(jpegxr.encode(data), {jxr_module.TAG_TRANSFORMATION: (4, 1, orientation)})
    np.testing.assert_array_equal(jpegxr.decode(blob), flip(data))
    np.testing.assert_array_equal(imagecodecs.jpegxr_decode(blob), flip(data))


def test_rotations_raise():
    blob = with_entries(jpegxr.encode(image((37, 53), np.uint8)), {jxr_module.TAG_TRANSFORMATION: (4, 1, 4)})
    with pytest.raises(oc.DecodeError, match="rotated"):
        jpegxr.decode(blob)


# Lossy encoding and options.

@pytest.mark.parametrize("dtype,channels,peak,floor", [
    (np.uint8, 3, 255, {90: 44, 75: 39, 50: 35}),
    (np.uint16, 1, 65535, {90: 44, 75: 39, 50: 35}),
    (np.float16, 3, 1.0, {90: 44, 75: 39, 50: 34}),
    (np.float32, 4, 1.0, {90: 44, 75: 39, 50: 34}),
])
def test_lossy_quality_floors(dtype, channels, peak, floor):
    data = image(shape_of(channels, 96, 128), dtype)
    sizes = []
    for quality, min_psnr in floor.items():
        blob = jpegxr.encode(data, quality=quality)
        decoded = jpegxr.decode(blob)
        assert psnr(decoded, data, peak) > min_psnr, quality
        np.testing.assert_array_equal(imagecodecs.jpegxr_decode(blob), decoded)
        sizes.append(len(blob))
    assert sizes == sorted(sizes, reverse=True)


def test_lossy_alpha_stays_lossless():
    data = image((64, 80, 4), np.uint8)
    decoded = jpegxr.decode(jpegxr.encode(data, quality=30))
    np.testing.assert_array_equal(decoded[..., 3], data[..., 3])


def test_uint16_quality_follows_the_images_range():
    twelve_bit = (image((64, 64), np.uint16) >> 4)
    decoded = jpegxr.decode(jpegxr.encode(twelve_bit, quality=90))
    assert psnr(decoded, twelve_bit, 4095) > 44


def test_quality_options():
    data = image((40, 48, 3), np.uint8)
    lossless = jpegxr.encode(data)
    assert jpegxr.encode(data, lossless=True) == lossless
    assert jpegxr.encode(data, quality=100) == lossless
    assert jpegxr.encode(data, lossless=False) == jpegxr.encode(data, quality=75) != lossless
    with pytest.raises(oc.EncodeError):
        jpegxr.encode(data, quality=50, lossless=True)
    for bad in (-1, 101, 50.5, True, "high"):
        with pytest.raises(oc.EncodeError):
            jpegxr.encode(data, quality=bad)
    with pytest.raises(oc.EncodeError, match="bool"):
        jpegxr.encode(image((8, 8), bool), quality=50)
    with pytest.raises(TypeError):
        jpegxr.encode(data, level=3)
    with pytest.raises(TypeError):
        jpegxr.decode(lossless, quality=3)


@pytest.mark.parametrize("data", [
    np.zeros((8, 8), np.int16), np.zeros((8, 8), np.float64), np.zeros((8, 8, 2), np.uint8),
    np.zeros((8, 8, 3), bool), np.zeros((0, 8), np.uint8), np.zeros((2, 8, 8, 3), np.uint8),
])
def test_unsupported_arrays_raise(data):
    with pytest.raises(oc.EncodeError):
        jpegxr.encode(data)


# out=, dest=, files and detection.

def test_decode_into_out():
    data = image((37, 53, 3), np.uint8)
    blob = jpegxr.encode(data)
    out = np.empty_like(data)
    assert jpegxr.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert jpegxr.decode(blob, out=raw) is raw
    assert bytes(raw) == data.tobytes()
    bits = image((21, 19), bool)
    out = np.empty_like(bits)
    jpegxr.decode(jpegxr.encode(bits), out=out)
    np.testing.assert_array_equal(out, bits)
    for wrong in (np.empty((37, 52, 3), np.uint8), bytearray(data.nbytes + 1), np.empty((37, 53, 3), np.uint8)[:, ::2]):
        with pytest.raises(oc.DecodeError):
            jpegxr.decode(blob, out=wrong)


def test_encode_into_buffer():
    data = image((37, 53, 3), np.uint8)
    blob = jpegxr.encode(data)
    dest = bytearray(len(blob) + 100)
    written = jpegxr.encode(data, dest=dest)
    assert bytes(written) == blob and bytes(dest[:len(blob)]) == blob
    with pytest.raises(oc.EncodeError):
        jpegxr.encode(data, dest=bytearray(len(blob) - 1))


@pytest.mark.parametrize("ext", [".jxr", ".wdp", ".hdp"])
def test_write_read_and_detection(tmp_path, ext):
    data = image((37, 53, 4), np.uint16)
    oc.write(tmp_path / f"x{ext}", data)
    np.testing.assert_array_equal(oc.read(tmp_path / f"x{ext}"), data)
    blob = (tmp_path / f"x{ext}").read_bytes()
    assert oc.codec_for_bytes(blob).name == "jpegxr"
    assert oc.codec_for_bytes(b"II\xbc\x00" + blob[4:]).name == "jpegxr"
    assert oc.codec_for_bytes(b"II*\x00" + blob[4:]) is not jpegxr
    for alias in ("jxr", "wdp", "hdp"):
        assert oc.get_codec(alias) is jpegxr


# Bad input.

def lying_cases():
    """(label, blob) cases whose headers lie; every one must raise DecodeError."""
    grey = jpegxr.encode(image((37, 53), np.uint8))
    rgba = jpegxr.encode(image((37, 53, 4), np.uint8))
    at = codestream_offset(grey)
    # Short header: 16-bit width and height fields at bytes 12-15 of the codestream.
    huge = patched(grey, at + 12, b"\xff\xff\xff\xff")
    long_header = patched(grey, at + 10, bytes([grey[at + 10] & 0x7F]))  # sizes read as 32-bit
    tag = jxr_module
    n = len(grey)
    cycle = with_entries(grey, {0x8769: (4, 1, n + n % 2)},
                         extra=b"\0" * (n % 2) + struct.pack("<HHHII", 1, 0x8769, 4, 1, n + n % 2) + b"\0" * 4)
    return [
        ("claims 65536x65536 pixels", huge),
        ("sizes read as 32-bit", long_header),
        ("pixel format of another depth", with_pixel_format(grey, "128bppRGBAFloat")),
        ("pixel format with more channels", with_pixel_format(grey, "24bppRGB")),
        ("unknown pixel format", patched(grey, ifd_entries(grey)[tag.TAG_PIXEL_FORMAT][2], b"\x01" * 16)),
        ("pixel format past the end", with_entries(grey, {tag.TAG_PIXEL_FORMAT: (1, 16, 1 << 30)})),
        ("no pixel format", with_entries(grey, {tag.TAG_PIXEL_FORMAT: None})),
        ("image offset past the end", with_entries(grey, {tag.TAG_IMAGE_OFFSET: (4, 1, n + 10)})),
        ("image byte count past the end", with_entries(grey, {tag.TAG_IMAGE_BYTE_COUNT: (4, 1, n)})),
        ("no image offset", with_entries(grey, {tag.TAG_IMAGE_OFFSET: None})),
        ("orientation 9", with_entries(grey, {tag.TAG_TRANSFORMATION: (4, 1, 9)})),
        ("ASCII tag without NUL", with_entries(grey, {0x0131: (2, 3, 0x414141)})),
        ("ASCII tag of another type", with_entries(grey, {0x010E: (3, 1, 5)})),
        ("ASCII tag past the end", with_entries(grey, {0x010F: (2, 1000, n - 10)})),
        ("empty caption", with_entries(grey, {0x9C9B: (1, 0, 0)})),
        ("rating of another type", with_entries(grey, {0x4746: (2, 1, 0)})),
        ("EXIF IFD cycle", cycle),
        ("IFD past the end", patched(grey, 4, struct.pack("<I", n + 100))),
        ("IFD count past the end", patched(grey, struct.unpack_from("<I", grey, 4)[0], b"\xfe\xff")),
        ("codestream magic", patched(grey, at, b"WMPHOTX\0")),
        ("codestream version", patched(grey, at + 8, b"\x21")),
        ("interleaved and planar alpha", patched(rgba, codestream_offset(rgba) + 10,
                                                 bytes([rgba[codestream_offset(rgba) + 10] | 1]))),
        ("alpha plane of another size", patched(rgba, codestream_offset(rgba, tag.TAG_ALPHA_OFFSET) + 12,
                                                b"\x00\x10")),
        ("alpha offset past the end", with_entries(rgba, {tag.TAG_ALPHA_OFFSET: (4, 1, len(rgba) + 8)})),
    ]


def test_valid_metadata_tags_pass():
    data = image((37, 53), np.uint8)
    blob = jpegxr.encode(data)
    n = len(blob) + len(blob) % 2
    software, caption = b"opencodecs\0", "hi\0".encode("utf-16-le")
    exif = struct.pack("<HHHII", 1, 0x9000, 7, 4, 0x30323230) + b"\0" * 4
    tagged = with_entries(blob, {
        0x0131: (2, len(software), n), 0x9C9B: (1, len(caption), n + 12), 0x8769: (4, 1, n + 20),
        0x4746: (3, 1, 4), 0x0129: (3, 2, 0x00020001), 0x010E: (2, 4, 0x00434241),
    }, extra=b"\0" * (n - len(blob)) + software + b"\0" + caption + b"\0\0" + exif)
    np.testing.assert_array_equal(jpegxr.decode(tagged), data)
    np.testing.assert_array_equal(imagecodecs.jpegxr_decode(tagged), data)


def container_end(blob: bytes) -> int:
    """Where the codestream's fields that steer how libjxr parses the coefficient
    data begin (flags, sizes, tiles): changing those is payload corruption (see
    test_payload_corruption_can_crash_libjxr); the container and the codestream's
    signature and version before them are checked in full."""
    return codestream_offset(blob) + 9


def header_flip_cases(blob: bytes) -> list:
    """The standard cases, keeping only the bit flips before container_end()."""
    end = container_end(blob)
    return [(label, case) for label, case in standard_cases(blob)
            if not label.startswith("bit flip at ") or int(label.split()[-1]) < end]


@pytest.mark.parametrize("dtype,channels", [(np.uint8, 1), (np.uint16, 3), (np.uint8, 4), (bool, 1)])
def test_hostile_input(dtype, channels):
    blob = jpegxr.encode(image(shape_of(channels), dtype))
    cases = header_flip_cases(blob) + lying_cases()
    results = run_cases("jpegxr", cases)
    must_fail = ["empty", "one byte", "one zero byte", "random 1", "random 7", "random 64", "random 4096"]
    must_fail += [label for label, _ in cases if label.startswith("truncated")]
    must_fail += [label for label, _ in lying_cases()]
    assert_no_bad_outcomes("jpegxr", results, tuple(must_fail))


def test_container_fuzz_never_crashes():
    """Random byte changes before container_end()."""
    blobs = [jpegxr.encode(image(shape_of(c), t)) for t, c in ((np.uint8, 3), (np.uint16, 4), (np.float16, 1))]
    fuzz = np.random.default_rng(5)
    cases = []
    for k in range(300):
        blob = bytearray(blobs[k % len(blobs)])
        end = container_end(bytes(blob))
        for _ in range(fuzz.integers(1, 4)):
            blob[fuzz.integers(0, end)] = fuzz.integers(0, 256)
        cases.append((f"fuzz {k}", bytes(blob)))
    assert_no_bad_outcomes("jpegxr", run_cases("jpegxr", cases))


def test_size_checked_before_allocating():
    blob = jpegxr.encode(image((64, 64, 3), np.uint16))
    limit = oc.config.max_decoded_bytes
    oc.config.max_decoded_bytes = 64 * 64 * 3 * 2 - 1
    try:
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            jpegxr.decode(blob)
    finally:
        oc.config.max_decoded_bytes = limit


@pytest.mark.xfail(reason="libjxr's entropy decoder (Debian 1.2~git20170615) reads past its run-length "
                          "table in DecodeSignificantRun on some corrupt coefficient data and crashes "
                          "(1 in 10 to 20 single bit flips); headers are checked, coefficient data cannot be",
                   strict=False)
def test_payload_corruption_can_crash_libjxr():
    blob = jpegxr.encode(image((64, 64, 3), np.uint8), quality=90)
    start = codestream_offset(blob) + 40
    fuzz = np.random.default_rng(3)
    cases = []
    for k in range(200):
        case = bytearray(blob)
        case[fuzz.integers(start, len(blob))] ^= 1 << int(fuzz.integers(0, 8))
        cases.append((f"payload flip {k}", bytes(case)))
    check_decoders("jpegxr", blob, extra=cases)


# Threads.

def test_threads_match_serial():
    images = [image(shape_of(c, 64 + 8 * k, 96), t, seed=k) for k, (t, c) in enumerate(PIXEL_TYPES)]
    blobs = [jpegxr.encode(a, quality=None if a.dtype == bool else 80) for a in images]
    decoded = [jpegxr.decode(b) for b in blobs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda a: jpegxr.encode(a, quality=None if a.dtype == bool else 80),
                                 images)) == blobs
            for got, want in zip(pool.map(jpegxr.decode, blobs), decoded):
                np.testing.assert_array_equal(got, want)
