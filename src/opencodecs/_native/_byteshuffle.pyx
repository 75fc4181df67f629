# cython: language_level=3, boundscheck=False, wraparound=False
"""Byte shuffle / unshuffle (our own C in byteshuffle.c), GIL released."""

from opencodecs._native._buffers cimport *


cdef extern from "byteshuffle.h" nogil:
    void byte_shuffle(const unsigned char* src, unsigned char* dst, size_t n, size_t typesize)
    void byte_unshuffle(const unsigned char* src, unsigned char* dst, size_t n, size_t typesize)


def shuffle(src, out, size_t typesize, bint inverse):
    """(Un)shuffle `src` into `out` (same size), or into new bytes when `out` is None.

    The caller has checked that the size is a whole number of `typesize` items.
    """
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef unsigned char* dst
    cdef bint has_out = False
    get_input(src, &s)
    b.obj = NULL
    try:
        if out is None:
            bytes_new(&b, s.len)
            dst = <unsigned char*>b.data
        else:
            get_output(out, &o)
            has_out = True
            if o.len != s.len:
                raise ValueError(f"byte shuffle: {s.len} bytes in, out has {o.len}")
            dst = <unsigned char*>o.buf
        with nogil:
            if inverse:
                byte_unshuffle(<const unsigned char*>s.buf, dst, s.len // typesize, typesize)
            else:
                byte_shuffle(<const unsigned char*>s.buf, dst, s.len // typesize, typesize)
        return bytes_finish(&b, s.len) if out is None else out
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
