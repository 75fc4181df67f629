"""brotli: Brotli streams through libbrotli, checked against the brotli package and imagecodecs."""

import ctypes
import ctypes.util
from concurrent.futures import ThreadPoolExecutor

import brotli
import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("brotli")
MODES = {"generic": brotli.MODE_GENERIC, "text": brotli.MODE_TEXT, "font": brotli.MODE_FONT}


def sample(dtype, n, seed=0):
    """Smooth, noisy data of `n` elements, like a microscopy image row."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 3, n)) + 1000
    return walk.astype(dtype).tobytes()


def reference_compress(data, quality, lgwin, mode):
    """BrotliEncoderCompress of the libbrotli release opencodecs links, from another build of it:
    the system's shared library, or the brotli package (which bundles the same release)."""
    if "(system)" not in codec.library_build:
        if brotli.version != codec.native.VERSION:
            pytest.skip(f"the brotli package bundles libbrotli {brotli.version}; opencodecs links "
                        f"{codec.native.VERSION}: their encoders differ at some settings")
        return brotli.compress(data, quality=quality, lgwin=lgwin, mode=mode)
    lib = ctypes.CDLL(ctypes.util.find_library("brotlienc"))
    size = ctypes.c_size_t(len(data) + 1024)
    buf = ctypes.create_string_buffer(size.value)
    assert lib.BrotliEncoderCompress(quality, lgwin, mode, ctypes.c_size_t(len(data)), data,
                                     ctypes.byref(size), buf)
    return buf.raw[:size.value]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 100_000])
def test_round_trip(dtype, n):
    data = sample(dtype, n)
    assert codec.decode(codec.encode(data)) == data


def test_round_trip_over_64_mib():
    data = np.tile(np.frombuffer(sample("uint16", 1 << 14), np.uint8), 2080)  # 65 MiB, 32 KiB period
    blob = codec.encode(data, level=0)
    assert len(blob) < data.nbytes // 4
    assert codec.decode(blob) == data.tobytes()


@pytest.mark.parametrize("level,lgwin,mode", [(0, 22, "generic"), (1, 16, "text"), (4, 22, "generic"),
                                              (5, 10, "font"), (9, 24, "generic"), (10, 18, "text"),
                                              (11, 22, "font")])
def test_encoding_equals_the_library_at_the_same_settings(level, lgwin, mode):
    data = sample("uint16", 30_000)
    ours = codec.encode(data, level=level, lgwin=lgwin, mode=mode)
    assert ours == reference_compress(data, level, lgwin, MODES[mode])
    assert brotli.decompress(ours) == data


@pytest.mark.parametrize("level,lgwin,mode", [(0, 10, "generic"), (4, 22, "text"), (11, 24, "font")])
def test_brotli_package_parity(level, lgwin, mode):
    data = sample("float32", 50_000)
    assert codec.decode(brotli.compress(data, quality=level, lgwin=lgwin, mode=MODES[mode])) == data
    assert brotli.decompress(codec.encode(data, level=level, lgwin=lgwin, mode=mode)) == data


def test_imagecodecs_parity():
    data = sample("uint16", 100_000)
    assert codec.decode(imagecodecs.brotli_encode(data, level=6)) == data
    assert imagecodecs.brotli_decode(codec.encode(data), out=len(data)) == data
    # imagecodecs bundles libbrotli 1.2; at level 1 it encodes this data as 1.0.9 does.
    assert codec.encode(data, level=1) == imagecodecs.brotli_encode(data, level=1)


def test_decode_into_out():
    arr = np.frombuffer(sample("uint16", 100_000), np.uint16)
    blob = brotli.compress(arr.tobytes(), quality=5)
    out = np.zeros_like(arr)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, arr)
    buf = bytearray(arr.nbytes)
    assert codec.decode(blob, out=buf) is buf
    assert buf == arr.tobytes()
    for wrong in (arr.nbytes - 1, arr.nbytes + 1, 0):
        with pytest.raises(oc.DecodeError, match="^brotli: "):
            codec.decode(blob, out=bytearray(wrong))


def test_decode_highly_compressed_grows_output():
    data = bytes(20 << 20)
    assert codec.decode(brotli.compress(data, quality=1)) == data


def test_encode_into_buffer():
    data = sample("uint16", 50_000)
    expected = codec.encode(data)
    buf = bytearray(len(expected))
    view = codec.encode(data, dest=buf)
    assert bytes(view) == expected and view.obj is buf
    with pytest.raises(oc.EncodeError, match="^brotli: "):
        codec.encode(data, dest=bytearray(len(expected) - 1))


@pytest.mark.parametrize("opts", [dict(level=-1), dict(level=12), dict(level=2.0), dict(level=True),
                                  dict(lgwin=9), dict(lgwin=25), dict(mode="binary"), dict(mode=0)])
def test_invalid_options(opts):
    with pytest.raises(oc.EncodeError, match="^brotli: "):
        codec.encode(b"abc", **opts)


def test_unknown_option():
    with pytest.raises(TypeError):
        codec.encode(b"abc", quality=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), level=1)


def test_max_decoded_bytes(monkeypatch):
    blob = brotli.compress(bytes(1 << 20))
    monkeypatch.setattr(oc.config, "max_decoded_bytes", (1 << 20) - 1)
    with pytest.raises(oc.DecodeError, match="^brotli: .*max_decoded_bytes"):
        codec.decode(blob)
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    assert codec.decode(blob) == bytes(1 << 20)


def test_file_round_trip(tmp_path):
    data = sample("float64", 10_000)
    oc.write(tmp_path / "x.br", data)
    assert oc.read(tmp_path / "x.br") == data
    assert oc.codec_for_path("y.br") is codec
    assert not codec.signature((tmp_path / "x.br").read_bytes())  # brotli has no magic bytes


def test_hostile_input():
    valid = codec.encode(sample("uint16", 20_000), level=5)
    extra = [("two streams back to back", valid + valid),
             ("stream then one zero byte", valid + b"\0")]
    check_decoders("brotli", valid, extra=extra, must_fail=("empty", "one byte", *(label for label, _ in extra)))


def test_threads_match_serial():
    inputs = [sample(dt, 30_000 + 1000 * i, seed=i) for i, dt in enumerate(["uint8", "uint16", "float32", "float64"] * 4)]
    serial_blobs = [codec.encode(x, level=i % 8) for i, x in enumerate(inputs)]
    with ThreadPoolExecutor(4) as pool:
        blobs = list(pool.map(lambda ix: codec.encode(ix[1], level=ix[0] % 8), enumerate(inputs)))
        decoded = list(pool.map(codec.decode, blobs * 2))
    assert blobs == serial_blobs
    assert decoded == inputs * 2
