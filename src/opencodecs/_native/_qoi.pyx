# cython: language_level=3, boundscheck=False, wraparound=False
"""QOI: qoi.h encodes, our own loop (qoi_impl.c) decodes into the caller's buffer; GIL released."""

from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport free
from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "qoi.h" nogil:
    ctypedef struct qoi_desc:
        unsigned int width
        unsigned int height
        unsigned char channels
        unsigned char colorspace
    void* qoi_encode(const void*, const qoi_desc*, int*)


cdef extern from "qoi_decode.h" nogil:
    int qoi_decode_into(const uint8_t*, size_t, uint8_t*, size_t, int)


# qoi.h's QOI_PIXELS_MAX (declared in its implementation part only): it
# refuses images with height >= PIXELS_MAX // width.
PIXELS_MAX = 400000000
cdef enum:
    HEADER_SIZE = 14
    END_MARKER_SIZE = 8
    MAX_RUN = 62  # pixels one operation byte can produce


cdef inline uint32_t _get32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


def info(src):
    """(height, width, channels, colorspace) from the 14-byte header, checked
    against what the input can hold before anything is allocated."""
    cdef Py_buffer s
    cdef const uint8_t* p
    get_input(src, &s)
    try:
        p = <const uint8_t*>s.buf
        if s.len == 0:
            raise DecodeError("qoi: empty input")
        if s.len < HEADER_SIZE or p[0] != b'q' or p[1] != b'o' or p[2] != b'i' or p[3] != b'f':
            raise DecodeError("qoi: not a QOI file (bad magic or header)")
        width, height, channels, colorspace = _get32(p + 4), _get32(p + 8), p[12], p[13]
        if channels not in (3, 4) or colorspace > 1:
            raise DecodeError(f"qoi: invalid header (channels {channels}, colorspace {colorspace})")
        if width == 0 or height == 0:
            raise DecodeError(f"qoi: invalid image size {height}x{width}")
        ops = max(0, s.len - HEADER_SIZE - END_MARKER_SIZE)
        if width * height > ops * MAX_RUN:
            raise DecodeError(f"qoi: header declares {height}x{width} pixels, more than "
                              f"{s.len} input bytes can hold")
        return height, width, channels, colorspace
    finally:
        PyBuffer_Release(&s)


def decode(src, out, int channels):
    """Decode the pixels of the QOI file in `src` into `out`, sized from info()."""
    cdef Py_buffer s, o
    cdef int r
    get_input(src, &s)
    try:
        get_output(out, &o)
        try:
            with nogil:
                r = qoi_decode_into(<const uint8_t*>s.buf, <size_t>s.len, <uint8_t*>o.buf,
                                    <size_t>o.len // channels, channels)
        finally:
            PyBuffer_Release(&o)
        if r != 0:
            raise DecodeError("qoi: truncated data")
        return out
    finally:
        PyBuffer_Release(&s)


def encode(src, unsigned int height, unsigned int width, int channels, int colorspace, out=None):
    """A QOI file of the (height, width, channels) uint8 image in `src`."""
    cdef Py_buffer s, o
    cdef qoi_desc desc
    cdef int size = 0
    cdef void* encoded
    desc.width, desc.height, desc.channels, desc.colorspace = width, height, channels, colorspace
    get_input(src, &s)
    try:
        with nogil:
            encoded = qoi_encode(s.buf, &desc, &size)
    finally:
        PyBuffer_Release(&s)
    if encoded == NULL:
        raise MemoryError("qoi: cannot allocate the encoded image")
    try:
        # qoi.h allocates its own output: copied once, into bytes or `out`.
        if out is None:
            return (<const char*>encoded)[:size]
        get_output(out, &o)
        try:
            if o.len < size:
                raise EncodeError(f"qoi: output does not fit in {o.len} bytes")
            with nogil:
                memcpy(o.buf, encoded, <size_t>size)
        finally:
            PyBuffer_Release(&o)
        return memoryview(out).cast("B")[:size]
    finally:
        free(encoded)
