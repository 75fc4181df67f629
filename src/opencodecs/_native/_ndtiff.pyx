# cython: language_level=3, boundscheck=False, wraparound=False
"""Scan an NDTiff.index in one native pass (the entries are variable-length)."""

from libc.stdint cimport uint32_t, int64_t
from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

# Per entry: axes JSON (offset, length), file name (offset, length), then the
# eight uint32 fields: pixel offset, width, height, pixel type, pixel
# compression, metadata offset, metadata length, metadata compression.
cdef enum:
    FIELDS = 12


cdef inline uint32_t _u32(const unsigned char* p) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, p, 4)  # the index is little-endian, like every host we build for
    return v


def scan_index(src):
    """(records as bytes of int64, entry count, bytes consumed).

    Stops at the end, at a zero axes length (an unterminated index), or at an
    entry cut short (a writer that died mid-entry): every complete entry counts.
    """
    cdef Py_buffer s
    cdef BytesOut b
    cdef const unsigned char* p
    cdef size_t n, pos = 0, count = 0, cap, alen, flen
    cdef int64_t* rec
    cdef int k
    get_input(src, &s)
    b.obj = NULL
    try:
        p = <const unsigned char*>s.buf
        n = <size_t>s.len
        cap = n // 44 + 1  # an entry takes at least 4 + 4 + 32 + a few bytes
        bytes_new(&b, <Py_ssize_t>(cap * FIELDS * 8))
        rec = <int64_t*>b.data
        with nogil:
            while pos + 4 <= n and count < cap:
                alen = _u32(p + pos)
                if alen == 0 or alen > n - pos - 4:
                    break
                if pos + 4 + alen + 4 > n:
                    break
                flen = _u32(p + pos + 4 + alen)
                if flen > n - (pos + 8 + alen) or pos + 8 + alen + flen + 32 > n:
                    break
                rec[0] = <int64_t>(pos + 4)
                rec[1] = <int64_t>alen
                rec[2] = <int64_t>(pos + 8 + alen)
                rec[3] = <int64_t>flen
                for k in range(8):
                    rec[4 + k] = _u32(p + pos + 8 + alen + flen + 4 * k)
                pos += 8 + alen + flen + 32
                rec += FIELDS
                count += 1
        return bytes_finish(&b, <Py_ssize_t>(count * FIELDS * 8)), count, pos
    finally:
        PyBuffer_Release(&s)
        bytes_free(&b)
