"""deflate (zlib / raw) and gzip, libdeflate and ISA-L backends, against the
stdlib zlib and gzip, python-isal and imagecodecs; bad input; threads."""

import gzip
import zlib
from concurrent.futures import ThreadPoolExecutor

import imagecodecs
import numpy as np
import pytest
from isal import igzip, isal_zlib

import opencodecs as oc
from hostile import check_decoders

deflate = oc.get_codec("deflate")
gz = oc.get_codec("gzip")
rng = np.random.default_rng(7)
BACKENDS = ["libdeflate", "isal"]


def smooth(n, dtype):
    x = np.cumsum(rng.normal(0, 3, n)) + 1000
    return x.astype(dtype)


PAYLOADS = {
    "empty": b"",
    "one byte": b"\x07",
    "uint8": smooth(10_000, np.uint8).tobytes(),
    "uint16": smooth(100_000, np.uint16).tobytes(),
    "float32": smooth(50_000, np.float32).tobytes(),
    "float64": smooth(30_000, np.float64).tobytes(),
    "random": rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes(),
}
DATA = PAYLOADS["uint16"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", PAYLOADS)
def test_round_trip_and_stdlib_parity(name, backend):
    data = PAYLOADS[name]
    blob = deflate.encode(data, backend=backend)
    assert deflate.signature(blob)
    assert zlib.decompress(blob) == data
    raw = deflate.encode(data, raw=True, backend=backend)
    assert zlib.decompress(raw, wbits=-15) == data
    gzipped = gz.encode(data, backend=backend)
    assert gzip.decompress(gzipped) == data
    for decoder in BACKENDS:  # each backend decodes the other's output
        assert deflate.decode(blob, backend=decoder) == data
        assert deflate.decode(raw, raw=True, backend=decoder) == data
        assert gz.decode(gzipped, backend=decoder) == data
        assert deflate.decode(zlib.compress(data), backend=decoder) == data
        assert gz.decode(gzip.compress(data), backend=decoder) == data


def test_large_round_trip():
    data = (np.arange(34 << 20, dtype=np.uint32) // 64).astype(np.uint16).tobytes()
    assert len(data) > 64 << 20
    for codec in (deflate, gz):
        blob = codec.encode(data, level=1)
        assert codec.decode(blob) == data
    assert zlib.decompress(deflate.encode(data, level=1)) == data


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_level_against_stdlib(backend):
    data = PAYLOADS["float32"]
    native_levels = range(13) if backend == "libdeflate" else range(4)
    for level in native_levels:
        assert zlib.decompress(deflate.encode(data, level=level, backend=backend)) == data
        assert gzip.decompress(gz.encode(data, level=level, backend=backend)) == data
    for level in range(-1, 10):
        assert deflate.decode(zlib.compress(data, level), backend=backend) == data
        raw = zlib.compressobj(level, wbits=-15)
        assert deflate.decode(raw.compress(data) + raw.flush(), raw=True, backend=backend) == data
        assert gz.decode(gzip.compress(data, level), backend=backend) == data


@pytest.mark.parametrize("level", range(4))
def test_isal_parity_both_ways(level):
    data = DATA
    ours = deflate.encode(data, level=level, backend="isal")
    assert isal_zlib.decompress(ours) == data
    assert deflate.decode(isal_zlib.compress(data, level)) == data
    assert deflate.decode(isal_zlib.compress(data, level), backend="isal") == data
    ours_gz = gz.encode(data, level=level, backend="isal")
    assert igzip.decompress(ours_gz) == data
    assert gz.decode(igzip.compress(data, level), backend="isal") == data
    assert gz.decode(igzip.compress(data, level)) == data
    # The isal wheel bundles ISA-L 2.32 (the system has 2.30): levels 0 and 1
    # emit the same deflate stream in both, higher levels were retuned and the
    # 2.32 zlib header records the level, so compare raw streams at 0 and 1.
    if level <= 1:
        raw = deflate.encode(data, level=level, raw=True, backend="isal")
        assert raw == isal_zlib.compress(data, level, wbits=-15)


@pytest.mark.parametrize("level", [0, 1, 6, 9, 12])
def test_imagecodecs_parity_both_ways(level):
    data = DATA
    assert imagecodecs.deflate_decode(deflate.encode(data, level=level)) == data
    assert imagecodecs.zlib_decode(deflate.encode(data, level=level)) == data
    assert deflate.decode(imagecodecs.deflate_encode(data, level=level)) == data
    assert deflate.decode(imagecodecs.deflate_encode(data, level=level, raw=True), raw=True) == data
    assert deflate.decode(imagecodecs.zlib_encode(data, level=min(level, 9))) == data
    assert gz.decode(imagecodecs.gzip_encode(data, level=min(level, 9))) == data
    assert imagecodecs.gzip_decode(gz.encode(data, level=level)) == data


@pytest.mark.parametrize("backend", BACKENDS)
def test_gzip_multi_member(backend):
    a, b = PAYLOADS["uint8"], PAYLOADS["float64"]
    members = gz.encode(a, backend=backend) + gzip.compress(b) + gz.encode(b"", backend=backend)
    assert gz.decode(members, backend=backend) == a + b
    assert gzip.decompress(members) == a + b
    # stdlib-style zero padding between and after members
    padded = gzip.compress(a) + b"\0" * 5 + igzip.compress(b) + b"\0" * 3
    assert gz.decode(padded, backend=backend) == gzip.decompress(padded) == a + b
    # bgzip-like: many small members ending with an empty one
    chunks = [DATA[i:i + 65280] for i in range(0, len(DATA), 65280)]
    bgzf = b"".join(gzip.compress(c, 1) for c in chunks) + gzip.compress(b"")
    assert gz.decode(bgzf, backend=backend) == DATA
    out = np.empty(len(DATA), np.uint8)
    assert gz.decode(bgzf, out=out, backend=backend) is out
    assert out.tobytes() == DATA


@pytest.mark.parametrize("backend", BACKENDS)
def test_zlib_ignores_bytes_after_the_stream(backend):
    # like zlib.decompress
    blob = deflate.encode(DATA, backend=backend) + b"trailing"
    assert deflate.decode(blob, backend=backend) == zlib.decompress(blob) == DATA


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("codec,opts", [(deflate, {}), (deflate, {"raw": True}), (gz, {})])
@pytest.mark.parametrize("make_out", [bytearray, lambda n: np.empty(n, np.uint8),
                                      lambda n: np.empty(n // 2, np.uint16)])
def test_decode_into_out(codec, opts, make_out, backend):
    data = DATA
    out = make_out(len(data))
    blob = codec.encode(data, backend=backend, **opts)
    assert codec.decode(blob, out=out, backend=backend, **opts) is out
    assert bytes(memoryview(out).cast("B")) == data
    for wrong in (len(data) - 1, len(data) + 1, 0):
        with pytest.raises(oc.DecodeError):
            codec.decode(blob, out=bytearray(wrong), backend=backend, **opts)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("codec", [deflate, gz])
def test_encode_into_buffer(codec, backend):
    dest = bytearray(len(DATA))
    view = codec.encode(DATA, dest=dest, backend=backend)
    assert bytes(view) == codec.encode(DATA, backend=backend)
    assert codec.decode(view) == DATA
    with pytest.raises(oc.EncodeError):
        codec.encode(DATA, dest=bytearray(10), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("codec", [deflate, gz])
def test_max_decoded_bytes(codec, backend):
    bomb = codec.encode(bytes(16 << 20), level=1, backend=backend)
    old = oc.config.max_decoded_bytes
    try:
        oc.config.max_decoded_bytes = 1 << 20
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            codec.decode(bomb, backend=backend)
        oc.config.max_decoded_bytes = 16 << 20
        assert len(codec.decode(bomb, backend=backend)) == 16 << 20
    finally:
        oc.config.max_decoded_bytes = old


def test_invalid_levels_options_and_backends():
    for backend, bad_levels in (("libdeflate", (-1, 13)), ("isal", (-1, 4))):
        for level in bad_levels + ("3", 2.5, True):
            with pytest.raises(oc.EncodeError):
                deflate.encode(b"abc", level=level, backend=backend)
            with pytest.raises(oc.EncodeError):
                gz.encode(b"abc", level=level, backend=backend)
    with pytest.raises(TypeError):
        deflate.encode(b"abc", quality=5)
    with pytest.raises(TypeError):
        gz.decode(gz.encode(b"abc"), raw=True)
    with pytest.raises(oc.EncodeError, match="libdeflate"):
        deflate.encode(b"abc", backend="zlib")
    with pytest.raises(oc.DecodeError, match="isal"):
        gz.decode(gz.encode(b"abc"), backend="nope")


def test_names_files_and_magic(tmp_path):
    assert oc.get_codec("zlib") is oc.get_codec("zlibng") is deflate
    for name, codec in (("x.zlib", deflate), ("x.gz", gz)):
        path = tmp_path / name
        oc.write(path, DATA)
        assert oc.read(path) == DATA
        assert oc.codec_for_bytes(path.read_bytes()) is codec
    assert zlib.decompress((tmp_path / "x.zlib").read_bytes()) == DATA
    assert gzip.decompress((tmp_path / "x.gz").read_bytes()) == DATA
    for level in range(10):  # every zlib header the stdlib writes
        assert oc.codec_for_bytes(zlib.compress(b"abc", level)) is deflate
    assert not deflate.signature(b"\x78\x9d")  # check bits wrong
    assert not deflate.signature(b"\x78\xbb")  # preset dictionary


def _with_trailer(member: bytes, crc: int, isize: int) -> bytes:
    return member[:-8] + crc.to_bytes(4, "little") + isize.to_bytes(4, "little")


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_input(backend):
    valid = deflate.encode(DATA, backend=backend)
    member = gz.encode(DATA, backend=backend)
    crc = zlib.crc32(DATA)
    dict_stream = zlib.compressobj(zdict=b"dictionary").compress(b"abc")
    check_decoders("deflate", valid, opts={"backend": backend},
                   must_fail=("empty", "one byte", "truncated to 8", "preset dictionary",
                              "adler mismatch"),
                   extra=[("preset dictionary", dict_stream + b"\0" * 16),
                          ("adler mismatch", valid[:-4] + b"\0\0\0\0")])
    check_decoders("deflate", deflate.encode(DATA, raw=True, backend=backend),
                   opts={"raw": True, "backend": backend},
                   must_fail=("empty", "one byte", "truncated to 8"))
    check_decoders("gzip", member, opts={"backend": backend},
                   must_fail=("empty", "one byte", "truncated to 8", "valid + garbage",
                              "isize claims 4 GiB", "isize claims less", "crc mismatch",
                              "second member truncated", "only a header"),
                   extra=[("isize claims 4 GiB", _with_trailer(member, crc, 0xFFFFFFFF)),
                          ("isize claims less", _with_trailer(member, crc, 100)),
                          ("crc mismatch", _with_trailer(member, crc ^ 1, len(DATA))),
                          ("second member truncated", member + member[:len(member) // 2]),
                          ("only a header", member[:10])])


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_give_identical_results(backend):
    items = [PAYLOADS[k] for k in ("uint8", "uint16", "float32", "float64")] * 8
    jobs = [(codec, x) for codec in (deflate, gz) for x in items]
    serial = [codec.encode(x, backend=backend) for codec, x in jobs]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda job: job[0].encode(job[1], backend=backend), jobs))
        decoded = list(pool.map(lambda job, blob: job[0].decode(blob, backend=backend),
                                jobs, serial))
    assert parallel == serial
    assert decoded == [x for _, x in jobs]
