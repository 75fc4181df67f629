"""JPEG (libjpeg-turbo through its TurboJPEG v2 API): grey and RGB uint8.

Encode options: `quality` 0-100 (default 95, as imagecodecs); `subsampling`
"444", "422", "420" (the default for RGB, as imagecodecs and Pillow), "440",
"411", or "gray" (an RGB image stored as grey); `progressive=False`; `icc=`
an ICC profile to embed (APP2 ICC_PROFILE segments; read it back with
`oc.get_codec("jpeg").icc_profile(src)`). JPEG has no alpha channel: RGBA
images are refused, not silently flattened (pass `data[..., :3]`).

Decode: baseline, extended, progressive and arithmetic-coded 8-bit JPEGs,
with or without restart markers. Grey decodes to (H, W), YCbCr and RGB to
(H, W, 3), CMYK and YCCK to (H, W, 4) with the CMYK values as stored (Adobe
CMYK files store them inverted; they stay so). `tables=` takes the
abbreviated tables stream that TIFF (compression 7) keeps in its JPEGTables
tag, for tiles that hold no tables of their own.

Decoding is strict: libjpeg "warnings" (premature end of data, a bad Huffman
code, a missing restart marker, extraneous bytes) mean that some pixels were
made up, so they raise DecodeError instead of returning grey fill. TurboJPEG
2.1 cannot decode 12-bit or lossless (SOF3) JPEGs: those raise DecodeError.
"""

import numpy as np

from ...core.errors import DecodeError, EncodeError
from ...core.io import as_buffer, copy_into
from ...core.registry import register
from .base import ImageCodec, check_quality, image_array, image_target

__all__ = ["Jpeg", "MozJpeg", "jpeg_segments", "is_jpegls", "icc_profile", "app_segment",
           "insertion_point", "insert_segments"]

# Before allocating, a header's pixel count is checked against what the input
# can hold. A Huffman-coded scan spends at least one bit per 8x8 block of a
# component, and a block covers at most 32x32 pixels (4x upsampling): 8192
# pixels per byte. Arithmetic coding has no such floor (libjpeg stores a
# constant 8192x8192 image in 125 bytes): 2**20 pixels per byte for it.
_HUFFMAN_PIXELS_PER_BYTE = 8192
_ARITHMETIC_PIXELS_PER_BYTE = 1 << 20
_ARITHMETIC_FRAMES = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}

_ICC_TAG = b"ICC_PROFILE\0"
_ICC_CHUNK = 65519  # 65535 - 2 (length) - 12 (tag) - 2 (sequence number, count)


def jpeg_segments(buf):
    """(marker, offset, payload) of each marker segment before the first scan.

    `offset` is where the segment's 0xFF byte sits in `buf`; `payload` is a
    memoryview of its bytes after the length field (shorter than declared if
    `buf` ends early). Stops quietly at anything that is not a segment.
    """
    view = memoryview(buf).cast("B")
    n = len(view)
    if n < 4 or view[0] != 0xFF or view[1] != 0xD8:
        return
    i = 2
    while i + 4 <= n:
        if view[i] != 0xFF:
            return
        marker = view[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD9, 0xDA):  # EOI, SOS
            return
        length = view[i + 2] << 8 | view[i + 3]
        if length < 2:
            return
        yield marker, i, view[i + 4:i + 2 + length]
        i += 2 + length


def app_segment(marker: int, payload: bytes) -> bytes:
    """One marker segment: 0xFF, marker, 16-bit length, payload."""
    if len(payload) > 65533:
        raise EncodeError(f"jpeg: a marker segment holds at most 65533 bytes, got {len(payload)}")
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def insertion_point(jpeg) -> int:
    """Where new segments go in a JPEG stream: after SOI and its JFIF APP0 segment."""
    view = memoryview(jpeg).cast("B")
    if view[2:4] == b"\xff\xe0":
        return 4 + (view[4] << 8 | view[5])
    return 2


def insert_segments(jpeg, segments: bytes) -> bytes:
    """`segments` spliced into a JPEG stream at its insertion point."""
    view = memoryview(jpeg).cast("B")
    at = insertion_point(view)
    return b"".join((view[:at], segments, view[at:]))


def _icc_segments(icc) -> bytes:
    icc = bytes(icc)
    chunks = [icc[i:i + _ICC_CHUNK] for i in range(0, len(icc), _ICC_CHUNK)]
    if not chunks or len(chunks) > 255:
        raise EncodeError(f"jpeg: an ICC profile must hold 1 to {255 * _ICC_CHUNK} bytes, got {len(icc)}")
    return b"".join(app_segment(0xE2, _ICC_TAG + bytes((i + 1, len(chunks))) + chunk)
                    for i, chunk in enumerate(chunks))


def icc_profile(codec: str, buf):
    """The ICC profile in a JPEG's APP2 ICC_PROFILE segments, or None."""
    chunks = {}
    count = None
    for marker, _, payload in jpeg_segments(buf):
        if marker == 0xE2 and payload[:12] == _ICC_TAG and len(payload) >= 14:
            seq, total = payload[12], payload[13]
            if count not in (None, total) or not 1 <= seq <= total or seq in chunks:
                raise DecodeError(f"{codec}: inconsistent ICC_PROFILE segments")
            count = total
            chunks[seq] = bytes(payload[14:])
    if not chunks:
        return None
    if len(chunks) != count:
        raise DecodeError(f"{codec}: ICC profile has {len(chunks)} of {count} segments")
    return b"".join(chunks[i] for i in range(1, count + 1))


@register
class Jpeg(ImageCodec):
    name = "jpeg"
    aliases = ("jpg", "jpeg8")
    file_extensions = (".jpg", ".jpeg", ".jpe", ".jfif")
    description = "JPEG (grey, RGB; CMYK decode), baseline and progressive"
    library = "libjpeg-turbo"
    _native = "_jpeg"
    channels = (1, 3)

    def signature(self, head):
        # JPEG-LS streams share the SOI marker; their frame is SOF55 (0xF7).
        return head[:3] == b"\xff\xd8\xff" and not is_jpegls(head)

    def _encode(self, data, out, *, quality=95, subsampling=None, progressive=False, icc=None):
        native = self.native
        if np.ndim(data) == 3 and np.shape(data)[2] in (2, 4):
            raise EncodeError(f"{self.name}: JPEG has no alpha channel; encode data[..., :-1] "
                              "to drop it")
        arr, h, w, c = image_array(self, data)
        quality = check_quality(self.name, quality)
        if subsampling is None:
            subsampling = "gray" if c == 1 else "420"
        if subsampling not in native.SUBSAMPLING:
            raise EncodeError(f"{self.name}: subsampling must be one of "
                              f"{', '.join(native.SUBSAMPLING)}, got {subsampling!r}")
        if c == 1 and subsampling != "gray":
            raise EncodeError(f"{self.name}: a grey image is stored with subsampling 'gray', "
                              f"not {subsampling!r}")
        blob = native.encode(arr, w, h, native.PF_GRAY if c == 1 else native.PF_RGB,
                             native.SUBSAMPLING[subsampling], quality, bool(progressive))
        if icc is not None:
            blob = insert_segments(blob, _icc_segments(icc))
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out, *, tables=None):
        return self.decode_pixels(buf, out, tables=tables)

    def decode_pixels(self, buf, out=None, *, tables=None, rgba=False):
        """Decode an in-memory JPEG stream; `rgba=True` gives colour images an
        opaque alpha channel (for formats built on JPEG, such as ultrahdr)."""
        native = self.native
        if tables is not None:
            buf = native.join_tables(tables, buf)
        size = memoryview(buf).nbytes

        def target(h, w, colorspace, frame):
            per_byte = (_ARITHMETIC_PIXELS_PER_BYTE if frame in _ARITHMETIC_FRAMES
                        else _HUFFMAN_PIXELS_PER_BYTE)
            if h * w > size * per_byte:
                raise DecodeError(f"{self.name}: header claims {h}x{w} pixels, more than "
                                  f"{size} bytes of JPEG can hold")
            if colorspace == native.CS_GRAY:
                pixel_format, c = native.PF_GRAY, 1
            elif colorspace in (native.CS_CMYK, native.CS_YCCK):
                pixel_format, c = native.PF_CMYK, 4
            else:
                pixel_format, c = (native.PF_RGBA, 4) if rgba else (native.PF_RGB, 3)
            return image_target(self.name, out, h, w, c, np.uint8), pixel_format

        result = native.decode(buf, target)
        return result if out is None else out

    def icc_profile(self, src):
        """The ICC profile embedded in a JPEG (path, buffer or file-like), or None."""
        return icc_profile(self.name, as_buffer(src))


@register
class MozJpeg(Jpeg):
    """The same TurboJPEG v2 API and Python layer over MozJPEG, when built
    (8-bit only, like jpeg: the v2 API has no 12-bit entry points)."""

    name = "mozjpeg"
    aliases = ()
    file_extensions = ()  # .jpg stays with jpeg
    description = "JPEG through MozJPEG (smaller files at the same quality)"
    library = "MozJPEG"
    _native = "_mozjpeg"

    def signature(self, head):
        return False  # JPEG bytes always dispatch to jpeg


def is_jpegls(head) -> bool:
    """True if `head` starts a JPEG-LS stream: SOI, then (after any other
    segments, such as a SPIFF header) an SOF55 frame marker."""
    for marker, _, _ in jpeg_segments(head):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return False
        if marker == 0xF7:
            return True
    return False
