# cython: language_level=3, boundscheck=False, wraparound=False
"""Zstandard (libzstd) frames: one-shot encode and decode, GIL released."""

from libc.stdint cimport uint64_t
from opencodecs._native._buffers cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "zstd_static.h" nogil:
    ctypedef struct ZSTD_CCtx
    ctypedef struct ZSTD_DCtx
    ctypedef enum ZSTD_cParameter:
        ZSTD_c_compressionLevel
        ZSTD_c_nbWorkers
        ZSTD_c_checksumFlag
    ctypedef enum ZSTD_ResetDirective:
        ZSTD_reset_session_only
        ZSTD_reset_session_and_parameters
    ctypedef struct ZSTD_inBuffer:
        const void* src
        size_t size
        size_t pos
    ctypedef struct ZSTD_outBuffer:
        void* dst
        size_t size
        size_t pos
    unsigned long long ZSTD_CONTENTSIZE_UNKNOWN
    unsigned long long ZSTD_CONTENTSIZE_ERROR
    int ZSTD_minCLevel()
    int ZSTD_maxCLevel()
    size_t ZSTD_compressBound(size_t)
    unsigned ZSTD_isError(size_t)
    const char* ZSTD_getErrorName(size_t)
    unsigned long long ZSTD_findDecompressedSize(const void*, size_t)
    unsigned long long ZSTD_decompressBound(const void*, size_t)
    ZSTD_CCtx* ZSTD_createCCtx()
    size_t ZSTD_freeCCtx(ZSTD_CCtx*)
    size_t ZSTD_CCtx_reset(ZSTD_CCtx*, ZSTD_ResetDirective)
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx*, ZSTD_cParameter, int)
    size_t ZSTD_compress2(ZSTD_CCtx*, void*, size_t, const void*, size_t)
    ZSTD_DCtx* ZSTD_createDCtx()
    size_t ZSTD_freeDCtx(ZSTD_DCtx*)
    size_t ZSTD_DCtx_reset(ZSTD_DCtx*, ZSTD_ResetDirective)
    size_t ZSTD_decompressDCtx(ZSTD_DCtx*, void*, size_t, const void*, size_t)
    size_t ZSTD_decompressStream(ZSTD_DCtx*, ZSTD_outBuffer*, ZSTD_inBuffer*)


MIN_LEVEL = ZSTD_minCLevel()
MAX_LEVEL = ZSTD_maxCLevel()

# Contexts are large (~100-200 KiB) and costly to set up: keep one per thread.
cdef void _free_cctx(void* p) noexcept nogil:
    ZSTD_freeCCtx(<ZSTD_CCtx*>p)

cdef void _free_dctx(void* p) noexcept nogil:
    ZSTD_freeDCtx(<ZSTD_DCtx*>p)

cdef ThreadLocal _cctx_key
cdef ThreadLocal _dctx_key
tls_init(&_cctx_key, _free_cctx)
tls_init(&_dctx_key, _free_dctx)


cdef ZSTD_CCtx* _cctx() except NULL:
    cdef ZSTD_CCtx* c = <ZSTD_CCtx*>tls_get(&_cctx_key)
    if c == NULL:
        c = ZSTD_createCCtx()
        if c == NULL:
            raise MemoryError("zstd: cannot create a compression context")
        tls_set(&_cctx_key, c)
    return c


cdef ZSTD_DCtx* _dctx() except NULL:
    cdef ZSTD_DCtx* d = <ZSTD_DCtx*>tls_get(&_dctx_key)
    if d == NULL:
        d = ZSTD_createDCtx()
        if d == NULL:
            raise MemoryError("zstd: cannot create a decompression context")
        tls_set(&_dctx_key, d)
    return d


def encode(src, int level, int numthreads, out=None):
    """Compress `src` into one frame that records its content size."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef size_t r, bound
    cdef char* dst
    cdef ZSTD_CCtx* c = _cctx()
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        bound = ZSTD_compressBound(<size_t>s.len)
        if out is None:
            bytes_new(&b, <Py_ssize_t>bound)
            dst = b.data
        else:
            get_output(out, &o)
            has_out = True
            dst = <char*>o.buf
            bound = <size_t>o.len
        with nogil:
            ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters)
            ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)
            if numthreads > 1:
                r = ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, numthreads)
            r = ZSTD_compress2(c, dst, bound, s.buf, <size_t>s.len)
        if ZSTD_isError(r):
            raise EncodeError(f"zstd: {ZSTD_getErrorName(r).decode()}")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>r)
        return memoryview(out).cast("B")[:r]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef Py_ssize_t _stream(ZSTD_DCtx* d, const void* src, size_t n, BytesOut* b,
                        char* fixed, size_t fixed_size, size_t limit) except -1:
    """Decode frames without a recorded size, growing `b` (or filling `fixed`)."""
    cdef ZSTD_inBuffer ib
    cdef ZSTD_outBuffer ob
    cdef size_t r = 0
    ib.src = src; ib.size = n; ib.pos = 0
    if fixed != NULL:
        ob.dst = fixed; ob.size = fixed_size
    else:
        ob.dst = b.data; ob.size = <size_t>b.size
    ob.pos = 0
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only)
    while True:
        with nogil:
            while ib.pos < ib.size and ob.pos < ob.size:
                r = ZSTD_decompressStream(d, &ob, &ib)
                if ZSTD_isError(r):
                    break
        if ZSTD_isError(r):
            raise DecodeError(f"zstd: {ZSTD_getErrorName(r).decode()}")
        if ib.pos == ib.size:
            if r != 0:
                raise DecodeError("zstd: truncated frame")
            return <Py_ssize_t>ob.pos
        # Output full with input left: a fixed buffer is too small; else grow.
        if fixed != NULL:
            raise DecodeError(f"zstd: data decodes to more than out's {fixed_size} bytes")
        if ob.size >= limit:
            raise DecodeError(f"zstd: data decodes to more than max_decoded_bytes={limit}")
        bytes_resize(b, <Py_ssize_t>min(limit, ob.size * 2))
        ob.dst = b.data
        ob.size = <size_t>b.size


def decode(src, out, Py_ssize_t max_size):
    """Decode one or more concatenated frames into bytes or into `out`."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef unsigned long long size, bound
    cdef size_t r
    cdef char* dst = NULL
    cdef Py_ssize_t n
    cdef ZSTD_DCtx* d = _dctx()
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
            dst = <char*>o.buf
        if s.len == 0:
            raise DecodeError("zstd: empty input")
        size = ZSTD_findDecompressedSize(s.buf, <size_t>s.len)
        if size == ZSTD_CONTENTSIZE_ERROR:
            raise DecodeError("zstd: not a valid zstd frame (bad magic, header or truncated)")
        if size == ZSTD_CONTENTSIZE_UNKNOWN:
            bound = ZSTD_decompressBound(s.buf, <size_t>s.len)
            if bound == ZSTD_CONTENTSIZE_ERROR:
                raise DecodeError("zstd: corrupt frame")
            bound = min(bound, <unsigned long long>max_size)
            if out is not None:
                n = _stream(d, s.buf, <size_t>s.len, NULL, dst, <size_t>o.len, <size_t>bound)
                if n != o.len:
                    raise DecodeError(f"zstd: decoded {n} bytes, out has {o.len}")
                return out
            bytes_new(&b, <Py_ssize_t>min(bound, max(<unsigned long long>s.len * 4, 1 << 16)))
            n = _stream(d, s.buf, <size_t>s.len, &b, NULL, 0, <size_t>bound)
            return bytes_finish(&b, n)
        # A frame decodes to at most 128 KiB per 4 input bytes (an RLE block).
        if size > <unsigned long long>max_size:
            raise DecodeError(f"zstd: frame declares {size} bytes, over max_decoded_bytes={max_size}")
        if size > <unsigned long long>s.len * 32768 + 131072:
            raise DecodeError(f"zstd: frame declares {size} bytes, more than {s.len} input bytes can hold")
        if out is None:
            bytes_new(&b, <Py_ssize_t>size)
            dst = b.data
        elif <unsigned long long>o.len != size:
            raise DecodeError(f"zstd: frame decodes to {size} bytes, out has {o.len}")
        with nogil:
            r = ZSTD_decompressDCtx(d, dst, <size_t>size, s.buf, <size_t>s.len)
        if ZSTD_isError(r):
            raise DecodeError(f"zstd: {ZSTD_getErrorName(r).decode()}")
        if r != size:
            raise DecodeError(f"zstd: frame declares {size} bytes but holds {r}")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>r)
        return out
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
