# The TurboJPEG v2 API (tjInitCompress, tjCompress2, tjDecompressHeader3,
# tjDecompress2), shared by every library that implements it: _jpeg.pyx
# (libjpeg-turbo) and _mozjpeg.pyx (MozJPEG) include this file after setting
# CODEC, the name their error messages start with.

from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "turbojpeg.h" nogil:
    ctypedef void* tjhandle
    int TJPF_RGB, TJPF_GRAY, TJPF_RGBA, TJPF_CMYK
    int TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_GRAY, TJSAMP_440, TJSAMP_411
    int TJCS_GRAY, TJCS_CMYK, TJCS_YCCK
    int TJFLAG_ACCURATEDCT, TJFLAG_NOREALLOC, TJFLAG_PROGRESSIVE
    int TJFLAG_STOPONWARNING, TJFLAG_LIMITSCANS
    int tjPixelSize[]
    tjhandle tjInitCompress()
    tjhandle tjInitDecompress()
    int tjDestroy(tjhandle)
    unsigned long tjBufSize(int width, int height, int subsamp)
    int tjCompress2(tjhandle, const unsigned char* src, int width, int pitch, int height,
                    int pixel_format, unsigned char** jpeg, unsigned long* size,
                    int subsamp, int quality, int flags)
    int tjDecompressHeader3(tjhandle, const unsigned char* jpeg, unsigned long size,
                            int* width, int* height, int* subsamp, int* colorspace)
    int tjDecompress2(tjhandle, const unsigned char* jpeg, unsigned long size,
                      unsigned char* dst, int width, int pitch, int height,
                      int pixel_format, int flags)
    char* tjGetErrorStr2(tjhandle)

# MozJPEG 4.0 follows libjpeg-turbo 2.0, which has no scan limit yet.
cdef extern from *:
    """
    #ifndef TJFLAG_LIMITSCANS
    #define TJFLAG_LIMITSCANS 0
    #endif
    """


PF_RGB, PF_GRAY, PF_RGBA, PF_CMYK = TJPF_RGB, TJPF_GRAY, TJPF_RGBA, TJPF_CMYK
SUBSAMPLING = {"444": TJSAMP_444, "422": TJSAMP_422, "420": TJSAMP_420,
               "440": TJSAMP_440, "411": TJSAMP_411, "gray": TJSAMP_GRAY}
CS_GRAY, CS_CMYK, CS_YCCK = TJCS_GRAY, TJCS_CMYK, TJCS_YCCK

# Compression always uses the accurate integer DCT (TurboJPEG's default is the
# fast one): the output then matches libjpeg's default and imagecodecs'.
cdef int _ENCODE_FLAGS = TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC
# Any libjpeg warning (premature end of data, bad Huffman code, missing
# restart marker, ...) means made-up pixels: stop and report it. Progressive
# streams of more than 500 scans are refused (a denial-of-service pattern).
cdef int _DECODE_FLAGS = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS


# A fresh handle for every call (about 1 us): a reused one carries state from
# the stream before. Its quantisation and Huffman tables would fill in for a
# stream that lacks its own (an abbreviated TIFF tile passed without tables=),
# its progressive settings would corrupt the next baseline encode (2.1.5),
# and after some errors it fails every later call with the same message.

cdef str _message(tjhandle h):
    return tjGetErrorStr2(h).decode("utf-8", "replace")


def encode(src, int width, int height, int pixel_format, int subsamp, int quality,
           bint progressive):
    """Compress packed 8-bit pixels (`pixel_format` PF_GRAY or PF_RGB) into a JPEG."""
    cdef Py_buffer s
    cdef BytesOut b
    cdef unsigned char* dst
    cdef unsigned long size
    cdef int r
    cdef int flags = _ENCODE_FLAGS | (TJFLAG_PROGRESSIVE if progressive else 0)
    get_input(src, &s)
    b.obj = NULL
    cdef tjhandle h = tjInitCompress()
    try:
        if h == NULL:
            raise MemoryError(f"{CODEC}: cannot create a TurboJPEG compressor")
        if s.len != <Py_ssize_t>width * height * tjPixelSize[pixel_format]:
            raise EncodeError(f"{CODEC}: {s.len} bytes do not hold a {width}x{height} image")
        size = tjBufSize(width, height, subsamp)
        if size == <unsigned long>-1:
            raise EncodeError(f"{CODEC}: {_message(NULL)}")
        bytes_new(&b, <Py_ssize_t>size)
        dst = <unsigned char*>b.data
        with nogil:
            r = tjCompress2(h, <const unsigned char*>s.buf, width, 0, height, pixel_format,
                            &dst, &size, subsamp, quality, flags)
        if r != 0:
            raise EncodeError(f"{CODEC}: {_message(h)}")
        return bytes_finish(&b, <Py_ssize_t>size)
    finally:
        tjDestroy(h)
        PyBuffer_Release(&s)
        bytes_free(&b)


cdef inline int _frame_marker(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """The SOFn marker byte of a JPEG stream (0xC0 baseline, 0xC2 progressive,
    0xC9 arithmetic, ...), or -1 if the segments before it are malformed."""
    cdef Py_ssize_t i = 2
    cdef int m
    if n < 4 or p[0] != 0xFF or p[1] != 0xD8:
        return -1
    while i + 4 <= n:
        if p[i] != 0xFF:
            return -1
        m = p[i + 1]
        if m == 0xFF:  # fill byte
            i += 1
            continue
        if (0xC0 <= m <= 0xCF and m != 0xC4 and m != 0xC8 and m != 0xCC) or m == 0xF7:
            return m
        if m == 0xD8 or m == 0xD9 or m == 0xDA:  # SOI, EOI or a scan before any frame
            return -1
        i += 2 + ((<Py_ssize_t>p[i + 2] << 8) | p[i + 3])
    return -1


def decode(src, target):
    """Decompress a JPEG stream into the buffer that `target(height, width,
    colorspace, frame marker)` returns with a PF_* pixel format, once the
    header is read; returns that buffer.

    TurboJPEG scales an image down to fit the size it is given, never up, so
    the buffer cannot overflow whatever the stream holds.
    """
    cdef Py_buffer s, o
    cdef int width = 0, height = 0, subsamp = -1, colorspace = -1, r, marker, pixel_format
    get_input(src, &s)
    cdef tjhandle h = tjInitDecompress()
    try:
        if h == NULL:
            raise MemoryError(f"{CODEC}: cannot create a TurboJPEG decompressor")
        if s.len == 0:
            raise DecodeError(f"{CODEC}: empty input")
        with nogil:
            marker = _frame_marker(<const unsigned char*>s.buf, s.len)
            r = tjDecompressHeader3(h, <const unsigned char*>s.buf, <unsigned long>s.len,
                                    &width, &height, &subsamp, &colorspace)
        if r != 0:
            raise DecodeError(f"{CODEC}: {_message(h)}")
        if width <= 0 or height <= 0:
            raise DecodeError(f"{CODEC}: no frame header (truncated, or tables only)")
        out, pixel_format = target(height, width, colorspace, marker)
        get_output(out, &o)
        try:
            if o.len != <Py_ssize_t>width * height * tjPixelSize[pixel_format]:
                raise DecodeError(f"{CODEC}: output of {o.len} bytes does not hold "
                                  f"{width}x{height} pixels")
            with nogil:
                r = tjDecompress2(h, <const unsigned char*>s.buf, <unsigned long>s.len,
                                  <unsigned char*>o.buf, width, 0, height, pixel_format,
                                  _DECODE_FLAGS)
            if r != 0:
                raise DecodeError(f"{CODEC}: {_message(h)}")
            return out
        finally:
            PyBuffer_Release(&o)
    finally:
        tjDestroy(h)
        PyBuffer_Release(&s)


def join_tables(tables, src):
    """One JPEG stream from an abbreviated tables stream (SOI, DQT/DHT, EOI, as
    TIFF's JPEGTables holds) and an abbreviated image stream (SOI ... EOI)."""
    cdef Py_buffer t, s
    cdef BytesOut b
    cdef const unsigned char* tp
    cdef const unsigned char* sp
    cdef Py_ssize_t nt, ns
    get_input(tables, &t)
    b.obj = NULL
    try:
        get_input(src, &s)
        try:
            tp = <const unsigned char*>t.buf
            sp = <const unsigned char*>s.buf
            nt, ns = t.len, s.len
            if nt < 4 or tp[0] != 0xFF or tp[1] != 0xD8:
                raise DecodeError(f"{CODEC}: JPEG tables do not start with SOI")
            if ns < 2 or sp[0] != 0xFF or sp[1] != 0xD8:
                raise DecodeError(f"{CODEC}: abbreviated image does not start with SOI")
            if tp[nt - 2] == 0xFF and tp[nt - 1] == 0xD9:
                nt -= 2
            bytes_new(&b, nt + ns - 2)
            memcpy(b.data, tp, nt)
            memcpy(b.data + nt, sp + 2, ns - 2)
            return bytes_finish(&b, nt + ns - 2)
        finally:
            PyBuffer_Release(&s)
    finally:
        PyBuffer_Release(&t)
        bytes_free(&b)
