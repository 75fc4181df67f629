"""b2nd: C-Blosc2 NDim arrays as contiguous frames, checked against python-blosc2.

imagecodecs (2026.3.6, the last release for Python 3.11) has no b2nd codec, so
python-blosc2 (`NDArray.to_cframe()` / `ndarray_from_cframe`) is the reference.
"""

import struct
from concurrent.futures import ThreadPoolExecutor

import blosc2
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders, check_no_overread

codec = oc.get_codec("b2nd")
FILTERS = {"noshuffle": blosc2.Filter.NOFILTER, "shuffle": blosc2.Filter.SHUFFLE,
           "bitshuffle": blosc2.Filter.BITSHUFFLE}
# Frame header: big-endian values at these offsets (README_CFRAME_FORMAT).
HEADER_LEN, FRAME_LEN, NBYTES, CBYTES, TYPESIZE, CHUNKSIZE = 11, 16, 30, 39, 48, 58
NTHREADS = slice(63, 68)  # threads to (de)compress with: the one field we do not match
# Chunk header: flags byte and user-defined codec byte.
CHUNK_FLAGS, CHUNK_UDCODEC = 2, 22


def field(shape, dtype="float32", noise=0.01, seed=0):
    """A smooth field with some noise, like a simulation or a microscope image."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.linspace(0, 3, n) for n in shape), indexing="ij")
    smooth = sum(np.sin(g * (i + 1)) for i, g in enumerate(grids)) if grids else np.float64(1)
    data = 100 * (smooth + 2) + rng.normal(0, 100 * noise, shape)
    return np.asarray(data).astype(dtype)


def reference(data, chunks, blocks, level=5, compressor="zstd", shuffle="shuffle"):
    """python-blosc2's frame for the same settings (one thread, deterministic)."""
    cparams = blosc2.CParams(codec=blosc2.Codec[compressor.upper()], clevel=level, nthreads=1,
                             filters=[0, 0, 0, 0, 0, FILTERS[shuffle]],  # shuffle last, as by default
                             splitmode=blosc2.SplitMode.AUTO_SPLIT)
    return blosc2.asarray(data, chunks=chunks, blocks=blocks, cparams=cparams).to_cframe()


def without_nthreads(blob):
    return blob[:NTHREADS.start] + blob[NTHREADS.stop:]


def fields(blob):
    return {name: struct.unpack_from(fmt, blob, at)[0] for name, at, fmt in (
        ("header_len", HEADER_LEN, ">i"), ("cbytes", CBYTES, ">q"))}


def meta_start(blob):
    """Where the b2nd metalayer's msgpack array starts (python-blosc2 frames: one metalayer)."""
    assert blob[94:99] == b"\xa4b2nd"
    return struct.unpack_from(">i", blob, 100)[0] + 5


def patched(blob, offset, new):
    return blob[:offset] + new + blob[offset + len(new):]


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int16", "uint16", "int32", "float32",
                                   "float64", "complex64", "uint64"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (1000,), (30, 41), (3, 0, 5), (4, 5, 6, 7)])
def test_round_trip(dtype, shape):
    data = field(shape, dtype, noise=0.5)
    decoded = codec.decode(codec.encode(data))
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    np.testing.assert_array_equal(decoded, data)


def test_sixteen_dimensions():
    data = field((2,) * 8 + (1,) * 8, "uint16")
    np.testing.assert_array_equal(codec.decode(codec.encode(data)), data)
    with pytest.raises(oc.EncodeError, match="^b2nd: 17 dimensions"):
        codec.encode(np.zeros((1,) * 17))


def test_round_trip_over_64_mib():
    data = np.tile(field((64, 512), "uint16", noise=0.1), (1040, 1))  # 65 MiB
    blob = codec.encode(data, level=1, compressor="lz4")
    assert len(blob) < data.nbytes // 4
    np.testing.assert_array_equal(codec.decode(blob, numthreads=2), data)


@pytest.mark.parametrize("compressor", ["blosclz", "lz4", "lz4hc", "zlib", "zstd"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
def test_encoding_equals_python_blosc2(compressor, shuffle):
    # python-blosc2 ships (and we link) the same C-Blosc2 build: the same frame,
    # but for the header field recording how many threads compressed it.
    data = field((20, 30, 40), "float32")
    ours = codec.encode(data, compressor=compressor, shuffle=shuffle, level=7,
                        chunks=(8, 30, 40), blocks=(2, 15, 40))
    theirs = reference(data, (8, 30, 40), (2, 15, 40), 7, compressor, shuffle)
    assert without_nthreads(ours) == without_nthreads(theirs)
    np.testing.assert_array_equal(blosc2.ndarray_from_cframe(ours)[:], data)


@pytest.mark.parametrize("kwargs", [
    {}, {"chunks": (7, 13), "blocks": (3, 5)},
    {"cparams": {"codec": blosc2.Codec.LZ4, "clevel": 9, "nthreads": 2}},
    {"cparams": {"filters": [blosc2.Filter.DELTA, blosc2.Filter.BITSHUFFLE]}},
    {"cparams": {"filters": [blosc2.Filter.BYTEDELTA], "codec": blosc2.Codec.ZLIB}},
])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64", "int64"])
def test_decodes_python_blosc2(kwargs, dtype):
    data = field((60, 70), dtype, noise=0.2)
    decoded = codec.decode(blosc2.asarray(data, **kwargs).to_cframe())
    assert decoded.dtype == data.dtype
    np.testing.assert_array_equal(decoded, data)


def test_python_blosc2_decodes_default_frames():
    data = field((40, 300, 500), "float32")  # 24 MiB: several chunks of the default size
    blob = codec.encode(data)
    array = blosc2.ndarray_from_cframe(blob)
    assert array.chunks == (6, 300, 500) and array.blocks == (1, 131, 500)
    np.testing.assert_array_equal(array[:], data)


def test_default_partition_is_c_order_slabs():
    blob = codec.encode(np.zeros((10, 2048, 2048), np.uint16))
    array = blosc2.ndarray_from_cframe(blob)
    assert array.chunks == (1, 1024, 2048) and array.blocks == (1, 64, 2048)  # 4 MiB, 256 KiB
    small = blosc2.ndarray_from_cframe(codec.encode(np.zeros((3, 5), np.float64)))
    assert small.chunks == small.blocks == (3, 5)


def test_special_frames():
    zeros = blosc2.zeros((1000, 1000), dtype=np.float32).to_cframe()
    assert len(zeros) < 1000
    np.testing.assert_array_equal(codec.decode(zeros), np.zeros((1000, 1000), np.float32))
    nans = codec.decode(blosc2.full((50, 60), np.nan, dtype=np.float64).to_cframe())
    assert nans.shape == (50, 60) and np.isnan(nans).all()
    empty = blosc2.empty((30, 30), dtype=np.int16).to_cframe()  # in-memory: zero chunks
    np.testing.assert_array_equal(codec.decode(empty), np.zeros((30, 30), np.int16))


def test_big_endian_and_other_plain_dtypes_decode():
    for dtype in (">f8", ">i4", "<U3", "|S5", "<M8[s]"):
        data = np.arange(12).astype(dtype).reshape(3, 4)
        decoded = codec.decode(blosc2.asarray(data).to_cframe())
        assert decoded.dtype == data.dtype
        np.testing.assert_array_equal(decoded, data)


def test_out_into_numpy_and_bytearray():
    data = field((50, 60), "uint16", noise=0.2)
    blob = codec.encode(data)
    out = np.empty((50, 60), np.uint16)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert codec.decode(blob, out=raw) is raw and raw == data.tobytes()


@pytest.mark.parametrize("out", [np.empty((50, 59), np.uint16), bytearray(10),
                                 np.empty((60, 100), np.uint16)[:, ::2], b"\0" * 6000])
def test_unusable_out_raises(out):
    blob = codec.encode(field((50, 60), "uint16"))
    with pytest.raises(oc.DecodeError, match="^b2nd: "):
        codec.decode(blob, out=out)


def test_encode_into_buffer():
    data = field((50, 60), "float32")
    expected = codec.encode(data)
    dest = bytearray(len(expected) + 100)
    view = codec.encode(data, dest=dest)
    assert bytes(view) == expected and dest[:len(expected)] == expected
    with pytest.raises(oc.EncodeError, match="^b2nd: .*does not fit"):
        codec.encode(data, dest=bytearray(100))


@pytest.mark.parametrize("options, message", [
    ({"level": 10}, "level"), ({"level": -1}, "level"), ({"level": 2.5}, "level"),
    ({"compressor": "snappy"}, "compressor"), ({"shuffle": "delta"}, "shuffle"),
    ({"chunks": (10,)}, "chunks"), ({"chunks": (0, 5)}, "chunks"), ({"chunks": "auto"}, "chunks"),
    ({"blocks": (5, 5, 5)}, "blocks"), ({"chunks": (4, 4), "blocks": (5, 4)}, "fit in chunks"),
    ({"chunks": (2**16, 2**16)}, "chunk limit"),
])
def test_invalid_options_raise(options, message):
    with pytest.raises(oc.EncodeError, match="^b2nd: .*" + message):
        codec.encode(np.zeros((20, 30), np.float32), **options)


@pytest.mark.parametrize("data", [np.zeros(3, ">f4"), np.array(["a", "b"]), np.array([None]),
                                  np.zeros(2, [("a", "i4")]), b"bytes"])
def test_unsupported_dtypes_raise(data):
    with pytest.raises(oc.EncodeError, match="^b2nd: cannot encode .*supported dtypes: bool, int8"):
        codec.encode(data)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(np.zeros(3), clevel=5)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(np.zeros(3)), level=5)


def test_file_round_trip(tmp_path):
    data = field((30, 40, 5), "int32", noise=1)
    oc.write(tmp_path / "x.b2nd", data)
    assert oc.codec_for_path(tmp_path / "x.b2nd") is codec
    np.testing.assert_array_equal(oc.read(tmp_path / "x.b2nd"), data)
    assert oc.codec_for_bytes((tmp_path / "x.b2nd").read_bytes()) is codec
    np.testing.assert_array_equal(oc.read((tmp_path / "x.b2nd").read_bytes()), data)
    # A plain super-chunk frame has the magic but no b2nd metalayer.
    assert oc.codec_for_bytes(blosc2.SChunk(chunksize=1000, data=bytes(5000)).to_cframe()) is None


def test_multithreaded_round_trip():
    data = field((16, 256, 256), "float32")  # 4 MiB
    blob = codec.encode(data, numthreads=2)  # blocks land in completion order: bytes vary
    assert len(blob) == len(codec.encode(data, numthreads=1))
    np.testing.assert_array_equal(codec.decode(blob, numthreads=3), data)


def test_threads_give_serial_results():
    arrays = [field(shape, dtype, noise=0.3, seed=seed) for seed, (shape, dtype) in enumerate(
        [((100, 200), "uint16"), ((30, 40, 50), "float32"), ((5000,), "uint8"), ((64, 64), "float64")] * 4)]

    def round_trip(data):
        blob = codec.encode(data, numthreads=1)
        return blob, codec.decode(blob, numthreads=1).tobytes()

    serial = [round_trip(a) for a in arrays]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(round_trip, arrays))
    assert threaded == serial
    assert all(decoded == a.tobytes() for (_, decoded), a in zip(serial, arrays))


VALID = codec.encode(field((50, 100), "uint16", noise=0.3), chunks=(10, 100), blocks=(5, 100))
ONE_CHUNK = codec.encode(field((20, 30), "float32"), chunks=(20, 30), blocks=(10, 30))
ZEROS = blosc2.zeros((100, 100), dtype=np.float32).to_cframe()  # one chunk, special offset


def chunk_index(blob):
    f = fields(blob)
    return f["header_len"] + f["cbytes"]


def lying_frames():
    meta = meta_start(VALID)  # [0x97, version, ndim, 0x92, 0xd3 shape0, 0xd3 shape1, 0x92, ...]
    dtype_at = VALID.index(b"\xdb\x00\x00\x00\x03<u2")
    one_chunk = fields(ONE_CHUNK)["header_len"]
    return [
        ("shape huge", patched(VALID, meta + 5, struct.pack(">q", 1 << 40)), "max_decoded_bytes"),
        ("shape larger than the frame", patched(VALID, meta + 5, struct.pack(">q", 60)), "sizes do not match"),
        ("shape negative", patched(VALID, meta + 5, struct.pack(">q", -50)), "invalid layout"),
        ("chunks larger", patched(VALID, meta + 24, struct.pack(">i", 20)), "sizes do not match"),
        ("blocks over chunks", patched(VALID, meta + 35, struct.pack(">i", 11)), "invalid layout"),
        ("ndim 17", patched(VALID, meta + 2, b"\x11"), "17 dimensions"),
        ("dtype object", patched(VALID, dtype_at + 5, b"|O8"), "unsupported dtype"),
        ("dtype bogus", patched(VALID, dtype_at + 5, b"zz!"), "unsupported dtype"),
        ("dtype of another size", patched(VALID, dtype_at + 5, b"<f4"), "does not match"),
        ("dtype subarray", patched(VALID, dtype_at, b"\xdb\x00\x00\x00\x03(2,"), "unsupported dtype"),
        ("dtype format 1", patched(VALID, dtype_at - 1, b"\x01"), "dtype format"),
        ("no b2nd metalayer", patched(VALID, 95, b"b2nX"), "without a b2nd metalayer"),
        ("metalayer offset outside", patched(VALID, 100, struct.pack(">i", 5000)), "truncated"),
        ("frame length lies", patched(VALID, FRAME_LEN, struct.pack(">Q", len(VALID) + 8)), "frame declares"),
        ("header length lies", patched(VALID, HEADER_LEN, struct.pack(">i", len(VALID))), "header length"),
        ("nbytes lies", patched(VALID, NBYTES, struct.pack(">q", 1 << 40)), "sizes do not match"),
        ("chunksize lies", patched(VALID, CHUNKSIZE, struct.pack(">i", 4000)), "sizes do not match"),
        ("typesize lies", patched(VALID, TYPESIZE, struct.pack(">i", 4)), "does not match"),
        ("cbytes past the frame", patched(VALID, CBYTES, struct.pack(">q", len(VALID))), "overruns"),
        ("not contiguous", patched(VALID, 26, b"\x01"), "not a contiguous frame"),
        # C-Blosc2 runs python to look for plugin codecs: refused before it sees them.
        ("data chunk of a plugin codec", patched(patched(ONE_CHUNK, one_chunk + CHUNK_FLAGS, bytes(
            [ONE_CHUNK[one_chunk + CHUNK_FLAGS] & 0x1F | 6 << 5])), one_chunk + CHUNK_UDCODEC, b"\x24"),
         "unsupported compressor"),
        ("chunk index of a plugin codec", patched(patched(ONE_CHUNK, chunk_index(ONE_CHUNK) + CHUNK_FLAGS,
            bytes([ONE_CHUNK[chunk_index(ONE_CHUNK) + CHUNK_FLAGS] & 0x1F | 6 << 5])),
            chunk_index(ONE_CHUNK) + CHUNK_UDCODEC, b"\x25"), "unsupported compressor"),
        ("lazy chunk", patched(ONE_CHUNK, one_chunk + 31, bytes([ONE_CHUNK[one_chunk + 31] | 0x08])), "lazy"),
        ("uninitialised chunk", patched(ZEROS, chunk_index(ZEROS) + 39, b"\x84"), "uninitialised"),
        ("special chunk of no known kind", patched(ZEROS, chunk_index(ZEROS) + 39, b"\x80"), "unknown kind"),
        ("chunk offset outside", patched(ONE_CHUNK, chunk_index(ONE_CHUNK) + 32,
                                         struct.pack("<q", 1 << 20)), "outside"),
        ("chunk size lies", patched(ONE_CHUNK, one_chunk + 4, struct.pack("<i", 1200)), "holds 1200 bytes"),
    ]


@pytest.mark.parametrize("label, blob, message", lying_frames(), ids=[c[0] for c in lying_frames()])
def test_lying_frames_are_refused_before_allocating(label, blob, message):
    with pytest.raises(oc.DecodeError, match="^b2nd: .*" + message):
        codec.decode(blob)


def test_declared_size_over_max_decoded_bytes_raises(monkeypatch):
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 30_000)
    with pytest.raises(oc.DecodeError, match="^b2nd: .*max_decoded_bytes"):
        codec.decode(ZEROS)  # 40 000 bytes of zeros from a 200-byte frame
    assert codec.decode(VALID).shape == (50, 100)


def test_hostile_inputs():
    lies = [(label, blob) for label, blob, _ in lying_frames()]
    results = check_decoders("b2nd", VALID, extra=lies + [
        ("zeros frame of 64 MiB", blosc2.zeros((4096, 4096), dtype=np.float32).to_cframe()),
    ], must_fail=("empty", "one byte", *(label for label, _ in lies)))
    assert results["zeros frame of 64 MiB"] == "ok"


def test_decoder_never_reads_past_the_frame():
    check_no_overread("b2nd", [blob for _, blob, _ in lying_frames()] + [
        VALID, ONE_CHUNK, ZEROS, VALID[:-1], VALID[:len(VALID) // 2]])
