# cython: language_level=3, boundscheck=False, wraparound=False
"""PackBits (our own C in packbits.c): encode and decode, GIL released."""

from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError


cdef extern from "packbits.h" nogil:
    size_t packbits_encode_bound(size_t n)
    ptrdiff_t packbits_encode(const unsigned char* src, size_t n, unsigned char* dst, size_t cap)
    ptrdiff_t packbits_decoded_size(const unsigned char* src, size_t n)
    ptrdiff_t packbits_decode(const unsigned char* src, size_t n, unsigned char* dst, size_t cap)


def encode(src, out=None):
    return encode_bounded(<bounded_encoder>packbits_encode, <encode_bound>packbits_encode_bound, src, out, "packbits")


def decode(src, out, Py_ssize_t max_size):
    """Decode into bytes, or into `out` (whose size the data must fill exactly)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef ptrdiff_t size, r
    cdef bint has_out = False
    get_input(src, &s)
    b.obj = NULL
    try:
        with nogil:  # one cheap pass sizes the output exactly
            size = packbits_decoded_size(<const unsigned char*>s.buf, <size_t>s.len)
        if size < 0:
            raise DecodeError("packbits: truncated data")
        if size > max_size:
            raise DecodeError(f"packbits: data decodes to {size} bytes, over max_decoded_bytes={max_size}")
        if out is not None:
            get_output(out, &o)
            has_out = True
            if o.len != size:
                raise DecodeError(f"packbits: data decodes to {size} bytes, out has {o.len}")
            with nogil:
                packbits_decode(<const unsigned char*>s.buf, <size_t>s.len,
                                <unsigned char*>o.buf, <size_t>o.len)
            return out
        bytes_new(&b, size)
        with nogil:
            r = packbits_decode(<const unsigned char*>s.buf, <size_t>s.len,
                                <unsigned char*>b.data, <size_t>size)
        return bytes_finish(&b, r)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
