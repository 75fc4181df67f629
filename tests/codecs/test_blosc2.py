"""blosc2: C-Blosc2 chunks, checked against python-blosc2 (compress2/decompress2) and imagecodecs."""

import mmap
import struct
from concurrent.futures import ThreadPoolExecutor

import blosc2
import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("blosc2")
FILTERS = {"noshuffle": blosc2.Filter.NOFILTER, "shuffle": blosc2.Filter.SHUFFLE,
           "bitshuffle": blosc2.Filter.BITSHUFFLE}
# Chunk header fields (little-endian int32 at these offsets, bytes at the others).
FLAGS, TYPESIZE, NBYTES, BLOCKSIZE, CBYTES, UDCODEC, FLAGS2, BLOSC2_FLAGS = 2, 3, 4, 8, 12, 22, 30, 31


def sample(dtype, n, seed=0):
    """Smooth, noisy data of `n` elements, like a microscopy image row."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 3, n)) + 1000
    return walk.astype(dtype)


def reference(data, level=1, compressor="zstd", shuffle="shuffle", typesize=1, blocksize=0):
    """python-blosc2's chunk for the same settings (one thread, so deterministic)."""
    return blosc2.compress2(
        data, codec=blosc2.Codec[compressor.upper()], clevel=level, typesize=typesize,
        nthreads=1, blocksize=blocksize, filters=[0, 0, 0, 0, 0, FILTERS[shuffle]],
        splitmode=blosc2.SplitMode.FORWARD_COMPAT_SPLIT)


def with_int(blob, offset, value):
    return blob[:offset] + struct.pack("<i", value) + blob[offset + 4:]


def with_byte(blob, offset, value):
    return blob[:offset] + bytes([value]) + blob[offset + 1:]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 300_000])
def test_round_trip(dtype, n):
    data = sample(dtype, n)
    blob = codec.encode(data)
    assert blob[TYPESIZE] == data.itemsize  # typesize comes from the dtype
    assert codec.decode(blob) == data.tobytes()
    assert codec.decode(codec.encode(data.tobytes())) == data.tobytes()


def test_round_trip_over_64_mib():
    data = np.tile(sample("uint16", 1 << 14), 2080)  # 65 MiB, 32 KiB period
    blob = codec.encode(data, compressor="lz4")
    assert len(blob) < data.nbytes // 3
    assert codec.decode(blob) == data.tobytes()


def test_input_over_the_chunk_limit_raises():
    huge = mmap.mmap(-1, 1 << 31)  # address space only: never touched
    with pytest.raises(oc.EncodeError, match="chunk limit"):
        codec.encode(huge)


@pytest.mark.parametrize("compressor", ["blosclz", "lz4", "lz4hc", "zlib", "zstd"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
@pytest.mark.parametrize("level", [0, 1, 5, 9])
def test_encoding_equals_python_blosc2(compressor, shuffle, level):
    # python-blosc2 ships (and we link) the same C-Blosc2 build.
    data = sample("uint16", 200_000)
    ours = codec.encode(data, level=level, compressor=compressor, shuffle=shuffle)
    assert ours == reference(data.tobytes(), level, compressor, shuffle, typesize=2)
    assert blosc2.decompress2(ours) == data.tobytes()


@pytest.mark.parametrize("typesize, blocksize", [(1, 0), (4, 0), (8, 16384), (3, 4096)])
def test_typesize_and_blocksize_equal_python_blosc2(typesize, blocksize):
    data = sample("float64", 100_000).tobytes()
    ours = codec.encode(data, typesize=typesize, blocksize=blocksize)
    ref = reference(data, typesize=typesize, blocksize=blocksize)
    assert ours == ref
    assert ours[TYPESIZE] == typesize
    # C-Blosc2 may round a requested blocksize (3.8 rounds to a multiple of the
    # typesize): the header must record what the reference records.
    assert struct.unpack_from("<i", ours, BLOCKSIZE)[0] == struct.unpack_from("<i", ref, BLOCKSIZE)[0]
    if blocksize:
        assert abs(struct.unpack_from("<i", ours, BLOCKSIZE)[0] - blocksize) < typesize


@pytest.mark.parametrize("cparams", [{}, {"codec": blosc2.Codec.LZ4, "clevel": 9},
                                     {"codec": blosc2.Codec.BLOSCLZ, "filters": [blosc2.Filter.BITSHUFFLE]},
                                     {"codec": blosc2.Codec.ZLIB, "typesize": 4, "nthreads": 2},
                                     {"filters": [blosc2.Filter.DELTA, blosc2.Filter.SHUFFLE], "typesize": 2},
                                     {"filters": [blosc2.Filter.BYTEDELTA], "typesize": 4}])
def test_decodes_python_blosc2(cparams):
    data = sample("float32", 600_000).tobytes()
    assert codec.decode(blosc2.compress2(data, **cparams)) == data


@pytest.mark.parametrize("compressor", ["blosclz", "lz4", "zlib", "zstd"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
def test_parity_with_imagecodecs(compressor, shuffle):
    # imagecodecs bundles an older C-Blosc2 (2.x): same format, not always the same bytes.
    data = sample("uint16", 200_000)
    theirs = imagecodecs.blosc2_encode(data, level=5, compressor=compressor, shuffle=shuffle)
    assert codec.decode(theirs) == data.tobytes()
    ours = codec.encode(data, level=5, compressor=compressor, shuffle=shuffle)
    assert imagecodecs.blosc2_decode(ours) == data.tobytes()


def test_defaults_follow_imagecodecs():
    # zstd, byte shuffle, typesize from the dtype: the same header; level 1 as well.
    data = sample("uint16", 50_000)
    blob = codec.encode(data)
    theirs = imagecodecs.blosc2_encode(data)
    assert blob[FLAGS:TYPESIZE + 1] == theirs[FLAGS:TYPESIZE + 1]
    assert blob[16:32] == theirs[16:32]
    assert blob == reference(data.tobytes(), level=1, typesize=2)


def test_multithreaded_round_trip():
    data = sample("uint16", 3_000_000)  # 6 MiB: above the one-thread threshold
    blob = codec.encode(data, numthreads=2)
    assert codec.decode(blob, numthreads=2) == data.tobytes()
    assert blosc2.decompress2(blob) == data.tobytes()
    assert codec.decode(codec.encode(data, numthreads=1), numthreads=3) == data.tobytes()


def test_special_chunks():
    zeros = blosc2.compress2(bytes(1 << 20), typesize=4)
    assert len(zeros) == 32 and codec.decode(zeros) == bytes(1 << 20)
    uninit = with_byte(zeros, BLOSC2_FLAGS, 0x40)  # uninitialised values decode as zeros here
    out = bytearray(b"\xff" * (1 << 20))
    assert codec.decode(uninit, out=out) is out and out == bytes(1 << 20)
    ones = blosc2.compress2(np.ones(1 << 16, np.float32).tobytes(), typesize=4)
    assert codec.decode(ones) == np.ones(1 << 16, np.float32).tobytes()


def test_out_into_bytearray_and_numpy():
    data = sample("uint16", 100_000)
    blob = codec.encode(data)
    out = bytearray(data.nbytes)
    assert codec.decode(blob, out=out) is out and out == data.tobytes()
    arr = np.empty((250, 400), np.uint16)
    assert codec.decode(blob, out=arr) is arr
    np.testing.assert_array_equal(arr.ravel(), data)


@pytest.mark.parametrize("size", [0, 199_999, 200_001])
def test_wrong_size_out_raises(size):
    blob = codec.encode(sample("uint16", 100_000))
    with pytest.raises(oc.DecodeError, match="^blosc2: "):
        codec.decode(blob, out=bytearray(size))


def test_encode_into_buffer():
    data = sample("uint16", 100_000)
    expected = codec.encode(data)
    dest = bytearray(data.nbytes + 64)
    view = codec.encode(data, dest=dest)
    assert bytes(view) == expected and dest[:len(expected)] == expected
    with pytest.raises(oc.EncodeError, match="does not fit"):
        codec.encode(data, dest=bytearray(100))


@pytest.mark.parametrize("level", [-1, 10, 1.5, True, "5"])
def test_invalid_level_raises(level):
    with pytest.raises(oc.EncodeError, match="^blosc2: level"):
        codec.encode(b"abc", level=level)


@pytest.mark.parametrize("options", [{"compressor": "snappy"}, {"shuffle": "delta"},
                                     {"typesize": 0}, {"blocksize": -1}, {"blocksize": 1 << 30}])
def test_invalid_options_raise(options):
    with pytest.raises(oc.EncodeError, match="^blosc2: "):
        codec.encode(b"abc" * 100, **options)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(b"abc", clevel=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), level=5)


def test_file_round_trip(tmp_path):
    data = sample("float32", 50_000).tobytes()
    oc.write(tmp_path / "x.b2", data)
    assert oc.codec_for_path(tmp_path / "x.b2") is codec
    assert oc.read(tmp_path / "x.b2") == data
    assert oc.codec_for_bytes(codec.encode(data)) is None  # no magic bytes: found by extension


def test_declared_size_over_max_decoded_bytes_raises(monkeypatch):
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    zeros = blosc2.compress2(bytes(1 << 20), typesize=1)
    assert codec.decode(zeros) == bytes(1 << 20)
    with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
        codec.decode(with_int(zeros, NBYTES, (1 << 20) + 1))


VALID = codec.encode(sample("uint16", 20_000), blocksize=4096)
STORED = codec.encode(sample("uint16", 1000), level=0)


@pytest.mark.parametrize("blob, message", [
    (with_int(VALID, NBYTES, 0x7FFFFF00), "more than .* bytes can index"),
    (with_int(VALID, CBYTES, len(VALID) + 100), "truncated"),
    (VALID[:20], "truncated chunk header"),
    (VALID[:15], "shorter than a chunk header"),
    (with_int(STORED, NBYTES, 4000), "stored chunk declares 4000 bytes"),
    (with_byte(VALID, BLOSC2_FLAGS, 0x08), "lazy"),
    (with_byte(VALID, FLAGS2, 0x01), "variable-length"),
    (with_byte(VALID, FLAGS, (VALID[FLAGS] & 0x1F) | 6 << 5), "unsupported compressor"),
])
def test_lying_headers_are_refused_before_allocating(blob, message):
    # Refused by our header checks (their messages), not by the library after allocating
    # (or, for plugin codecs, after it runs python to look for the plugin).
    with pytest.raises(oc.DecodeError, match="^blosc2: .*" + message):
        codec.decode(blob)


def test_hostile_inputs():
    valid, stored = VALID, STORED
    zeros = blosc2.compress2(bytes(4096), typesize=1)
    lying = [
        ("nbytes huge, cbytes small", with_int(valid, NBYTES, 0x7FFFFF00)),
        ("nbytes negative", with_int(valid, NBYTES, -5)),
        ("cbytes over the buffer", with_int(valid, CBYTES, len(valid) + 100)),
        ("cbytes under the header", with_int(valid, CBYTES, 20)),
        ("blocksize zero", with_int(valid, BLOCKSIZE, 0)),
        ("blocksize negative", with_int(valid, BLOCKSIZE, -1)),
        ("truncated header", valid[:20]),
        ("stored chunk nbytes lies", with_int(stored, NBYTES, 4000)),
        ("lazy chunk", with_byte(valid, BLOSC2_FLAGS, 0x08)),
        ("variable-length blocks", with_byte(valid, FLAGS2, 0x01)),
        ("plugin codec", with_byte(with_byte(valid, FLAGS, (valid[FLAGS] & 0x1F) | 6 << 5), UDCODEC, 36)),
        ("super-chunk codec", with_byte(valid, FLAGS, (valid[FLAGS] & 0x1F) | 7 << 5)),
        ("unknown filter", with_byte(valid, 16 + 5, 200)),
        ("unknown special", with_byte(zeros, BLOSC2_FLAGS, 0x70)),
    ]
    results = check_decoders("blosc2", valid, extra=lying + [
        ("zeros chunk claiming 256 MiB", with_int(zeros, NBYTES, 1 << 28)),
        ("valid stored chunk", stored),
    ], must_fail=("empty", "one byte", *(label for label, _ in lying)))
    assert results["zeros chunk claiming 256 MiB"] == "ok"
    assert results["valid stored chunk"] == "ok"


def test_threads_give_serial_results():
    blobs_in = [sample(dtype, n, seed) for seed, (dtype, n) in
                enumerate([("uint16", 70_000), ("float32", 30_000), ("uint8", 5000), ("float64", 90_000)] * 4)]

    def round_trip(data):
        blob = codec.encode(data, compressor="lz4" if data.itemsize == 4 else "zstd")
        return blob, codec.decode(blob)

    serial = [round_trip(d) for d in blobs_in]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(round_trip, blobs_in))
    assert threaded == serial
    assert all(decoded == d.tobytes() for (_, decoded), d in zip(serial, blobs_in))
