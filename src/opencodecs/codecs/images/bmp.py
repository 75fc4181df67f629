"""BMP (Windows bitmap): headers here, pixel rows in C (_native/bmp.c).

Decode: BITMAPINFOHEADER and its V2-V5 extensions; 1/2/4/8-bit palettes
(grey when every palette entry is grey, else RGB), BI_RLE8 and BI_RLE4;
16-bit 5-5-5 and bit fields; 24-bit; 32-bit BI_RGB (the fourth byte unused:
RGB) and bit fields (RGBA when there is an alpha mask). Bottom-up and
top-down rows. Channels narrower than 8 bits scale as v * 255 // max, as
Pillow and imagecodecs do.
Encode: grey as 8-bit with a grey palette, RGB as 24-bit, RGBA as 32-bit bit
fields in a BITMAPV4HEADER, so alpha is kept; rows bottom-up.
"""

import struct

import numpy as np

from ...core.errors import DecodeError, EncodeError
from ...core.registry import register
from .base import ImageCodec, check_image_size, decode_target, image_array

_RGB, _RLE8, _RLE4, _BITFIELDS, _JPEG, _PNG, _ALPHABITFIELDS = range(7)
_INFO, _V4 = 40, 108
_HEADER_SIZES = (40, 52, 56, 108, 124)  # INFO, V2 (RGB masks), V3 (+ alpha), V4, V5
_PIXELS_PER_METRE = 3780  # 96 dpi, as Windows and imagecodecs write
_STANDARD_MASKS = (0x00FF0000, 0x0000FF00, 0x000000FF)  # R, G, B of 32-bit BGRA
_RGB555 = (0x7C00, 0x03E0, 0x001F, 0)  # 16-bit BI_RGB
# RLE: a 2-byte run covers at most 255 pixels; escapes skip more. Refuse
# images larger than this many pixels per input byte.
_RLE_MAX_PIXELS_PER_BYTE = 1024


def _stride(width: int, bits: int) -> int:
    """Bytes per row: rows are padded to 4 bytes."""
    return (width * bits + 31) // 32 * 4


def _field(mask: int):
    """(shift, low-bit mask, lookup table to 8 bits) of one channel's bit mask."""
    if mask == 0:
        raise DecodeError("bmp: a colour channel has an empty bit mask")
    shift = (mask & -mask).bit_length() - 1
    bits = (mask >> shift).bit_length()
    if mask >> shift != (1 << bits) - 1:
        raise DecodeError(f"bmp: bit mask {mask:#x} is not contiguous")
    if bits > 16:  # tables stay small: keep the top 16 bits
        shift, bits = shift + bits - 16, 16
    top = (1 << bits) - 1
    return shift, top, (np.arange(top + 1, dtype=np.uint32) * 255 // top).astype(np.uint8)


class _Header:
    """The fields of a BMP file header that decoding needs."""

    def __init__(self, buf):
        n = len(buf)
        if n == 0:
            raise DecodeError("bmp: empty input")
        if n < 18 or buf[:2] != b"BM":
            raise DecodeError("bmp: not a BMP file (bad signature)")
        self.offset, self.size = struct.unpack_from("<I", buf, 10)[0], struct.unpack_from("<I", buf, 14)[0]
        if self.size not in _HEADER_SIZES:
            raise DecodeError(f"bmp: unsupported header of {self.size} bytes (OS/2 or unknown)")
        if n < 14 + self.size:
            raise DecodeError("bmp: truncated header")
        (width, height, _, self.bits, self.compression, _, _, _,
         self.colors_used) = struct.unpack_from("<iiHHIIiiI", buf, 18)
        if width <= 0 or height == 0 or height == -(1 << 31):
            raise DecodeError(f"bmp: invalid image size {height}x{width}")
        self.width, self.height, self.top_down = width, abs(height), height < 0
        masks_after = self.size == _INFO and self.compression in (_BITFIELDS, _ALPHABITFIELDS)
        n_masks = 4 if self.size >= 56 or self.compression == _ALPHABITFIELDS else 3
        self.masks = (0, 0, 0, 0)
        if self.compression in (_BITFIELDS, _ALPHABITFIELDS):
            if n < 54 + 4 * n_masks:
                raise DecodeError("bmp: truncated bit masks")
            self.masks = struct.unpack_from(f"<{n_masks}I", buf, 54) + (0,) * (4 - n_masks)
        self.palette_offset = 14 + self.size + (4 * n_masks if masks_after else 0)

    def rows(self, offset, stride):
        """(offset, stride) that visit the rows starting at `offset` top to bottom."""
        if self.top_down:
            return offset, stride
        return offset + (self.height - 1) * stride, -stride


@register
class Bmp(ImageCodec):
    name = "bmp"
    aliases = ("dib",)
    file_extensions = (".bmp", ".dib")
    description = "Windows bitmap: grey / RGB / RGBA; palette, RLE and bit-field decode"
    library = "built in"
    _native = "_bmp"

    def signature(self, head):
        return head[:2] == b"BM" and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _HEADER_SIZES

    def _encode(self, data, out):
        arr, h, w, c = image_array(self, data)
        if max(h, w) > 0x7FFFFFFF:
            raise EncodeError(f"bmp: image sides are limited to 2**31 - 1 pixels, got {h}x{w}")
        bits = 8 * c if c > 1 else 8
        stride = _stride(w, bits)
        if c == 4:  # BGRA bit fields with alpha: BITMAPV4HEADER
            info = struct.pack("<IiiHHIIiiII4I", _V4, w, h, 1, 32, _BITFIELDS, stride * h,
                               _PIXELS_PER_METRE, _PIXELS_PER_METRE, 0, 0, *_STANDARD_MASKS, 0xFF000000)
            info += bytes(_V4 - len(info))  # colour space type 0, no end points, no gamma
        else:
            info = struct.pack("<IiiHHIIiiII", _INFO, w, h, 1, bits, _RGB, stride * h,
                               _PIXELS_PER_METRE, _PIXELS_PER_METRE, 0, 0)
        palette = np.repeat(np.arange(256, dtype=np.uint8), 4).reshape(256, 4) if c == 1 else None
        if palette is not None:
            palette[:, 3] = 0
            info += palette.tobytes()
        offset = 14 + len(info)
        size = offset + stride * h
        if size > 0xFFFFFFFF:
            raise EncodeError(f"bmp: a BMP file holds at most 4 GiB, this one needs {size} bytes")
        header = b"BM" + struct.pack("<IHHI", size, 0, 0, offset) + info
        return self.native.pack(header, arr, h, w, c, c, stride, out)

    def _decode(self, buf, out):
        buf = memoryview(buf).cast("B")
        hd = _Header(buf)
        h, w, bits, comp = hd.height, hd.width, hd.bits, hd.compression
        if comp in (_JPEG, _PNG):
            raise DecodeError("bmp: embedded JPEG or PNG data is not supported")
        if bits in (1, 2, 4, 8):
            return self._decode_palette(buf, hd, out)
        if bits not in (16, 24, 32):
            raise DecodeError(f"bmp: unsupported bit depth {bits}")
        if comp == _RGB:
            masks = _RGB555 if bits == 16 else _STANDARD_MASKS + (0,)
        elif comp in (_BITFIELDS, _ALPHABITFIELDS) and bits != 24:
            masks = hd.masks
        else:
            raise DecodeError(f"bmp: unsupported {bits}-bit pixels with compression {comp}")
        channels = 4 if masks[3] else 3
        shape = check_image_size(self.name, h, w, channels, np.uint8)
        stride = _stride(w, bits)
        if hd.offset + stride * h > len(buf):
            raise DecodeError(f"bmp: truncated pixel data ({h} rows of {stride} bytes from offset "
                              f"{hd.offset}, file has {len(buf)} bytes)")
        target = decode_target(self.name, out, np.uint8, shape)
        first, step = hd.rows(hd.offset, stride)
        if bits == 24 or (bits == 32 and masks[:3] == _STANDARD_MASKS and masks[3] in (0, 0xFF000000)):
            self.native.swap_rows(buf, first, step, target, h, w, bits // 8, channels)
            return target if out is None else out
        fields = [_field(m) for m in masks[:channels]]
        self.native.bitfield_rows(buf, first, step, target, h, w, bits // 8, fields)
        return target if out is None else out

    def _decode_palette(self, buf, hd, out):
        h, w, bits, comp = hd.height, hd.width, hd.bits, hd.compression
        rle = {8: _RLE8, 4: _RLE4}.get(bits)
        if comp not in (_RGB, rle):
            raise DecodeError(f"bmp: unsupported {bits}-bit pixels with compression {comp}")
        n_colors = hd.colors_used or 1 << bits
        if n_colors > 1 << bits:
            raise DecodeError(f"bmp: {n_colors} palette entries for {bits}-bit pixels")
        entries = buf[hd.palette_offset:hd.palette_offset + 4 * n_colors]
        if len(entries) != 4 * n_colors:
            raise DecodeError("bmp: truncated palette")
        bgr = np.frombuffer(entries, np.uint8).reshape(n_colors, 4)[:, 2::-1]
        grey = bool((bgr == bgr[:, :1]).all())
        channels = 1 if grey else 3
        palette = np.zeros((256, channels), np.uint8)  # indices past the palette read black
        palette[:n_colors] = bgr[:, :1] if grey else bgr
        shape = check_image_size(self.name, h, w, channels, np.uint8)
        if comp == _RGB:
            stride = _stride(w, bits)
            if hd.offset + stride * h > len(buf):
                raise DecodeError("bmp: truncated pixel data")
            target = decode_target(self.name, out, np.uint8, shape)
            first, step = hd.rows(hd.offset, stride)
            self.native.palette_rows(buf, first, step, target, h, w, bits, palette.ravel(), channels)
            return target if out is None else out
        if h * w > _RLE_MAX_PIXELS_PER_BYTE * max(0, len(buf) - hd.offset):
            raise DecodeError(f"bmp: RLE image of {h}x{w} pixels from {len(buf)} bytes is implausible")
        indices = self.native.rle_decode(buf, hd.offset, np.zeros((h, w), np.uint8), h, w, bits)
        target = decode_target(self.name, out, np.uint8, shape)
        first, step = hd.rows(0, w)  # RLE rows run in file order, like stored rows
        self.native.palette_rows(indices, first, step, target, h, w, 8, palette.ravel(), channels)
        return target if out is None else out
