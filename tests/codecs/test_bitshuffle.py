"""bitshuffle: our C bit shuffle filter, checked against the bitshuffle package and imagecodecs."""

from concurrent.futures import ThreadPoolExecutor

import bitshuffle
import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("bitshuffle")
DTYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def default_block(itemsize):
    """The package's default block: 8 KiB worth of items, a multiple of 8, at least 128."""
    return max(8192 // itemsize // 8 * 8, 128)


def sample(dtype, n, seed=0):
    """Smooth, noisy data of `n` elements, like a microscopy image row."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 3, n)) + 1000
    return walk.astype(dtype)


def random_items(itemsize, n, seed=0):
    """`n` random items of `itemsize` bytes, as an array the package accepts."""
    raw = np.random.default_rng(seed).integers(0, 256, n * itemsize, dtype=np.uint8)
    return raw.view(DTYPES.get(itemsize, f"V{itemsize}"))


def sizes_around_blocks(itemsize):
    block = default_block(itemsize)
    return sorted({0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 127, 128, 129, 136, 1000,
                   block - 8, block - 1, block, block + 1, block + 8, block + 127, block + 128,
                   block + 136, 2 * block, 3 * block + 13})


@pytest.mark.parametrize("itemsize", [1, 2, 4, 8])
def test_encoding_equals_bitshuffle_package(itemsize):
    for n in sizes_around_blocks(itemsize):
        arr = random_items(itemsize, n, seed=n)
        ref = bitshuffle.bitshuffle(arr).tobytes()
        assert codec.encode(arr) == ref, n
        assert codec.encode(arr.tobytes(), itemsize=itemsize) == ref, n
        assert codec.decode(ref, itemsize=itemsize) == arr.tobytes(), n


@pytest.mark.parametrize("itemsize", [1, 2, 4, 8, 3, 16, 100])
@pytest.mark.parametrize("blocksize", [8, 16, 24, 64, 136, 1024])
def test_block_sizes_equal_bitshuffle_package(itemsize, blocksize):
    for n in (0, 5, 8, 100, 1000, 2053):
        arr = random_items(itemsize, n, seed=n)
        ref = bitshuffle.bitshuffle(arr, blocksize).tobytes()
        assert codec.encode(arr, blocksize=blocksize) == ref, n
        assert codec.decode(ref, itemsize=itemsize, blocksize=blocksize) == arr.tobytes(), n


@pytest.mark.parametrize("itemsize", [3, 12, 16, 100])
def test_other_item_sizes_equal_bitshuffle_package(itemsize):
    for n in (1, 8, 200, default_block(itemsize) + 9, 3000):
        arr = random_items(itemsize, n, seed=n)
        ref = bitshuffle.bitshuffle(arr).tobytes()
        assert codec.encode(arr) == ref, n
        assert codec.decode(ref, itemsize=itemsize) == arr.tobytes(), n


@pytest.mark.parametrize("itemsize", [1, 2, 4, 8])
def test_parity_with_imagecodecs(itemsize):
    data = sample(DTYPES[itemsize], 50_003)
    ours = codec.encode(data)
    assert ours == imagecodecs.bitshuffle_encode(data.tobytes(), itemsize=itemsize)
    assert imagecodecs.bitshuffle_decode(ours, itemsize=itemsize) == data.tobytes()
    assert codec.decode(imagecodecs.bitshuffle_encode(data.tobytes(), itemsize=itemsize),
                        itemsize=itemsize) == data.tobytes()


def test_bit_layout():
    # Row 8 * j + k holds bit k of byte j of each item, item i at bit i % 8 of byte i / 8.
    items = np.zeros(16, np.uint16)
    items[3] = 1 << 9  # byte 1, bit 1
    blob = codec.encode(items)
    expected = bytearray(32)
    expected[(8 * 1 + 1) * 2 + 0] = 1 << 3
    assert blob == bytes(expected)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 300_001])
def test_round_trip(dtype, n):
    data = sample(dtype, n)
    blob = codec.encode(data)
    assert len(blob) == data.nbytes
    assert codec.decode(blob, itemsize=data.itemsize) == data.tobytes()
    out = np.empty_like(data)
    assert codec.decode(blob, out=out) is out  # itemsize from out's dtype
    np.testing.assert_array_equal(out, data)


def test_round_trip_over_64_mib():
    data = np.tile(sample("uint16", 1 << 14), 2080)  # 65 MiB
    blob = codec.encode(data)
    assert len(blob) == data.nbytes
    assert codec.decode(blob, itemsize=2) == data.tobytes()


def test_improves_compression_of_smooth_data():
    data = sample("uint16", 500_000)
    zstd = oc.get_codec("zstd")
    assert len(zstd.encode(codec.encode(data))) < 0.8 * len(zstd.encode(data))


@pytest.mark.parametrize("size", [1, 3, 1001])
def test_size_not_a_multiple_of_itemsize_raises(size):
    with pytest.raises(oc.EncodeError, match="^bitshuffle: .*4-byte items"):
        codec.encode(bytes(size), itemsize=4)
    with pytest.raises(oc.DecodeError, match="^bitshuffle: .*4-byte items"):
        codec.decode(bytes(size), itemsize=4)


@pytest.mark.parametrize("options", [{"itemsize": 0}, {"itemsize": -2}, {"itemsize": 2.0},
                                     {"blocksize": 12}, {"blocksize": -8}, {"blocksize": True}])
def test_invalid_sizes_raise(options):
    with pytest.raises(oc.EncodeError, match="^bitshuffle: "):
        codec.encode(bytes(64), **options)
    with pytest.raises(oc.DecodeError, match="^bitshuffle: "):
        codec.decode(bytes(64), **options)


def test_out_into_bytearray_and_numpy():
    data = sample("float32", 10_000)
    blob = codec.encode(data)
    out = bytearray(data.nbytes)
    assert codec.decode(blob, itemsize=4, out=out) is out and out == data.tobytes()
    arr = np.empty((100, 100), np.float32)
    assert codec.decode(blob, out=arr) is arr
    np.testing.assert_array_equal(arr.ravel(), data)


@pytest.mark.parametrize("size", [0, 39_999, 40_004])
def test_wrong_size_out_raises(size):
    blob = codec.encode(sample("float32", 10_000))
    with pytest.raises(oc.DecodeError, match="^bitshuffle: "):
        codec.decode(blob, itemsize=4, out=bytearray(size))


def test_encode_into_buffer():
    data = sample("uint16", 10_000)
    dest = bytearray(data.nbytes + 10)
    view = codec.encode(data, dest=dest)
    assert bytes(view) == codec.encode(data) and len(view) == data.nbytes
    with pytest.raises(oc.EncodeError, match="^bitshuffle: "):
        codec.encode(data, dest=bytearray(data.nbytes - 2))


def test_in_place_raises():
    data = bytearray(sample("uint16", 1000).tobytes())
    with pytest.raises(oc.EncodeError, match="overlaps"):
        codec.encode(data, itemsize=2, dest=data)
    with pytest.raises(oc.DecodeError, match="overlaps"):
        codec.decode(data, itemsize=2, out=data)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        codec.encode(b"abcd", level=3)
    with pytest.raises(TypeError):
        codec.decode(b"abcd", typesize=2)


def test_file_round_trip_and_alias(tmp_path):
    data = sample("uint16", 5000)
    oc.write(tmp_path / "x.bin", data, format="bshuf")
    assert (tmp_path / "x.bin").read_bytes() == bitshuffle.bitshuffle(data).tobytes()
    assert oc.read(tmp_path / "x.bin", format="bitshuffle", itemsize=2) == data.tobytes()
    assert oc.get_codec("bshuf") is codec
    assert oc.codec_for_bytes(codec.encode(data)) is None  # a filter has no magic bytes


def test_hostile_inputs():
    # Every byte string of whole items is a valid shuffle: only sizes can be wrong.
    valid = codec.encode(sample("uint16", 5000))
    results = check_decoders("bitshuffle", valid, opts={"itemsize": 2}, must_fail=("one byte",),
                             extra=[("odd length", valid[:-1])])
    assert results["odd length"] == "error:DecodeError"
    assert results["empty"] == "ok"


def test_threads_give_serial_results():
    arrays = [sample(dtype, n, seed) for seed, (dtype, n) in
              enumerate([("uint16", 70_001), ("float32", 30_000), ("uint8", 5003), ("float64", 90_000)] * 4)]

    def round_trip(data):
        blob = codec.encode(data)
        return blob, codec.decode(blob, itemsize=data.itemsize)

    serial = [round_trip(a) for a in arrays]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(round_trip, arrays))
    assert threaded == serial
    assert all(decoded == a.tobytes() for (_, decoded), a in zip(serial, arrays))


@pytest.mark.parametrize("itemsize", [1, 2, 3, 4, 8])
def test_byteshuffle_matches_the_definition(itemsize):
    data = np.random.default_rng(itemsize).integers(0, 256, itemsize * 1001, dtype=np.uint8).tobytes()
    codec = oc.get_codec("byteshuffle")
    shuffled = codec.encode(data, itemsize=itemsize)
    expected = np.frombuffer(data, np.uint8).reshape(-1, itemsize).T.tobytes()
    assert shuffled == expected
    assert codec.decode(shuffled, itemsize=itemsize) == data
    out = np.empty(len(data), np.uint8)
    assert codec.decode(shuffled, out=out, itemsize=itemsize) is out and out.tobytes() == data
    with pytest.raises(oc.DecodeError):
        codec.decode(shuffled[:-1], itemsize=itemsize) if itemsize > 1 else codec.decode(shuffled, out=out[:-1])
