# cython: language_level=3, boundscheck=False, wraparound=False
"""WebP (libwebp) still images: RGB/RGBA uint8 encode and decode, GIL released."""

from libc.stdint cimport uint8_t
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "webp/decode.h" nogil:
    ctypedef enum WEBP_CSP_MODE:
        MODE_RGB
        MODE_RGBA
    ctypedef enum VP8StatusCode:
        VP8_STATUS_OK
    ctypedef struct WebPRGBABuffer:
        uint8_t* rgba
        int stride
        size_t size
    ctypedef union _WebPBufferUnion:
        WebPRGBABuffer RGBA
    ctypedef struct WebPDecBuffer:
        WEBP_CSP_MODE colorspace
        int width, height
        int is_external_memory
        _WebPBufferUnion u
    ctypedef struct WebPBitstreamFeatures:
        int width
        int height
        int has_alpha
        int has_animation
        int format
    ctypedef struct WebPDecoderOptions:
        int use_threads
    ctypedef struct WebPDecoderConfig:
        WebPBitstreamFeatures input
        WebPDecBuffer output
        WebPDecoderOptions options
    int WebPInitDecoderConfig(WebPDecoderConfig*)
    VP8StatusCode WebPGetFeatures(const uint8_t*, size_t, WebPBitstreamFeatures*)
    VP8StatusCode WebPDecode(const uint8_t*, size_t, WebPDecoderConfig*)
    void WebPFreeDecBuffer(WebPDecBuffer*)
    int WebPGetDecoderVersion()


cdef extern from "webp/encode.h" nogil:
    int WEBP_MAX_DIMENSION
    ctypedef enum WebPPreset:
        WEBP_PRESET_DEFAULT
    ctypedef enum WebPEncodingError:
        VP8_ENC_OK
    ctypedef struct WebPConfig:
        int lossless
        float quality
        int method
        int thread_level
        int exact
    ctypedef int (*WebPWriterFunction)(const uint8_t*, size_t, const void*)
    ctypedef struct WebPPicture:
        int use_argb
        int width, height
        WebPWriterFunction writer
        void* custom_ptr
        WebPEncodingError error_code
    ctypedef struct WebPMemoryWriter:
        uint8_t* mem
        size_t size
    int WebPConfigPreset(WebPConfig*, WebPPreset, float)
    int WebPPictureInit(WebPPicture*)
    void WebPPictureFree(WebPPicture*)
    int WebPPictureImportRGB(WebPPicture*, const uint8_t*, int)
    int WebPPictureImportRGBA(WebPPicture*, const uint8_t*, int)
    int WebPEncode(const WebPConfig*, WebPPicture*)
    void WebPMemoryWriterInit(WebPMemoryWriter*)
    void WebPMemoryWriterClear(WebPMemoryWriter*)
    int WebPMemoryWrite(const uint8_t*, size_t, const WebPPicture*)


cdef extern from "webp/mux.h" nogil:
    ctypedef struct WebPData:
        const uint8_t* bytes
        size_t size
    ctypedef struct WebPMux
    ctypedef enum WebPMuxError:
        WEBP_MUX_OK
    WebPMux* WebPMuxNew()
    void WebPMuxDelete(WebPMux*)
    WebPMuxError WebPMuxSetImage(WebPMux*, const WebPData*, int)
    WebPMuxError WebPMuxSetChunk(WebPMux*, const char*, const WebPData*, int)
    WebPMuxError WebPMuxAssemble(WebPMux*, WebPData*)
    void WebPDataClear(WebPData*)


cdef extern from "webp/demux.h" nogil:
    ctypedef struct WebPDemuxer
    ctypedef struct WebPChunkIterator:
        WebPData chunk
    WebPDemuxer* WebPDemux(const WebPData*)
    void WebPDemuxDelete(WebPDemuxer*)
    int WebPDemuxGetChunk(const WebPDemuxer*, const char*, int, WebPChunkIterator*)
    void WebPDemuxReleaseChunkIterator(WebPChunkIterator*)


_v = WebPGetDecoderVersion()
VERSION = f"{_v >> 16}.{(_v >> 8) & 255}.{_v & 255}"
MAX_DIMENSION = WEBP_MAX_DIMENSION

_STATUS = {1: "out of memory", 2: "invalid parameter", 3: "corrupt bitstream",
           4: "unsupported feature", 5: "suspended", 6: "aborted", 7: "truncated data"}
_ENC_ERRORS = {1: "out of memory", 2: "out of memory flushing bits", 3: "null parameter",
               4: "invalid configuration", 5: "bad dimensions", 6: "partition 0 over 512 KiB",
               7: "partition over 16 MiB", 8: "write error", 9: "file over 4 GiB", 10: "aborted"}


cdef bytes _with_icc(const uint8_t* stream, size_t size, const uint8_t[:] icc):
    """The WebP file `stream` with an ICCP chunk holding `icc` (an extended file)."""
    cdef WebPMux* mux = WebPMuxNew()
    cdef WebPData image, profile, assembled
    cdef WebPMuxError err = WEBP_MUX_OK
    if mux == NULL:
        raise MemoryError("webp: cannot create a muxer")
    image.bytes, image.size = stream, size
    profile.bytes, profile.size = &icc[0], <size_t>icc.shape[0]
    assembled.bytes, assembled.size = NULL, 0
    try:
        with nogil:
            err = WebPMuxSetImage(mux, &image, 0)
            if err == WEBP_MUX_OK:
                err = WebPMuxSetChunk(mux, "ICCP", &profile, 0)
            if err == WEBP_MUX_OK:
                err = WebPMuxAssemble(mux, &assembled)
        if err != WEBP_MUX_OK:
            raise EncodeError(f"webp: cannot add the ICC profile (mux error {err})")
        return (<const char*>assembled.bytes)[:assembled.size]
    finally:
        WebPDataClear(&assembled)
        WebPMuxDelete(mux)


def encode(src, int height, int width, int channels, float quality, bint lossless,
           int method, bint threads, icc):
    """A WebP file of a C-contiguous (height, width, channels) uint8 RGB(A)
    buffer, with an ICC profile (bytes) unless `icc` is None."""
    cdef Py_buffer s
    cdef WebPConfig config
    cdef WebPPicture picture
    cdef WebPMemoryWriter writer
    cdef int ok = 0
    cdef int stride = width * channels
    if not WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, quality) or not WebPPictureInit(&picture):
        raise EncodeError("webp: libwebp version mismatch")
    config.lossless = lossless
    config.method = method
    config.thread_level = threads
    config.exact = lossless  # keep RGB under fully transparent pixels
    picture.use_argb = lossless
    picture.width = width
    picture.height = height
    picture.writer = <WebPWriterFunction>WebPMemoryWrite
    picture.custom_ptr = &writer
    WebPMemoryWriterInit(&writer)
    get_input(src, &s)
    try:
        with nogil:
            if channels == 4:
                ok = WebPPictureImportRGBA(&picture, <const uint8_t*>s.buf, stride)
            else:
                ok = WebPPictureImportRGB(&picture, <const uint8_t*>s.buf, stride)
            if ok:
                ok = WebPEncode(&config, &picture)
        if not ok:
            raise EncodeError(f"webp: {_ENC_ERRORS.get(picture.error_code, 'encoding failed')}")
        if icc is not None:
            return _with_icc(writer.mem, writer.size, icc)
        return (<char*>writer.mem)[:writer.size]
    finally:
        PyBuffer_Release(&s)
        WebPMemoryWriterClear(&writer)
        WebPPictureFree(&picture)


def features(src):
    """(height, width, has_alpha) from the bitstream header."""
    cdef Py_buffer s
    cdef WebPBitstreamFeatures f
    cdef VP8StatusCode status
    get_input(src, &s)
    try:
        if s.len == 0:
            raise DecodeError("webp: empty input")
        with nogil:
            status = WebPGetFeatures(<const uint8_t*>s.buf, <size_t>s.len, &f)
        if status != VP8_STATUS_OK:
            raise DecodeError(f"webp: {_STATUS.get(status, 'invalid header')}")
        if f.has_animation:
            raise DecodeError("webp: animated WebP is not supported")
        return f.height, f.width, bool(f.has_alpha)
    finally:
        PyBuffer_Release(&s)


def icc(src):
    """The ICC profile of the ICCP chunk, or None."""
    cdef Py_buffer s
    cdef WebPData data
    cdef WebPDemuxer* demux
    cdef WebPChunkIterator chunk
    get_input(src, &s)
    try:
        data.bytes, data.size = <const uint8_t*>s.buf, <size_t>s.len
        with nogil:
            demux = WebPDemux(&data)
        if demux == NULL:
            raise DecodeError("webp: not a valid WebP file")
        try:
            if not WebPDemuxGetChunk(demux, "ICCP", 1, &chunk):
                return None
            profile = (<const char*>chunk.chunk.bytes)[:chunk.chunk.size]
            WebPDemuxReleaseChunkIterator(&chunk)
            return profile
        finally:
            WebPDemuxDelete(demux)
    finally:
        PyBuffer_Release(&s)


def decode(src, out, int channels, bint threads):
    """Decode into `out`, a C-contiguous buffer of height * width * channels bytes."""
    cdef Py_buffer s, o
    cdef WebPDecoderConfig config
    cdef VP8StatusCode status
    if not WebPInitDecoderConfig(&config):
        raise DecodeError("webp: libwebp version mismatch")
    get_input(src, &s)
    try:
        get_output(out, &o)
        try:
            with nogil:
                status = WebPGetFeatures(<const uint8_t*>s.buf, <size_t>s.len, &config.input)
            if status != VP8_STATUS_OK:
                raise DecodeError(f"webp: {_STATUS.get(status, 'invalid header')}")
            if <Py_ssize_t>config.input.height * config.input.width * channels != o.len:
                raise DecodeError("webp: image size does not match the output buffer")
            config.options.use_threads = threads
            config.output.colorspace = MODE_RGBA if channels == 4 else MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA.rgba = <uint8_t*>o.buf
            config.output.u.RGBA.stride = config.input.width * channels
            config.output.u.RGBA.size = <size_t>o.len
            with nogil:
                status = WebPDecode(<const uint8_t*>s.buf, <size_t>s.len, &config)
                WebPFreeDecBuffer(&config.output)
            if status != VP8_STATUS_OK:
                raise DecodeError(f"webp: {_STATUS.get(status, 'decoding failed')}")
            return out
        finally:
            PyBuffer_Release(&o)
    finally:
        PyBuffer_Release(&s)
