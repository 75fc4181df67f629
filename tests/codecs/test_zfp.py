"""zfp: zfp streams with a full header over libzfp, checked against imagecodecs and zfpy.

Debian's libzfp 1.0.0 and the zfp 1.0.1 bundled in imagecodecs and zfpy write
the same bits; ours are zero-padded to whole 64-bit words like theirs, so the
streams are byte-identical.
"""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
import zfpy

import opencodecs as oc
from hostile import check_decoders, check_no_overread

codec = oc.get_codec("zfp")
DTYPES = ["float32", "float64", "int32", "int64"]
SHAPES = [(1000,), (37, 45), (9, 10, 11), (5, 6, 7, 9)]


def field(shape, dtype, noise, seed=0):
    """A smooth field plus noise of amplitude `noise` (relative to a range of ~1000)."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.linspace(0, 3, n) for n in shape), indexing="ij")
    data = 500 * sum(np.sin(g * (i + 1)) for i, g in enumerate(grids)) / len(shape)
    return (data + rng.normal(0, noise, shape)).astype(dtype)


def reference_options(mode, value):
    """The same setting for imagecodecs.zfp_encode and for zfpy.compress_numpy."""
    if mode == "reversible":
        return {}, {}
    return {"mode": mode, "level": value}, {
        {"rate": "rate", "precision": "precision", "accuracy": "tolerance"}[mode]: value}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(1,), (1, 1, 1, 1), (4, 4), (3, 1025)])
def test_reversible_round_trip(dtype, shape):
    data = field(shape, dtype, noise=5)
    decoded = codec.decode(codec.encode(data))
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    np.testing.assert_array_equal(decoded, data)


def test_round_trip_over_64_mib():
    data = np.tile(field((8, 64, 64), "float32", noise=0), (34, 4, 4))  # 68 MiB, smooth
    blob = codec.encode(data, mode="accuracy", accuracy=1.0)
    assert len(blob) < data.nbytes // 8
    assert np.abs(codec.decode(blob) - data).max() <= 1.0


@pytest.mark.parametrize("mode, value", [("reversible", None), ("rate", 8), ("rate", 2.5),
                                         ("precision", 12), ("accuracy", 0.05)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_encoding_equals_imagecodecs_and_zfpy(mode, value, dtype, shape):
    if mode == "accuracy" and dtype.startswith("int"):
        return
    data = field(shape, dtype, noise=5)
    ours = codec.encode(data, mode=mode, **({mode: value} if value is not None else {}))
    theirs, zfpy_options = reference_options(mode, value)
    assert ours == imagecodecs.zfp_encode(data, **theirs)
    if value != 2.5:  # zfpy 1.0.1 corrupts its heap at this rate (on 1-D doubles)
        assert ours == zfpy.compress_numpy(data, **zfpy_options)
    np.testing.assert_array_equal(imagecodecs.zfp_decode(ours), codec.decode(ours))
    np.testing.assert_array_equal(zfpy.decompress_numpy(ours), codec.decode(ours))


@pytest.mark.parametrize("dtype", DTYPES)
def test_decodes_references(dtype):
    data = field((20, 30, 40), dtype, noise=5)
    np.testing.assert_array_equal(codec.decode(imagecodecs.zfp_encode(data)), data)
    np.testing.assert_array_equal(codec.decode(zfpy.compress_numpy(data)), data)
    lossy = imagecodecs.zfp_encode(data, mode="precision", level=10)
    np.testing.assert_array_equal(codec.decode(lossy), imagecodecs.zfp_decode(lossy))


def test_short_header_streams_decode_with_shape_and_dtype():
    data = field((20, 30), "float64", noise=5)
    short = imagecodecs.zfp_encode(data, header=False)  # magic and mode, no field
    np.testing.assert_array_equal(codec.decode(short, shape=(20, 30), dtype="float64"), data)
    with pytest.raises(oc.DecodeError, match="^zfp: "):
        codec.decode(short)  # its mode bits read as a field: refused one way or another
    with pytest.raises(oc.DecodeError, match="^zfp: pass both"):
        codec.decode(short, shape=(20, 30))
    with pytest.raises(oc.DecodeError, match="^zfp: cannot decode"):
        codec.decode(short, shape=(20, 30), dtype="uint16")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("noise", [0.01, 50])
@pytest.mark.parametrize("accuracy", [1e-3, 0.5, 20])
def test_accuracy_bounds_the_error(dtype, shape, noise, accuracy):
    data = field(shape, dtype, noise)
    decoded = codec.decode(codec.encode(data, mode="accuracy", accuracy=accuracy))
    assert np.abs(decoded.astype(np.float64) - data).max() <= accuracy


# Settings from coarse to fine. Precision counts the type's bit planes (ints have
# 32 or 64, all of them used by the transform). Non-reversible modes are never
# exact on integers, whose largest error stalls at a floor: the RMS error is compared.
STEPS = {("rate", "f"): (0.5, 2, 8, 16), ("precision", "f"): (8, 12, 16, 20),
         ("rate", "i"): (0.5, 2, 8, 16), ("precision", "i"): (-6, -4, -2, 0)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("noise", [0.01, 50])
@pytest.mark.parametrize("mode", ["rate", "precision"])
def test_error_shrinks_as_rate_and_precision_grow(dtype, shape, noise, mode):
    data = field(shape, dtype, noise)
    values = STEPS[mode, data.dtype.kind]
    if mode == "precision" and data.dtype.kind == "i":
        values = tuple(8 * data.itemsize + v for v in values)
    errors, sizes = [], []
    for value in values:
        blob = codec.encode(data, mode=mode, **{mode: value})
        decoded = codec.decode(blob)
        assert decoded.dtype == data.dtype and decoded.shape == data.shape
        errors.append(np.sqrt(np.mean((decoded.astype(np.float64) - data) ** 2)))  # RMS
        sizes.append(len(blob))
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


def test_rate_mode_has_a_fixed_size():
    data = field((64, 64), "float32", noise=5)
    blob = codec.encode(data, mode="rate", rate=4)
    assert len(blob) == 16 + 64 * 64 * 4 // 8  # 96-bit header in two words, then 4 bits a value


def test_out_into_numpy_and_bytearray():
    data = field((37, 45), "float32", noise=5)
    blob = codec.encode(data)
    out = np.empty((37, 45), np.float32)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert codec.decode(blob, out=raw) is raw and raw == data.tobytes()


@pytest.mark.parametrize("out", [np.empty((37, 44), np.float32), bytearray(10),
                                 np.empty((37, 90), np.float32)[:, ::2]])
def test_unusable_out_raises(out):
    with pytest.raises(oc.DecodeError, match="^zfp: "):
        codec.decode(codec.encode(field((37, 45), "float32", 5)), out=out)


def test_encode_into_buffer():
    data = field((37, 45), "float64", noise=5)
    expected = codec.encode(data)
    roomy = bytearray(data.nbytes * 2)  # room for zfp's worst case: written in place
    assert bytes(codec.encode(data, dest=roomy)) == expected and roomy[:len(expected)] == expected
    snug = bytearray(len(expected))  # less than the worst case: through a scratch buffer
    assert bytes(codec.encode(data, dest=snug)) == expected and snug == expected
    with pytest.raises(oc.EncodeError, match="^zfp: .*does not fit"):
        codec.encode(data, dest=bytearray(100))


@pytest.mark.parametrize("options, message", [
    ({"mode": "lossy"}, "mode must be"), ({"mode": "rate"}, "rate must be"),
    ({"mode": "rate", "rate": 0}, "rate must be"), ({"mode": "rate", "rate": -2}, "rate must be"),
    ({"mode": "rate", "rate": float("inf")}, "rate must be"),
    ({"mode": "precision", "precision": 0}, "precision must be"),
    ({"mode": "precision", "precision": 65}, "precision must be"),
    ({"mode": "precision", "precision": 8.5}, "precision must be"),
    ({"mode": "accuracy", "accuracy": 0}, "accuracy must be"),
    ({"rate": 8}, "rate given for mode='reversible'"),
    ({"mode": "accuracy", "accuracy": 1, "precision": 3}, "precision given"),
])
def test_invalid_options_raise(options, message):
    with pytest.raises(oc.EncodeError, match="^zfp: " + message):
        codec.encode(np.zeros((8, 8), np.float32), **options)


@pytest.mark.parametrize("data, message", [
    (np.zeros(4, np.uint16), "cannot encode uint16.*supported dtypes: float32, float64, int32, int64"),
    (np.zeros(4, np.float16), "cannot encode float16"), (np.zeros(4, ">f8"), "cannot encode"),
    (np.zeros((2,) * 5, np.float32), "shape"), (np.zeros((0, 4), np.float32), "shape"),
    (np.float64(1), "shape"),
])
def test_unsupported_data_raises(data, message):
    with pytest.raises(oc.EncodeError, match="^zfp: .*" + message):
        codec.encode(data)


def test_accuracy_mode_needs_floats():
    with pytest.raises(oc.EncodeError, match="^zfp: accuracy mode needs floating-point data"):
        codec.encode(np.zeros(8, np.int32), mode="accuracy", accuracy=1)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(np.zeros(8), level=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(np.zeros(8)), mode="rate")


def test_file_round_trip(tmp_path):
    data = field((10, 20, 30), "float64", noise=5)
    oc.write(tmp_path / "x.zfp", data)
    assert oc.codec_for_path(tmp_path / "x.zfp") is codec
    np.testing.assert_array_equal(oc.read(tmp_path / "x.zfp"), data)
    blob = (tmp_path / "x.zfp").read_bytes()
    assert oc.codec_for_bytes(blob) is codec
    np.testing.assert_array_equal(oc.read(blob), data)


@pytest.mark.parametrize("options", [{}, {"mode": "accuracy", "accuracy": 0.1},
                                     {"mode": "rate", "rate": 8}])
def test_numthreads_gives_the_serial_stream(options):
    # OpenMP compression where it pays off (64-bit stream words); serial otherwise.
    data = field((16, 128, 256), "float32", noise=5)  # 2 MiB
    assert codec.encode(data, numthreads=4, **options) == codec.encode(data, numthreads=1, **options)


def test_threads_give_serial_results():
    arrays = [field(shape, dtype, noise=5, seed=seed) for seed, (shape, dtype) in enumerate(
        [((100, 200), "float32"), ((30, 40, 5), "float64"), ((5000,), "int32"), ((6, 7, 8, 9), "int64")] * 4)]

    def round_trip(data):
        blob = codec.encode(data, mode="precision", precision=20)
        return blob, codec.decode(blob).tobytes()

    serial = [round_trip(a) for a in arrays]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(round_trip, arrays)) == serial


# Full header: 32 bits of magic, 52 of field (type, dims, sizes), 12 (or 64) of mode,
# packed from the least significant bit of the first word.
def with_header_bits(blob, start, count, value):
    bits = int.from_bytes(blob[:24], "little")
    bits = bits & ~(((1 << count) - 1) << start) | value << start
    return bits.to_bytes(24, "little") + blob[24:]


VALID = codec.encode(field((16, 20, 24), "float32", noise=5), mode="precision", precision=14)
RATE = codec.encode(field((16, 20, 24), "float64", noise=1e6), mode="rate", rate=6)  # every bit used


def lying_streams():
    return [
        # 3-D sizes are 16 bits each (minus one) from bit 36.
        ("sizes huge", with_header_bits(VALID, 36, 48, (1 << 48) - 1), "cannot hold|max_decoded_bytes"),
        ("more blocks than bits", with_header_bits(VALID, 36, 16, 0xFFFF), "cannot hold"),
        ("1-D size of 2**48", with_header_bits(with_header_bits(VALID, 34, 2, 0), 36, 48, (1 << 48) - 1),
         "cannot hold|max_decoded_bytes"),
        ("mode invalid", with_header_bits(VALID, 84, 12, 0xFFF), "not a zfp stream|cannot hold"),
        ("codec version 4", VALID[:3] + b"\x04" + VALID[4:], "not a zfp stream"),
        ("truncated stream", VALID[:len(VALID) // 2], "truncated"),
        ("header cut", VALID[:10], "not a zfp stream"),
    ]


# Headers zfp cannot tell from true ones: decode to garbage or fail, safely.
GARBLED = [
    ("type int64", with_header_bits(VALID, 32, 2, 1)),
    # Fixed rate of one bit a block: zfp's reader would underflow its bit budget.
    ("rate of 1 bit a block", with_header_bits(VALID, 84, 12, 0)),
    ("sizes smaller", with_header_bits(VALID, 36, 16, 3)),
]


@pytest.mark.parametrize("label, blob, message", lying_streams(), ids=[c[0] for c in lying_streams()])
def test_lying_streams_are_refused(label, blob, message):
    with pytest.raises(oc.DecodeError, match=f"^zfp: .*({message})"):
        codec.decode(blob)


def test_declared_size_over_max_decoded_bytes_raises(monkeypatch):
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    zeros = codec.encode(np.zeros((64, 64, 128), np.float32))  # 2 MiB of zero blocks: 1 bit each
    assert len(zeros) < 1100
    with pytest.raises(oc.DecodeError, match="^zfp: .*max_decoded_bytes"):
        codec.decode(zeros)


def test_hostile_inputs():
    lies = [(label, blob) for label, blob, _ in lying_streams()]
    check_decoders("zfp", VALID, extra=lies + GARBLED,
                   must_fail=("empty", "one byte", *(label for label, _ in lies)))
    check_decoders("zfp", codec.encode(field((3, 5, 7, 9), "int64", noise=5)))


def test_decoder_never_reads_past_the_stream():
    # zfp's bit stream reader has no bounds; ours must never let it run off the input.
    check_no_overread("zfp", [blob for _, blob, _ in lying_streams()] + [blob for _, blob in GARBLED] + [
        VALID[:cut] for cut in (24, 100, len(VALID) - 9, len(VALID) - 1)] + [
        VALID + bytes(64 << 10),  # longer than anything the decoder could read: read in place
        RATE, RATE[:-16],  # fixed rate: exactly as long as the decoder reads, read in place
        codec.encode(field((40, 50), "float64", noise=1e6))[:-200]])
