# cython: language_level=3, boundscheck=False, wraparound=False
"""AVIF (libavif 0.11) still images: grey, RGB, RGBA; 8, 10 or 12 bits; GIL released.

Colour is YUV 4:4:4 at full range: BT.601 when lossy, the identity matrix
(RGB stored as GBR planes) with quantizer 0 when lossless. Grey images are
YUV 4:0:0, written to and read from the Y plane directly.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "avif/avif.h" nogil:
    ctypedef int avifBool
    ctypedef enum avifResult:
        AVIF_RESULT_OK
    ctypedef enum avifPixelFormat:
        AVIF_PIXEL_FORMAT_YUV444
        AVIF_PIXEL_FORMAT_YUV400
    ctypedef enum avifRange:
        AVIF_RANGE_LIMITED
        AVIF_RANGE_FULL
    ctypedef enum avifMatrixCoefficients:
        AVIF_MATRIX_COEFFICIENTS_IDENTITY
        AVIF_MATRIX_COEFFICIENTS_BT601
    ctypedef enum avifRGBFormat:
        AVIF_RGB_FORMAT_RGB
        AVIF_RGB_FORMAT_RGBA
    ctypedef enum avifPlanesFlag:
        AVIF_PLANES_YUV
        AVIF_PLANES_A
    ctypedef enum avifCodecChoice:
        AVIF_CODEC_CHOICE_AUTO
    ctypedef enum avifCodecFlag:
        AVIF_CODEC_FLAG_CAN_DECODE
        AVIF_CODEC_FLAG_CAN_ENCODE
    ctypedef enum avifStrictFlag:
        AVIF_STRICT_DISABLED
    ctypedef struct avifRWData:
        uint8_t* data
        size_t size
    ctypedef struct avifDiagnostics:
        char error[256]
    ctypedef struct avifImage:
        avifRWData icc
        uint32_t width
        uint32_t height
        uint32_t depth
        avifPixelFormat yuvFormat
        avifRange yuvRange
        uint8_t* yuvPlanes[3]
        uint32_t yuvRowBytes[3]
        uint8_t* alphaPlane
        uint32_t alphaRowBytes
        avifMatrixCoefficients matrixCoefficients
    ctypedef struct avifRGBImage:
        uint32_t width
        uint32_t height
        uint32_t depth
        avifRGBFormat format
        uint8_t* pixels
        uint32_t rowBytes
    ctypedef struct avifDecoder:
        int maxThreads
        uint32_t imageSizeLimit
        int strictFlags
        avifImage* image
        avifBool alphaPresent
        avifDiagnostics diag
    ctypedef struct avifEncoder:
        int maxThreads
        int speed
        int minQuantizer
        int maxQuantizer
        int minQuantizerAlpha
        int maxQuantizerAlpha
        avifDiagnostics diag
    const char* avifVersion()
    const char* avifResultToString(avifResult)
    const char* avifCodecName(avifCodecChoice, uint32_t)
    avifImage* avifImageCreate(uint32_t, uint32_t, uint32_t, avifPixelFormat)
    void avifImageDestroy(avifImage*)
    void avifImageSetProfileICC(avifImage*, const uint8_t*, size_t)
    avifResult avifImageAllocatePlanes(avifImage*, uint32_t)
    void avifRGBImageSetDefaults(avifRGBImage*, const avifImage*)
    avifResult avifImageRGBToYUV(avifImage*, const avifRGBImage*)
    avifResult avifImageYUVToRGB(const avifImage*, avifRGBImage*)
    int avifLimitedToFullY(int, int)
    void avifRWDataFree(avifRWData*)
    avifEncoder* avifEncoderCreate()
    void avifEncoderDestroy(avifEncoder*)
    avifResult avifEncoderWrite(avifEncoder*, const avifImage*, avifRWData*)
    avifDecoder* avifDecoderCreate()
    void avifDecoderDestroy(avifDecoder*)
    avifResult avifDecoderSetIOMemory(avifDecoder*, const uint8_t*, size_t)
    avifResult avifDecoderParse(avifDecoder*)
    avifResult avifDecoderNextImage(avifDecoder*)


VERSION = avifVersion().decode()


def _codec_name(uint32_t flag):
    cdef const char* name = avifCodecName(AVIF_CODEC_CHOICE_AUTO, flag)
    return None if name == NULL else name.decode()


ENCODER = _codec_name(AVIF_CODEC_FLAG_CAN_ENCODE)  # the AV1 codec libavif picks
DECODER = _codec_name(AVIF_CODEC_FLAG_CAN_DECODE)


cdef str _message(avifResult r, avifDiagnostics* diag):
    detail = diag.error.decode(errors="replace") if diag != NULL else ""
    text = avifResultToString(r).decode()
    return f"{text}: {detail}" if detail else text


cdef void _copy_plane(uint8_t* dst, Py_ssize_t pixel_bytes, const uint8_t* plane,
                      Py_ssize_t plane_stride, Py_ssize_t h, Py_ssize_t w,
                      Py_ssize_t itemsize) noexcept nogil:
    """Copy one plane into one channel of interleaved pixels."""
    cdef Py_ssize_t y, x
    if pixel_bytes == itemsize:
        for y in range(h):
            memcpy(dst + y * w * itemsize, plane + y * plane_stride, w * itemsize)
        return
    for y in range(h):
        for x in range(w):
            memcpy(dst + (y * w + x) * pixel_bytes, plane + y * plane_stride + x * itemsize, itemsize)


cdef void _gather_plane(uint8_t* plane, Py_ssize_t plane_stride, const uint8_t* src,
                        Py_ssize_t pixel_bytes, Py_ssize_t h, Py_ssize_t w,
                        Py_ssize_t itemsize) noexcept nogil:
    """Copy one channel of interleaved pixels into a plane."""
    cdef Py_ssize_t y, x
    if pixel_bytes == itemsize:
        for y in range(h):
            memcpy(plane + y * plane_stride, src + y * w * itemsize, w * itemsize)
        return
    for y in range(h):
        for x in range(w):
            memcpy(plane + y * plane_stride + x * itemsize, src + (y * w + x) * pixel_bytes, itemsize)


def encode(src, uint32_t height, uint32_t width, int channels, int depth, int quantizer,
           bint lossless, int speed, int numthreads, const uint8_t[:] icc):
    """An AVIF file of a C-contiguous (height, width[, channels]) uint8/uint16 buffer,
    with an ICC profile unless `icc` is None."""
    cdef Py_buffer s
    cdef avifEncoder* encoder = NULL
    cdef avifImage* image = NULL
    cdef avifRGBImage rgb
    cdef avifRWData raw
    cdef avifResult r = AVIF_RESULT_OK
    cdef Py_ssize_t itemsize = 1 if depth == 8 else 2
    cdef bint grey = channels == 1
    raw.data = NULL
    raw.size = 0
    get_input(src, &s)
    try:
        encoder = avifEncoderCreate()
        image = avifImageCreate(width, height, depth,
                                AVIF_PIXEL_FORMAT_YUV400 if grey else AVIF_PIXEL_FORMAT_YUV444)
        if encoder == NULL or image == NULL:
            raise MemoryError("avif: cannot create an encoder")
        encoder.maxThreads = numthreads
        encoder.speed = speed
        encoder.minQuantizer = encoder.maxQuantizer = quantizer
        encoder.minQuantizerAlpha = encoder.maxQuantizerAlpha = 0  # alpha stays exact
        image.yuvRange = AVIF_RANGE_FULL
        if icc is not None:
            avifImageSetProfileICC(image, &icc[0], <size_t>icc.shape[0])
        image.matrixCoefficients = (AVIF_MATRIX_COEFFICIENTS_IDENTITY if lossless and not grey
                                    else AVIF_MATRIX_COEFFICIENTS_BT601)
        with nogil:
            if grey:
                r = avifImageAllocatePlanes(image, AVIF_PLANES_YUV)
                if r == AVIF_RESULT_OK:
                    _gather_plane(image.yuvPlanes[0], image.yuvRowBytes[0], <const uint8_t*>s.buf,
                                  itemsize, height, width, itemsize)
            else:
                avifRGBImageSetDefaults(&rgb, image)
                rgb.format = AVIF_RGB_FORMAT_RGBA if channels == 4 else AVIF_RGB_FORMAT_RGB
                rgb.pixels = <uint8_t*>s.buf
                rgb.rowBytes = width * channels * itemsize
                r = avifImageRGBToYUV(image, &rgb)
            if r == AVIF_RESULT_OK:
                r = avifEncoderWrite(encoder, image, &raw)
        if r != AVIF_RESULT_OK:
            raise EncodeError(f"avif: {_message(r, &encoder.diag)}")
        return (<char*>raw.data)[:raw.size]
    finally:
        PyBuffer_Release(&s)
        avifRWDataFree(&raw)
        if image != NULL:
            avifImageDestroy(image)
        if encoder != NULL:
            avifEncoderDestroy(encoder)


cdef void _limited_to_full(uint8_t* pixels, Py_ssize_t n, Py_ssize_t step, int depth) noexcept nogil:
    """Expand limited-range grey samples (every `step`-th) to full range in place."""
    cdef Py_ssize_t i = 0
    cdef uint16_t* p16 = <uint16_t*>pixels
    while i < n:
        if depth == 8:
            pixels[i] = <uint8_t>avifLimitedToFullY(8, pixels[i])
        else:
            p16[i] = <uint16_t>avifLimitedToFullY(depth, p16[i])
        i += step


cdef int _parse(avifDecoder* decoder, Py_buffer* s, int numthreads, uint32_t max_pixels) except -1:
    """Read the container and image headers of `s` (no pixels yet)."""
    cdef avifResult r
    if s.len == 0:
        raise DecodeError("avif: empty input")
    decoder.maxThreads = numthreads
    decoder.imageSizeLimit = max_pixels
    decoder.strictFlags = AVIF_STRICT_DISABLED  # accept files from lenient writers
    with nogil:
        r = avifDecoderSetIOMemory(decoder, <const uint8_t*>s.buf, <size_t>s.len)
        if r == AVIF_RESULT_OK:
            r = avifDecoderParse(decoder)
    if r != AVIF_RESULT_OK:
        raise DecodeError(f"avif: {_message(r, &decoder.diag)}")
    return 0


def icc(src, uint32_t max_pixels):
    """The ICC profile the file carries, or None."""
    cdef Py_buffer s
    cdef avifDecoder* decoder = avifDecoderCreate()
    if decoder == NULL:
        raise MemoryError("avif: cannot create a decoder")
    get_input(src, &s)
    try:
        _parse(decoder, &s, 1, max_pixels)
        if decoder.image.icc.size == 0:
            return None
        return (<const char*>decoder.image.icc.data)[:decoder.image.icc.size]
    finally:
        PyBuffer_Release(&s)
        avifDecoderDestroy(decoder)


def decode(src, allocate, int numthreads, uint32_t max_pixels):
    """Decode the primary image into the array `allocate(h, w, c, dtype)` returns."""
    cdef Py_buffer s, o
    cdef avifDecoder* decoder = avifDecoderCreate()
    cdef avifImage* image
    cdef avifRGBImage rgb
    cdef avifResult r
    cdef uint32_t h, w, depth
    cdef Py_ssize_t itemsize, channels
    cdef bint grey, alpha
    if decoder == NULL:
        raise MemoryError("avif: cannot create a decoder")
    get_input(src, &s)
    try:
        _parse(decoder, &s, numthreads, max_pixels)
        image = decoder.image
        h, w, depth = image.height, image.width, image.depth
        if depth not in (8, 10, 12):
            raise DecodeError(f"avif: unsupported bit depth {depth}")
        grey = image.yuvFormat == AVIF_PIXEL_FORMAT_YUV400
        alpha = decoder.alphaPresent
        channels = (1 if grey else 3) + alpha
        itemsize = 1 if depth == 8 else 2
        out = allocate(h, w, channels, "uint8" if depth == 8 else "uint16")
        with nogil:
            r = avifDecoderNextImage(decoder)
        if r != AVIF_RESULT_OK:
            raise DecodeError(f"avif: {_message(r, &decoder.diag)}")
        image = decoder.image
        if image.width != w or image.height != h or image.depth != depth or (alpha and image.alphaPlane == NULL):
            raise DecodeError("avif: decoded image does not match its header")
        get_output(out, &o)
        try:
            if o.len != <Py_ssize_t>h * w * channels * itemsize:
                raise DecodeError("avif: output buffer does not match the image size")
            with nogil:
                if grey:
                    _copy_plane(<uint8_t*>o.buf, channels * itemsize, image.yuvPlanes[0],
                                image.yuvRowBytes[0], h, w, itemsize)
                    if image.yuvRange == AVIF_RANGE_LIMITED:
                        _limited_to_full(<uint8_t*>o.buf, <Py_ssize_t>h * w * channels, channels, depth)
                    if alpha:
                        _copy_plane(<uint8_t*>o.buf + itemsize, channels * itemsize, image.alphaPlane,
                                    image.alphaRowBytes, h, w, itemsize)
                else:
                    avifRGBImageSetDefaults(&rgb, image)
                    rgb.format = AVIF_RGB_FORMAT_RGBA if alpha else AVIF_RGB_FORMAT_RGB
                    rgb.pixels = <uint8_t*>o.buf
                    rgb.rowBytes = <uint32_t>(w * channels * itemsize)
                    r = avifImageYUVToRGB(image, &rgb)
            if r != AVIF_RESULT_OK:
                raise DecodeError(f"avif: {_message(r, NULL)}")
        finally:
            PyBuffer_Release(&o)
        return out
    finally:
        PyBuffer_Release(&s)
        avifDecoderDestroy(decoder)
