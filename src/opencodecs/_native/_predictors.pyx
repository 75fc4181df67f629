# cython: language_level=3, boundscheck=False, wraparound=False
"""TIFF predictors 2 and 3 (our own C in predictors.c), in place, GIL released."""

from libc.stdlib cimport malloc, free
from opencodecs._native._buffers cimport *


cdef extern from "predictors.h" nogil:
    void horizontal_decode(void* data, size_t rows, size_t cols, size_t spp, int itemsize)
    void horizontal_encode(void* data, size_t rows, size_t cols, size_t spp, int itemsize)
    void floatpred_decode(unsigned char* data, size_t rows, size_t cols, size_t spp, int itemsize,
                          unsigned char* scratch)
    void floatpred_encode(unsigned char* data, size_t rows, size_t cols, size_t spp, int itemsize,
                          unsigned char* scratch)


def apply(data, int predictor, bint decode, size_t rows, size_t cols, size_t spp, int itemsize):
    """Undo (decode) or apply a predictor in place on a writable contiguous buffer.

    The caller has checked rows * cols * spp * itemsize == the buffer's size.
    """
    cdef Py_buffer v
    cdef unsigned char* scratch = NULL
    get_output(data, &v)
    try:
        if predictor == 3:
            scratch = <unsigned char*>malloc(cols * spp * itemsize + 1)
            if scratch == NULL:
                raise MemoryError("predictor: out of memory")
        with nogil:
            if predictor == 2 and decode:
                horizontal_decode(v.buf, rows, cols, spp, itemsize)
            elif predictor == 2:
                horizontal_encode(v.buf, rows, cols, spp, itemsize)
            elif decode:
                floatpred_decode(<unsigned char*>v.buf, rows, cols, spp, itemsize, scratch)
            else:
                floatpred_encode(<unsigned char*>v.buf, rows, cols, spp, itemsize, scratch)
    finally:
        free(scratch)
        PyBuffer_Release(&v)
