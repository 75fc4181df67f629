# cython: language_level=3, boundscheck=False, wraparound=False
"""Gain-map application (ISO 21496-1 / Ultra HDR) in our own C, GIL released."""

from libc.stdint cimport uint8_t
from opencodecs._native._buffers cimport *


cdef extern from "gainmap.h" nogil:
    ctypedef struct gainmap_params:
        float gain_min[3]
        float gain_max[3]
        float gamma[3]
        float offset_sdr[3]
        float offset_hdr[3]
        float weight
        int channels
        const float* before
        const float* after
    int GAINMAP_LINEAR_HALF, GAINMAP_HLG_U16
    void gainmap_init()
    int gainmap_apply(const uint8_t* sdr, int width, int height, const uint8_t* map,
                      int map_width, int map_height, const gainmap_params* params,
                      int mode, void* out, int row_begin, int row_end)


gainmap_init()

LINEAR_HALF, HLG_U16 = GAINMAP_LINEAR_HALF, GAINMAP_HLG_U16


def apply(sdr, int width, int height, gainmap, int map_width, int map_height, int channels,
          gain_min, gain_max, gamma, offset_sdr, offset_hdr, float weight, before, after,
          int mode, out, int row_begin, int row_end):
    """Rows [row_begin, row_end) of the HDR rendition into `out` (RGBA, 2 bytes
    a sample); `sdr` packed RGB uint8, `gainmap` packed grey or RGB uint8.
    The per-channel values are sequences of 3 floats; `before` and `after`
    row-major 3x3 matrices (9 floats) or None."""
    cdef Py_buffer s, m, o
    cdef gainmap_params p
    cdef float before_m[9]
    cdef float after_m[9]
    cdef int r, k
    for k in range(3):
        p.gain_min[k], p.gain_max[k], p.gamma[k] = gain_min[k], gain_max[k], gamma[k]
        p.offset_sdr[k], p.offset_hdr[k] = offset_sdr[k], offset_hdr[k]
    p.weight, p.channels = weight, channels
    p.before = p.after = NULL
    if before is not None:
        for k in range(9):
            before_m[k] = before[k]
        p.before = before_m
    if after is not None:
        for k in range(9):
            after_m[k] = after[k]
        p.after = after_m
    if channels not in (1, 3) or not 0 <= row_begin <= row_end <= height:
        raise ValueError("gain map: bad channel count or rows")
    get_input(sdr, &s)
    try:
        get_input(gainmap, &m)
        try:
            get_output(out, &o)
            try:
                if (s.len != <Py_ssize_t>width * height * 3
                        or m.len != <Py_ssize_t>map_width * map_height * channels
                        or o.len != <Py_ssize_t>width * height * 8):
                    raise ValueError("gain map: buffer sizes do not match the dimensions")
                with nogil:
                    r = gainmap_apply(<const uint8_t*>s.buf, width, height, <const uint8_t*>m.buf,
                                      map_width, map_height, &p, mode, o.buf, row_begin, row_end)
                if r != 0:
                    raise MemoryError("gain map: out of memory")
            finally:
                PyBuffer_Release(&o)
        finally:
            PyBuffer_Release(&m)
    finally:
        PyBuffer_Release(&s)
