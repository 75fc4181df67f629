"""JPEG family: jpeg (libjpeg-turbo) against imagecodecs and Pillow, jpegls
(CharLS) lossless against imagecodecs, ultrahdr against imagecodecs'
libultrahdr, on 2048x2048 photo-like RGB and uint16 microscopy."""

import io

import imagecodecs as ic
import numpy as np
from PIL import Image

import opencodecs as oc

from .data import microscopy_u16, photo_rgb
from .harness import Side, Workload


def _pillow_encode(arr, **opts):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **opts)
    return buf.getvalue()


def _pillow_decode(blob):
    return np.asarray(Image.open(io.BytesIO(blob)))


def _same_pixels(a, b):
    return np.array_equal(a, b)


def _without_spiff(blob):
    """imagecodecs' JPEG-LS stream without its SPIFF header (SOI, APP8, APP8, SOI)."""
    return blob[:2] + blob[blob.index(b"\xff\xd8", 2) + 2:]


def jpeg_workloads(image, label):
    jpeg = oc.get_codec("jpeg")
    # imagecodecs' and Pillow's defaults: 4:2:0, accurate DCT, standard tables.
    blob = jpeg.encode(image, quality=90)
    sizes = {"input": image.nbytes, "opencodecs": len(blob),
             "imagecodecs": len(ic.jpeg8_encode(image, level=90)),
             "Pillow": len(_pillow_encode(image, quality=90))}
    return [
        Workload(name=f"jpeg encode {label} q90 4:2:0",
                 ours=Side("opencodecs", lambda: jpeg.encode(image, quality=90)),
                 peers=[Side("imagecodecs", lambda: ic.jpeg8_encode(image, level=90)),
                        Side("Pillow", lambda: _pillow_encode(image, quality=90))],
                 check=lambda ours, theirs: ours == theirs, sizes=sizes,
                 note="byte-identical output", target=1.0),
        Workload(name=f"jpeg decode {label} q90 4:2:0",
                 ours=Side("opencodecs", lambda: jpeg.decode(blob)),
                 peers=[Side("imagecodecs", lambda: ic.jpeg8_decode(blob)),
                        Side("Pillow", lambda: _pillow_decode(blob))],
                 check=_same_pixels, note="pixel-identical output", target=1.0),
    ]


def jpegls_workloads(image, label):
    jpegls = oc.get_codec("jpegls")
    blob = jpegls.encode(image)
    theirs = ic.jpegls_encode(image)
    sizes = {"input": image.nbytes, "opencodecs": len(blob), "imagecodecs": len(theirs)}
    return [
        Workload(name=f"jpegls encode {label} lossless",
                 ours=Side("opencodecs", lambda: jpegls.encode(image)),
                 peers=[Side("imagecodecs", lambda: ic.jpegls_encode(image))],
                 check=lambda ours, theirs: ours == _without_spiff(theirs), sizes=sizes,
                 note="same codestream (imagecodecs adds a SPIFF header)", target=1.0),
        Workload(name=f"jpegls decode {label} lossless",
                 ours=Side("opencodecs", lambda: jpegls.decode(blob)),
                 peers=[Side("imagecodecs", lambda: ic.jpegls_decode(blob))],
                 check=_same_pixels, target=1.0),
    ]


def _hdr_photo(shape):
    """Linear-light HDR from the photo: bright regions boosted 4x, RGBA float16."""
    srgb = photo_rgb(shape).astype(np.float32) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    hdr = linear * np.where(linear.mean(-1, keepdims=True) > 0.3, 4.0, 1.0)
    return np.concatenate([hdr, np.ones(shape + (1,), np.float32)], -1).astype(np.float16)


def _close_hdr(ours, theirs):
    """Within 1 % on average (relative, floor 0.05 of SDR white): the decoders
    differ in chroma upsampling and map interpolation, not in the model."""
    a, b = ours[..., :3].astype(np.float32), theirs[..., :3].astype(np.float32)
    return float((np.abs(a - b) / np.maximum(b, 0.05)).mean()) < 0.01


def ultrahdr_workloads(shape):
    uhdr = oc.get_codec("ultrahdr")
    hdr = _hdr_photo(shape)
    theirs = ic.ultrahdr_encode(hdr)
    ours = uhdr.encode(hdr)
    label = f"{shape[0]}x{shape[1]}"
    workloads = []
    for source, blob in (("libultrahdr-written", theirs), ("opencodecs-written", ours)):
        workloads.append(Workload(
            name=f"ultrahdr decode HDR float16 {label} ({source})",
            ours=Side("opencodecs", lambda b=blob: uhdr.decode(b)),
            peers=[Side("imagecodecs", lambda b=blob: ic.ultrahdr_decode(b))],
            check=_close_hdr, sizes={"file": len(blob)},
            note="linear RGBA float16; mean relative difference < 1 %", target=1.0))
    workloads.append(Workload(
        name=f"ultrahdr decode SDR uint8 {label} (libultrahdr-written)",
        ours=Side("opencodecs", lambda: uhdr.decode(theirs, dtype="uint8")),
        peers=[Side("imagecodecs", lambda: ic.ultrahdr_decode(theirs, dtype=np.uint8))],
        check=_same_pixels, note="pixel-identical RGBA", target=1.0))
    workloads.append(Workload(
        name=f"ultrahdr encode {label}",
        ours=Side("opencodecs", lambda: uhdr.encode(hdr)),
        peers=[Side("imagecodecs", lambda: ic.ultrahdr_encode(hdr))],
        sizes={"opencodecs": len(ours), "imagecodecs": len(theirs)},
        note="not the same output: both tone-map and write a full-resolution RGB map; "
             "ours measures the map against the decoded base (more accurate, larger)"))
    return workloads


def workloads(fast=False, only="") -> list:
    shape = (1024, 1024) if fast else (2048, 2048)
    photo = photo_rgb(shape)
    micro = microscopy_u16(shape)
    label = f"{shape[0]}x{shape[1]}"
    return (jpeg_workloads(photo, f"photo RGB {label}")
            + jpeg_workloads(np.ascontiguousarray(photo[..., 1]), f"photo grey {label}")
            + jpegls_workloads(micro, f"u16 microscopy {label}")
            + jpegls_workloads(photo, f"photo RGB {label}")
            + ultrahdr_workloads(shape))
