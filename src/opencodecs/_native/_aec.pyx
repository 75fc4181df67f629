# cython: language_level=3, boundscheck=False, wraparound=False
"""CCSDS 121.0-B-2 adaptive entropy coding (libaec): one-shot encode and decode, GIL released.

libaec's stream records none of its coding parameters (bits per sample, block
size, reference sample interval, flags): the caller passes them both ways.
"""

from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "libaec.h" nogil:
    struct aec_stream:
        const unsigned char* next_in
        size_t avail_in
        size_t total_in
        unsigned char* next_out
        size_t avail_out
        size_t total_out
        unsigned int bits_per_sample
        unsigned int block_size
        unsigned int rsi
        unsigned int flags
    enum:
        AEC_OK
        AEC_CONF_ERROR
        AEC_STREAM_ERROR
        AEC_DATA_ERROR
        AEC_MEM_ERROR
    int aec_buffer_encode(aec_stream* strm)
    int aec_buffer_decode(aec_stream* strm)


_ERRORS = {AEC_CONF_ERROR: "invalid parameters", AEC_STREAM_ERROR: "stream error",
           AEC_DATA_ERROR: "corrupt data", AEC_MEM_ERROR: "out of memory"}


cdef void _setup(aec_stream* strm, const void* src, size_t n, void* dst, size_t capacity,
                 unsigned int bits, unsigned int block, unsigned int rsi,
                 unsigned int flags) noexcept nogil:
    memset(strm, 0, sizeof(aec_stream))
    strm.next_in = <const unsigned char*>src
    strm.avail_in = n
    strm.next_out = <unsigned char*>dst
    strm.avail_out = capacity
    strm.bits_per_sample = bits
    strm.block_size = block
    strm.rsi = rsi
    strm.flags = flags


def encode(src, unsigned int bits, unsigned int block, unsigned int rsi, unsigned int flags,
           const unsigned char[:] prefix, out=None):
    """`prefix` followed by the coded samples of `src`, as bytes or into `out`."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef aec_stream strm
    cdef char* dst
    cdef size_t capacity
    cdef size_t head = prefix.shape[0]
    cdef int r
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is None:
            # An incompressible block costs its samples plus at most 3 ID bits
            # per 8 bytes (n/21); padded to bytes per RSI (PAD_RSI), n/8.
            capacity = head + <size_t>s.len + <size_t>s.len // 8 + 256
            bytes_new(&b, <Py_ssize_t>capacity)
            dst = b.data
        else:
            get_output(out, &o)
            has_out = True
            dst = <char*>o.buf
            capacity = <size_t>o.len
        if capacity < head:
            raise EncodeError(f"aec: output needs more than {capacity} bytes")
        if head:
            memcpy(dst, &prefix[0], head)
        with nogil:
            _setup(&strm, s.buf, <size_t>s.len, dst + head, capacity - head,
                   bits, block, rsi, flags)
            r = aec_buffer_encode(&strm)
        if r != AEC_OK:
            raise EncodeError(f"aec: {_ERRORS.get(r, r)}")
        if strm.avail_in:
            raise EncodeError(f"aec: output needs more than {capacity} bytes")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>(head + strm.total_out))
        return memoryview(out).cast("B")[:head + strm.total_out]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


def decode(src, out, unsigned int bits, unsigned int block, unsigned int rsi, unsigned int flags):
    """Decode `src` into `out`, which the stream must fill exactly."""
    cdef Py_buffer s, o
    cdef aec_stream strm
    cdef int r
    get_input(src, &s)
    try:
        get_output(out, &o)
    except BaseException:
        PyBuffer_Release(&s)
        raise
    try:
        with nogil:
            _setup(&strm, s.buf, <size_t>s.len, o.buf, <size_t>o.len, bits, block, rsi, flags)
            r = aec_buffer_decode(&strm)
        if r != AEC_OK:
            raise DecodeError(f"aec: {_ERRORS.get(r, r)}")
        if strm.avail_out:
            raise DecodeError(f"aec: stream ends after {strm.total_out} of {o.len} bytes "
                              "(truncated, or coded with other parameters)")
        return out
    finally:
        PyBuffer_Release(&s)
        PyBuffer_Release(&o)
