# cython: language_level=3, boundscheck=False, wraparound=False
"""Radiance RGBE scanlines in C (rgbe.c); the text header is Python's. GIL released."""

from libc.stdint cimport uint8_t
from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "rgbe.h" nogil:
    size_t rgbe_encode_bound(size_t, size_t)
    size_t rgbe_encode(const float*, size_t, size_t, int, uint8_t*)
    int rgbe_decode(const uint8_t*, size_t, size_t, size_t, float*, Py_ssize_t)


def encode(header, src, size_t rows, size_t width, bint rle, out=None):
    """`header` then the scanlines of the (rows, width, 3) float32 image in `src`."""
    cdef Py_buffer h, s, o
    cdef BytesOut b
    cdef uint8_t* dst
    cdef size_t cap, used = 0, bound = rgbe_encode_bound(width, rows)
    cdef bint has_out = False
    get_input(header, &h)
    b.obj = NULL
    try:
        get_input(src, &s)
        try:
            if <size_t>s.len != rows * width * 3 * sizeof(float):
                raise ValueError("rgbe: image size and shape disagree")
            if out is None:
                bytes_new(&b, <Py_ssize_t>(h.len + bound))
                dst = <uint8_t*>b.data
            else:
                get_output(out, &o)
                has_out = True
                if <size_t>o.len < <size_t>h.len + bound:
                    # The encoded size is known only afterwards: encode into bytes, then copy.
                    data = encode(header, src, rows, width, rle)
                    if len(data) > o.len:
                        raise EncodeError(f"rgbe: output does not fit in {o.len} bytes")
                    memoryview(out).cast("B")[:len(data)] = data
                    return memoryview(out).cast("B")[:len(data)]
                dst = <uint8_t*>o.buf
            memcpy(dst, h.buf, <size_t>h.len)
            with nogil:
                used = rgbe_encode(<const float*>s.buf, width, rows, rle, dst + h.len)
            if used == 0 and rows * width > 0:
                raise MemoryError("rgbe: cannot allocate a scanline")
        finally:
            PyBuffer_Release(&s)
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>(h.len + used))
        return memoryview(out).cast("B")[:h.len + used]
    finally:
        PyBuffer_Release(&h)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


def decode(src, Py_ssize_t offset, size_t rows, size_t width, bint bottom_up, out):
    """Scanlines from `offset` of `src` into the (rows, width, 3) float32 buffer `out`."""
    cdef Py_buffer s, o
    cdef int r
    cdef float* first
    cdef Py_ssize_t step = <Py_ssize_t>(3 * width)
    get_input(src, &s)
    try:
        get_output(out, &o)
        try:
            if not 0 <= offset <= s.len or <size_t>o.len != rows * width * 3 * sizeof(float):
                raise ValueError("rgbe: bad buffers")
            first = <float*>o.buf
            if bottom_up:  # the first scanline is the bottom row
                first += (rows - 1) * width * 3
                step = -step
            with nogil:
                r = rgbe_decode(<const uint8_t*>s.buf + offset, <size_t>(s.len - offset), width, rows,
                                first, step)
        finally:
            PyBuffer_Release(&o)
        if r == -2:
            raise MemoryError("rgbe: cannot allocate a scanline")
        if r != 0:
            raise DecodeError("rgbe: corrupt or truncated scanline data")
        return out
    finally:
        PyBuffer_Release(&s)
