"""JPEG XR (libjxr on both sides): decode of a 2048x2048 photo-like RGB image
(lossless and quality 75) and of lossless 2048x2048 uint16 microscopy, against
imagecodecs, on imagecodecs' files; encode alongside at matched settings
(lossless output is byte-identical)."""

import imagecodecs as ic
import numpy as np

import opencodecs as oc

from .data import microscopy_u16, photo_rgb
from .harness import Side, Workload


def _cases(photo, micro):
    """(name, data, our options, imagecodecs level or None for lossless)."""
    return [
        ("jpegxr lossless RGB", photo, {}, None),
        ("jpegxr lossy RGB q75", photo, {"quality": 75}, 0.75),
        ("jpegxr lossless u16 microscopy", micro, {}, None),
    ]


def workloads(fast=False, only="") -> list:
    size = (1024, 1024) if fast else (2048, 2048)
    photo, micro = photo_rgb(size), microscopy_u16(size)
    codec = oc.get_codec("jpegxr")
    result = []
    for name, data, opts, level in _cases(photo, micro):
        if only not in f"{name} encode decode":
            continue
        label = f"{name} {size[0]}x{size[1]}"
        theirs = ic.jpegxr_encode(data, level=level)
        ours = codec.encode(data, **opts)
        result.append(Workload(
            name=f"{label} decode",
            ours=Side("opencodecs", lambda b=theirs: codec.decode(b)),
            peers=[Side("imagecodecs", lambda b=theirs: ic.jpegxr_decode(b))],
            check=np.array_equal, sizes={"compressed": len(theirs)},
            note="imagecodecs' file", target=1.0))
        result.append(Workload(
            name=f"{label} encode",
            ours=Side("opencodecs", lambda d=data, o=opts: codec.encode(d, **o)),
            peers=[Side("imagecodecs", lambda d=data, lv=level: ic.jpegxr_encode(d, level=lv))],
            check=(lambda a, b: a == b) if level is None else
            (lambda a, b: ic.jpegxr_decode(a).shape == ic.jpegxr_decode(b).shape),
            sizes={"opencodecs": len(ours), "imagecodecs": len(theirs)},
            note="byte-identical" if level is None else
            f"options {opts}; imagecodecs level {level} (its own quantizer table)"))
    return result
