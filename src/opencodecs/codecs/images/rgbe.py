"""Radiance RGBE (.hdr): float32 RGB high dynamic range, written here.

A pixel stores three 8-bit mantissas and a shared exponent (about 1% relative
precision; negative and NaN values become 0). Decode reads new-style
run-length, old-style run-length and flat scanlines, the "-Y H +X W"
orientation and its flips ("+Y" bottom-up, "-X" mirrored); rotated
("+X W -Y H") files raise DecodeError. Encode writes "#?RADIANCE" with
FORMAT=32-bit_rle_rgbe and new-style run-length scanlines (rle=False: flat).
"""

import re

import numpy as np

from ...core.errors import DecodeError, EncodeError
from ...core.registry import register
from .base import ImageCodec, check_image_size, decode_target, image_array

_MAGICS = (b"#?RADIANCE", b"#?RGBE")
_RESOLUTION = re.compile(rb"([-+])([XY]) +(\d+) +([-+])([XY]) +(\d+)[ \t]*\r?\n")
_MAX_HEADER = 1 << 16
# Refuse images larger than this many pixels per input byte: new-style
# run-length scanlines reach about 16; old-style repeats of wide scanlines more.
_MAX_PIXELS_PER_BYTE = 1024


def _header(buf):
    """(data offset, height, width, bottom_up, mirrored) from the text header."""
    if len(buf) == 0:
        raise DecodeError("rgbe: empty input")
    head = bytes(buf[:_MAX_HEADER])
    if not head.startswith(b"#?"):
        raise DecodeError("rgbe: not a Radiance HDR file (no #? signature)")
    end = head.find(b"\n\n")
    if end < 0:
        raise DecodeError("rgbe: header without its terminating blank line")
    for line in head[:end].split(b"\n")[1:]:
        if line.startswith(b"FORMAT=") and line.strip() != b"FORMAT=32-bit_rle_rgbe":
            raise DecodeError(f"rgbe: unsupported {line.strip().decode('latin-1')} (RGBE only)")
    match = _RESOLUTION.match(head, end + 2)
    if match is None:
        raise DecodeError("rgbe: missing or malformed resolution line")
    sign1, axis1, n1, sign2, axis2, n2 = match.groups()
    if (axis1, axis2) != (b"Y", b"X"):
        raise DecodeError(f"rgbe: rotated orientation {match.group(0).strip().decode()} not supported")
    return match.end(), int(n1), int(n2), sign1 == b"+", sign2 == b"-"


@register
class Rgbe(ImageCodec):
    name = "rgbe"
    aliases = ("hdr", "radiance")
    file_extensions = (".hdr", ".rgbe")
    description = "Radiance RGBE: float32 RGB high dynamic range"
    library = "built in"
    _native = "_rgbe"
    supported_dtypes = (np.dtype(np.float32),)
    channels = (3,)

    def signature(self, head):
        return bytes(head[:10]).startswith(_MAGICS)

    def _encode(self, data, out, *, rle=True):
        arr, h, w, _ = image_array(self, data)
        header = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (h, w)
        return self.native.encode(header, arr, h, w, bool(rle), out)

    def _decode(self, buf, out):
        offset, h, w, bottom_up, mirrored = _header(memoryview(buf).cast("B"))
        shape = check_image_size(self.name, h, w, 3, np.float32)
        if h * w > _MAX_PIXELS_PER_BYTE * (len(buf) - offset):
            raise DecodeError(f"rgbe: {h}x{w} pixels from {len(buf) - offset} bytes of scanlines "
                              "is implausible")
        target = decode_target(self.name, out, np.float32, shape)
        self.native.decode(buf, offset, h, w, bottom_up, target)
        if mirrored:
            target[...] = target[:, ::-1].copy()
        return target if out is None else out
