# cython: language_level=3, boundscheck=False, wraparound=False
"""BC1-BC7 texture blocks (our own C decoder in bcn.c), GIL released."""

from libc.stdint cimport uint8_t, uint32_t
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError


cdef extern from "bcn.h" nogil:
    size_t bcn_block_size(int format)
    size_t bcn_pixel_size(int format)
    void bcn_decode(const uint8_t* src, int format, int is_signed, uint32_t width, uint32_t height,
                    uint32_t row0, uint32_t row1, uint8_t* dst)


def decode(src, Py_ssize_t offset, int format, bint is_signed, uint32_t width, uint32_t height,
           out, uint32_t row0, uint32_t row1):
    """Decode block rows row0..row1-1 of the width x height image whose blocks
    start at src[offset:] into `out`, the whole decoded image."""
    cdef Py_buffer s, o
    cdef size_t block_size = bcn_block_size(format)
    cdef size_t blocks = <size_t>((width + 3) // 4) * ((height + 3) // 4)
    if block_size == 0:
        raise DecodeError(f"bcdec: unknown block format BC{format}")
    if row1 < row0 or row1 > (height + 3) // 4:
        raise DecodeError(f"bcdec: block rows {row0}..{row1} outside the image")
    get_input(src, &s)
    cdef bint has_out = False
    try:
        if offset < 0 or offset > s.len or blocks > <size_t>(s.len - offset) // block_size:
            raise DecodeError(f"bcdec: {width}x{height} BC{format} needs {blocks * block_size} bytes "
                              f"of blocks, {max(s.len - offset, 0)} given")
        get_output(out, &o)
        has_out = True
        if <size_t>o.len != <size_t>width * height * bcn_pixel_size(format):
            raise DecodeError(f"bcdec: out has {o.len} bytes, the image needs "
                              f"{width * height * bcn_pixel_size(format)}")
        with nogil:
            bcn_decode(<const uint8_t*>s.buf + offset, format, is_signed, width, height,
                       row0, row1, <uint8_t*>o.buf)
        return out
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
