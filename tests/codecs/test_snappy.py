"""snappy: raw blocks through system libsnappy, and the framing format written here; checked
against python-snappy (raw and framed) and imagecodecs (raw)."""

import io
import struct
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
import snappy

import opencodecs as oc
from hostile import check_decoders

codec = oc.get_codec("snappy")
STREAM_ID = b"\xff\x06\x00\x00sNaPpY"


def sample(dtype, n, seed=0):
    """Smooth, noisy data of `n` elements, like a microscopy image row."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 3, n)) + 1000
    return walk.astype(dtype).tobytes()


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def chunk(kind, body):
    return bytes([kind]) + len(body).to_bytes(3, "little") + body


def reference_framed(data):
    dest = io.BytesIO()
    snappy.stream_compress(io.BytesIO(data), dest)
    return dest.getvalue()


def reference_unframed(blob):
    dest = io.BytesIO()
    snappy.stream_decompress(io.BytesIO(blob), dest)
    return dest.getvalue()


@pytest.mark.parametrize("framed", [False, True])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 1000, 300_000])
def test_round_trip(framed, dtype, n):
    data = sample(dtype, n)
    blob = codec.encode(data, framed=framed)
    assert blob.startswith(STREAM_ID) == framed
    assert codec.decode(blob) == data


@pytest.mark.parametrize("framed", [False, True])
def test_round_trip_over_64_mib(framed):
    data = np.tile(np.frombuffer(sample("uint16", 1 << 14), np.uint8), 2080)  # 65 MiB, 32 KiB period
    blob = codec.encode(data, framed=framed)
    assert len(blob) < data.nbytes // 2
    assert codec.decode(blob) == data.tobytes()


DATASETS = {
    "smooth uint16": sample("uint16", 200_000),
    "random bytes": np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes(),
    "zeros": bytes(300_000),
    "one byte": b"x",
}


def test_stored_chunks_equal_python_snappy():
    # Random bytes do not compress, so every chunk is stored: the stream's bytes then depend only
    # on the framing (identifier, chunk headers, masked CRC-32C), not on the raw encoder.
    data = DATASETS["random bytes"]
    assert codec.encode(data, framed=True) == reference_framed(data)


def test_framed_chunks():
    # 64 KiB chunks, each libsnappy's raw block, or stored when that saves less than 1/8.
    data = DATASETS["smooth uint16"] + DATASETS["random bytes"]
    blob = codec.encode(data, framed=True)
    assert blob[:10] == STREAM_ID
    pos, kinds = 10, []
    for start in range(0, len(data), 65536):
        piece = data[start:start + 65536]
        kind, length = blob[pos], int.from_bytes(blob[pos + 1:pos + 4], "little")
        body = blob[pos + 8:pos + 4 + length]
        raw = codec.encode(piece)
        if len(raw) < len(piece) - len(piece) // 8:
            assert (kind, body) == (0x00, raw)
        else:
            assert (kind, body) == (0x01, piece)
        kinds.append(kind)
        pos += 4 + length
    assert pos == len(blob)
    assert set(kinds) == {0x00, 0x01}


@pytest.mark.parametrize("name", DATASETS)
def test_python_snappy_parity(name):
    data = DATASETS[name]
    assert codec.decode(snappy.compress(data)) == data
    assert codec.decode(reference_framed(data)) == data
    assert snappy.decompress(codec.encode(data)) == data
    assert reference_unframed(codec.encode(data, framed=True)) == data


def test_imagecodecs_parity():
    data = sample("uint16", 100_000)
    assert codec.decode(imagecodecs.snappy_encode(data)) == data
    assert imagecodecs.snappy_decode(codec.encode(data)) == data


def test_framing_skips_padding_and_skippable_chunks_and_repeated_identifiers():
    a, b = sample("uint8", 1000, 1), sample("uint8", 100_000, 2)
    blob = (STREAM_ID + chunk(0xFE, bytes(7)) + codec.encode(a, framed=True)[10:] +
            chunk(0x80, b"skip me") + chunk(0xFD, b"") + codec.encode(b, framed=True))
    assert codec.decode(blob) == a + b
    assert codec.decode(STREAM_ID) == b""


@pytest.mark.parametrize("framed", [False, True])
def test_decode_into_out(framed):
    arr = np.frombuffer(sample("uint16", 100_000), np.uint16)
    blob = codec.encode(arr, framed=framed)
    out = np.zeros_like(arr)
    assert codec.decode(blob, out=out) is out
    np.testing.assert_array_equal(out, arr)
    buf = bytearray(arr.nbytes)
    assert codec.decode(blob, out=buf) is buf
    assert buf == arr.tobytes()
    for wrong in (arr.nbytes - 1, arr.nbytes + 1):
        with pytest.raises(oc.DecodeError, match="^snappy: "):
            codec.decode(blob, out=bytearray(wrong))


@pytest.mark.parametrize("framed", [False, True])
def test_encode_into_buffer(framed):
    data = sample("uint16", 100_000)
    expected = codec.encode(data, framed=framed)
    for size in (2 * len(data), len(expected)):  # above and below the worst-case bound
        buf = bytearray(size)
        view = codec.encode(data, dest=buf, framed=framed)
        assert bytes(view) == expected and view.obj is buf
    with pytest.raises(oc.EncodeError, match="^snappy: "):
        codec.encode(data, dest=bytearray(len(expected) - 1), framed=framed)


def test_unknown_option():
    with pytest.raises(TypeError):
        codec.encode(b"abc", level=1)
    with pytest.raises(TypeError):
        codec.decode(codec.encode(b"abc"), framed=True)


@pytest.mark.parametrize("framed", [False, True])
def test_max_decoded_bytes(monkeypatch, framed):
    blob = codec.encode(bytes(1 << 20), framed=framed)
    monkeypatch.setattr(oc.config, "max_decoded_bytes", (1 << 20) - 1)
    with pytest.raises(oc.DecodeError, match="^snappy: .*max_decoded_bytes"):
        codec.decode(blob)
    monkeypatch.setattr(oc.config, "max_decoded_bytes", 1 << 20)
    assert codec.decode(blob) == bytes(1 << 20)


def test_file_round_trip_and_detection(tmp_path):
    data = sample("float64", 10_000)
    oc.write(tmp_path / "x.sz", data, framed=True)
    assert oc.read(tmp_path / "x.sz") == data
    assert oc.codec_for_bytes((tmp_path / "x.sz").read_bytes()) is codec
    oc.write(tmp_path / "raw.sz", data)
    assert oc.read(tmp_path / "raw.sz") == data
    assert not codec.signature((tmp_path / "raw.sz").read_bytes())  # raw blocks have no magic


def test_hostile_raw():
    extra = [
        ("declares 1 TiB, over the format's 4 GiB", varint(1 << 40) + b"\x08abc"),
        ("declares 1 GiB in 9 bytes", varint(1 << 30) + b"\x08abc"),
        ("declares 100 bytes, holds 3", varint(100) + b"\x08abc"),
        ("declares 2 bytes, holds 3", varint(2) + b"\x08abc"),
        ("copy before any output", varint(10) + b"\x16\x01\x00"),
        ("varint runs off the end", b"\xff\xff\xff"),
    ]
    valid = codec.encode(sample("uint16", 20_000))
    check_decoders("snappy", valid, extra=extra, must_fail=("empty", "one byte", *(label for label, _ in extra)))


def test_hostile_framed():
    valid = codec.encode(sample("uint16", 100_000), framed=True)
    bad_crc = bytearray(valid)
    bad_crc[14] ^= 1  # first chunk's checksum
    raw_abc = varint(3) + b"\x08abc"
    extra = [
        ("bad checksum", bytes(bad_crc)),
        ("compressed chunk declares 1 MiB", STREAM_ID + chunk(0x00, bytes(4) + varint(1 << 20) + b"\x08abc")),
        ("stored chunk over 64 KiB", STREAM_ID + chunk(0x01, bytes(4) + bytes(65537))),
        ("compressed chunk shorter than its checksum", STREAM_ID + chunk(0x00, b"\0\0")),
        ("reserved unskippable chunk", STREAM_ID + chunk(0x02, b"abc")),
        ("bad identifier later", STREAM_ID + chunk(0xFF, b"sNaPpX")),
        ("identifier with wrong length", STREAM_ID + chunk(0xFF, b"sNaPpYY")),
        ("chunk longer than the input", STREAM_ID + b"\x01\xff\xff\x00abcd"),
        ("corrupt compressed body", STREAM_ID + chunk(0x00, bytes(4) + varint(10) + b"\x16\x01\x00")),
        ("stream identifier only, then 3 bytes", STREAM_ID + b"\x00\x01\x00"),
        ("right body, wrong checksum", STREAM_ID + chunk(0x00, b"\1\2\3\4" + raw_abc)),
    ]
    check_decoders("snappy", valid, extra=extra, must_fail=("empty", *(label for label, _ in extra)))


def test_threads_match_serial():
    inputs = [sample(dt, 50_000 + 1000 * i, seed=i) for i, dt in enumerate(["uint8", "uint16", "float32", "float64"] * 4)]
    serial_blobs = [codec.encode(x, framed=i % 2 == 1) for i, x in enumerate(inputs)]
    with ThreadPoolExecutor(4) as pool:
        blobs = list(pool.map(lambda ix: codec.encode(ix[1], framed=ix[0] % 2 == 1), enumerate(inputs)))
        decoded = list(pool.map(codec.decode, blobs * 2))
    assert blobs == serial_blobs
    assert decoded == inputs * 2
