"""JPEG 2000, HTJ2K and BCn workloads against imagecodecs: 2048x2048 uint16
microscopy (lossless) and photo-like RGB (lossless and lossy), at matched
settings and thread counts; BC1 and BC7 DDS decode of blocks encoded here
from the photo (a simple encoder: real-looking blocks, not random bytes)."""

import struct
from functools import lru_cache

import imagecodecs as ic
import numpy as np

import opencodecs as oc
from opencodecs.codecs.images.htj2k import qstep_for_quality
from opencodecs.codecs.images.jpeg2k import psnr_for_quality

from .data import microscopy_u16, photo_rgb
from .harness import Side, Workload

LOSSY_QUALITY = 75


def _bundled(library: str) -> str:
    """The version of `library` imagecodecs bundles, as imagecodecs.version() reports it."""
    for item in ic.version().split(", "):
        if item.startswith(library + "-"):
            return item.replace("-", " ", 1)
    return library


@lru_cache(maxsize=2)
def _images(fast):
    shape = (1024, 1024) if fast else (2048, 2048)
    return {"u16 microscopy": microscopy_u16(shape), "photo RGB": photo_rgb(shape)}


def _roundtrip(decode, expected):
    return lambda ours, theirs: np.array_equal(decode(ours), expected) and np.array_equal(decode(theirs), expected)


def _codec_workloads(name, label, data, ours_encode, peer_encode, peer_decode, decode_threads,
                     lossless, note, tolerance=0):
    """Encode and decode workloads for one codec, image and setting; lossy decodes
    must agree within `tolerance` (libraries may round the 9/7 wavelet apart)."""
    codec = oc.get_codec(name)
    ours_blob, peer_blob = ours_encode(data), peer_encode(data)
    sizes = {"raw": data.nbytes, "opencodecs": len(ours_blob), "imagecodecs": len(peer_blob)}
    kind = "lossless" if lossless else f"quality {LOSSY_QUALITY}"
    check = _roundtrip(codec.decode, data) if lossless else None
    rows = [Workload(f"{name} encode {label} {kind}", Side("opencodecs", lambda: ours_encode(data)),
                     [Side("imagecodecs", lambda: peer_encode(data))], check=check, sizes=sizes,
                     note=note, target=1.0)]
    def agree(ours, theirs):
        if lossless:
            return np.array_equal(ours, data) and np.array_equal(theirs, data)
        return np.abs(ours.astype(np.int64) - theirs).max() <= tolerance

    for threads in decode_threads:
        rows.append(Workload(
            f"{name} decode {label} {kind}, {threads} thread{'s' if threads > 1 else ''}",
            Side("opencodecs", lambda t=threads: codec.decode(ours_blob, numthreads=t)),
            [Side("imagecodecs", lambda t=threads: peer_decode(ours_blob, t))],
            check=agree, sizes={"compressed": len(ours_blob)}, target=1.0))
    return rows


def jpeg2k(fast=False, only="") -> list:
    if only not in "jpeg2k encode decode":
        return []
    rows = []
    for label, data in _images(fast).items():
        settings = [(None, True)] + ([(LOSSY_QUALITY, False)] if data.ndim == 3 else [])
        for quality, lossless in settings:
            psnr = 0 if lossless else psnr_for_quality(quality, data.dtype.itemsize * 8)
            rows += _codec_workloads(
                "jpeg2k", label, data,
                lambda d, q=quality: oc.get_codec("jpeg2k").encode(d, quality=q, codec="j2k", numthreads=1),
                lambda d, p=psnr: ic.jpeg2k_encode(d, level=p, codecformat="J2K", numthreads=1),
                lambda b, t=1: ic.jpeg2k_decode(b, numthreads=t),
                (1, oc.config.numthreads), lossless,
                "J2K codestream, one tile, 5 levels; encode 1 thread; "
                f"ours {oc.get_codec('jpeg2k').library_build}, imagecodecs {_bundled('openjpeg')}"
                + ("" if lossless else f"; lossy: PSNR target {psnr:.1f} dB on both sides"), tolerance=1)
    return rows


def htj2k(fast=False, only="") -> list:
    if only not in "htj2k encode decode":
        return []
    rows = []
    for label, data in _images(fast).items():
        settings = [(None, True)] + ([(LOSSY_QUALITY, False)] if data.ndim == 3 else [])
        for quality, lossless in settings:
            qstep = None if lossless else qstep_for_quality(quality, data.dtype.itemsize * 8)
            rows += _codec_workloads(
                "htj2k", label, data,
                lambda d, q=quality: oc.get_codec("htj2k").encode(d, quality=q),
                lambda d, s=qstep: ic.htj2k_encode(d, level=s),
                lambda b, t=1: ic.htj2k_decode(b),
                (1, oc.config.numthreads), lossless,
                f"we encode with {oc.get_codec('htj2k').library_build} and decode with "
                f"{oc.get_codec('jpeg2k').library_build}; imagecodecs bundles {_bundled('openjph')} "
                "(single-threaded), so its side ignores the thread count"
                + ("" if lossless else f"; qstep {qstep:.4g} on both sides"), tolerance=1)
    return rows


# -- BCn: a simple encoder for test blocks (BC1 endpoints from the block's
# extremes; BC7 mode 6, one RGBA line per block), vectorised over blocks.

def _blocks(image):
    h, w = image.shape[:2]
    return image.reshape(h // 4, 4, w // 4, 4, -1).swapaxes(1, 2).reshape(-1, 16, image.shape[2])


def _bc1(image):
    px = _blocks(image).astype(np.int64)
    hi, lo = px.max(1), px.min(1)
    to565 = lambda c: (c[:, 0] >> 3) << 11 | (c[:, 1] >> 2) << 5 | c[:, 2] >> 3  # noqa: E731
    c0, c1 = to565(hi), to565(lo)
    palette = np.stack([hi, lo, (2 * hi + lo) // 3, (hi + 2 * lo) // 3], 1)  # close enough to pick indices
    index = ((px[:, :, None, :] - palette[:, None]) ** 2).sum(-1).argmin(-1)
    index[c0 == c1] = 0
    bits = (index.astype(np.uint64) << (2 * np.arange(16, dtype=np.uint64))).sum(1)
    out = np.zeros((len(px), 8), np.uint8)
    out[:, 0:2] = np.stack([c0 & 255, c0 >> 8], 1)
    out[:, 2:4] = np.stack([c1 & 255, c1 >> 8], 1)
    out[:, 4:8] = bits.astype("<u4").view(np.uint8).reshape(-1, 4)
    return out.tobytes()


def _bc7_mode6(image):
    px = _blocks(np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])).astype(np.int64)
    e0, e1 = px.min(1) >> 1, px.max(1) >> 1  # 7-bit endpoints; P-bits 0 and 1
    d0, d1 = e0 << 1, e1 << 1 | 1
    axis = (d1 - d0).astype(np.float64)
    t = ((px - d0[:, None]) * axis[:, None]).sum(-1) / np.maximum((axis ** 2).sum(-1), 1)[:, None]
    index = np.clip(np.rint(t * 15), 0, 15).astype(np.int64)
    swap = index[:, 0] >= 8  # the anchor index must fit in 3 bits
    e0[swap], e1[swap] = e1[swap].copy(), e0[swap].copy()
    index[swap] = 15 - index[swap]
    p0, p1 = np.where(swap, 1, 0), np.where(swap, 0, 1)
    fields = [(np.full(len(px), 1 << 6), 7)]
    for c in range(4):
        fields += [(e0[:, c], 7), (e1[:, c], 7)]
    fields += [(p0, 1), (p1, 1), (index[:, 0], 3)] + [(index[:, i], 4) for i in range(1, 16)]
    lo = np.zeros(len(px), np.uint64)
    hi = np.zeros(len(px), np.uint64)
    pos = 0
    for value, n in fields:
        value = value.astype(np.uint64)
        if pos < 64:
            lo |= value << np.uint64(pos)
            if pos + n > 64:
                hi |= value >> np.uint64(64 - pos)
        else:
            hi |= value << np.uint64(pos - 64)
        pos += n
    assert pos == 128
    return np.stack([lo, hi], 1).astype("<u8").tobytes()


def _dds(width, height, data, fourcc=b"DXT1", dxgi=None):
    header = struct.pack("<7I44x", 124, 0x1007, height, width, 0, 0, 1)
    pixel_format = struct.pack("<2I4s5I", 32, 0x4, b"DX10" if dxgi else fourcc, 0, 0, 0, 0, 0)
    caps = struct.pack("<5I", 0x1000, 0, 0, 0, 0)
    dx10 = struct.pack("<5I", dxgi, 3, 0, 1, 0) if dxgi else b""
    return b"DDS " + header + pixel_format + caps + dx10 + data


def bcdec(fast=False, only="") -> list:
    if only not in "bcdec decode BC1 BC7 DDS":
        return []
    image = _images(fast)["photo RGB"]
    h, w = image.shape[:2]
    files = {"BC1": _dds(w, h, _bc1(image)), "BC7": _dds(w, h, _bc7_mode6(image), dxgi=98)}
    codec = oc.get_codec("bcdec")
    rows = []
    for fmt, blob in files.items():
        for threads in (1, oc.config.numthreads):
            rows.append(Workload(
                f"bcdec decode {w}x{h} {fmt} DDS, {threads} thread{'s' if threads > 1 else ''}",
                Side("opencodecs", lambda b=blob, t=threads: codec.decode(b, numthreads=t)),
                [Side("imagecodecs", lambda b=blob: ic.dds_decode(b))],
                check=np.array_equal, sizes={"file": len(blob)}, target=1.0,
                note="blocks encoded here from the photo (BC7: mode 6); imagecodecs has no threads"))
    return rows


def workloads(fast=False, only="") -> list:
    """Every workload whose name could contain `only`."""
    return jpeg2k(fast, only) + htj2k(fast, only) + bcdec(fast, only)
