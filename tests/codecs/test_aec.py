"""aec (libaec, CCSDS 121.0-B-2) against imagecodecs.aec_*, both directions; options; bad input; threads."""

from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders
from opencodecs.codecs.arrays import pack_header

aec = oc.get_codec("aec")
rng = np.random.default_rng(42)
HEADER = 16  # fixed part of the array header; 8 bytes per dimension follow
PARAMS = 8   # bits per sample, block, rsi, flags

DTYPES = ["u1", "i1", "<u2", "<i2", "<u4", "<i4", ">u2", ">i4"]


def samples(shape, dtype):
    """A random walk that fits `dtype` (smooth, like instrument data)."""
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    walk = np.cumsum(rng.integers(-40, 41, shape), axis=-1) + (info.max // 2 if info.min == 0 else 0)
    return np.clip(walk, info.min, info.max).astype(dtype)


def raw_stream(blob, ndim):
    """The libaec stream inside one of our blobs."""
    return blob[HEADER + 8 * ndim + PARAMS:]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (), (3, 0), (777,), (60, 70), (5, 30, 40)])
def test_round_trip(dtype, shape):
    data = samples(shape, dtype)
    back = aec.decode(aec.encode(data))
    assert back.dtype == data.dtype and back.shape == data.shape
    assert np.array_equal(back, data)


@pytest.mark.parametrize("dtype", ["u1", "i1", "<u2", "<i2", "<u4", ">i4"])
@pytest.mark.parametrize("flags", [0, aec.DATA_PREPROCESS])
def test_every_bitspersample_round_trips(dtype, flags):
    dtype = np.dtype(dtype)
    width = dtype.itemsize * 8
    for bits in range({1: 1, 2: 9, 4: 17}[dtype.itemsize], width + 1):
        lo, hi = (-(1 << bits - 1), (1 << bits - 1) - 1) if dtype.kind == "i" else (0, (1 << bits) - 1)
        data = np.clip(np.cumsum(rng.integers(-9, 10, 3000)), lo, hi).astype(dtype)
        data[:2] = lo, hi
        blob = aec.encode(data, bitspersample=bits, flags=flags)
        assert np.array_equal(aec.decode(blob), data), bits


def test_fewer_bits_code_smaller():
    data = samples((200, 200), "<u2") % 1024
    assert len(aec.encode(data, bitspersample=10, flags=0)) < len(aec.encode(data, flags=0))


def test_values_that_do_not_fit_bitspersample_raise():
    with pytest.raises(oc.EncodeError, match="outside 0..4095"):
        aec.encode(np.array([1, 4096], np.uint16), bitspersample=12)
    with pytest.raises(oc.EncodeError, match="outside -2048..2047"):
        aec.encode(np.array([-2049, 0], np.int16), bitspersample=12)


def test_restricted_coding_options():
    data = rng.integers(0, 4, 5000).astype(np.uint8)
    blob = aec.encode(data, bitspersample=2, flags=aec.DATA_PREPROCESS | aec.RESTRICTED)
    assert np.array_equal(aec.decode(blob), data)


@pytest.mark.parametrize("dtype", ["u1", "i1", "<u2", "<i2", "<u4", "<i4"])
@pytest.mark.parametrize("block,rsi", [(8, 2), (16, 64), (32, 128), (64, 4096)])
@pytest.mark.parametrize("preprocess", [True, False])
def test_parity_with_imagecodecs(dtype, block, rsi, preprocess):
    data = samples((50, 300), dtype)
    flags = aec.DATA_PREPROCESS if preprocess else 0
    ours = raw_stream(aec.encode(data, block=block, rsi=rsi, flags=flags), data.ndim)
    signed = imagecodecs.AEC.FLAG.DATA_SIGNED if data.dtype.kind == "i" else 0
    theirs = imagecodecs.aec_encode(data, blocksize=block, rsi=rsi, flags=flags | signed)
    # Same coder (system libaec 1.0.6, imagecodecs' bundled 1.1.6), same settings.
    assert ours == theirs
    decoded = aec.decode(theirs, shape=data.shape, dtype=data.dtype, block=block, rsi=rsi, flags=flags)
    assert np.array_equal(decoded, data)
    # imagecodecs refuses a stream it does not read to the last byte, and libaec
    # stops at a full output: give it room, and compare what the samples fill.
    theirs_decoded = imagecodecs.aec_decode(ours, blocksize=block, rsi=rsi, flags=flags | signed,
                                            bitspersample=data.itemsize * 8, out=data.nbytes + 4096)
    assert bytes(theirs_decoded[:data.nbytes]) == data.tobytes()


def test_raw_stream_with_imagecodecs_defaults():
    data = samples((100, 100), "<u2")
    theirs = imagecodecs.aec_encode(data)
    assert np.array_equal(aec.decode(theirs, shape=(100, 100), dtype="<u2", block=8, rsi=2), data)
    # shape and dtype may come from `out`
    out = np.empty_like(data)
    assert aec.decode(theirs, out=out, block=8, rsi=2) is out
    assert np.array_equal(out, data)


def test_raw_stream_needs_shape_and_dtype():
    theirs = imagecodecs.aec_encode(samples((10,), "<u2"))
    with pytest.raises(oc.DecodeError, match="pass shape= and dtype="):
        aec.decode(theirs)
    with pytest.raises(oc.DecodeError, match="stream ends"):
        aec.decode(theirs, shape=(10,), dtype="<u2")  # coded with block=8, rsi=2: wrong defaults


def test_blob_describes_itself():
    data = samples((20, 30), "<i2")
    blob = aec.encode(data, block=16, rsi=7)
    assert np.array_equal(aec.decode(blob, shape=(20, 30), dtype="<i2"), data)
    with pytest.raises(oc.DecodeError, match="not shape"):
        aec.decode(blob, shape=(30, 20))
    with pytest.raises(oc.DecodeError, match="records its coding parameters"):
        aec.decode(blob, block=16)


@pytest.mark.parametrize("make_out", [lambda d: bytearray(d.nbytes), np.empty_like,
                                      lambda d: np.empty(d.nbytes, np.uint8)])
def test_decode_into_out(make_out):
    data = samples((40, 50), "<u2")
    out = make_out(data)
    assert aec.decode(aec.encode(data), out=out) is out
    assert bytes(memoryview(out).cast("B")) == data.tobytes()


@pytest.mark.parametrize("delta", [-2, 2])
def test_decode_into_wrong_size_out_raises(delta):
    data = samples((40, 50), "<u2")
    with pytest.raises(oc.DecodeError, match="out is"):
        aec.decode(aec.encode(data), out=bytearray(data.nbytes + delta))


def test_encode_into_buffer():
    data = samples((100, 100), "<u2")
    dest = bytearray(data.nbytes)
    view = aec.encode(data, dest=dest)
    assert bytes(view) == aec.encode(data)
    with pytest.raises(oc.EncodeError):
        aec.encode(data, dest=bytearray(100))


@pytest.mark.parametrize("opts", [dict(block=12), dict(block=True), dict(rsi=0), dict(rsi=4097),
                                  dict(flags=2), dict(flags=aec.PAD_RSI), dict(flags=16),
                                  dict(bitspersample=8), dict(bitspersample=17), dict(flags="8")])
def test_invalid_options_raise(opts):
    with pytest.raises(oc.EncodeError, match="aec: "):
        aec.encode(samples((100,), "<u2"), **opts)


def test_unsupported_dtype_and_unknown_option():
    with pytest.raises(oc.EncodeError, match="aec: cannot encode float32.*supported dtypes: uint8"):
        aec.encode(np.zeros(4, np.float32))
    with pytest.raises(TypeError):
        aec.encode(samples((4,), "<u2"), level=3)


def test_large_array():
    data = np.zeros((70, 1 << 20), np.uint8)
    data[:, ::4096] = 7
    blob = aec.encode(data)
    assert len(blob) < data.nbytes // 100
    assert np.array_equal(aec.decode(blob), data)


def test_file_round_trip_and_detection(tmp_path):
    data = samples((30, 40), "<u4")
    path = tmp_path / "x.aec"
    oc.write(path, data)
    assert np.array_equal(oc.read(path), data)
    assert oc.codec_for_bytes(path.read_bytes()) is aec


def _with_shape(blob, shape):
    """Our blob with its (one-dimensional) shape replaced."""
    return blob[:HEADER] + int(shape).to_bytes(8, "little") + blob[HEADER + 8:]


def test_declared_size_beyond_what_the_stream_can_hold():
    blob = aec.encode(np.zeros(1000, np.uint8))
    with pytest.raises(oc.DecodeError, match="stream bytes can hold"):
        aec.decode(_with_shape(blob, 1 << 32))


def test_hostile_input():
    data = samples((64, 64), "<u2").reshape(-1)
    valid = aec.encode(data)
    params = HEADER + 8
    lies = [
        ("huge shape", _with_shape(valid, 1 << 61)),
        ("shape beyond the stream", _with_shape(valid, 1 << 31)),
        ("bogus dtype", valid[:9] + b"<f4\0" + valid[13:]),
        ("float dtype", valid[:9] + b"<f8\0" + valid[13:]),
        ("bad block", valid[:params + 1] + b"\x0c" + valid[params + 2:]),
        ("bad flags", valid[:params + 4] + b"\x40" + valid[params + 5:]),
        ("no parameters", valid[:params + 3]),
        ("truncated stream", valid[:len(valid) // 2]),
    ]
    check_decoders("aec", valid, extra=lies, must_fail=("empty", "one byte") + tuple(l for l, _ in lies))
    raw = raw_stream(valid, 1)
    check_decoders("aec", raw, opts={"shape": data.shape, "dtype": "<u2"},
                   must_fail=("empty", "one byte", "truncated to 8"))


def test_threads_give_identical_results():
    items = [samples((100, 120), dt) for dt in DTYPES] * 4
    serial = [aec.encode(x) for x in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(aec.encode, items))
        decoded = list(pool.map(aec.decode, serial))
    assert parallel == serial
    assert all(np.array_equal(a, b) for a, b in zip(decoded, items))
