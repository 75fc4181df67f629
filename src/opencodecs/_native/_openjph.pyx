# cython: language_level=3, boundscheck=False, wraparound=False
"""HTJ2K encoding (OpenJPH, through the C interface in openjph_glue.cpp), GIL released.

Decoding is OpenJPEG's (_openjpeg): OpenJPH 0.9 is not safe on corrupt input."""

from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset
from cpython.bytes cimport PyBytes_FromStringAndSize
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import EncodeError


cdef extern from "openjph_glue.h" nogil:
    ctypedef struct htj2k_output:
        uint8_t* data
        size_t size
        size_t capacity
        int growable
        int overflow
    ctypedef struct htj2k_layout:
        uint32_t height, width, channels
        int itemsize
        int is_signed
    void htj2k_init()
    int htj2k_encode(const void*, const htj2k_layout*, int, float, uint32_t, htj2k_output*,
                     char*, size_t)


cdef extern from "openjph/ojph_version.h":
    int OPENJPH_VERSION_MAJOR, OPENJPH_VERSION_MINOR, OPENJPH_VERSION_PATCH


VERSION = f"{OPENJPH_VERSION_MAJOR}.{OPENJPH_VERSION_MINOR}.{OPENJPH_VERSION_PATCH}"
htj2k_init()


cdef int _layout(htj2k_layout* l, uint32_t height, uint32_t width, uint32_t channels,
                 Py_ssize_t nbytes, bint is_signed) noexcept:
    """Fill `l`, -1 if `nbytes` is not 1 or 2 bytes per sample."""
    cdef Py_ssize_t samples = <Py_ssize_t>height * width * channels
    if samples == 0 or nbytes not in (samples, 2 * samples):
        return -1
    l.height, l.width, l.channels = height, width, channels
    l.itemsize = <int>(nbytes // samples)
    l.is_signed = is_signed
    return 0


def encode(src, uint32_t height, uint32_t width, uint32_t channels, bint is_signed,
           bint reversible, float qstep, uint32_t decompositions, out=None):
    """Encode an (H, W[, C]) image: reversible (lossless), else quantised by `qstep`."""
    cdef Py_buffer s, o
    cdef htj2k_layout layout
    cdef htj2k_output dst
    cdef char err[256]
    cdef int r
    get_input(src, &s)
    memset(&dst, 0, sizeof(dst))
    cdef bint has_out = False
    try:
        if _layout(&layout, height, width, channels, s.len, is_signed) < 0:
            raise EncodeError(f"htj2k: {s.len} input bytes for a {height}x{width}x{channels} image")
        if out is None:
            dst.growable = 1
            dst.capacity = <size_t>s.len // 2 + 4096
            dst.data = <uint8_t*>malloc(dst.capacity)
            if dst.data == NULL:
                raise MemoryError()
        else:
            get_output(out, &o)
            has_out = True
            dst.data = <uint8_t*>o.buf
            dst.capacity = <size_t>o.len
        with nogil:
            r = htj2k_encode(s.buf, &layout, reversible, qstep, decompositions, &dst, err, sizeof(err))
        if dst.overflow:
            raise EncodeError(f"htj2k: the encoded image does not fit the {dst.capacity}-byte output buffer")
        if r != 0:
            raise EncodeError("htj2k: " + err.decode("utf-8", "replace"))
        if out is None:
            return PyBytes_FromStringAndSize(<char*>dst.data, <Py_ssize_t>dst.size)
        return memoryview(out).cast("B")[:dst.size]
    finally:
        if dst.growable:
            free(dst.data)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
