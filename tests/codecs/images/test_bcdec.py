"""bcdec (our BC1-BC7 decoder and DDS reader) against imagecodecs (bcdec.h), pixel for
pixel: random bytes are valid blocks of every format, so random blocks and DDS files
assembled here from a header and random blocks exercise every mode; bad input; threads."""

import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest

import opencodecs as oc
from hostile import check_decoders

bcdec = oc.get_codec("bcdec")
rng = np.random.default_rng(3)

BLOCK_BYTES = {1: 8, 2: 16, 3: 16, 4: 8, 5: 16, 6: 16, 7: 16}
CHANNELS = {1: 4, 2: 4, 3: 4, 4: 1, 5: 2, 6: 3, 7: 4}


def blocks(fmt, height, width):
    n = -(-height // 4) * -(-width // 4)
    return rng.integers(0, 256, n * BLOCK_BYTES[fmt], dtype=np.uint8).tobytes()


def reference(data, fmt, height, width, signed=False):
    """imagecodecs' decode (whole blocks only), cropped to height x width."""
    full = (-(-height // 4) * 4, -(-width // 4) * 4)
    shape = full if CHANNELS[fmt] == 1 else full + (CHANNELS[fmt],)
    return imagecodecs.bcn_decode(data, -fmt if signed else fmt, shape=shape)[:height, :width]


def dds(width, height, data, fourcc=b"DXT1", dxgi=None, mips=1, cube=False, array=1, depth=0):
    """A DDS file: header (+ DX10 header when `dxgi` is given) and `data`."""
    flags = 0x1007 | (0x20000 if mips > 1 else 0) | (0x800000 if depth else 0)
    caps2 = (0xFE00 if cube else 0) | (0x200000 if depth else 0)
    header = struct.pack("<7I44x", 124, flags, height, width, 0, depth, mips)
    pixel_format = struct.pack("<2I4s5I", 32, 0x4, b"DX10" if dxgi else fourcc, 0, 0, 0, 0, 0)
    complex_ = 0x8 if cube or depth or mips > 1 else 0
    caps = struct.pack("<5I", 0x1000 | complex_ | (0x400000 if mips > 1 else 0), caps2, 0, 0, 0)
    dx10 = struct.pack("<5I", dxgi, 4 if depth else 3, 0x4 if cube else 0, array, 0) if dxgi else b""
    return b"DDS " + header + pixel_format + caps + dx10 + data


def forced_modes(fmt, mode_bits, count, n=256):
    """n random blocks whose low byte starts with the given mode bits."""
    data = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    data[:, 0] = (data[:, 0] & (0xFF ^ ((1 << count) - 1))) | mode_bits
    return data.tobytes()


@pytest.mark.parametrize("fmt", [1, 2, 3, 4, 5, 6, 7])
def test_random_blocks_match_imagecodecs(fmt):
    data = blocks(fmt, 128, 256)
    ours = bcdec.decode(data, bc=fmt, shape=(128, 256))
    np.testing.assert_array_equal(ours, reference(data, fmt, 128, 256))


def test_signed_bc6h_matches_imagecodecs():
    data = blocks(6, 128, 128)
    ours = bcdec.decode(data, bc=6, shape=(128, 128), signed=True)
    assert ours.dtype == np.float16
    # equal as numbers: ours keeps the spec's -0.0 where the reference gives +0.0
    np.testing.assert_array_equal(ours, reference(data, 6, 128, 128, signed=True))


@pytest.mark.parametrize("mode", range(8))
def test_every_bc7_mode(mode):
    data = forced_modes(7, 1 << mode, mode + 1)
    np.testing.assert_array_equal(bcdec.decode(data, bc=7, shape=(64, 64)), reference(data, 7, 64, 64))


def test_reserved_bc7_mode_is_zero():
    data = forced_modes(7, 0, 8)
    decoded = bcdec.decode(data, bc=7, shape=(64, 64))
    assert not decoded.any()
    np.testing.assert_array_equal(decoded, reference(data, 7, 64, 64))


@pytest.mark.parametrize("mode", [0, 1, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31])
@pytest.mark.parametrize("signed", [False, True])
def test_every_bc6h_mode(mode, signed):
    data = forced_modes(6, mode, 2 if mode < 2 else 5)
    ours = bcdec.decode(data, bc=6, shape=(64, 64), signed=signed)
    np.testing.assert_array_equal(ours, reference(data, 6, 64, 64, signed))


def channel_reference(data, height, width, signed):
    """BC4 from the format's definition, in numpy: a test-only second implementation."""
    raw = np.frombuffer(data, np.uint8).reshape(-1, 8)
    ends = raw[:, :2].view(np.int8 if signed else np.uint8).astype(np.int64)
    if signed:
        ends = np.maximum(ends, -127)
    a0, a1 = ends[:, 0:1], ends[:, 1:2]
    i = np.arange(1, 7)
    eight = ((7 - i) * a0 + i * a1) / 7
    six = np.concatenate([((5 - i[:4]) * a0 + i[:4] * a1) / 5,
                          np.full_like(a0, -127 if signed else 0),
                          np.full_like(a0, 127 if signed else 255)], axis=1)
    values = np.concatenate([a0, a1, np.trunc(np.where(a0 > a1, eight, six))], axis=1).astype(np.int64)
    bits = sum(raw[:, 2 + k].astype(np.uint64) << np.uint64(8 * k) for k in range(6))
    index = (bits[:, None] >> (3 * np.arange(16, dtype=np.uint64))) & np.uint64(7)
    texels = np.take_along_axis(values, index.astype(np.int64), 1)
    across = -(-width // 4)
    image = texels.reshape(-1, across, 4, 4).swapaxes(1, 2).reshape(-(-height // 4) * 4, across * 4)
    return image[:height, :width].astype(np.int8 if signed else np.uint8)


@pytest.mark.parametrize("signed", [False, True])
def test_bc4_and_bc5_against_the_definition(signed):
    data = blocks(4, 36, 40)
    ours = bcdec.decode(data, bc=4, shape=(36, 40), signed=signed)
    assert ours.dtype == (np.int8 if signed else np.uint8)
    np.testing.assert_array_equal(ours, channel_reference(data, 36, 40, signed))
    pairs = blocks(5, 36, 40)
    red = b"".join(pairs[k:k + 8] for k in range(0, len(pairs), 16))
    green = b"".join(pairs[k + 8:k + 16] for k in range(0, len(pairs), 16))
    both = bcdec.decode(pairs, bc=5, shape=(36, 40), signed=signed)
    np.testing.assert_array_equal(both[..., 0], channel_reference(red, 36, 40, signed))
    np.testing.assert_array_equal(both[..., 1], channel_reference(green, 36, 40, signed))


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (6, 9), (17, 13), (4, 1022)])
@pytest.mark.parametrize("fmt", [1, 3, 5, 6, 7])
def test_images_cut_through_blocks(shape, fmt):
    data = blocks(fmt, *shape)
    np.testing.assert_array_equal(bcdec.decode(data, bc=fmt, shape=shape), reference(data, fmt, *shape))


@pytest.mark.parametrize("fourcc, fmt", [(b"DXT1", 1), (b"DXT3", 2), (b"DXT5", 3), (b"ATI1", 4),
                                         (b"BC4U", 4), (b"ATI2", 5), (b"BC5U", 5)])
def test_dds_fourcc_files_match_imagecodecs(fourcc, fmt):
    blob = dds(64, 32, blocks(fmt, 32, 64), fourcc=fourcc)
    assert oc.codec_for_bytes(blob) is bcdec
    np.testing.assert_array_equal(bcdec.decode(blob), imagecodecs.dds_decode(blob))


@pytest.mark.parametrize("dxgi, fmt", [(80, 4), (83, 5), (95, 6), (96, 6), (98, 7), (99, 7)])
def test_dds_dx10_files_match_imagecodecs(dxgi, fmt):
    blob = dds(32, 48, blocks(fmt, 48, 32), dxgi=dxgi)
    np.testing.assert_array_equal(bcdec.decode(blob), imagecodecs.dds_decode(blob))


@pytest.mark.parametrize("dxgi, fmt, signed", [(71, 1, False), (77, 3, False), (81, 4, True),
                                               (84, 5, True)])
def test_dds_dx10_formats_imagecodecs_lacks(dxgi, fmt, signed):
    data = blocks(fmt, 16, 24)
    np.testing.assert_array_equal(bcdec.decode(dds(24, 16, data, dxgi=dxgi)),
                                  bcdec.decode(data, bc=fmt, shape=(16, 24), signed=signed))


def test_cubemaps_volumes_and_arrays():
    faces = [blocks(1, 16, 16) for _ in range(6)]
    cube = dds(16, 16, b"".join(faces), cube=True)
    np.testing.assert_array_equal(bcdec.decode(cube), imagecodecs.dds_decode(cube))
    assert bcdec.decode(cube).shape == (6, 16, 16, 4)
    np.testing.assert_array_equal(bcdec.decode(cube, index=4), reference(faces[4], 1, 16, 16))
    volume = dds(8, 8, b"".join(blocks(3, 8, 8) for _ in range(3)), fourcc=b"DXT5", depth=3)
    np.testing.assert_array_equal(bcdec.decode(volume), imagecodecs.dds_decode(volume))
    slices = [blocks(7, 8, 12) for _ in range(4)]
    array = dds(12, 8, b"".join(slices), dxgi=98, array=2, cube=False)
    assert bcdec.decode(array).shape == (2, 8, 12, 4)
    cubes = dds(12, 8, b"".join(slices + [blocks(7, 8, 12) for _ in range(8)]), dxgi=98, array=2,
                cube=True)
    assert bcdec.decode(cubes).shape == (12, 8, 12, 4)
    np.testing.assert_array_equal(bcdec.decode(cubes, index=3), reference(slices[3], 7, 8, 12))


def test_mipmap_levels():
    levels = [blocks(1, max(1, 16 >> m), 32 >> m) for m in range(6)]  # 16x32 down to 1x1
    blob = dds(32, 16, b"".join(levels), mips=6)
    for m, data in enumerate(levels):
        h, w = max(1, 16 >> m), max(1, 32 >> m)
        np.testing.assert_array_equal(bcdec.decode(blob, level=m), reference(data, 1, h, w))
    # a cubemap with mipmaps: each face is a whole chain
    chain = [blocks(1, 8, 8), blocks(1, 4, 4), blocks(1, 2, 2), blocks(1, 1, 1)]
    cube = dds(8, 8, b"".join(chain) * 6, cube=True, mips=4)
    np.testing.assert_array_equal(bcdec.decode(cube, level=1, index=5), reference(chain[1], 1, 4, 4))


def test_reader_over_frames(tmp_path):
    faces = [blocks(7, 8, 8) for _ in range(6)]
    path = tmp_path / "sky.dds"
    path.write_bytes(dds(8, 8, b"".join(faces), dxgi=98, cube=True))
    with oc.open(path) as reader:
        assert reader.n_frames == 6 and len(reader) == 6
        assert reader.shape == (6, 8, 8, 4) and reader.dtype == np.uint8
        np.testing.assert_array_equal(reader[5], reference(faces[5], 7, 8, 8))
        np.testing.assert_array_equal(reader[-1], reader[5])
        frames = list(reader)
        np.testing.assert_array_equal(reader.read(), np.stack(frames))
        np.testing.assert_array_equal(reader.read(), oc.read(path))
    with pytest.raises(IndexError):
        bcdec.open(path)[6]


@pytest.mark.parametrize("make_out", [lambda n: np.empty((32, 32, 4), np.uint8),
                                      lambda n: bytearray(n)])
def test_decode_into_out(make_out):
    data = blocks(7, 32, 32)
    out = make_out(32 * 32 * 4)
    assert bcdec.decode(data, bc=7, shape=(32, 32), out=out) is out
    assert bytes(memoryview(out).cast("B")) == reference(data, 7, 32, 32).tobytes()
    cube = dds(32, 32, data * 6, dxgi=98, cube=True)
    frames = np.empty((6, 32, 32, 4), np.uint8)
    assert bcdec.decode(cube, out=frames) is frames
    np.testing.assert_array_equal(frames[2], reference(data, 7, 32, 32))


@pytest.mark.parametrize("delta", [-1, 1])
def test_decode_into_wrong_size_out_raises(delta):
    with pytest.raises(oc.DecodeError, match="bcdec: "):
        bcdec.decode(blocks(1, 8, 8), bc=1, shape=(8, 8), out=bytearray(8 * 8 * 4 + delta))


def test_decode_only(tmp_path):
    assert not bcdec.can_encode
    with pytest.raises(oc.EncodeError, match="decode-only"):
        bcdec.encode(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(oc.EncodeError):
        oc.write(tmp_path / "x.dds", np.zeros((4, 4, 4), np.uint8))


def test_invalid_options():
    blob = dds(8, 8, blocks(1, 8, 8) * 6, cube=True)
    for options in ({"level": 1}, {"level": -1}, {"index": 6}, {"index": 1.5}, {"shape": (8, 8)},
                    {"bc": 8, "shape": (8, 8)}, {"bc": 1}, {"bc": 1, "shape": (8, 8), "signed": True}):
        with pytest.raises(oc.DecodeError):
            bcdec.decode(blob if "bc" not in options else blocks(1, 8, 8), **options)
    with pytest.raises(TypeError):
        bcdec.decode(blob, quality=3)


def test_image_over_64_mib():
    block = blocks(1, 4, 4)
    decoded = bcdec.decode(block * (2048 * 1024), bc=1, shape=(4096, 8192))
    assert decoded.nbytes > 64 << 20
    tile = reference(block, 1, 4, 4)
    assert (decoded.reshape(1024, 4, 2048, 4, 4) == tile[None, :, None]).all()


def test_multithreaded_decode_matches_single_threaded():
    data = blocks(7, 1000, 1002)
    one = bcdec.decode(data, bc=7, shape=(1000, 1002), numthreads=1)
    np.testing.assert_array_equal(bcdec.decode(data, bc=7, shape=(1000, 1002), numthreads=4), one)


def test_hostile_input():
    valid = dds(16, 16, blocks(7, 16, 16) * 6, dxgi=98, cube=True)

    def patched(offset, fmt, *values, blob=valid):
        blob = bytearray(blob)
        struct.pack_into(fmt, blob, offset, *values)
        return bytes(blob)

    extra = [
        ("huge dimensions", patched(12, "<II", 0x7FFFFFFF, 0x7FFFFFFF)),
        ("large dimensions", patched(12, "<II", 60000, 60000)),
        ("lying mipmap count", patched(28, "<I", 12, blob=patched(8, "<I", 0x21007))),
        ("lying array size", patched(128 + 12, "<I", 1 << 20)),
        ("unknown dxgi", patched(128, "<I", 28)),
        ("no fourcc flag", patched(80, "<I", 0x40)),
        ("truncated DX10 header", valid[:136]),
    ]
    check_decoders("bcdec", valid, extra=extra,
                   must_fail=("empty", "one byte", "truncated to 16", "huge dimensions",
                              "large dimensions", "lying mipmap count", "lying array size", "unknown dxgi",
                              "no fourcc flag", "truncated DX10 header"))
    check_decoders("bcdec", blocks(6, 64, 64), opts={"bc": 6, "shape": (64, 64)},
                   must_fail=("empty", "one byte", "truncated to 16"))


def test_threads_give_identical_results():
    items = [(blocks(f, 64, 96), f) for f in (1, 3, 5, 6, 7)] * 4
    serial = [bcdec.decode(d, bc=f, shape=(64, 96), numthreads=1) for d, f in items]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda a: bcdec.decode(a[0], bc=a[1], shape=(64, 96)), items))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
