"""Modern image codecs (webp, avif, heif, jxl): encode and decode of a 2048x2048
photo-like RGB image, and lossless 2048x2048 uint16 microscopy where the codec
takes 16-bit data, against imagecodecs (pillow-heif for heif, which imagecodecs'
wheel lacks) at matched settings; jxl animation decode through the shared pool."""

import io

import imagecodecs as ic
import numpy as np

import opencodecs as oc

from .data import microscopy_u16, photo_rgb
from .harness import Side, Workload


def _close(tolerance):
    """Check for lossy decodes: libraries of different versions may round differently."""
    def check(a, b):
        return a.shape == b.shape and np.abs(a.astype(np.int64) - b).max() <= tolerance
    return check


def _faithful(decoded, original, lossy):
    """The peer's decode of our output: exact if lossless, else above 30 dB PSNR."""
    if not lossy:
        return np.array_equal(decoded, original)
    err = decoded.astype(np.float64) - original
    top = 255.0 if original.dtype == np.uint8 else 65535.0
    return 10 * np.log10(top ** 2 / np.mean(err ** 2)) > 30


def _pillow_heif():
    import pillow_heif

    def encode(img, quality):
        f = io.BytesIO()
        pillow_heif.from_bytes(mode="RGB", size=img.shape[1::-1], data=img.tobytes()).save(f, quality=quality)
        return f.getvalue()

    def decode(blob):
        return np.asarray(pillow_heif.open_heif(blob))

    return encode, decode


def _cases(photo, micro):
    """(name, codec, data, our options, our decode options, peer name, peer encode, peer decode, tolerance)."""
    heif_encode, heif_decode = _pillow_heif()
    return [
        ("webp lossy q75", "webp", photo, {"quality": 75, "numthreads": 1}, {"numthreads": 1}, "imagecodecs",
         lambda d: ic.webp_encode(d, 75, lossless=False), ic.webp_decode, 0),
        ("webp lossless", "webp", photo, {"lossless": True, "numthreads": 1}, {"numthreads": 1}, "imagecodecs",
         lambda d: ic.webp_encode(d, lossless=True), ic.webp_decode, 0),
        ("avif lossy q75 speed 6", "avif", photo, {"quality": 75, "speed": 6, "numthreads": 2},
         {"numthreads": 2}, "imagecodecs",
         lambda d: ic.avif_encode(d, 75, speed=6, numthreads=2), lambda b: ic.avif_decode(b, numthreads=2), 0),
        ("avif lossless u16 microscopy (12-bit)", "avif", micro,
         {"lossless": True, "speed": 6, "numthreads": 2}, {"numthreads": 2}, "imagecodecs",
         lambda d: ic.avif_encode(d, 100, speed=6, bitspersample=12, numthreads=2),
         lambda b: ic.avif_decode(b, numthreads=2), 0),
        ("heif q75", "heif", photo, {"quality": 75}, {"numthreads": 2}, "pillow-heif",
         lambda d: heif_encode(d, 75), heif_decode, 1),
        ("jxl lossy distance 1 effort 5", "jxl", photo, {"distance": 1.0, "effort": 5, "numthreads": 2},
         {"numthreads": 2}, "imagecodecs",
         lambda d: ic.jpegxl_encode(d, distance=1.0, effort=5, lossless=False, numthreads=2),
         lambda b: ic.jpegxl_decode(b, numthreads=2), 1),
        ("jxl lossless u16 microscopy effort 5", "jxl", micro,
         {"lossless": True, "effort": 5, "numthreads": 2}, {"numthreads": 2}, "imagecodecs",
         lambda d: ic.jpegxl_encode(d, lossless=True, effort=5, numthreads=2),
         lambda b: ic.jpegxl_decode(b, numthreads=2), 0),
    ]


def throughput(fast=False, only="") -> list:
    size = (1024, 1024) if fast else (2048, 2048)
    photo, micro = photo_rgb(size), microscopy_u16(size)
    workloads = []
    for name, key, data, opts, dopts, peer, peer_encode, peer_decode, tol in _cases(photo, micro):
        if only not in f"{name} encode decode":
            continue
        codec = oc.get_codec(key)
        ours = codec.encode(data, **opts)
        theirs = peer_encode(data)
        sizes = {"opencodecs": len(ours), peer: len(theirs)}
        label = f"{name} {size[0]}x{size[1]}"
        check = _close(tol)
        workloads.append(Workload(
            name=f"{label} encode",
            ours=Side("opencodecs", lambda c=codec, d=data, o=opts: c.encode(d, **o)),
            peers=[Side(peer, lambda e=peer_encode, d=data: e(d))],
            check=lambda a, b, dec=peer_decode, d=data, lossy=key == "heif" or "lossy" in name:
            _faithful(dec(a), d, lossy),
            sizes=sizes, note=f"options {opts}"))
        workloads.append(Workload(
            name=f"{label} decode",
            ours=Side("opencodecs", lambda c=codec, b=theirs, o=dopts: c.decode(b, **o)),
            peers=[Side(peer, lambda dec=peer_decode, b=theirs: dec(b))],
            check=check, sizes={"compressed": len(theirs)}, note=f"{peer}'s file; options {dopts}",
            target=1.0))
    return workloads


def jxl_animation(fast=False, only="") -> list:
    """Every frame of an animation: our runs of frames, each on its own decoder on the
    shared pool, against imagecodecs' single decoder, both with 2 threads. Small
    frames are where libjxl's own threads have little to share out."""
    jxl = oc.get_codec("jxl")
    workloads = []
    for n, size in ((64, 256), (16, 512)):
        n = n // 2 if fast else n
        name = f"jxl animation {n}x{size}x{size} decode all frames (2 threads)"
        if only not in name:
            continue
        frames = np.stack([photo_rgb((size, size), seed=i) for i in range(n)])
        blob = ic.jpegxl_encode(frames, distance=1.0, effort=5, lossless=False, numthreads=2)
        workloads.append(Workload(
            name, Side("opencodecs", lambda b=blob: jxl.decode(b, numthreads=2)),
            [Side("imagecodecs", lambda b=blob: ic.jpegxl_decode(b, numthreads=2))],
            check=_close(1), sizes={"compressed": len(blob)}, target=1.0,
            note="imagecodecs' file; lossy, distance 1"))
    return workloads


def workloads(fast=False, only="") -> list:
    """Every workload whose name could contain `only`."""
    return throughput(fast, only) + jxl_animation(fast, only)
