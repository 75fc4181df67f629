"""JPEG XR (HD Photo, Windows Media Photo) images through libjxr.

Decode: the pixel formats in PIXEL_FORMATS, returned as stored: grey (H, W)
as bool (black/white), uint8, uint16, float16 or float32; colour (H, W, C)
as uint8, uint16, float16 or float32 with C = 3 (RGB), 4 (RGBA, CMYK),
5 (CMYK + alpha) or 3-9 (n-channel, with or without alpha). Channel order is
the stored one: a 24bppBGR image (as Zeiss CZI files hold) comes back B, G, R,
an RGB one R, G, B; `arr[..., ::-1]` swaps. Padded formats (32bppBGR,
64bppRGBHalf, 128bppRGBFloat) drop their padding channel; premultiplied
alpha stays premultiplied; an alpha format whose file lacks the alpha plane
(imagecodecs writes some) decodes with alpha 0, as imagecodecs does.
Container flips are applied; rotations, fixed-point, packed (RGB555/565/
101010), RGBE and YCbCr formats raise DecodeError.

Encode: grey, RGB and RGBA as uint8, uint16, float16 or float32, and grey
bool, in the formats imagecodecs writes (lossless output is byte-identical).
Lossless unless `quality` (0-100) is given; `lossless=False` alone means
quality 75; quality 100 is lossless. Lossy encoding uses one quantizer for
every channel (see quantizer()), 4:4:4 colour and one level of overlap
filtering; alpha planes stay lossless. float32 keeps libjxr's default 13
mantissa bits, so even lossless float32 is exact only to about 1e-4 relative.

Bad input: libjxr trusts the file's headers and asserts on, reads through or
writes past buffers for headers that disagree, so the container (its IFD
tags) and the codestream headers are checked here before libjxr sees them:
the pixel format must match the codestream's colour format, bit depth,
channel count and alpha; offsets must lie in the file; tiles must fit the
image; the macroblock count must fit the data (at least a bit each); the
dimensions must pass check_image_size, and libjxr's working memory
(proportional to width and height) must too. What this cannot cover is
libjxr's entropy decoder: corrupt coefficient data (or header flags that
change how it is parsed) can make it read past a table (an off-by-one in
DecodeSignificantRun, about one single-bit flip in ten to twenty) and
crash. Decode JPEG XR from trusted sources (microscope files), not
arbitrary uploads.
"""

import struct
import uuid
from typing import NamedTuple

import numpy as np

from ...core.codec import check_decoded_size, decode_target
from ...core.errors import DecodeError, EncodeError
from ...core.registry import register
from .base import ImageCodec, check_image_size, check_quality, image_array

NAME = "jpegxr"
DEFAULT_LOSSY_QUALITY = 75

# libjxr's COLORFORMAT, BITDEPTH_BITS and OVERLAP codes.
Y_ONLY, YUV_420, YUV_422, YUV_444, CMYK, NCOMPONENT, CF_RGB = 0, 1, 2, 3, 4, 6, 7
BD_1, BD_8, BD_16, BD_16S, BD_16F, BD_32, BD_32S, BD_32F = range(8)
BD_1_WHITE_IS_FOREGROUND = 15
OL_NONE, OL_ONE = 0, 1


class PixelFormat(NamedTuple):
    name: str
    guid: bytes  # as the container stores it (little-endian GUID)
    dtype: np.dtype
    channels: int  # channels returned, alpha included
    stored: int  # samples per pixel in libjxr's output, padding included
    color: int  # the codestream's (external) colour format
    depth: int  # the codestream's bit depth
    alpha: bool


def _guid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


def _formats():
    """The pixel formats decoded here; GUIDs from the JPEG XR specification (Annex A)."""
    base = "6fddc324-4e03-4bfe-b185-3d77768dc9"
    u1, u2, f2, f4 = (np.dtype(t) for t in ("u1", "<u2", "<f2", "<f4"))
    table = [
        # name, GUID (or its last byte in the 6fddc324 family), dtype, channels, stored, colour, depth, alpha
        ("BlackWhite", 0x05, np.dtype(bool), 1, 1, Y_ONLY, BD_1, False),
        ("8bppGray", 0x08, u1, 1, 1, Y_ONLY, BD_8, False),
        ("16bppGray", 0x0B, u2, 1, 1, Y_ONLY, BD_16, False),
        ("16bppGrayHalf", 0x3E, f2, 1, 1, Y_ONLY, BD_16F, False),
        ("32bppGrayFloat", 0x11, f4, 1, 1, Y_ONLY, BD_32F, False),
        ("24bppBGR", 0x0C, u1, 3, 3, CF_RGB, BD_8, False),
        ("24bppRGB", 0x0D, u1, 3, 3, CF_RGB, BD_8, False),
        ("32bppBGR", 0x0E, u1, 3, 4, CF_RGB, BD_8, False),
        ("32bppRGB", "d98c6b95-3efe-47d6-bb25-eb1748ab0cf1", u1, 3, 4, CF_RGB, BD_8, False),
        ("32bppBGRA", 0x0F, u1, 4, 4, CF_RGB, BD_8, True),
        ("32bppPBGRA", 0x10, u1, 4, 4, CF_RGB, BD_8, True),
        ("32bppRGBA", "f5c7ad2d-6a8d-43dd-a7a8-a29935261ae9", u1, 4, 4, CF_RGB, BD_8, True),
        ("32bppPRGBA", "3cc4a650-a527-4d37-a916-3142c7ebedba", u1, 4, 4, CF_RGB, BD_8, True),
        ("48bppRGB", 0x15, u2, 3, 3, CF_RGB, BD_16, False),
        ("64bppRGBA", 0x16, u2, 4, 4, CF_RGB, BD_16, True),
        ("64bppPRGBA", 0x17, u2, 4, 4, CF_RGB, BD_16, True),
        ("48bppRGBHalf", 0x3B, f2, 3, 3, CF_RGB, BD_16F, False),
        ("64bppRGBHalf", 0x42, f2, 3, 4, CF_RGB, BD_16F, False),
        ("64bppRGBAHalf", 0x3A, f2, 4, 4, CF_RGB, BD_16F, True),
        ("96bppRGBFloat", "e3fed78f-e8db-4acf-84c1-e97f6136b327", f4, 3, 3, CF_RGB, BD_32F, False),
        ("128bppRGBFloat", 0x1B, f4, 3, 4, CF_RGB, BD_32F, False),
        ("128bppRGBAFloat", 0x19, f4, 4, 4, CF_RGB, BD_32F, True),
        ("128bppPRGBAFloat", 0x1A, f4, 4, 4, CF_RGB, BD_32F, True),
        ("32bppCMYK", 0x1C, u1, 4, 4, CMYK, BD_8, False),
        ("40bppCMYKAlpha", 0x2C, u1, 5, 5, CMYK, BD_8, True),
        ("64bppCMYK", 0x1F, u2, 4, 4, CMYK, BD_16, False),
        ("80bppCMYKAlpha", 0x2D, u2, 5, 5, CMYK, BD_16, True),
    ]
    # n-channel formats: 3-8 channels, 8 or 16 bits, optionally with alpha.
    for n in range(3, 9):
        for dtype, depth, plain, with_alpha in ((u1, BD_8, 0x20, 0x2E), (u2, BD_16, 0x26, 0x34)):
            bits = 8 * dtype.itemsize
            table.append((f"{bits * n}bpp{n}Channels", plain + n - 3, dtype, n, n, NCOMPONENT, depth, False))
            table.append((f"{bits * (n + 1)}bpp{n}ChannelsAlpha", with_alpha + n - 3, dtype, n + 1, n + 1,
                          NCOMPONENT, depth, True))
    formats = {}
    for name, guid, *rest in table:
        guid = _guid(guid if isinstance(guid, str) else f"{base}{guid:02x}")
        formats[guid] = PixelFormat(name, guid, *rest)
    return formats


PIXEL_FORMATS = _formats()
_BY_NAME = {f.name: f for f in PIXEL_FORMATS.values()}
# What encode writes for each (dtype, channels).
ENCODE_FORMATS = {
    (np.dtype(bool), 1): _BY_NAME["BlackWhite"],
    **{(f.dtype, f.channels): f for f in map(_BY_NAME.get, (
        "8bppGray", "16bppGray", "16bppGrayHalf", "32bppGrayFloat",
        "24bppRGB", "48bppRGB", "48bppRGBHalf", "96bppRGBFloat",
        "32bppRGBA", "64bppRGBA", "64bppRGBAHalf", "128bppRGBAFloat"))},
}
# Lossy quantizer indices (1 is lossless; the step size doubles every 16):
# quality 99 maps to index 4 for 8-bit samples and quality 0 to 92 more (about
# 55 and 34 dB on a noisy photo). For uint16 the scale moves up 16 for each bit
# the image's peak value needs beyond 8. Floats are coded from their bit
# patterns, so a step is a relative error whatever their range: the offsets
# give float images about the PSNR of the same image at 8 bits.
_QP_BEST, _QP_SPAN = 4, 92
_QP_FLOAT_OFFSET = {np.dtype("<f2"): 48, np.dtype("<f4"): 96}

# Container (IFD) tags and types, as libjxr reads them.
TAG_PIXEL_FORMAT, TAG_TRANSFORMATION = 0xBC01, 0xBC02
TAG_IMAGE_OFFSET, TAG_IMAGE_BYTE_COUNT = 0xBCC0, 0xBCC1
TAG_ALPHA_OFFSET, TAG_ALPHA_BYTE_COUNT = 0xBCC2, 0xBCC3
_ASCII_TAGS = {0x010D, 0x010E, 0x010F, 0x0110, 0x011D, 0x0131, 0x0132, 0x013B, 0x013C, 0x8298}
_SHORT_TAGS = {0x4746: 1, 0x4749: 1, 0x0129: 2}  # rating stars, rating value, page number
_CAPTION = 0x9C9B
_SUB_IFD_TAGS = {0x8769, 0x8825, 0xA005}  # EXIF, GPS, interoperability
_ONE_VALUE_TAGS = {TAG_TRANSFORMATION, TAG_IMAGE_OFFSET, TAG_IMAGE_BYTE_COUNT, TAG_ALPHA_OFFSET,
                   TAG_ALPHA_BYTE_COUNT, 0xBC82, 0xBC83}
TYPE_BYTE, TYPE_ASCII, TYPE_SHORT, TYPE_UNDEFINED = 1, 2, 3, 7
_SUB_IFD_DEPTH = 4
_SUB_IFD_ENTRIES = 1 << 16
_MAGIC = (b"II\xbc\x01", b"II\xbc\x00")
_CODESTREAM_MAGIC = b"WMPHOTO\0"


class Codestream(NamedTuple):
    """What a codestream header declares (only what the checks need)."""

    width: int
    height: int
    color: int  # external colour format
    depth: int  # bit depth (black/white foreground folded into BD_1)
    alpha: bool  # an interleaved alpha plane follows
    internal_color: int
    internal_channels: int


class Header(NamedTuple):
    format: PixelFormat
    width: int
    height: int
    alpha_plane: bool  # an alpha format whose file holds the alpha plane


def _u16(buf, pos: int) -> int:
    # libjxr reads bytes past the end of the file as zeros (see _jxr.pyx); so do these.
    return int.from_bytes(buf[pos:pos + 2], "little")


def _u32(buf, pos: int) -> int:
    return int.from_bytes(buf[pos:pos + 4], "little")


def _fail(what: str):
    raise DecodeError(f"{NAME}: {what}")


class _Bits:
    """Big-endian bit reader over a codestream header."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n: int) -> int:
        end = self.pos + n
        if end > 8 * len(self.data):
            _fail("truncated codestream header")
        first, last = self.pos >> 3, (end + 7) >> 3
        chunk = int.from_bytes(self.data[first:last], "big")
        self.pos = end
        return (chunk >> (8 * last - end)) & ((1 << n) - 1)

    def skip(self, n: int) -> None:
        if self.pos + n > 8 * len(self.data):
            _fail("truncated codestream header")
        self.pos += n

    def align(self) -> None:
        self.pos = (self.pos + 7) & ~7


def read_codestream(data) -> Codestream:
    """The image and first plane headers of a codestream, as libjxr parses them.

    Every 16x16 macroblock costs at least one bit (a constant image takes
    three): a header claiming more macroblocks than `data` has bits is refused.
    """
    if bytes(data[:8]) != _CODESTREAM_MAGIC:
        _fail("image data does not start with a WMPHOTO codestream")
    bits = _Bits(data[8:])
    version, subversion = bits.read(4), bits.read(4)
    if version != 1 or subversion not in (0, 1, 9):
        _fail(f"unsupported codestream version {version}.{subversion}")
    tiling, frequency_order = bits.read(1), bits.read(1)
    bits.skip(3)  # orientation: libjxr takes the container's
    index_table, overlap = bits.read(1), bits.read(2)
    short_header = bits.read(1)
    bits.skip(1)  # long words
    windowed = bits.read(1)
    bits.skip(1)  # trimmed flexbits
    tile_stretch = bits.read(1)
    bits.skip(2)  # red-blue swap, reserved
    alpha = bits.read(1)
    color, depth = bits.read(4), bits.read(4)
    if overlap == 3:
        _fail("invalid overlap mode 3 in the codestream header")
    size_bits = 16 if short_header else 32
    width, height = bits.read(size_bits) + 1, bits.read(size_bits) + 1
    columns = rows = 0
    if tiling:
        columns, rows = bits.read(12), bits.read(12)
    if not index_table and (frequency_order or columns or rows):
        _fail("tiled or frequency-ordered codestream without an index table")
    tile_bits = 8 if short_header else 16
    column_widths = [bits.read(tile_bits) for _ in range(columns)]
    row_heights = [bits.read(tile_bits) for _ in range(rows)]
    if tile_stretch:
        bits.skip(8 * (columns + 1) * (rows + 1))
    top = left = bottom = right = 0
    if windowed:
        top, left, bottom, right = (bits.read(6) for _ in range(4))
    else:
        right, bottom = -width % 16, -height % 16
    if (width + left + right) % 16 or (height + top + bottom) % 16:
        if width % 16 or height % 16 or left or top or width <= right or height <= bottom:
            _fail("invalid windowing in the codestream header")
        width, height = width - right, height - bottom
    mb_columns = (width + left + right + 15) // 16
    mb_rows = (height + top + bottom + 15) // 16
    for sizes, count in ((column_widths, mb_columns), (row_heights, mb_rows)):
        if 0 in sizes or sum(sizes) >= count:
            _fail("the tile layout does not fit the image")
    if mb_columns * mb_rows > 8 * len(data):
        _fail(f"the header claims {width}x{height} pixels, more than {len(data)} bytes can hold")
    bits.align()
    internal_color = bits.read(3)
    if internal_color > NCOMPONENT:
        _fail(f"invalid internal colour format {internal_color}")
    bits.skip(5)  # scaled arithmetic, subbands
    channels = {Y_ONLY: 1, CMYK: 4, NCOMPONENT: None}.get(internal_color, 3)
    if channels is None:
        channels = bits.read(4) + 1
    if depth == BD_1_WHITE_IS_FOREGROUND:
        depth = BD_1
    return Codestream(width, height, color, depth, bool(alpha), internal_color, channels)


def _entry_bytes(buf, count: int, value: int) -> bytes:
    """The data of an entry of `count` one-byte values (in the value field up to 4)."""
    if count <= 4:
        return value.to_bytes(4, "little")[:count]
    if value + count > len(buf):
        _fail("an IFD entry points past the end of the file")
    return bytes(buf[value:value + count])


def _check_sub_ifd(buf, pos: int, depth: int, budget: list) -> None:
    """Walk an EXIF/GPS IFD as libjxr sizes it (recursively, stopping at the first
    invalid type), refusing the cycles and the sheer size it cannot survive."""
    if depth > _SUB_IFD_DEPTH:
        _fail("EXIF/GPS IFDs nested too deep (or in a cycle)")
    count = _u16(buf, pos)
    budget[0] -= count
    if budget[0] < 0:
        _fail("too many EXIF/GPS IFD entries")
    for k in range(count):
        entry = pos + 2 + 12 * k
        tag, kind = _u16(buf, entry), _u16(buf, entry + 2)
        if not 1 <= kind <= 12:
            return
        if tag in _SUB_IFD_TAGS:
            _check_sub_ifd(buf, _u32(buf, entry + 8), depth + 1, budget)


def _check_entry(buf, tag: int, kind: int, count: int, value: int) -> None:
    """Refuse an IFD entry that libjxr's container reader would assert on or
    mishandle; entries it only records or ignores pass."""
    if tag in _ONE_VALUE_TAGS and count != 1:
        _fail(f"IFD tag {tag:#06x} must hold one value, holds {count}")
    if tag == TAG_TRANSFORMATION and value >= 8:
        _fail(f"invalid orientation {value}")
    elif tag in _ASCII_TAGS:
        if kind != TYPE_ASCII or count == 0 or _entry_bytes(buf, count, value)[-1] != 0:
            _fail(f"IFD tag {tag:#06x} must be a NUL-terminated ASCII string")
    elif tag in _SHORT_TAGS:
        if kind != TYPE_SHORT or count != _SHORT_TAGS[tag]:
            _fail(f"IFD tag {tag:#06x} must hold {_SHORT_TAGS[tag]} SHORT value(s)")
    elif tag == _CAPTION:
        if kind not in (TYPE_BYTE, TYPE_UNDEFINED) or count < 2:
            _fail("the caption must be a NUL-terminated UTF-16 string")
        data = _entry_bytes(buf, count, value)
        if data[count // 2 * 2 - 2:count // 2 * 2] != b"\0\0":
            _fail("the caption must be a NUL-terminated UTF-16 string")
    elif tag in _SUB_IFD_TAGS:
        _check_sub_ifd(buf, value, 1, [_SUB_IFD_ENTRIES])


def read_container(buf) -> dict:
    """{tag: (type, count, value)} of the first IFD, each entry checked."""
    if len(buf) < 8 or bytes(buf[:4]) not in _MAGIC:
        _fail("not a JPEG XR file (no II\\xbc header)")
    ifd = _u32(buf, 4)
    count = _u16(buf, ifd)
    if count == 0 or count == 0xFFFF or ifd + 2 + 12 * count > len(buf):
        _fail("the IFD is empty or lies past the end of the file")
    entries = {}
    for k in range(count):
        tag, kind, n, value = struct.unpack_from("<HHII", buf, ifd + 2 + 12 * k)
        _check_entry(buf, tag, kind, n, value)
        entries[tag] = (kind, n, value)
    return entries


def _data_range(buf, entries: dict, offset_tag: int, count_tag: int, what: str):
    """The bytes an (offset, byte count) tag pair points at, or None if absent.

    libjxr writes an alpha plane's end offset where its byte count belongs, so
    a count that overruns the file is read as an end offset instead.
    """
    if offset_tag not in entries or count_tag not in entries:
        return None
    start, size = entries[offset_tag][2], entries[count_tag][2]
    end = start + size
    if end > len(buf) and offset_tag == TAG_ALPHA_OFFSET:
        end = size
    if not start < end <= len(buf):
        _fail(f"the {what} lies past the end of the file (truncated?)")
    return buf[start:end]


def _check_consistent(fmt: PixelFormat, cs: Codestream) -> None:
    """The codestream must produce exactly what the pixel format's buffer holds."""
    if (cs.color, cs.depth) != (fmt.color, fmt.depth):
        _fail(f"the codestream (colour format {cs.color}, bit depth {cs.depth}) does not "
              f"match the pixel format {fmt.name}")
    colour_channels = fmt.channels - fmt.alpha
    allowed = {Y_ONLY: {Y_ONLY}, CF_RGB: {YUV_420, YUV_422, YUV_444}, CMYK: {CMYK},
               NCOMPONENT: {NCOMPONENT}}[fmt.color]
    if cs.internal_color not in allowed or (fmt.color == NCOMPONENT and cs.internal_channels != colour_channels):
        _fail(f"the codestream's internal colour format ({cs.internal_color}, "
              f"{cs.internal_channels} channels) does not match the pixel format {fmt.name}")


def _has_alpha_plane(cs: Codestream, planar) -> bool:
    """Whether an alpha format's file holds its alpha plane: interleaved in the
    codestream, or planar (`planar`, its own codestream, of the image's size and
    depth), never both. imagecodecs writes some n-channel alpha formats without one."""
    if cs.alpha:
        if planar is not None:
            _fail("both an interleaved and a planar alpha plane")
        return True
    if planar is None:
        return False
    alpha = read_codestream(planar)
    if (alpha.width, alpha.height, alpha.depth) != (cs.width, cs.height, cs.depth) or \
            alpha.internal_color != Y_ONLY or alpha.alpha:
        _fail("the alpha plane does not match the image")
    return True


def read_header(buf) -> Header:
    """The checked container and codestream headers of a JPEG XR file."""
    buf = memoryview(buf).cast("B")
    entries = read_container(buf)
    if TAG_PIXEL_FORMAT not in entries:
        _fail("no pixel format tag")
    at = entries[TAG_PIXEL_FORMAT][2]
    guid = bytes(buf[at:at + 16])
    if len(guid) != 16:
        _fail("the pixel format lies past the end of the file")
    fmt = PIXEL_FORMATS.get(guid)
    if fmt is None:
        _fail(f"unsupported pixel format {uuid.UUID(bytes_le=guid)}")
    if entries.get(TAG_TRANSFORMATION, (0, 1, 0))[2] >= 4:
        _fail("rotated images are not supported")
    image = _data_range(buf, entries, TAG_IMAGE_OFFSET, TAG_IMAGE_BYTE_COUNT, "image data")
    if image is None:
        _fail("no image offset or byte count tag")
    cs = read_codestream(image)
    _check_consistent(fmt, cs)
    if cs.alpha and not fmt.alpha:
        _fail(f"alpha plane in a {fmt.name} image")
    alpha_plane = fmt.alpha and _has_alpha_plane(
        cs, _data_range(buf, entries, TAG_ALPHA_OFFSET, TAG_ALPHA_BYTE_COUNT, "alpha plane"))
    if cs.width >= 1 << 31 or cs.height >= 1 << 31:
        _fail(f"image of {cs.width}x{cs.height} pixels is too large")
    return Header(fmt, cs.width, cs.height, alpha_plane)


def _check_working_memory(header: Header) -> None:
    """libjxr keeps two macroblock rows of 32-bit samples per channel, and a
    row and a column offset table: refuse what max_decoded_bytes would not allow."""
    planes = header.format.stored + 1
    check_decoded_size(NAME, np.uint8, (128 * planes * header.width + 8 * (header.width + header.height),))


def quantizer(quality: int, arr: np.ndarray) -> int:
    """libjxr's quantizer index for a lossy `quality` (0-99) of the image `arr`."""
    if arr.dtype.kind == "f":
        offset = _QP_FLOAT_OFFSET[arr.dtype]
    else:
        offset = 16 * (max(8, int(arr.max()).bit_length()) - 8)
    return min(255, offset + _QP_BEST + round((99 - quality) * _QP_SPAN / 99))


@register
class JpegXr(ImageCodec):
    name = NAME
    aliases = ("jxr", "wdp", "hdp")
    file_extensions = (".jxr", ".wdp", ".hdp")
    description = "JPEG XR (HD Photo): grey, RGB(A), CMYK and n-channel, 8/16-bit and float"
    library = "libjxr"
    _native = "_jxr"
    supported_dtypes = tuple(map(np.dtype, (bool, np.uint8, np.uint16, np.float16, np.float32)))
    channels = (1, 3, 4)

    def signature(self, head):
        return bytes(head[:4]) in _MAGIC

    def _encode(self, data, out, *, quality=None, lossless=None):
        arr, h, w, c = image_array(self, data)
        fmt = ENCODE_FORMATS.get((arr.dtype, c))
        if fmt is None:
            raise EncodeError(f"{NAME}: cannot encode {c}-channel {arr.dtype} images")
        if quality is not None and lossless:
            raise EncodeError(f"{NAME}: lossless=True and quality= exclude each other")
        if quality is None and lossless is False:
            quality = DEFAULT_LOSSY_QUALITY
        if quality is not None:
            quality = check_quality(NAME, quality)
            if fmt.depth == BD_1 and quality < 100:
                raise EncodeError(f"{NAME}: bool images are stored lossless only")
        if quality is None or quality == 100:
            qp, overlap = 1, OL_NONE
        else:
            qp, overlap = quantizer(quality, arr), OL_ONE
        if fmt.depth == BD_1:
            arr = np.packbits(arr, axis=1)
        return self.native.encode(arr, fmt.guid, w, h, arr.strides[0], qp, overlap,
                                  YUV_444, fmt.alpha, out)

    def _decode(self, buf, out):
        header = read_header(buf)
        fmt, h, w = header.format, header.height, header.width
        shape = check_image_size(NAME, h, w, fmt.channels, fmt.dtype)
        _check_working_memory(header)
        image = target = decode_target(NAME, out, fmt.dtype, shape)
        if fmt.depth == BD_1:  # libjxr writes 8 pixels a byte
            packed = np.empty((h, (w + 7) // 8), np.uint8)
            self.native.decode(buf, packed, w, h, packed.shape[1], False)
            image[...] = np.unpackbits(packed, axis=1, count=w)
        elif fmt.stored != fmt.channels:  # padded formats
            padded = np.empty((h, w, fmt.stored), fmt.dtype)
            self.native.decode(buf, padded, w, h, padded.strides[0], False)
            image[...] = padded[..., :fmt.channels]
        else:
            self.native.decode(buf, target, w, h, w * fmt.stored * fmt.dtype.itemsize, header.alpha_plane)
            if fmt.alpha and not header.alpha_plane:
                image[..., -1] = 0
        return target if out is None else out
