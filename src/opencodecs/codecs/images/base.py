"""What every image codec shares: the colour layout from the array shape, and
the option checks (quality 0-100) named the same everywhere.

Layout: (H, W) is grey, (H, W, C) has C channels: 2 grey+alpha, 3 RGB, 4 RGBA.
"""

import numpy as np

from ...core.codec import Codec, check_decoded_size, decode_target
from ...core.errors import DecodeError, EncodeError

__all__ = ["ImageCodec", "image_array", "image_shape", "check_image_size", "check_quality",
           "decode_target", "image_target", "ftyp_brands", "check_bitdepth"]


class ImageCodec(Codec):
    """A codec whose unit is one image (or a sequence of frames)."""

    supports_color = True
    supported_dtypes: tuple = (np.dtype(np.uint8),)
    channels: tuple = (1, 3, 4)  # channel counts the format can hold


def image_array(codec, data, dtypes=None, channels=None):
    """(array, height, width, channels) of an image to encode, validated for `codec`.

    `dtypes` and `channels` default to the codec's; the array comes back
    C-contiguous (copied only if it was not).
    """
    name = codec.name
    dtypes = codec.supported_dtypes if dtypes is None else dtypes
    channels = codec.channels if channels is None else channels
    arr = np.ascontiguousarray(data)
    if arr.ndim == 2:
        n = 1
    elif arr.ndim == 3:
        n = arr.shape[2]
    else:
        raise EncodeError(f"{name}: expected an (H, W) or (H, W, C) image, got shape {arr.shape}")
    if n not in channels:
        raise EncodeError(f"{name}: cannot encode {n} channel(s); supported: "
                          f"{', '.join(map(str, channels))}")
    if arr.dtype not in dtypes:
        raise EncodeError(f"{name}: cannot encode {arr.dtype} images; supported dtypes: "
                          f"{', '.join(str(np.dtype(d)) for d in dtypes)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise EncodeError(f"{name}: cannot encode an empty image of shape {arr.shape}")
    return arr, arr.shape[0], arr.shape[1], n


def image_shape(height: int, width: int, channels: int) -> tuple:
    """The numpy shape of a decoded image: (H, W) for grey, else (H, W, C)."""
    return (height, width) if channels == 1 else (height, width, channels)


def check_image_size(codec: str, height: int, width: int, channels: int, dtype, frames: int = 1) -> tuple:
    """The decoded shape, after checking a header's dimensions against max_decoded_bytes.

    Call before allocating: a header that claims 100000 x 100000 pixels fails here.
    """
    if height <= 0 or width <= 0 or channels <= 0 or frames <= 0:
        raise DecodeError(f"{codec}: invalid image dimensions {height}x{width}x{channels}")
    shape = image_shape(height, width, channels)
    if frames != 1:
        shape = (frames,) + shape
    check_decoded_size(codec, dtype, shape)
    return shape


def check_quality(codec: str, quality) -> int:
    """A lossy quality setting: an integer 0-100."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 0 <= quality <= 100:
        raise EncodeError(f"{codec}: quality must be an integer in 0..100, got {quality!r}")
    return int(quality)


def image_target(codec: str, out, height: int, width: int, channels: int, dtype, frames: int = 1):
    """The array a decoder writes into, once the header's dimensions are known:
    a new one, or the caller's `out` viewed as the decoded shape (checked first).

    Native decoders call this back between parsing a header and decoding pixels.
    """
    shape = check_image_size(codec, height, width, channels, dtype, frames)
    return decode_target(codec, out, dtype, shape)


def ftyp_brands(head) -> set:
    """The major and compatible brands of an ISO BMFF file's leading ftyp box (HEIF, AVIF)."""
    head = bytes(head[:256])
    if head[4:8] != b"ftyp":
        return set()
    size = min(int.from_bytes(head[:4], "big"), len(head))
    return {head[8:12]} | {head[i:i + 4] for i in range(16, size - 3, 4)}


def check_bitdepth(codec: str, arr, bitdepth, default: int, allowed: tuple) -> int:
    """The bit depth a uint8/uint16 image is stored at, checking that its values fit."""
    if arr.dtype == np.uint8:
        if bitdepth not in (None, 8):
            raise EncodeError(f"{codec}: uint8 images are 8-bit, got bitdepth={bitdepth!r}")
        return 8
    depth = default if bitdepth is None else bitdepth
    if depth not in allowed:
        raise EncodeError(f"{codec}: bitdepth for uint16 images must be one of "
                          f"{', '.join(map(str, allowed))}, got {bitdepth!r}")
    top = int(arr.max())
    if top >= 1 << depth:
        raise EncodeError(f"{codec}: uint16 values must be below {1 << depth} for "
                          f"{depth}-bit images, the image has {top}")
    return depth
