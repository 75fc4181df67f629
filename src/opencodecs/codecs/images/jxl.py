"""JPEG XL (libjxl 0.7): still images and animations, lossless or lossy.

Layouts: grey, grey+alpha, RGB, RGBA (from the array shape); uint8, uint16,
float16 and float32 (floats in the nominal range 0..1). 8-bit data is stored
as sRGB, deeper data as linear sRGB, as imagecodecs does.

Encode options: `lossless=True`; or `distance` (butteraugli distance, 0 to
15, libjxl 0.7's range; default 1.0, visually lossless; 0 is lossless); or
`quality` 0-100, mapped to a distance with libjxl's own formula
(JxlEncoderDistanceFromQuality, which 0.7 lacks; see distance_from_quality;
100 is lossless, and distances past 15 are clamped); `effort` 1-9 (default
7, libjxl's); `numthreads` (default oc.config.numthreads).

Animations: an (N, H, W[, C]) array with `animation=True` or `durations=`
(milliseconds: one value for every frame, or a sequence of N), or any 4-D
array. Frame durations are stored at 1000 ticks per second, so integer
milliseconds survive exactly. Metadata: `exif=` (the TIFF-structured Exif
payload; the box's 4-byte header offset is added here) and `xmp=` (bytes or
str) go into Exif and "xml " boxes; `icc=` (bytes) replaces the sRGB / linear
sRGB colour encoding with an ICC profile (lossy encoding may store a profile
libjxl recognises, such as sRGB, as that named colour space instead).

Decoding gives (H, W[, C]) for a still image and (N, H, W[, C]) for an
animation. `oc.get_codec("jxl").open(src)` gives a JxlReader: n_frames,
durations (ms), random access (each frame decoded by its own decoder that
skips to it), parallel read() through the shared pool, the exif/xmp boxes
and the icc profile. Extra channels other than alpha are not decoded.
"""

from functools import cached_property

import numpy as np

from ...core.codec import Reader, numthreads_or_default
from ...core.config import config
from ...core.errors import EncodeError
from ...core.io import as_buffer, copy_into
from ...core.parallel import parallel_for
from ...core.registry import register
from ..compression import check_int
from .base import (ImageCodec, check_image_size, check_quality, icc_bytes, image_array,
                   image_target)

_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_MAX_DISTANCE = 15.0  # libjxl 0.7 refuses larger distances
_TICKS_PER_SECOND = 1000  # animation ticks are milliseconds
_DEFAULT_DURATION_MS = 100
_EXIF_OFFSET = b"\0\0\0\0"  # the Exif box's offset to the TIFF header that follows


def distance_from_quality(quality: float) -> float:
    """Butteraugli distance for a 0-100 quality: libjxl's JxlEncoderDistanceFromQuality."""
    if quality >= 100:
        return 0.0
    if quality >= 30:
        return 0.1 + (100 - quality) * 0.09
    return 53.0 / 3000.0 * quality * quality - 23.0 / 20.0 * quality + 25.0


class _Layout:
    """What a file's header says about the arrays it decodes to."""

    def __init__(self, codec: str, info: dict):
        self.height, self.width = info["height"], info["width"]
        self.channels = info["color_channels"] + (1 if info["alpha_bits"] else 0)
        self.bits = info["bits_per_sample"]
        if info["exponent_bits"]:
            self.dtype = np.dtype(np.float16 if self.bits <= 16 else np.float32)
        else:
            self.dtype = np.dtype(np.uint8 if self.bits <= 8 else np.uint16 if self.bits <= 16
                                  else np.float32)
        self.animation = info["animation"]
        ticks = info["durations"] or [0]
        num, den = info["tps"]
        self.durations = tuple(t * 1000.0 * den / num if num else 0.0 for t in ticks)
        self.n_frames = len(ticks)
        self.frame_shape = check_image_size(codec, self.height, self.width, self.channels, self.dtype)
        check_image_size(codec, self.height, self.width, self.channels, self.dtype, self.n_frames)

    @property
    def frame_bytes(self) -> int:
        return int(np.prod(self.frame_shape)) * self.dtype.itemsize

    def restore_bits(self, target):
        """libjxl 0.7 scales integer samples to the full range of the output type;
        bring files declaring fewer bits (say 12 in uint16) back to their own values."""
        if self.dtype.kind != "u" or self.bits == 8 * self.dtype.itemsize:
            return
        arr = np.frombuffer(target, self.dtype)
        top = float(np.iinfo(self.dtype).max)
        arr[...] = np.rint(arr * (((1 << self.bits) - 1) / top))


def _decode_frames(native, buf, layout, target, first, count, numthreads):
    """Frames first..first+count-1 into `target`: for several frames, contiguous runs
    of them, each run decoded by its own decoder on the shared pool."""
    def into(view):  # the buffer is known before the header is read
        return lambda header: (view, layout.channels, layout.dtype.char)

    if count == 1:
        native.decode(buf, into(target), first, 1, numthreads)
    else:
        view = memoryview(target).cast("B")
        size = layout.frame_bytes
        runs = min(count, numthreads)
        inner = max(1, numthreads // runs)  # threads left over go to libjxl itself

        def run(k):
            a, b = first + k * count // runs, first + (k + 1) * count // runs
            native.decode(buf, into(view[(a - first) * size:(b - first) * size]), a, b - a, inner)

        parallel_for(run, runs, runs)
    layout.restore_bits(target)
    return target


@register
class Jxl(ImageCodec):
    name = "jxl"
    aliases = ("jpegxl", "jpeg-xl")
    file_extensions = (".jxl",)
    description = "JPEG XL images and animations, lossless or lossy (grey/RGB(A), 8/16-bit, float)"
    library = "libjxl"
    _native = "_jxl"
    multi_frame = True
    parallel_decode = True
    channels = (1, 2, 3, 4)
    supported_dtypes = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.float16, np.float32))

    def signature(self, head):
        return head[:2] == b"\xff\x0a" or head[:12] == _CONTAINER

    def _encode(self, data, out, *, lossless=False, distance=None, quality=None, effort=7,
                numthreads=None, animation=False, durations=None, icc=None, exif=None, xmp=None):
        arr = np.ascontiguousarray(data)
        if animation or durations is not None or arr.ndim == 4:
            if arr.ndim not in (3, 4) or arr.shape[0] == 0:
                raise EncodeError(f"jxl: an animation needs an (N, H, W[, C]) array, got {arr.shape}")
            n = arr.shape[0]
            _, h, w, c = image_array(self, arr[0])
            ticks = _ticks(n, durations)
        else:
            n, ticks = 1, None
            arr, h, w, c = image_array(self, arr)
        lossless, distance = _lossy_settings(lossless, distance, quality)
        effort = check_int(self.name, "effort", effort, 1, 9)
        blob = self.native.encode(
            arr, n, h, w, c, arr.dtype.char, lossless, distance, effort,
            numthreads_or_default(numthreads), ticks, (_TICKS_PER_SECOND, 1), icc_bytes(self.name, icc),
            None if exif is None else _EXIF_OFFSET + bytes(exif),
            None if xmp is None else (xmp.encode() if isinstance(xmp, str) else bytes(xmp)))
        return blob if out is None else copy_into(out, blob)

    def _decode(self, buf, out, *, numthreads=None):
        native = self.native
        numthreads = numthreads_or_default(numthreads)
        layouts = []

        def allocate(header):  # a still image decodes in this one pass
            if header["animation"]:
                return None
            layout = _Layout(self.name, header)
            layouts.append(layout)
            target = image_target(self.name, out, layout.height, layout.width, layout.channels, layout.dtype)
            return target, layout.channels, layout.dtype.char

        target = native.decode(buf, allocate, 0, 1, numthreads)
        if target is not None:
            layouts[0].restore_bits(target)
            return target if out is None else out
        layout = _Layout(self.name, native.probe(buf))  # an animation: count its frames first
        target = image_target(self.name, out, layout.height, layout.width, layout.channels,
                              layout.dtype, layout.n_frames)
        _decode_frames(native, buf, layout, target, 0, layout.n_frames, numthreads)
        return target if out is None else out

    def open(self, src, *, numthreads=None):
        return JxlReader(self, src, numthreads)


def _ticks(n: int, durations) -> list:
    """Per-frame durations in ticks (ms) from one value or a sequence of n values."""
    if durations is None:
        durations = _DEFAULT_DURATION_MS
    values = [durations] * n if np.ndim(durations) == 0 else list(durations)
    if len(values) != n:
        raise EncodeError(f"jxl: {len(values)} durations for {n} frames")
    try:
        ticks = [round(float(v)) for v in values]
    except (TypeError, ValueError, OverflowError):
        ticks = [-1]
    if any(not 0 <= t < 1 << 32 for t in ticks):
        raise EncodeError(f"jxl: durations must be numbers of milliseconds in 0..2**32-1, got {durations!r}")
    return ticks


def _lossy_settings(lossless, distance, quality) -> tuple:
    """(lossless, distance) from the lossless / distance / quality options."""
    given = [name for name, v in (("lossless", lossless or None), ("distance", distance),
                                  ("quality", quality)) if v is not None]
    if len(given) > 1:
        raise EncodeError(f"jxl: give only one of {', '.join(given)}")
    if lossless:
        return True, 0.0
    if quality is not None:
        distance = min(distance_from_quality(check_quality("jxl", quality)), _MAX_DISTANCE)
    elif distance is None:
        distance = 1.0
    elif isinstance(distance, bool) or not isinstance(distance, (int, float, np.number)) \
            or not 0 <= distance <= _MAX_DISTANCE:
        raise EncodeError(f"jxl: distance must be a number in 0..{_MAX_DISTANCE:g}, got {distance!r}")
    return distance == 0, float(distance)


class JxlReader(Reader):
    """The frames of a JPEG XL file: shape (n_frames, H, W[, C]), decoded on demand."""

    is_chunked = False

    def __init__(self, codec, src, numthreads=None):
        self._native = codec.native
        self._buf = as_buffer(src)
        self._numthreads = numthreads
        self._layout = _Layout(codec.name, self._native.probe(self._buf))
        self.n_frames = self._layout.n_frames
        self.shape = (self.n_frames,) + self._layout.frame_shape
        self.dtype = self._layout.dtype

    @property
    def durations(self) -> tuple:
        """Display time of every frame in milliseconds (0 for a still image)."""
        return self._layout.durations

    def _decode(self, first, count, out):
        return _decode_frames(self._native, self._buf, self._layout, out, first, count,
                              numthreads_or_default(self._numthreads))

    def _frame(self, index):
        return self._decode(index, 1, np.empty(self._layout.frame_shape, self.dtype))

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self.n_frames)
            if step == 1:  # one contiguous run: decoded in parallel, straight into the result
                count = max(0, stop - start)
                out = np.empty((count,) + self._layout.frame_shape, self.dtype)
                return self._decode(start, count, out) if count else out
        return super().__getitem__(index)

    @cached_property
    def icc(self):
        """The ICC profile the file carries, or None when it names its colour space."""
        return self._native.icc(self._buf)

    @cached_property
    def _boxes(self) -> dict:
        return self._native.boxes(self._buf, config.max_decoded_bytes)

    @property
    def exif(self):
        """The Exif payload (TIFF-structured, the box's offset removed), or None."""
        box = self._boxes.get(b"Exif")
        if box is None or len(box) < 4:
            return None
        return box[4 + int.from_bytes(box[:4], "big"):]

    @property
    def xmp(self):
        """The contents of the "xml " box (XMP), or None."""
        return self._boxes.get(b"xml ")

    def close(self):
        self._buf = None
