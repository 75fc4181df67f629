# cython: language_level=3, boundscheck=False, wraparound=False
"""Bit shuffle filter (our bitshuffle.c): output size equals input size, GIL released."""

from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "bitshuffle.h" nogil:
    size_t bitshuffle_default_block(size_t itemsize)
    int bitshuffle_encode(const void* src, void* dst, size_t n, size_t itemsize, size_t block)
    int bitshuffle_decode(const void* src, void* dst, size_t n, size_t itemsize, size_t block)


def default_blocksize(size_t itemsize):
    """The block size (elements) used when blocksize is 0."""
    return bitshuffle_default_block(itemsize)


cdef object _run(bint encoding, src, size_t itemsize, size_t blocksize, out):
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef char* dst
    cdef int r
    error = EncodeError if encoding else DecodeError
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if <size_t>s.len % itemsize:
            raise error(f"bitshuffle: {s.len} bytes is not a whole number of {itemsize}-byte items")
        if out is None:
            bytes_new(&b, s.len)
            dst = b.data
        else:
            get_output(out, &o)
            has_out = True
            # Encoding may fill the front of a larger buffer; decoding fills `out` exactly.
            if o.len < s.len or (not encoding and o.len != s.len):
                raise error(f"bitshuffle: data is {s.len} bytes, out has {o.len}")
            dst = <char*>o.buf
            if dst < <char*>s.buf + s.len and <char*>s.buf < dst + s.len:
                raise error("bitshuffle: out overlaps the input (cannot work in place)")
        with nogil:
            if encoding:
                r = bitshuffle_encode(s.buf, dst, <size_t>s.len // itemsize, itemsize, blocksize)
            else:
                r = bitshuffle_decode(s.buf, dst, <size_t>s.len // itemsize, itemsize, blocksize)
        if r != 0:
            raise error(f"bitshuffle: invalid itemsize {itemsize} or blocksize {blocksize}")
        if out is None:
            return bytes_finish(&b, s.len)
        return memoryview(out).cast("B")[:s.len] if encoding else out
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


def encode(src, size_t itemsize, size_t blocksize, out=None):
    """Bit-shuffle `src` (items of `itemsize` bytes, blocks of `blocksize` items)."""
    return _run(True, src, itemsize, blocksize, out)


def decode(src, size_t itemsize, size_t blocksize, out=None):
    """Undo `encode` with the same itemsize and blocksize."""
    return _run(False, src, itemsize, blocksize, out)
