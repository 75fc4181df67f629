# cython: language_level=3, boundscheck=False, wraparound=False
"""TIFF LZW (our own C in lzw.c): encode and decode, GIL released."""

from libc.stdlib cimport malloc, free
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError


cdef extern from "lzw.h" nogil:
    enum:
        LZW_OK
        LZW_CORRUPT
        LZW_OUTPUT_FULL
    ctypedef struct lzw_decoder:
        size_t out_pos
    size_t lzw_encode_bound(size_t n)
    ptrdiff_t lzw_encode(const unsigned char* src, size_t n, unsigned char* dst, size_t cap)
    void lzw_decode_init(lzw_decoder* d)
    int lzw_decode(lzw_decoder* d, const unsigned char* src, size_t n, unsigned char* dst, size_t cap)

# 9 input bits can decode to at most a 4095-byte string.
cdef enum:
    MAX_BYTES_PER_CODE = 4096


def encode(src, out=None):
    return encode_bounded(<bounded_encoder>lzw_encode, <encode_bound>lzw_encode_bound, src, out, "lzw")


def decode(src, out, Py_ssize_t max_size):
    """Decode into bytes, or into `out` (whose size the data must fill exactly)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef int r
    cdef size_t limit
    cdef bint has_out = False
    cdef lzw_decoder* d = <lzw_decoder*>malloc(sizeof(lzw_decoder))
    if d == NULL:
        raise MemoryError("lzw: out of memory")
    lzw_decode_init(d)
    b.obj = NULL
    try:
        get_input(src, &s)
    except BaseException:
        free(d)
        raise
    try:
        if s.len == 0:
            raise DecodeError("lzw: empty input")
        if out is not None:
            get_output(out, &o)
            has_out = True
            with nogil:
                r = lzw_decode(d, <const unsigned char*>s.buf, <size_t>s.len,
                               <unsigned char*>o.buf, <size_t>o.len)
            if r == LZW_OUTPUT_FULL:
                raise DecodeError(f"lzw: data decodes to more than out's {o.len} bytes")
            if r != LZW_OK:
                raise DecodeError("lzw: corrupt data (invalid code)")
            if d.out_pos != <size_t>o.len:
                raise DecodeError(f"lzw: decoded {d.out_pos} bytes, out has {o.len}")
            return out
        limit = min(<size_t>max_size, (<size_t>s.len * 8 // 9 + 1) * MAX_BYTES_PER_CODE)
        bytes_new(&b, <Py_ssize_t>min(limit, max(<size_t>s.len * 4, <size_t>65536)))
        while True:
            with nogil:
                r = lzw_decode(d, <const unsigned char*>s.buf, <size_t>s.len,
                               <unsigned char*>b.data, <size_t>b.size)
            if r == LZW_OK:
                return bytes_finish(&b, <Py_ssize_t>d.out_pos)
            if r != LZW_OUTPUT_FULL:
                raise DecodeError("lzw: corrupt data (invalid code)")
            if <size_t>b.size >= limit:
                raise DecodeError(f"lzw: data decodes to more than max_decoded_bytes={max_size}")
            bytes_resize(&b, <Py_ssize_t>min(limit, <size_t>b.size * 2))
    finally:
        free(d)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
