"""pcodec (through the pcodec binding) against pcodec itself and imagecodecs.pcodec_*; bad input; threads."""

import sys
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pcodec
import pytest
from pcodec import ChunkConfig, standalone

import opencodecs as oc
from hostile import check_decoders

pco = oc.get_codec("pcodec")
rng = np.random.default_rng(42)
DTYPES = ["u1", "i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f2", "<f4", "<f8"]


def values(shape, dtype):
    """Smooth data with noise, in range for `dtype`."""
    walk = np.cumsum(rng.normal(0, 2, shape), axis=-1) + 60 if shape else np.float64(60.5)
    return np.asarray(walk).astype(dtype)


def stream(blob, ndim):
    """The standalone .pco file inside one of our blobs."""
    return blob[16 + 8 * ndim:]


def pcodec_encode(data, level=8):
    return standalone.simple_compress(data.reshape(-1), ChunkConfig(compression_level=level,
                                                                     enable_8_bit=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (), (3, 0), (777,), (60, 70), (4, 30, 40)])
def test_round_trip_is_exact(dtype, shape):
    data = values(shape, dtype)
    back = pco.decode(pco.encode(data))
    assert back.dtype == data.dtype and back.shape == data.shape
    assert back.tobytes() == data.tobytes()  # bit-exact, NaN and -0.0 included


def test_special_floats_are_exact():
    data = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-310, np.finfo(np.float64).max])
    assert pco.decode(pco.encode(data)).tobytes() == data.tobytes()


@pytest.mark.parametrize("level", [0, 4, 8, 12])
def test_levels_parity_with_pcodec(level):
    data = values((40, 500), "<f8")
    ours = pco.encode(data, level=level)
    assert stream(ours, 2) == pcodec_encode(data, level)  # the same library, the same settings
    assert np.array_equal(standalone.simple_decompress(stream(ours, 2)), data.reshape(-1))


def test_invalid_levels_raise():
    for level in (13, -1, 2.5, True, "8"):
        with pytest.raises(oc.EncodeError, match="pcodec: level"):
            pco.encode(values((10,), "<u2"), level=level)


@pytest.mark.parametrize("dtype", DTYPES)
def test_raw_pcodec_files_decode(dtype):
    data = values((30, 40), dtype)
    raw = pcodec_encode(data)
    assert np.array_equal(pco.decode(raw), data.reshape(-1), equal_nan=True)  # 1-D: no shape recorded
    assert np.array_equal(pco.decode(raw, shape=data.shape), data, equal_nan=True)
    assert np.array_equal(pco.decode(raw, shape=data.shape, dtype=dtype), data, equal_nan=True)


@pytest.mark.parametrize("dtype", ["<u2", "<i4", "<u8", "<f4", "<f8"])
def test_parity_with_imagecodecs(dtype):
    data = values((50, 60), dtype)
    theirs = imagecodecs.pcodec_encode(data)
    ours = stream(pco.encode(data), 2)
    # Byte for byte the same but for the number type byte that imagecodecs adds
    # to the file header (pcodec's own simple_compress leaves it 0).
    assert theirs[5] != 0 and ours[5] == 0
    assert theirs[:5] + theirs[6:] == ours[:5] + ours[6:]
    assert np.array_equal(pco.decode(theirs, shape=data.shape), data)
    assert np.array_equal(imagecodecs.pcodec_decode(ours, shape=data.shape, dtype=dtype), data)


def test_declared_type_and_count_are_checked():
    raw = pcodec_encode(values((100,), "<f4"))
    with pytest.raises(oc.DecodeError, match="holds float32 numbers, not float64"):
        pco.decode(raw, dtype="<f8")
    with pytest.raises(oc.DecodeError, match="declares 100 numbers, shape"):
        pco.decode(raw, shape=(10, 11))
    empty = standalone.simple_compress(np.zeros(0, np.uint16), ChunkConfig())
    with pytest.raises(oc.DecodeError, match="no number type; pass dtype="):
        pco.decode(empty)
    assert pco.decode(empty, dtype="<u2").shape == (0,)


def test_count_beyond_what_the_file_can_hold():
    raw = pcodec_encode(np.zeros(10, np.uint8))
    assert raw[6:8] == bytes([0x83, 0x02])  # the count, 10, as a 4-bit varint
    uncounted = raw[:6] + bytes([0x09, 0x00]) + raw[8:]  # a 10-bit varint of 0: no count
    assert np.array_equal(pco.decode(uncounted, shape=(10,)), np.zeros(10, np.uint8))
    with pytest.raises(oc.DecodeError, match="more than 20 bytes can hold"):
        pco.decode(uncounted, shape=(1 << 30,))


def test_blob_shape_and_dtype_must_agree():
    blob = pco.encode(values((10, 20), "<i4"))
    assert pco.decode(blob, shape=(10, 20)).shape == (10, 20)
    with pytest.raises(oc.DecodeError, match="not shape"):
        pco.decode(blob, shape=(20, 10))


@pytest.mark.parametrize("make_out", [lambda d: bytearray(d.nbytes), np.empty_like,
                                      lambda d: np.empty(d.nbytes, np.uint8)])
def test_decode_into_out(make_out):
    data = values((40, 50), "<u2")
    out = make_out(data)
    for blob in (pco.encode(data), pcodec_encode(data)):
        assert pco.decode(blob, out=out) is out
        assert bytes(memoryview(out).cast("B")) == data.tobytes()


@pytest.mark.parametrize("delta", [-2, 2])
def test_decode_into_wrong_size_out_raises(delta):
    data = values((40, 50), "<u2")
    with pytest.raises(oc.DecodeError, match="out is"):
        pco.decode(pco.encode(data), out=bytearray(data.nbytes + delta))


def test_encode_into_buffer():
    data = values((100, 100), "<f4")
    dest = bytearray(data.nbytes)
    view = pco.encode(data, dest=dest)
    assert bytes(view) == pco.encode(data)
    with pytest.raises(oc.EncodeError):
        pco.encode(data, dest=bytearray(50))


def test_unsupported_dtype_and_unknown_option():
    with pytest.raises(oc.EncodeError, match="pcodec: cannot encode bool data; supported dtypes: uint8"):
        pco.encode(np.zeros(4, bool))
    with pytest.raises(oc.EncodeError, match="pcodec: cannot encode >u2"):
        pco.encode(np.zeros(4, ">u2"))
    with pytest.raises(TypeError):
        pco.encode(values((4,), "<u2"), quality=3)


def test_large_array():
    data = np.tile((np.arange(1 << 16) % 1000).astype(np.uint16), 560)  # 70 MiB
    blob = pco.encode(data, level=4)
    assert len(blob) < data.nbytes // 100
    assert np.array_equal(pco.decode(blob), data)


def test_file_round_trip_and_detection(tmp_path):
    data = values((30, 40), "<i8")
    path = tmp_path / "x.pco"
    oc.write(path, data)
    assert np.array_equal(oc.read(path), data)
    assert oc.codec_for_bytes(path.read_bytes()) is pco
    raw = pcodec_encode(data)
    assert oc.codec_for_bytes(raw) is pco
    assert np.array_equal(oc.read(raw, shape=data.shape), data)


def test_missing_binding_keeps_the_codec_listed(monkeypatch):
    monkeypatch.setitem(sys.modules, "pcodec", None)  # makes `import pcodec` fail
    fresh = type(pco)()
    assert fresh.has_native is False
    with pytest.raises(oc.CodecUnavailableError, match="pip install pcodec"):
        fresh.decode(pco.encode(values((10,), "<u2")))
    assert pco in oc.list_codecs()
    assert pcodec.standalone is standalone  # the real module is untouched


def _with_first_dim(blob, n):
    return blob[:16] + int(n).to_bytes(8, "little") + blob[24:]


def test_hostile_input():
    data = values((64, 64), "<f8")
    valid = pco.encode(data)
    start = 16 + 16  # the .pco file
    lies = [
        ("huge shape", _with_first_dim(valid, 1 << 50)),
        ("shape beyond the file", _with_first_dim(valid, 1 << 27)),
        ("shape holds more numbers", _with_first_dim(valid, 65)),
        ("other dtype", valid[:9] + b"<i8\0" + valid[13:]),
        ("bogus dtype", valid[:9] + b"<c8\0" + valid[13:]),
        ("unknown number type", valid[:start + 5] + b"\x63" + valid[start + 6:]),
        ("no file", valid[:start]),
        ("truncated file", valid[:len(valid) // 2]),
    ]
    check_decoders("pcodec", valid, extra=lies, must_fail=("empty", "one byte") + tuple(l for l, _ in lies))
    check_decoders("pcodec", valid[start:], opts={"shape": data.shape},
                   must_fail=("empty", "one byte", "truncated to 8"))


def test_threads_give_identical_results():
    items = [values((100, 120), dt) for dt in ("<u2", "<i4", "<f4", "<f8")] * 4
    serial = [pco.encode(x) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(pco.encode, items))
        decoded = list(pool.map(pco.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(a, b) for a, b in zip(decoded, items))
