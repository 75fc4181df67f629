# cython: language_level=3, boundscheck=False, wraparound=False
"""Brotli streams (libbrotlienc, libbrotlidec): one-shot encode, streaming decode, GIL released."""

from libc.stdint cimport uint8_t, uint32_t
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "brotli/encode.h" nogil:
    ctypedef enum BrotliEncoderMode:
        pass
    int BROTLI_MIN_QUALITY
    int BROTLI_MAX_QUALITY
    int BROTLI_MIN_WINDOW_BITS
    int BROTLI_MAX_WINDOW_BITS
    uint32_t BrotliEncoderVersion()
    size_t BrotliEncoderMaxCompressedSize(size_t)
    int BrotliEncoderCompress(int, int, BrotliEncoderMode, size_t, const uint8_t*, size_t*, uint8_t*)


cdef extern from "brotli/decode.h" nogil:
    ctypedef struct BrotliDecoderState
    ctypedef enum BrotliDecoderResult:
        BROTLI_DECODER_RESULT_ERROR
        BROTLI_DECODER_RESULT_SUCCESS
        BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT
        BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
    ctypedef int BrotliDecoderErrorCode
    BrotliDecoderState* BrotliDecoderCreateInstance(void*, void*, void*)
    void BrotliDecoderDestroyInstance(BrotliDecoderState*)
    BrotliDecoderResult BrotliDecoderDecompressStream(
        BrotliDecoderState*, size_t*, const uint8_t**, size_t*, uint8_t**, size_t*)
    BrotliDecoderErrorCode BrotliDecoderGetErrorCode(const BrotliDecoderState*)
    const char* BrotliDecoderErrorString(BrotliDecoderErrorCode)


MIN_LEVEL = BROTLI_MIN_QUALITY
MAX_LEVEL = BROTLI_MAX_QUALITY
MIN_WINDOW = BROTLI_MIN_WINDOW_BITS
MAX_WINDOW = BROTLI_MAX_WINDOW_BITS
_v = BrotliEncoderVersion()
VERSION = f"{_v >> 24}.{(_v >> 12) & 4095}.{_v & 4095}"


def encode(src, int level, int lgwin, int mode, out=None):
    """Compress `src` into one stream (into `out` if given: any size the stream fits)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef size_t size
    cdef uint8_t* dst
    cdef int ok
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is None:
            bytes_new(&b, <Py_ssize_t>BrotliEncoderMaxCompressedSize(<size_t>s.len))
            dst = <uint8_t*>b.data
            size = <size_t>b.size
        else:
            get_output(out, &o)
            has_out = True
            dst = <uint8_t*>o.buf
            size = <size_t>o.len
        with nogil:
            ok = BrotliEncoderCompress(level, lgwin, <BrotliEncoderMode>mode, <size_t>s.len,
                                       <const uint8_t*>s.buf, &size, dst)
        if not ok:
            if has_out:
                raise EncodeError(f"brotli: the stream does not fit into out's {o.len} bytes")
            raise EncodeError("brotli: compression failed")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>size)
        return memoryview(out).cast("B")[:size]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef Py_ssize_t _stream(BrotliDecoderState* st, const uint8_t* src, size_t n, BytesOut* b,
                        uint8_t* fixed, size_t fixed_size, size_t limit) except -1:
    """Decode one stream, growing `b` (or filling `fixed`); streams declare no size."""
    cdef uint8_t* dst = fixed if fixed != NULL else <uint8_t*>b.data
    cdef size_t cap = fixed_size if fixed != NULL else <size_t>b.size
    cdef size_t pos = 0, avail_in = n, avail_out
    cdef const uint8_t* next_in = src
    cdef uint8_t* next_out
    cdef BrotliDecoderResult r
    while True:
        next_out = dst + pos
        avail_out = cap - pos
        with nogil:
            r = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL)
        pos = cap - avail_out
        if r == BROTLI_DECODER_RESULT_SUCCESS:
            if avail_in:
                raise DecodeError(f"brotli: {avail_in} bytes of trailing data after the stream")
            return <Py_ssize_t>pos
        if r == BROTLI_DECODER_RESULT_ERROR:
            raise DecodeError(f"brotli: {BrotliDecoderErrorString(BrotliDecoderGetErrorCode(st)).decode()}")
        if r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            raise DecodeError("brotli: truncated stream")
        if fixed != NULL:
            raise DecodeError(f"brotli: data decodes to more than out's {fixed_size} bytes")
        if cap >= limit:
            raise DecodeError(f"brotli: data decodes to more than max_decoded_bytes={limit}")
        bytes_resize(b, <Py_ssize_t>min(limit, max(cap * 2, <size_t>65536)))
        dst = <uint8_t*>b.data
        cap = <size_t>b.size


def decode(src, out, Py_ssize_t max_size):
    """Decode one stream into bytes or into `out` (whose size must match exactly)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef Py_ssize_t n
    cdef BrotliDecoderState* st = NULL
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError("brotli: empty input")
        st = BrotliDecoderCreateInstance(NULL, NULL, NULL)
        if st == NULL:
            raise MemoryError("brotli: cannot create a decoder")
        if has_out:
            n = _stream(st, <const uint8_t*>s.buf, <size_t>s.len, NULL,
                        <uint8_t*>o.buf, <size_t>o.len, 0)
            if n != o.len:
                raise DecodeError(f"brotli: decoded {n} bytes, out has {o.len}")
            return out
        bytes_new(&b, min(max_size, max(s.len * 4, 65536)))
        n = _stream(st, <const uint8_t*>s.buf, <size_t>s.len, &b, NULL, 0, <size_t>max_size)
        return bytes_finish(&b, n)
    finally:
        if st != NULL:
            BrotliDecoderDestroyInstance(st)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
