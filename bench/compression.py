"""Compression workloads: each codec's encode and decode on 16 MiB against
imagecodecs and the codec's reference package; per-call overhead on 4 KiB
chunks; batch tile decode through the shared pool."""

import bz2
import gzip
import lzma
import zlib
from concurrent.futures import ThreadPoolExecutor

import imagecodecs as ic
import numpy as np

import opencodecs as oc
from opencodecs.core.parallel import decode_into

from .data import microscopy_u16, random_bytes
from .harness import Side, Workload


def _peers():
    """codec -> (our encode options, {peer: (encode, decode)}), matched settings."""
    import blosc2
    import brotli
    import isal.isal_zlib
    import lz4.frame
    import snappy
    import zstandard
    import bitshuffle

    def zstd_ref_decode(b):
        return zstandard.ZstdDecompressor().decompressobj().decompress(b)

    return {
        "zstd": ({"level": 3, "numthreads": 1}, {
            "imagecodecs": (lambda d: ic.zstd_encode(d, level=3), ic.zstd_decode),
            "zstandard": (zstandard.ZstdCompressor(level=3).compress, zstd_ref_decode)}),
        "lz4": ({"level": 0}, {
            "imagecodecs": (lambda d: ic.lz4f_encode(d, level=0), ic.lz4f_decode),
            "lz4.frame": (lambda d: lz4.frame.compress(d, compression_level=0), lz4.frame.decompress)}),
        "brotli": ({"level": 4}, {
            "imagecodecs": (lambda d: ic.brotli_encode(d, level=4), ic.brotli_decode),
            "brotli": (lambda d: brotli.compress(d, quality=4), brotli.decompress)}),
        "blosc2": ({"level": 5, "compressor": "zstd", "shuffle": "shuffle", "typesize": 2, "numthreads": 1}, {
            "imagecodecs": (lambda d: ic.blosc2_encode(d, level=5, compressor="zstd", shuffle="shuffle",
                                                      typesize=2, numthreads=1),
                            lambda b: ic.blosc2_decode(b, numthreads=1)),
            "blosc2": (lambda d: blosc2.compress2(d, clevel=5, codec=blosc2.Codec.ZSTD, typesize=2,
                                                  filters=[blosc2.Filter.SHUFFLE], nthreads=1),
                       lambda b: blosc2.decompress2(b, nthreads=1))}),
        "deflate": ({"level": 6}, {
            "imagecodecs": (lambda d: ic.deflate_encode(d, level=6), ic.deflate_decode),
            "zlib": (lambda d: zlib.compress(d, 6), zlib.decompress)}),
        "deflate-isal": ({"level": 1, "backend": "isal"}, {
            "isal": (lambda d: isal.isal_zlib.compress(d, 1), isal.isal_zlib.decompress)}),
        "gzip": ({"level": 6}, {
            "imagecodecs": (lambda d: ic.gzip_encode(d, level=6), ic.gzip_decode),
            "gzip": (lambda d: gzip.compress(d, 6, mtime=0), gzip.decompress)}),
        "bz2": ({"level": 9}, {
            "imagecodecs": (lambda d: ic.bz2_encode(d, level=9), ic.bz2_decode),
            "bz2": (lambda d: bz2.compress(d, 9), bz2.decompress)}),
        "lzma": ({"level": 1}, {
            "imagecodecs": (lambda d: ic.lzma_encode(d, level=1), ic.lzma_decode),
            "lzma": (lambda d: lzma.compress(d, preset=1), lzma.decompress)}),
        "snappy": ({}, {
            "imagecodecs": (ic.snappy_encode, ic.snappy_decode),
            "python-snappy": (snappy.compress, snappy.decompress)}),
        "bitshuffle": ({"itemsize": 2}, {
            "imagecodecs": (lambda d: ic.bitshuffle_encode(d, itemsize=2),
                            lambda b: ic.bitshuffle_decode(b, itemsize=2)),
            "bitshuffle": (lambda d: bitshuffle.bitshuffle(np.frombuffer(d, np.uint16)).tobytes(),
                           lambda b: bitshuffle.bitunshuffle(np.frombuffer(b, np.uint16)).tobytes())}),
    }


def _codec(key):
    """The codec a peer-table key names ("deflate-isal" -> deflate), or None if not built."""
    name = key.split("-")[0]
    return oc.get_codec(name) if oc.has_codec(name) else None


def _bytes_equal(a, b):
    return bytes(a) == bytes(b)


def throughput(fast=False, only="") -> list:
    datasets = {"u16 microscopy": microscopy_u16().tobytes(), "random": random_bytes()}
    if fast:
        datasets = {k: v[:4 << 20] for k, v in datasets.items()}
    workloads = []
    for key, (opts, peers) in _peers().items():
        codec = _codec(key)
        if codec is None or only not in f"{key} encode decode":
            continue
        decode_opts = {k: v for k, v in opts.items() if k in ("itemsize", "backend")}
        for label, data in datasets.items():
            mib = len(data) >> 20
            blob = codec.encode(data, **opts)
            sizes = {"input": len(data), "opencodecs": len(blob)}
            sizes.update({p: len(enc(data)) for p, (enc, _) in peers.items()})
            ref_decode = next(iter(peers.values()))[1]
            workloads.append(Workload(
                name=f"{key} encode {label} {mib} MiB",
                ours=Side("opencodecs", lambda c=codec, d=data, o=opts: c.encode(d, **o)),
                peers=[Side(p, lambda e=enc, d=data: e(d)) for p, (enc, _) in peers.items()],
                check=lambda ours, theirs, d=data, dec=ref_decode: _bytes_equal(dec(ours), d),
                sizes=sizes, note=f"options {opts}", target=1.0))
            workloads.append(Workload(
                name=f"{key} decode {label} {mib} MiB",
                ours=Side("opencodecs", lambda c=codec, b=blob, o=decode_opts: c.decode(b, **o)),
                peers=[Side(p, lambda dec=dec, b=blob: dec(b)) for p, (_, dec) in peers.items()],
                check=_bytes_equal, target=1.0))
        if key == "zstd":
            # A high level on incompressible data: where libzstd 1.5.4 (Debian 12) was 7x slower than 1.5.7
            import zstandard
            data = datasets["random"]
            workloads.append(Workload(
                name=f"zstd encode level 10 random {len(data) >> 20} MiB",
                ours=Side("opencodecs", lambda c=codec, d=data: c.encode(d, level=10, numthreads=1)),
                peers=[Side("imagecodecs", lambda d=data: ic.zstd_encode(d, level=10)),
                       Side("zstandard", lambda d=data: zstandard.ZstdCompressor(level=10).compress(d))],
                check=lambda ours, theirs, d=data: _bytes_equal(oc.get_codec("zstd").decode(ours), d),
                sizes={"input": len(data), "opencodecs": len(codec.encode(data, level=10, numthreads=1)),
                       "imagecodecs": len(ic.zstd_encode(data, level=10))},
                note="options {'level': 10, 'numthreads': 1}", target=1.0))
            # our default: libzstd's worker threads on large inputs
            data = datasets["u16 microscopy"]
            workloads.append(Workload(
                name=f"zstd encode u16 microscopy, numthreads={oc.config.numthreads}",
                ours=Side("opencodecs", lambda c=codec, d=data: c.encode(d, level=3)),
                peers=[Side(p, lambda e=enc, d=data: e(d)) for p, (enc, _) in peers.items()],
                check=lambda ours, theirs, d=data: _bytes_equal(oc.get_codec("zstd").decode(ours), d),
                note="libzstd multithreaded; peers single-threaded (they have no threads option)"))
    return workloads


def per_call_overhead(fast=False, only="") -> list:
    """10,000 calls on 4 KiB chunks: where wrapper overhead shows."""
    chunk = microscopy_u16((32, 64)).tobytes()  # 4 KiB
    calls = 1000 if fast else 10_000
    workloads = []
    for key, (opts, peers) in _peers().items():
        codec = _codec(key)
        if codec is None or "imagecodecs" not in peers or only not in f"{key} encode decode 4 KiB":
            continue
        enc, dec = peers["imagecodecs"]
        decode_opts = {k: v for k, v in opts.items() if k in ("itemsize", "backend")}
        blob = codec.encode(chunk, **opts)
        workloads.append(Workload(
            name=f"{key} decode 4 KiB ×{calls}",
            ours=Side("opencodecs", lambda c=codec.decode, b=blob, o=decode_opts: [c(b, **o) for _ in range(calls)]),
            peers=[Side("imagecodecs", lambda b=blob, dec=dec: [dec(b) for _ in range(calls)])],
            check=lambda a, b: a[0] == b[0], target=1.0))
        workloads.append(Workload(
            name=f"{key} encode 4 KiB ×{calls}",
            ours=Side("opencodecs", lambda c=codec.encode, o=opts: [c(chunk, **o) for _ in range(calls)]),
            peers=[Side("imagecodecs", lambda enc=enc: [enc(chunk) for _ in range(calls)])],
            target=1.0))
    return workloads


def batch_decode(fast=False, only="") -> list:
    """256 zstd 256×256 uint16 tiles decoded into one array through the shared pool."""
    if only not in "zstd batch decode 256 tiles":
        return []
    image = microscopy_u16((4096, 4096))
    tiles = image.reshape(16, 256, 16, 256).swapaxes(1, 2).reshape(256, 256, 256)
    zstd = oc.get_codec("zstd")
    blobs = [zstd.encode(t, level=3, numthreads=1) for t in tiles]
    out_ours = np.empty_like(tiles)
    out_serial = np.empty_like(tiles)
    out_ic = np.empty_like(tiles)
    ic_rows = out_ic.reshape(len(blobs), -1).view(np.uint8)  # imagecodecs wants 1-D bytes
    pool = ThreadPoolExecutor(2)

    def imagecodecs_2_threads():
        list(pool.map(lambda i: ic.zstd_decode(blobs[i], out=ic_rows[i]), range(len(blobs))))
        return out_ic

    def serial():
        for i, b in enumerate(blobs):
            zstd.decode(b, out=out_serial[i])
        return out_serial

    def ours():
        return decode_into(zstd, blobs, out_ours, numthreads=2)

    def floor_one_thread_raw():  # raw libzstd calls, no pool
        d = zstd.native.decode
        for i, b in enumerate(blobs):
            d(b, out_serial[i], 1 << 40)

    equal = np.array_equal
    return [
        Workload("zstd batch decode 256 tiles (2 threads)", Side("opencodecs", ours),
                 [Side("imagecodecs 2-thread pool", imagecodecs_2_threads)], check=equal,
                 sizes={"compressed": sum(map(len, blobs))}, target=1.0),
        Workload("zstd batch decode 256 tiles: pool vs serial", Side("opencodecs pool", ours),
                 [Side("opencodecs serial", serial)], check=equal,
                 floor=Side("raw native serial", floor_one_thread_raw), target=1.8,
                 note="floor column: one thread of raw native calls"),
    ]


def workloads(fast=False, only="") -> list:
    """Every workload whose name could contain `only`."""
    return throughput(fast, only) + per_call_overhead(fast, only) + batch_decode(fast, only)
