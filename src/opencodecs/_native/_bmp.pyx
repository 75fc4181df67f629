# cython: language_level=3, boundscheck=False, wraparound=False
"""BMP pixel rows in C (bmp.c); the headers are Python's (codecs/images/bmp.py). GIL released.

Rows are given as the offset of the first row to produce and a signed stride
(negative for bottom-up files); every row is checked to lie in its buffer.
"""

from libc.stdint cimport uint8_t, uint32_t
from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "bmp.h" nogil:
    void bmp_swap_rows(const uint8_t*, Py_ssize_t, uint8_t*, Py_ssize_t, size_t, size_t, unsigned, unsigned)
    void bmp_bitfield_rows(const uint8_t*, Py_ssize_t, uint8_t*, size_t, size_t, unsigned, unsigned,
                           const unsigned*, const uint32_t*, const uint8_t* const*)
    void bmp_palette_rows(const uint8_t*, Py_ssize_t, uint8_t*, size_t, size_t, unsigned,
                          const uint8_t*, unsigned)
    int bmp_rle_decode(const uint8_t*, size_t, uint8_t*, size_t, size_t, unsigned)


cdef int _check_rows(Py_buffer* b, first, stride, rows, row_bytes) except -1:
    """Every row (Python ints: no overflow) inside the buffer."""
    last = first + (rows - 1) * stride
    if rows > 0 and (min(first, last) < 0 or max(first, last) + row_bytes > b.len):
        raise DecodeError("bmp: pixel rows outside the data (truncated file?)")
    return 0


cdef class _Views:
    """Read-only source and writable destination views, released together."""
    cdef Py_buffer src, dst
    cdef bint has_src, has_dst

    def __cinit__(self, src, dst):
        get_input(src, &self.src)
        self.has_src = True
        get_output(dst, &self.dst)
        self.has_dst = True

    def __dealloc__(self):
        if self.has_src:
            PyBuffer_Release(&self.src)
        if self.has_dst:
            PyBuffer_Release(&self.dst)


def swap_rows(src, Py_ssize_t first, Py_ssize_t stride, dst, size_t rows, size_t width,
              unsigned in_bytes, unsigned out_bytes):
    """Pixels of 3 or 4 bytes with B and R swapped (1-byte pixels copied) into contiguous `dst`."""
    cdef _Views v = _Views(src, dst)
    _check_rows(&v.src, first, stride, rows, width * in_bytes)
    _check_rows(&v.dst, 0, width * out_bytes, rows, width * out_bytes)
    with nogil:
        bmp_swap_rows(<const uint8_t*>v.src.buf + first, stride, <uint8_t*>v.dst.buf,
                      <Py_ssize_t>(width * out_bytes), rows, width, in_bytes, out_bytes)
    return dst


def bitfield_rows(src, Py_ssize_t first, Py_ssize_t stride, dst, size_t rows, size_t width,
                  unsigned pixel_bytes, fields):
    """Pixels of 2 or 4 bytes unpacked by `fields`: a (shift, low-bit mask, lookup table) per channel."""
    cdef _Views v = _Views(src, dst)
    cdef unsigned shifts[4]
    cdef uint32_t masks[4]
    cdef const uint8_t* luts[4]
    cdef unsigned k, channels = len(fields)
    tables = [bytes(t) for _, _, t in fields]
    for k in range(channels):
        shifts[k], masks[k] = fields[k][0], fields[k][1]
        if len(tables[k]) <= masks[k] or shifts[k] > 31:
            raise ValueError("bmp: lookup table shorter than its mask")
        luts[k] = tables[k]
    _check_rows(&v.src, first, stride, rows, width * pixel_bytes)
    _check_rows(&v.dst, 0, width * channels, rows, width * channels)
    with nogil:
        bmp_bitfield_rows(<const uint8_t*>v.src.buf + first, stride, <uint8_t*>v.dst.buf, rows, width,
                          pixel_bytes, channels, shifts, masks, luts)
    return dst


def palette_rows(src, Py_ssize_t first, Py_ssize_t stride, dst, size_t rows, size_t width,
                 unsigned bits, const uint8_t[::1] palette, unsigned channels):
    """1/2/4/8-bit indices through a 256-entry palette of `channels` bytes per entry."""
    cdef _Views v = _Views(src, dst)
    if palette.shape[0] != 256 * channels or bits not in (1, 2, 4, 8):
        raise ValueError("bmp: the palette needs 256 entries")
    _check_rows(&v.src, first, stride, rows, (width * bits + 7) // 8)
    _check_rows(&v.dst, 0, width * channels, rows, width * channels)
    with nogil:
        bmp_palette_rows(<const uint8_t*>v.src.buf + first, stride, <uint8_t*>v.dst.buf, rows, width,
                         bits, &palette[0], channels)
    return dst


def rle_decode(src, Py_ssize_t offset, indices, size_t rows, size_t width, unsigned bits):
    """BI_RLE8 / BI_RLE4 data from `offset` into rows x width indices (zeroed by the caller)."""
    cdef _Views v = _Views(src, indices)
    cdef int r
    if not 0 <= offset <= v.src.len or v.dst.len != rows * width:
        raise ValueError("bmp: bad RLE buffers")
    with nogil:
        r = bmp_rle_decode(<const uint8_t*>v.src.buf + offset, <size_t>(v.src.len - offset),
                           <uint8_t*>v.dst.buf, rows, width, bits)
    if r != 0:
        raise DecodeError("bmp: truncated RLE data")
    return indices


def pack(header, image, size_t rows, size_t width, unsigned in_bytes, unsigned out_bytes,
         size_t stride, out=None):
    """`header` then the image's rows bottom-up, B and R swapped, each padded to `stride`
    bytes with zeros: a whole BMP file, as bytes or in `out`."""
    cdef Py_buffer h, s, o
    cdef BytesOut b
    cdef uint8_t* dst
    cdef size_t total, y, row_bytes = width * out_bytes
    get_input(header, &h)
    b.obj = NULL
    cdef bint has_src = False, has_out = False
    try:
        get_input(image, &s)
        has_src = True
        total = <size_t>h.len + rows * stride
        if <size_t>s.len != rows * width * in_bytes or stride < row_bytes:
            raise ValueError("bmp: image and row sizes disagree")
        if out is None:
            bytes_new(&b, <Py_ssize_t>total)
            dst = <uint8_t*>b.data
        else:
            get_output(out, &o)
            has_out = True
            if <size_t>o.len < total:
                raise EncodeError(f"bmp: output does not fit in {o.len} bytes")
            dst = <uint8_t*>o.buf
        with nogil:
            memcpy(dst, h.buf, <size_t>h.len)
            dst += h.len
            bmp_swap_rows(<const uint8_t*>s.buf + (rows - 1) * width * in_bytes,
                          -<Py_ssize_t>(width * in_bytes), dst, <Py_ssize_t>stride,
                          rows, width, in_bytes, out_bytes)
            if stride > row_bytes:
                for y in range(rows):
                    memset(dst + y * stride + row_bytes, 0, stride - row_bytes)
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>total)
        return memoryview(out).cast("B")[:total]
    finally:
        PyBuffer_Release(&h)
        if has_src:
            PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
