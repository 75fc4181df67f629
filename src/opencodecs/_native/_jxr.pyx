# cython: language_level=3, boundscheck=False, wraparound=False
"""JPEG XR (libjxr, JXRGlue API): decode a container from memory into the
caller's buffer, encode an image into a container. GIL released.

The Python layer parses and checks the container and codestream headers
before calling decode (libjxr trusts them); this module only runs the codec.
"""

from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "JXRGlue.h" nogil:
    ctypedef long ERR
    ctypedef int I32
    ctypedef unsigned int U32
    ctypedef unsigned char U8
    ctypedef int Bool
    ctypedef float Float

    ctypedef struct GUID:
        pass

    struct _WMPMemory "tagBuf":
        U8* pbBuf
        size_t cbBuf
        size_t cbCur
        size_t cbBufCount

    union _WMPState "WMPStream::state":
        _WMPMemory buf

    struct WMPStream:
        _WMPState state
        ERR (*Read)(WMPStream*, void*, size_t) noexcept nogil
        ERR (*Write)(WMPStream*, const void*, size_t) noexcept nogil
        ERR (*Close)(WMPStream**) noexcept nogil

    ctypedef struct PKRect:
        I32 X
        I32 Y
        I32 Width
        I32 Height

    ctypedef struct CWMIStrCodecParam:
        U8 uiDefaultQPIndex
        U8 uiDefaultQPIndexAlpha
        int cfColorFormat
        int bdBitDepth
        int olOverlap
        int bfBitstreamFormat
        int sbSubband
        U8 uAlphaMode
        U32 cNumOfSliceMinus1V
        U32 cNumOfSliceMinus1H

    struct _DecodeState "tagPKImageDecode::WMP":
        CWMIStrCodecParam wmiSCP

    ctypedef struct PKImageDecode:
        ERR (*Initialize)(PKImageDecode*, WMPStream*) noexcept nogil
        ERR (*GetSize)(PKImageDecode*, I32*, I32*) noexcept nogil
        ERR (*Copy)(PKImageDecode*, const PKRect*, U8*, U32) noexcept nogil
        Bool fStreamOwner
        _DecodeState WMP

    struct _EncodeState "tagPKImageEncode::WMP":
        CWMIStrCodecParam wmiSCP
        CWMIStrCodecParam wmiSCP_Alpha

    ctypedef struct PKImageEncode:
        ERR (*Initialize)(PKImageEncode*, WMPStream*, void*, size_t) noexcept nogil
        ERR (*SetPixelFormat)(PKImageEncode*, GUID) noexcept nogil
        ERR (*SetSize)(PKImageEncode*, I32, I32) noexcept nogil
        ERR (*SetResolution)(PKImageEncode*, Float, Float) noexcept nogil
        ERR (*WritePixels)(PKImageEncode*, U32, U8*, U32) noexcept nogil
        _EncodeState WMP

    ERR CreateWS_Memory(WMPStream**, void*, size_t)
    ERR PKImageDecode_Create_WMP(PKImageDecode**)
    ERR PKImageDecode_Release(PKImageDecode**)
    ERR PKImageEncode_Create_WMP(PKImageEncode**)
    ERR PKImageEncode_Release(PKImageEncode**)

    enum:
        WMP_errSuccess
        WMP_errOutOfMemory
        WMP_errBufferOverflow
        SPATIAL
        SB_ALL
        OL_NONE


# libjxr's ERR codes, for messages.
_ERRORS = {
    -1: "failed", -2: "not implemented", -101: "out of memory", -102: "file I/O error",
    -103: "buffer overflow", -104: "invalid parameter", -105: "invalid argument",
    -106: "unsupported format", -107: "incorrect codec version", -108: "index not found",
    -109: "out of sequence", -110: "not initialized", -114: "incorrect codec subversion",
}


cdef str _message(str step, ERR err):
    return f"{step}: {_ERRORS.get(err, f'error {err}')}"


cdef ERR _read_zero_filled(WMPStream* ws, void* dst, size_t n) noexcept nogil:
    """Read from the memory stream; bytes past its end read as zeros (libjxr's own
    reader leaves them unwritten, and its decoder reads ahead of the data)."""
    cdef size_t pos = ws.state.buf.cbCur
    cdef size_t size = ws.state.buf.cbBuf
    cdef size_t avail = size - pos if pos < size else 0
    cdef size_t k = n if n < avail else avail
    if k:
        memcpy(dst, ws.state.buf.pbBuf + pos, k)
    if k < n:
        memset(<char*>dst + k, 0, n - k)
    ws.state.buf.cbCur = pos + n
    return WMP_errSuccess


def decode(src, out, int width, int height, Py_ssize_t stride, bint alpha):
    """Decode the container `src` into `out` (height rows of `stride` bytes).

    The caller has checked the container and codestream headers: the image is
    width x height, and its pixel format fits `stride`. `alpha` decodes a planar
    or interleaved alpha channel into the last channel.
    """
    cdef Py_buffer s, o
    cdef WMPStream* stream = NULL
    cdef PKImageDecode* decoder = NULL
    cdef ERR err = WMP_errSuccess
    cdef I32 w = 0, h = 0
    cdef PKRect rect
    cdef const char* step = NULL
    get_input(src, &s)
    try:
        get_output(out, &o)
    except BaseException:
        PyBuffer_Release(&s)
        raise
    try:
        if o.len < stride * height:
            raise DecodeError(f"jpegxr: out has {o.len} bytes, the image needs {stride * height}")
        with nogil:
            step = "creating a memory stream"
            err = CreateWS_Memory(&stream, s.buf, <size_t>s.len)
            if err == WMP_errSuccess:
                stream.Read = _read_zero_filled
                step = "creating a decoder"
                err = PKImageDecode_Create_WMP(&decoder)
            if err == WMP_errSuccess:
                step = "reading the container"
                err = decoder.Initialize(decoder, stream)
                decoder.fStreamOwner = 1  # Release closes the stream
                stream = NULL
            if err == WMP_errSuccess:
                decoder.GetSize(decoder, &w, &h)
                if w == width and h == height:
                    decoder.WMP.wmiSCP.uAlphaMode = 2 if alpha else 0
                    rect.X = 0
                    rect.Y = 0
                    rect.Width = width
                    rect.Height = height
                    step = "decoding"
                    err = decoder.Copy(decoder, &rect, <U8*>o.buf, <U32>stride)
            if decoder != NULL:
                PKImageDecode_Release(&decoder)
            elif stream != NULL:
                stream.Close(&stream)
        if err != WMP_errSuccess:
            raise DecodeError("jpegxr: " + _message(step.decode(), err))
        if w != width or h != height:
            raise DecodeError(f"jpegxr: libjxr reads a {w}x{h} image, the header says {width}x{height}")
        return out
    finally:
        PyBuffer_Release(&s)
        PyBuffer_Release(&o)


cdef ERR _write_growing(WMPStream* ws, const void* src, size_t n) noexcept nogil:
    """Write at the stream position into a malloc'd buffer that grows as needed;
    cbBufCount records the end of the written data (libjxr seeks back to patch
    the container's offsets)."""
    cdef size_t end = ws.state.buf.cbCur + n
    cdef size_t size
    cdef U8* grown
    if end < n:
        return WMP_errBufferOverflow
    if end > ws.state.buf.cbBuf:
        size = max(end, ws.state.buf.cbBuf * 2)
        grown = <U8*>realloc(ws.state.buf.pbBuf, size)
        if grown == NULL:
            return WMP_errOutOfMemory
        ws.state.buf.pbBuf = grown
        ws.state.buf.cbBuf = size
    memcpy(ws.state.buf.pbBuf + ws.state.buf.cbCur, src, n)
    ws.state.buf.cbCur = end
    if end > ws.state.buf.cbBufCount:
        ws.state.buf.cbBufCount = end
    return WMP_errSuccess


def encode(src, bytes pixel_format, int width, int height, Py_ssize_t stride,
           int qp, int overlap, int color_format, bint alpha, out=None):
    """Encode `src` (height rows of `stride` bytes in `pixel_format`, a GUID's 16
    bytes) into a JPEG XR container.

    `qp` is the quantizer index for every channel (1: lossless), `overlap`
    libjxr's OVERLAP, `color_format` the internal COLORFORMAT. An alpha channel
    is stored as a separate lossless plane.
    """
    cdef Py_buffer s, o
    cdef bint has_out = False
    cdef WMPStream* stream = NULL
    cdef PKImageEncode* encoder = NULL
    cdef CWMIStrCodecParam params
    cdef GUID guid
    cdef ERR err = WMP_errSuccess
    cdef const char* step = NULL
    cdef U8* data = NULL
    cdef size_t written = 0, capacity
    if len(pixel_format) != sizeof(GUID):
        raise ValueError("pixel_format must be a 16-byte GUID")
    memcpy(&guid, <const char*>pixel_format, sizeof(GUID))
    get_input(src, &s)
    try:
        if s.len < stride * height:
            raise EncodeError(f"jpegxr: input has {s.len} bytes, the image needs {stride * height}")
        capacity = <size_t>(s.len // 2 + 4096)
        data = <U8*>calloc(capacity, 1)
        if data == NULL:
            raise MemoryError("jpegxr: cannot allocate the output buffer")
        memset(&params, 0, sizeof(params))
        params.uiDefaultQPIndex = <U8>qp
        params.uiDefaultQPIndexAlpha = 1
        params.cfColorFormat = color_format
        params.olOverlap = overlap
        params.bfBitstreamFormat = SPATIAL
        params.sbSubband = SB_ALL
        params.uAlphaMode = 2 if alpha else 0
        with nogil:
            step = "creating a memory stream"
            err = CreateWS_Memory(&stream, data, capacity)
            if err == WMP_errSuccess:
                stream.Write = _write_growing
                step = "creating an encoder"
                err = PKImageEncode_Create_WMP(&encoder)
            if err == WMP_errSuccess:
                step = "setting up the encoder"
                err = encoder.Initialize(encoder, stream, &params, sizeof(params))
            if err == WMP_errSuccess:
                encoder.WMP.wmiSCP_Alpha.uiDefaultQPIndex = 1
                step = "setting the pixel format"
                err = encoder.SetPixelFormat(encoder, guid)
            if err == WMP_errSuccess:
                step = "setting the size"
                err = encoder.SetSize(encoder, width, height)
            if err == WMP_errSuccess:
                step = "setting the resolution"
                err = encoder.SetResolution(encoder, 96.0, 96.0)
            if err == WMP_errSuccess:
                step = "encoding"
                err = encoder.WritePixels(encoder, <U32>height, <U8*>s.buf, <U32>stride)
            if stream != NULL:
                data = stream.state.buf.pbBuf  # moved by realloc
                written = stream.state.buf.cbBufCount
            if encoder != NULL:
                PKImageEncode_Release(&encoder)  # closes the stream, not its buffer
            elif stream != NULL:
                stream.Close(&stream)
        if err != WMP_errSuccess:
            raise EncodeError("jpegxr: " + _message(step.decode(), err))
        if out is None:
            return (<char*>data)[:written]
        get_output(out, &o)
        has_out = True
        if <size_t>o.len < written:
            raise EncodeError(f"jpegxr: the encoded image takes {written} bytes, out has {o.len}")
        memcpy(o.buf, data, written)
        return memoryview(out).cast("B")[:written]
    finally:
        free(data)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
