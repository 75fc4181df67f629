"""lerc: LERC (Lerc2) blobs over liblerc, checked against imagecodecs and pylerc (`import lerc`)."""

import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import lerc as pylerc
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders, check_no_overread

codec = oc.get_codec("lerc")
DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float32", "float64"]
SHAPES = [(700,), (40, 50), (20, 30, 3), (2, 20, 30, 3)]
# Lerc2 header (version 4 on): "Lerc2 ", version, checksum, then int32 fields.
CHECKSUM, ROWS, COLS, DEPTH, VALID_PIXELS, BLOB_SIZE, DATA_TYPE = 10, 14, 18, 22, 26, 34, 38


def field(shape, dtype, noise, seed=0):
    """A smooth ramp with noise of amplitude `noise`, inside the dtype's range."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.linspace(0, 3, n) for n in shape), indexing="ij")
    data = 40 * (sum(np.sin(g * (i + 1)) for i, g in enumerate(grids)) / len(shape) + 1)
    data = data + rng.normal(0, noise, shape) + 10
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        data = np.clip(np.rint(data), info.min, info.max)
    return data.astype(dtype)


def decoded_like(blob, data):
    """Decode and give back the input's shape (LERC drops length-1 band and depth axes)."""
    decoded = codec.decode(blob)
    assert decoded.dtype == data.dtype
    return decoded.reshape(data.shape)


def fletcher32(data: bytes) -> int:
    sum1 = sum2 = 0xFFFF
    for i in range(0, len(data) - 1, 2):
        sum1 = (sum1 + (data[i] << 8 | data[i + 1])) % 0xFFFF or 0xFFFF
        sum2 = (sum2 + sum1) % 0xFFFF or 0xFFFF
    if len(data) & 1:
        sum1 = (sum1 + (data[-1] << 8)) % 0xFFFF or 0xFFFF
        sum2 = (sum2 + sum1) % 0xFFFF or 0xFFFF
    return sum2 << 16 | sum1


def with_int(blob, offset, value, checksum=True):
    """`blob` with an int32 header field changed, and its checksum made to match."""
    blob = blob[:offset] + struct.pack("<i", value) + blob[offset + 4:]
    if checksum:
        size = struct.unpack_from("<i", blob, BLOB_SIZE)[0]
        blob = blob[:CHECKSUM] + struct.pack("<I", fletcher32(blob[14:size])) + blob[14:]
    return blob


def test_checksum_helper_matches_lerc():
    blob = codec.encode(field((30, 40), "uint16", 3))
    assert with_int(blob, ROWS, 30) == blob


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(1,), (1, 1)])
def test_lossless_round_trip(dtype, shape):
    data = field(shape, dtype, noise=5)
    np.testing.assert_array_equal(decoded_like(codec.encode(data), data), data)


def test_shapes_follow_imagecodecs():
    assert codec.decode(codec.encode(np.arange(5, dtype=np.uint8))).shape == (1, 5)
    assert codec.decode(codec.encode(np.zeros((4, 5, 1), np.uint8))).shape == (4, 5)
    planar = field((3, 20, 30), "uint16", 2)
    blob = codec.encode(planar, planar=True)
    np.testing.assert_array_equal(codec.decode(blob), planar)
    np.testing.assert_array_equal(imagecodecs.lerc_decode(blob), planar)
    assert blob == imagecodecs.lerc_encode(planar, planar=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("noise", [0.5, 20])
@pytest.mark.parametrize("max_z_error", [0.5, 3])
def test_lossy_error_is_within_max_z_error(dtype, shape, noise, max_z_error):
    data = field(shape, dtype, noise)
    blob = codec.encode(data, max_z_error=max_z_error)
    error = np.abs(decoded_like(blob, data).astype(np.float64) - data)
    assert error.max() <= max_z_error


def test_error_and_size_follow_max_z_error():
    data = field((100, 100), "float32", noise=1)
    blobs = [codec.encode(data, max_z_error=e) for e in (0, 0.01, 0.1, 1.0)]
    errors = [np.abs(codec.decode(blob) - data).max() for blob in blobs]
    assert errors[0] == 0 < errors[1] < errors[2] < errors[3] <= 1.0
    assert len(blobs[0]) > len(blobs[1]) > len(blobs[2]) > len(blobs[3])


def test_round_trip_over_64_mib():
    data = np.tile(field((64, 2048), "uint16", noise=0.5), (260, 1))  # 65 MiB
    blob = codec.encode(data, max_z_error=4)
    assert len(blob) < data.nbytes // 8
    assert np.abs(codec.decode(blob).astype(np.int32) - data).max() <= 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_parity_with_imagecodecs(dtype, shape):
    data = field(shape, dtype, noise=5)
    for max_z_error in (0, 1):
        ours = codec.encode(data, max_z_error=max_z_error)
        theirs = imagecodecs.lerc_encode(data, level=max_z_error)
        np.testing.assert_array_equal(decoded_like(theirs, data), decoded_like(ours, data))
        np.testing.assert_array_equal(imagecodecs.lerc_decode(ours).reshape(shape),
                                      decoded_like(ours, data))
        if np.dtype(dtype).itemsize > 1:
            # The same codec version; imagecodecs bundles a newer liblerc, whose
            # 8-bit Huffman coding can pick different tables.
            assert ours == theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES[1:])  # pylerc has no 1-D arrays
def test_parity_with_pylerc(dtype, shape):
    data = field(shape, dtype, noise=5)
    depth = shape[-1] if len(shape) > 2 else 1
    status, size, theirs = pylerc.encode(data, depth, False, None, 0.0, 1)
    assert status == 0
    np.testing.assert_array_equal(decoded_like(bytes(theirs[:size]), data), data)
    for version in (4, 6):
        status, decoded, _ = pylerc.decode(codec.encode(data, version=version))
        assert status == 0
        np.testing.assert_array_equal(decoded.reshape(shape), data)


def test_version_6_packs_noisy_floats_tighter():
    data = field((200, 200), "float32", noise=1)
    v4, v6 = codec.encode(data), codec.encode(data, version=6)
    assert len(v6) < len(v4) * 0.9
    np.testing.assert_array_equal(codec.decode(v6), data)
    np.testing.assert_array_equal(imagecodecs.lerc_decode(v6), data)


def test_invalid_pixels_decode_as_nan_or_zero():
    data = field((20, 30, 3), "float32", noise=1)
    valid = np.ones((20, 30), bool)
    valid[3:5, 4:9] = False
    blob = imagecodecs.lerc_encode(data, masks=valid)
    out = np.zeros(data.shape, np.float32)  # to be overwritten everywhere
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out[valid], data[valid])
    assert np.isnan(out[~valid]).all()
    bands = field((2, 20, 30), "uint16", noise=1)
    masks = np.stack([valid, ~valid])
    out = np.full(bands.shape, 7, np.uint16)
    codec.decode(imagecodecs.lerc_encode(bands, masks=masks, planar=True), out=out)
    np.testing.assert_array_equal(out[masks], bands[masks])
    assert (out[~masks] == 0).all()


@pytest.mark.parametrize("version", [4, 6])
def test_nan_survives(version):
    data = field((30, 40), "float64", noise=1)
    data[2, 3] = data[17, 0] = np.nan
    np.testing.assert_array_equal(codec.decode(codec.encode(data, version=version)), data)
    pixels = field((8, 9, 3), "float32", noise=1)
    pixels[2, 3] = np.nan  # whole pixels: in LERC's masks
    np.testing.assert_array_equal(codec.decode(codec.encode(pixels, version=version)), pixels)
    pixels[4, 5, 1] = np.nan  # part of a pixel: LERC < 6 would write -FLT_MAX
    with pytest.raises(oc.EncodeError, match="^lerc: NaN in some but not all"):
        codec.encode(pixels, version=version)


def test_nodata_values_decode_as_stored():
    data = field((20, 30, 3), "float32", noise=1)
    data[1, 1, 0] = data[5, 7, 2] = -999  # only some values of these pixels
    nodata = np.ma.masked_array([-999.0], mask=[False])
    status, size, blob = pylerc.encode_4D(data, 3, None, 0.0, 1, nodata)
    assert status == 0
    np.testing.assert_array_equal(codec.decode(bytes(blob[:size])), data)


def test_out_into_numpy_and_bytearray():
    data = field((40, 50), "uint16", noise=3)
    blob = codec.encode(data)
    out = np.empty((40, 50), np.uint16)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert codec.decode(blob, out=raw) is raw and raw == data.tobytes()


@pytest.mark.parametrize("out", [np.empty((40, 49), np.uint16), bytearray(10),
                                 np.empty((40, 100), np.uint16)[:, ::2]])
def test_unusable_out_raises(out):
    with pytest.raises(oc.DecodeError, match="^lerc: "):
        codec.decode(codec.encode(field((40, 50), "uint16", 3)), out=out)


def test_encode_into_buffer():
    data = field((40, 50), "float32", noise=3)
    expected = codec.encode(data)
    dest = bytearray(len(expected) + 100)
    view = codec.encode(data, dest=dest)
    assert bytes(view) == expected and dest[:len(expected)] == expected
    with pytest.raises(oc.EncodeError, match="^lerc: .*does not fit"):
        codec.encode(data, dest=bytearray(100))


def test_encode_falls_back_to_the_exact_size():
    # Random bytes in tiny tiles cost LERC more than the raw data plus a quarter.
    data = np.random.default_rng(1).integers(0, 256, (3, 3), dtype=np.uint8)
    np.testing.assert_array_equal(codec.decode(codec.encode(data)), data)


@pytest.mark.parametrize("options, message", [
    ({"max_z_error": -1}, "max_z_error"), ({"max_z_error": float("nan")}, "max_z_error"),
    ({"max_z_error": float("inf")}, "max_z_error"), ({"max_z_error": "1"}, "max_z_error"),
    ({"version": 1}, "version"), ({"version": 7}, "version"),
])
def test_invalid_options_raise(options, message):
    with pytest.raises(oc.EncodeError, match="^lerc: " + message):
        codec.encode(np.zeros((4, 4), np.float32), **options)


@pytest.mark.parametrize("data, message", [
    (np.zeros(4, np.int64), "cannot encode int64.*supported dtypes: int8, uint8"),
    (np.zeros(4, np.float16), "cannot encode float16"), (np.zeros(4, ">f4"), "cannot encode"),
    (np.zeros((2,) * 5, np.uint8), "5-D"), (np.zeros((0, 4), np.uint8), "shape"),
    (np.float32(1), "0-D"),
])
def test_unsupported_data_raises(data, message):
    with pytest.raises(oc.EncodeError, match="^lerc: .*" + message):
        codec.encode(data)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(np.zeros((4, 4)), level=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(np.zeros((4, 4), np.uint8)), max_z_error=1)


def test_file_round_trip(tmp_path):
    data = field((30, 40), "float32", noise=2)
    oc.write(tmp_path / "x.lerc", data, max_z_error=0.01)
    assert oc.codec_for_path(tmp_path / "x.lerc") is codec
    assert np.abs(oc.read(tmp_path / "x.lerc") - data).max() <= 0.01
    blob = (tmp_path / "x.lerc").read_bytes()
    assert oc.codec_for_bytes(blob) is codec
    assert oc.read(blob).shape == data.shape


def test_threads_give_serial_results():
    arrays = [field(shape, dtype, noise=3, seed=seed) for seed, (shape, dtype) in enumerate(
        [((100, 200), "uint16"), ((30, 40, 5), "float32"), ((5000,), "uint8"), ((64, 64), "float64")] * 4)]

    def round_trip(data):
        blob = codec.encode(data, max_z_error=0.5)
        return blob, codec.decode(blob).tobytes()

    serial = [round_trip(a) for a in arrays]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(round_trip, arrays)) == serial


VALID = codec.encode(field((60, 70), "float32", noise=1), max_z_error=0.1)


def lying_blobs():
    return [
        # A checksum that matches: believed (1.2 GB, LERC's limit is 2**31 values),
        # so refused by max_decoded_bytes in the test below, by LERC in the harness.
        ("size huge", with_int(with_int(with_int(VALID, ROWS, 2**10), VALID_PIXELS, 2**10 * 70),
                               DEPTH, 2**12), "max_decoded_bytes"),
        ("rows huge, checksum stale", with_int(VALID, ROWS, 2**20, checksum=False), "checksum"),
        ("depth huge, checksum stale", with_int(VALID, DEPTH, 2**10, checksum=False), "checksum"),
        ("rows overflow", with_int(VALID, ROWS, 2**30), ""),  # LERC's own header checks
        ("blob size over the input", with_int(VALID, BLOB_SIZE, len(VALID) + 100), ""),
        ("data type unknown", with_int(VALID, DATA_TYPE, 9), ""),
        ("Lerc1", b"CntZImage " + VALID[10:], "not a Lerc2 blob"),
        ("header cut", VALID[:40], ""),
    ]


@pytest.mark.parametrize("label, blob, message", lying_blobs(), ids=[c[0] for c in lying_blobs()])
def test_lying_blobs_are_refused_before_allocating(label, blob, message, monkeypatch):
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 64 << 20)
    with pytest.raises(oc.DecodeError, match="^lerc: .*" + message):
        codec.decode(blob)


def test_declared_size_over_max_decoded_bytes_raises(monkeypatch):
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    constant = codec.encode(np.full((1024, 1024), 7, np.float32))  # 4 MiB in a few bytes
    assert len(constant) < 200
    with pytest.raises(oc.DecodeError, match="^lerc: .*max_decoded_bytes"):
        codec.decode(constant)


def test_hostile_inputs():
    lies = [(label, blob) for label, blob, _ in lying_blobs()]
    results = check_decoders("lerc", VALID, extra=lies + [
        ("constant 64 MiB", codec.encode(np.full((4096, 4096), 3, np.float32))),
    ], must_fail=("empty", "one byte", *(label for label, _ in lies)))
    assert results["constant 64 MiB"] == "ok"


def test_decoder_never_reads_past_the_blob():
    check_no_overread("lerc", [blob for _, blob, _ in lying_blobs()] + [
        VALID, VALID[:-1], VALID[:len(VALID) // 2], codec.encode(field((30, 40, 3), "uint8", 5))[:-3]])
