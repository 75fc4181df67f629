"""bmp against Pillow and imagecodecs, both ways; every pixel format and RLE on
decode (files made here when neither reference writes them); bad input; threads."""

import io
import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from PIL import Image

import opencodecs as oc
from hostile import check_decoders

bmp = oc.get_codec("bmp")
rng = np.random.default_rng(5)


def image(shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


def pillow(blob):
    return np.asarray(Image.open(io.BytesIO(blob)))


def pillow_bmp(im):
    buffer = io.BytesIO()
    im.save(buffer, format="BMP")
    return buffer.getvalue()


def make_bmp(rows, width, height, bits, compression=0, palette=None, masks=None, header_size=40):
    """A BMP file from its pixel data (`rows`: bytes in file order) and header fields;
    `palette` (n, 3) RGB, `masks` R, G, B[, A] (in the header for V2+ headers, after it for INFO)."""
    header = struct.pack("<IiiHHIIiiII", header_size, width, height, 1, bits, compression, len(rows),
                         2835, 2835, 0 if palette is None else len(palette), 0)
    if masks is not None and header_size > 40:
        header += struct.pack(f"<{len(masks)}I", *masks)
    header += bytes(header_size - len(header))
    if masks is not None and header_size == 40:
        header += struct.pack(f"<{len(masks)}I", *masks)
    if palette is not None:
        entries = np.zeros((len(palette), 4), np.uint8)
        entries[:, :3] = np.asarray(palette, np.uint8)[:, ::-1]
        header += entries.tobytes()
    offset = 14 + len(header)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + header + rows


def padded(rows):
    """(h, n) row bytes padded to 4 bytes each, bottom row first."""
    h, n = rows.shape
    out = np.zeros((h, (n + 3) // 4 * 4), np.uint8)
    out[:, :n] = rows
    return out[::-1].tobytes()


@pytest.mark.parametrize("shape", [(1, 1), (13, 7), (64, 50), (1, 1, 3), (13, 7, 3), (9, 8, 3),
                                   (64, 50, 3), (1, 1, 4), (13, 7, 4), (64, 50, 4)])
def test_round_trip_and_parity_both_ways(shape):
    data = image(shape)
    blob = bmp.encode(data)
    np.testing.assert_array_equal(bmp.decode(blob), data)
    np.testing.assert_array_equal(imagecodecs.bmp_decode(blob), data)
    np.testing.assert_array_equal(pillow(blob), data)
    np.testing.assert_array_equal(bmp.decode(imagecodecs.bmp_encode(data)), data)
    if data.ndim == 3:  # the same headers (grey: imagecodecs sets the palette's reserved bytes)
        assert blob == imagecodecs.bmp_encode(data)
    mode = {2: "L", 3: "RGB"}.get(data.ndim if data.ndim == 2 else data.shape[2])
    if mode:  # Pillow writes RGBA as 32-bit BI_RGB, whose fourth byte is unused: not RGBA
        np.testing.assert_array_equal(bmp.decode(pillow_bmp(Image.fromarray(data))), data)


def test_pillow_palette_and_one_bit_files():
    grey = image((21, 35))
    np.testing.assert_array_equal(bmp.decode(pillow_bmp(Image.fromarray(grey > 100))), (grey > 100) * 255)
    p = Image.fromarray(image((21, 35, 3))).quantize(40)
    np.testing.assert_array_equal(bmp.decode(pillow_bmp(p)), np.asarray(p.convert("RGB")))
    rgba = pillow_bmp(Image.fromarray(image((21, 35, 4))))
    np.testing.assert_array_equal(bmp.decode(rgba), imagecodecs.bmp_decode(rgba))


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("grey", [False, True])
def test_palette_depths(bits, grey):
    h, w, n = 11, 29, 1 << bits
    palette = np.repeat(rng.integers(0, 256, (n, 1)), 3, 1) if grey else rng.integers(0, 256, (n, 3))
    indices = rng.integers(0, n, (h, w))
    packed = np.packbits(np.unpackbits(indices.astype(np.uint8)[..., None], axis=2)[..., 8 - bits:]
                         .reshape(h, w * bits), axis=1)
    blob = make_bmp(padded(packed), w, h, bits, palette=palette)
    expected = palette[indices].astype(np.uint8)
    ours = bmp.decode(blob)
    np.testing.assert_array_equal(ours, expected[..., 0] if grey else expected)
    if bits != 2:  # Pillow reads no 2-bit files
        theirs = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
        np.testing.assert_array_equal(ours, theirs[..., 0] if grey else theirs)


def sixteen_bit(masks, header_size=40):
    h, w = 7, 33
    values = rng.integers(0, 1 << 16, (h, w)).astype("<u2")
    compression = 0 if masks is None else 3 if len(masks) == 3 or header_size > 40 else 6
    blob = make_bmp(padded(values.view(np.uint8).reshape(h, 2 * w)), w, h, 16, compression,
                    masks=masks, header_size=header_size)
    return blob, values


def expand(values, mask):
    shift = (mask & -mask).bit_length() - 1
    top = mask >> shift
    return ((values.astype(np.uint32) & mask) >> shift) * 255 // top


@pytest.mark.parametrize("masks,header_size", [(None, 40), ((0xF800, 0x07E0, 0x001F), 40),
                                               ((0x7C00, 0x03E0, 0x001F), 40),
                                               ((0x0F00, 0x00F0, 0x000F, 0xF000), 56),
                                               ((0x0F00, 0x00F0, 0x000F, 0xF000), 108)])
def test_sixteen_bit_bit_fields(masks, header_size):
    blob, values = sixteen_bit(masks, header_size)
    masks = masks or (0x7C00, 0x03E0, 0x001F)
    expected = np.stack([expand(values, m) for m in masks], -1).astype(np.uint8)
    ours = bmp.decode(blob)
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(ours, imagecodecs.bmp_decode(blob))
    if len(masks) == 3:
        np.testing.assert_array_equal(ours, pillow(blob))


# Which reference reads each layout as the masks say: imagecodecs reads every
# 32-bit bit-field file as BGRA, Pillow knows only some mask layouts.
@pytest.mark.parametrize("masks,header_size,reference", [
    ((0xFF0000, 0xFF00, 0xFF), 40, pillow),
    ((0xFF, 0xFF00, 0xFF0000, 0xFF000000), 124, imagecodecs.bmp_decode),
    ((0xFF, 0xFF00, 0xFF0000, 0xFF000000), 124, pillow),
    ((0x3FF00000, 0xFFC00, 0x3FF), 40, None)])
def test_thirty_two_bit_bit_fields(masks, header_size, reference):
    h, w = 6, 19
    values = rng.integers(0, 1 << 32, (h, w), dtype=np.uint64).astype("<u4")
    blob = make_bmp(padded(values.view(np.uint8).reshape(h, 4 * w)), w, h, 32, 3, masks=masks,
                    header_size=header_size)
    expected = np.stack([expand(values, m) for m in masks], -1).astype(np.uint8)
    ours = bmp.decode(blob)
    np.testing.assert_array_equal(ours, expected)
    if reference is not None:
        np.testing.assert_array_equal(ours, reference(blob))


def test_top_down_rows():
    data = image((9, 14, 3))
    rows = np.zeros((9, 44), np.uint8)
    rows[:, :42] = data[..., ::-1].reshape(9, 42)
    blob = make_bmp(rows.tobytes(), 14, -9, 24)
    np.testing.assert_array_equal(bmp.decode(blob), data)
    np.testing.assert_array_equal(pillow(blob), data)


def rle8(indices):
    """BI_RLE8 data, bottom row first: runs, absolute runs, and one delta."""
    out = bytearray()
    for row in indices[::-1]:
        x = 0
        while x < len(row):
            n = 1
            while x + n < len(row) and n < 255 and row[x + n] == row[x]:
                n += 1
            if n >= 2 or len(row) - x < 3:
                out += bytes([n, row[x]])
            else:  # absolute run of 3..8 literal bytes, padded to 16 bits
                n = min(8, len(row) - x)
                out += bytes([0, n]) + row[x:x + n].tobytes() + bytes(n % 2)
            x += n
        out += b"\0\0"
    return bytes(out[:-2]) + b"\0\1"


def rle4(indices):
    """BI_RLE4 data: pairs of alternating nibbles, absolute runs of odd lengths."""
    out = bytearray()
    for row in indices[::-1]:
        x = 0
        while x < len(row):
            n = min(len(row) - x, 5)
            if n == 5:  # absolute: 5 nibbles in 3 bytes, padded to 4
                v = list(row[x:x + 5]) + [0]
                out += bytes([0, 5]) + bytes(v[i] << 4 | v[i + 1] for i in (0, 2, 4)) + b"\0"
            else:
                a = row[x]
                b = row[x + 1] if n > 1 else 0
                out += bytes([min(n, 2), a << 4 | b])
                n = min(n, 2)
            x += n
        out += b"\0\0"
    return bytes(out) + b"\0\1"


@pytest.mark.parametrize("bits", [4, 8])
def test_rle(bits):
    h, w = 13, 47
    indices = rng.integers(0, 1 << bits, (h, w)).astype(np.uint8)
    indices[3:7, 5:40] = 3  # long runs
    palette = rng.integers(0, 256, (1 << bits, 3))
    data = rle8(indices) if bits == 8 else rle4(indices)
    blob = make_bmp(data, w, h, bits, 1 if bits == 8 else 2, palette=palette)
    ours = bmp.decode(blob)
    np.testing.assert_array_equal(ours, palette[indices].astype(np.uint8))
    np.testing.assert_array_equal(ours, np.asarray(Image.open(io.BytesIO(blob)).convert("RGB")))


def test_rle_delta_and_early_end_leave_index_zero():
    palette = [(9, 9, 9), (200, 100, 50), (1, 2, 3)]
    # 4x3: row 0 (bottom): 2 x index 1, delta (1, 1); row 1 from x=3: 1 x index 2; end of bitmap
    data = bytes([2, 1, 0, 2, 1, 1, 1, 2, 0, 1])
    blob = make_bmp(data, 4, 3, 8, 1, palette=palette)
    expected = np.array([[0, 0, 0, 0], [0, 0, 0, 2], [1, 1, 0, 0]])
    np.testing.assert_array_equal(bmp.decode(blob), np.asarray(palette, np.uint8)[expected])


def test_bad_images_and_options():
    for bad in (np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 3), np.uint16), np.zeros((0, 4), np.uint8)):
        with pytest.raises(oc.EncodeError):
            bmp.encode(bad)
    with pytest.raises(TypeError):
        bmp.encode(image((4, 4)), level=1)


def test_decode_into_out():
    data = image((20, 30, 3))
    blob = bmp.encode(data)
    out = np.empty_like(data)
    assert bmp.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, data)
    raw = bytearray(data.nbytes)
    assert bmp.decode(blob, out=raw) is raw and bytes(raw) == data.tobytes()
    for wrong in (bytearray(data.nbytes - 1), np.empty((20, 30, 4), np.uint8)):
        with pytest.raises(oc.DecodeError):
            bmp.decode(blob, out=wrong)


def test_encode_into_buffer():
    data = image((20, 30, 4))
    dest = bytearray(data.nbytes + 500)
    dest[:] = b"\xAA" * len(dest)
    assert bytes(bmp.encode(data, dest=dest)) == bmp.encode(data)
    grey = image((5, 7))  # rows padded: the padding must be zeroed in a dirty buffer
    dest = bytearray(b"\xAA" * 2000)
    assert bytes(bmp.encode(grey, dest=dest)) == bmp.encode(grey)
    with pytest.raises(oc.EncodeError):
        bmp.encode(data, dest=bytearray(100))


def test_over_64_mib_round_trip():
    data = np.broadcast_to(np.arange(4700, dtype=np.uint8)[:, None, None], (4700, 4800, 3))
    assert data.nbytes > 64 << 20
    np.testing.assert_array_equal(bmp.decode(bmp.encode(data)), data)


def test_files_and_magic(tmp_path):
    data = image((12, 14, 3))
    for name in ("x.bmp", "x.dib"):
        oc.write(tmp_path / name, data)
        np.testing.assert_array_equal(oc.read(tmp_path / name), data)
    assert oc.codec_for_bytes((tmp_path / "x.bmp").read_bytes()[:32]) is bmp


def test_hostile_input():
    valid = bmp.encode(image((30, 30, 3)))
    palette = [(i, i, i) for i in range(256)]
    rle = make_bmp(rle8(image((10, 12)) // 64), 12, 10, 8, 1, palette=palette)

    def header(width, height, bits=24, compression=0, **kw):
        return make_bmp(b"\0" * 64, width, height, bits, compression, **kw)

    extra = [
        ("huge dimensions", header(0x7FFFFFFF, 0x7FFFFFFF)),
        ("huge top-down", header(100000, -100000)),
        ("truncated rows", header(1000, 1000)),
        ("zero width", header(0, 10)),
        ("negative width", header(-5, 10)),
        ("unknown header size", valid[:14] + b"\x0c" + valid[15:]),
        ("bad bit depth", header(4, 4, bits=7)),
        ("24-bit with bit fields", header(4, 4, 24, 3, masks=(0xFF, 0xFF00, 0xFF0000))),
        ("non-contiguous mask", header(4, 4, 16, 3, masks=(0xF0F0, 0x0F00, 0x000F))),
        ("empty mask", header(4, 4, 16, 3, masks=(0, 0x0F00, 0x000F))),
        ("huge RLE", make_bmp(b"\0\1", 60000, 60000, 8, 1, palette=palette)),
        ("RLE without end", rle[:-2]),
        ("too many palette entries", header(4, 4, 4, palette=palette[:20])),
        ("embedded PNG", header(4, 4, 0, 5)),
    ]
    must_fail = ("empty", "one byte") + tuple(label for label, _ in extra)
    check_decoders("bmp", valid, must_fail=must_fail, extra=extra)
    check_decoders("bmp", rle)
    check_decoders("bmp", sixteen_bit((0xF800, 0x07E0, 0x001F))[0])


def test_threads_give_identical_results():
    images = [image((40 + i, 30, 3)) if i % 3 else image((40 + i, 30)) for i in range(16)]
    serial = [bmp.encode(im) for im in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(bmp.encode, images))
        decoded = list(pool.map(bmp.decode, serial))
    assert parallel == serial
    for d, im in zip(decoded, images):
        np.testing.assert_array_equal(d, im)
