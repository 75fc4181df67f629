"""png, qoi, bmp and rgbe encode and decode against imagecodecs (and the qoi
package) on the 2048x2048 photo-like RGB image and uint16 microscopy image.

PNG: our defaults (level 2, adaptive filters) against imagecodecs.png_encode's
defaults (zlib level 6, libpng's adaptive filters), with both output sizes;
decode rows decode one blob on both sides, ours and imagecodecs'. The floor of
a decode row is libdeflate inflating the same IDAT stream alone.
"""

import struct
import zlib

import imagecodecs as ic
import numpy as np

import opencodecs as oc

from .data import microscopy_u16, photo_rgb
from .harness import Side, Workload


def _idat(blob: bytes) -> bytes:
    """The zlib stream of a PNG's IDAT chunks."""
    pos, parts = 8, []
    while pos < len(blob):
        (length,), kind = struct.unpack(">I", blob[pos:pos + 4]), blob[pos + 4:pos + 8]
        if kind == b"IDAT":
            parts.append(blob[pos + 8:pos + 8 + length])
        pos += 12 + length
    return b"".join(parts)


def _equal(a, b):
    return a.shape == b.shape and np.array_equal(a, b)


def _hdr_image(shape=(2048, 2048)):
    """Float32 RGB with a bright light source over a linear photo: 0.001 to ~50."""
    photo = photo_rgb(shape).astype(np.float32) / 255
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    light = 1 + 50 * np.exp(-((x - 0.7 * shape[1]) ** 2 + (y - 0.2 * shape[0]) ** 2) / (shape[0] * 10))
    return (photo ** 2.2 * light[..., None]).astype(np.float32)


def png_workloads(images) -> list:
    png = oc.get_codec("png")
    deflate = oc.get_codec("deflate")
    workloads = []
    for label, image in images.items():
        ours, theirs = png.encode(image), ic.png_encode(image)
        workloads.append(Workload(
            f"png encode {label}", Side("opencodecs", lambda image=image: png.encode(image)),
            [Side("imagecodecs", lambda image=image: ic.png_encode(image))],
            check=lambda a, b, image=image: _equal(png.decode(a), image) and _equal(png.decode(b), image),
            sizes={"opencodecs": len(ours), "imagecodecs": len(theirs)}, target=3.0,
            note="defaults: ours level 2 + adaptive filters; imagecodecs zlib 6 + libpng adaptive"))
        fast = ic.png_encode(image, level=1)
        workloads.append(Workload(
            f"png encode {label} vs imagecodecs level=1",
            Side("opencodecs", lambda image=image: png.encode(image)),
            [Side("imagecodecs level=1", lambda image=image: ic.png_encode(image, level=1))],
            check=lambda a, b, image=image: _equal(png.decode(a), image),
            sizes={"opencodecs": len(ours), "imagecodecs level=1": len(fast)},
            note="imagecodecs' fastest zlib level: larger files"))
        for who, blob in (("ours", ours), ("imagecodecs'", theirs)):
            stream, out = _idat(blob), np.empty(image.nbytes + image.shape[0], np.uint8)
            workloads.append(Workload(
                f"png decode {label} ({who} file)", Side("opencodecs", lambda blob=blob: png.decode(blob)),
                [Side("imagecodecs", lambda blob=blob: ic.png_decode(blob))], check=_equal,
                floor=Side("libdeflate inflate alone", lambda s=stream, o=out: deflate.decode(s, out=o)),
                sizes={"file": len(blob)}, target=1.8))
    return workloads


def image_workloads(photo, hdr) -> list:
    import qoi as qoi_package
    qoi, bmp, rgbe = oc.get_codec("qoi"), oc.get_codec("bmp"), oc.get_codec("rgbe")
    qoi_blob, bmp_blob, rgbe_blob = qoi.encode(photo), bmp.encode(photo), rgbe.encode(hdr)
    return [
        Workload("qoi encode photo RGB", Side("opencodecs", lambda: qoi.encode(photo)),
                 [Side("imagecodecs", lambda: ic.qoi_encode(photo)),
                  Side("qoi (Rust crate)", lambda: qoi_package.encode(photo))],
                 check=lambda a, b: _equal(qoi.decode(a), photo) and _equal(qoi.decode(b), photo),
                 sizes={"opencodecs": len(qoi_blob), "imagecodecs": len(ic.qoi_encode(photo)),
                        "qoi": len(qoi_package.encode(photo))}),
        Workload("qoi decode photo RGB", Side("opencodecs", lambda: qoi.decode(qoi_blob)),
                 [Side("imagecodecs", lambda: ic.qoi_decode(qoi_blob))],
                 check=_equal, sizes={"file": len(qoi_blob)}, target=1.0),
        Workload("qoi decode photo RGB vs the qoi package", Side("opencodecs", lambda: qoi.decode(qoi_blob)),
                 [Side("qoi (Rust crate)", lambda: qoi_package.decode(qoi_blob))], check=_equal,
                 note="a different implementation: the Rust qoi crate"),
        Workload("bmp encode photo RGB", Side("opencodecs", lambda: bmp.encode(photo)),
                 [Side("imagecodecs", lambda: ic.bmp_encode(photo))], check=lambda a, b: a == b,
                 sizes={"file": len(bmp_blob)}),
        Workload("bmp decode photo RGB", Side("opencodecs", lambda: bmp.decode(bmp_blob)),
                 [Side("imagecodecs", lambda: ic.bmp_decode(bmp_blob))], check=_equal, target=1.0),
        Workload("rgbe encode HDR float32 RGB", Side("opencodecs", lambda: rgbe.encode(hdr)),
                 [Side("imagecodecs", lambda: ic.rgbe_encode(hdr))],
                 check=lambda a, b: _equal(rgbe.decode(a), rgbe.decode(b)),
                 sizes={"opencodecs": len(rgbe_blob), "imagecodecs": len(ic.rgbe_encode(hdr))}),
        Workload("rgbe decode HDR float32 RGB", Side("opencodecs", lambda: rgbe.decode(rgbe_blob)),
                 [Side("imagecodecs", lambda: ic.rgbe_decode(rgbe_blob))], check=_equal,
                 sizes={"file": len(rgbe_blob)}, target=1.0),
    ]


def workloads(fast=False, only="") -> list:
    shape = (1024, 1024) if fast else (2048, 2048)
    photo = photo_rgb(shape)
    images = {"photo RGB": photo, "u16 microscopy": microscopy_u16(shape)}
    return png_workloads(images) + image_workloads(photo, _hdr_image(shape))
