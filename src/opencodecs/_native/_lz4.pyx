# cython: language_level=3, boundscheck=False, wraparound=False
"""LZ4 frames (liblz4, lz4frame.h): one-shot encode, streaming decode, GIL released."""

from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "lz4frame.h" nogil:
    ctypedef enum LZ4F_blockMode_t:
        LZ4F_blockLinked
        LZ4F_blockIndependent
    ctypedef enum LZ4F_contentChecksum_t:
        LZ4F_noContentChecksum
        LZ4F_contentChecksumEnabled
    ctypedef enum LZ4F_frameType_t:
        LZ4F_frame
        LZ4F_skippableFrame
    ctypedef struct LZ4F_frameInfo_t:
        LZ4F_blockMode_t blockMode
        LZ4F_contentChecksum_t contentChecksumFlag
        LZ4F_frameType_t frameType
        unsigned long long contentSize
    ctypedef struct LZ4F_preferences_t:
        LZ4F_frameInfo_t frameInfo
        int compressionLevel
    ctypedef struct LZ4F_dctx
    unsigned LZ4F_VERSION
    unsigned LZ4F_isError(size_t)
    const char* LZ4F_getErrorName(size_t)
    int LZ4F_compressionLevel_max()
    size_t LZ4F_compressFrameBound(size_t, const LZ4F_preferences_t*)
    size_t LZ4F_compressFrame(void*, size_t, const void*, size_t, const LZ4F_preferences_t*)
    size_t LZ4F_createDecompressionContext(LZ4F_dctx**, unsigned)
    size_t LZ4F_freeDecompressionContext(LZ4F_dctx*)
    void LZ4F_resetDecompressionContext(LZ4F_dctx*)
    size_t LZ4F_getFrameInfo(LZ4F_dctx*, LZ4F_frameInfo_t*, const void*, size_t*)
    size_t LZ4F_decompress(LZ4F_dctx*, void*, size_t*, const void*, size_t*, const void*)


MAX_LEVEL = LZ4F_compressionLevel_max()

# Each compressed byte decodes to at most 255 bytes (a match-length byte).
cdef unsigned long long MAX_RATIO = 255

# A decompression context holds up to two block buffers (4 MiB blocks): keep one per thread.
cdef void _free_dctx(void* p) noexcept nogil:
    LZ4F_freeDecompressionContext(<LZ4F_dctx*>p)

cdef ThreadLocal _dctx_key
tls_init(&_dctx_key, _free_dctx)


cdef LZ4F_dctx* _dctx() except NULL:
    cdef LZ4F_dctx* d = <LZ4F_dctx*>tls_get(&_dctx_key)
    if d == NULL:
        if LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)):
            raise MemoryError("lz4: cannot create a decompression context")
        tls_set(&_dctx_key, d)
    return d


def encode(src, int level, bint content_checksum, bint block_linked, out=None):
    """Compress `src` into one frame that records its content size."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef LZ4F_preferences_t prefs
    cdef size_t r, bound
    cdef char* dst
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        memset(&prefs, 0, sizeof(prefs))
        prefs.compressionLevel = level
        prefs.frameInfo.contentSize = <unsigned long long>s.len  # 0 leaves it out
        prefs.frameInfo.blockMode = LZ4F_blockLinked if block_linked else LZ4F_blockIndependent
        if content_checksum:
            prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        bound = LZ4F_compressFrameBound(<size_t>s.len, &prefs)
        if out is not None:
            get_output(out, &o)
            has_out = True
        # LZ4F_compressFrame needs room for the worst case: a smaller `out`
        # gets the frame through a bytes object, if it fits.
        if has_out and <size_t>o.len >= bound:
            dst = <char*>o.buf
        else:
            bytes_new(&b, <Py_ssize_t>bound)
            dst = b.data
        with nogil:
            r = LZ4F_compressFrame(dst, bound, s.buf, <size_t>s.len, &prefs)
        if LZ4F_isError(r):
            raise EncodeError(f"lz4: {LZ4F_getErrorName(r).decode()}")
        if not has_out:
            return bytes_finish(&b, <Py_ssize_t>r)
        if b.obj != NULL:  # went through a bytes object
            if r > <size_t>o.len:
                raise EncodeError(f"lz4: {r} encoded bytes do not fit into out's {o.len}")
            memcpy(o.buf, dst, r)
        return memoryview(out).cast("B")[:r]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef Py_ssize_t _stream(LZ4F_dctx* d, const char* src, size_t n, size_t pos_in,
                        BytesOut* b, char* fixed, size_t fixed_size, size_t limit) except -1:
    """Decode every frame of src[pos_in:], growing `b` (or filling `fixed`)."""
    cdef char* dst = fixed if fixed != NULL else b.data
    cdef size_t cap = fixed_size if fixed != NULL else <size_t>b.size
    cdef size_t pos = 0, dsize, ssize, r = 1
    while True:
        with nogil:
            while True:
                dsize = cap - pos
                ssize = n - pos_in
                r = LZ4F_decompress(d, dst + pos, &dsize, src + pos_in, &ssize, NULL)
                if LZ4F_isError(r):
                    break
                pos += dsize
                pos_in += ssize
                if (r == 0 and pos_in == n) or (dsize == 0 and ssize == 0):
                    break
        if LZ4F_isError(r):
            raise DecodeError(f"lz4: {LZ4F_getErrorName(r).decode()}")
        if r == 0 and pos_in == n:
            return <Py_ssize_t>pos
        # No progress: the input ended mid-frame, or the output is full.
        if pos < cap:
            raise DecodeError("lz4: truncated frame")
        if fixed != NULL:
            raise DecodeError(f"lz4: data decodes to more than out's {fixed_size} bytes")
        if cap >= limit:
            raise DecodeError(f"lz4: data decodes to more than {limit} bytes "
                              "(max_decoded_bytes or what the input can hold)")
        bytes_resize(b, <Py_ssize_t>min(limit, max(cap * 2, <size_t>65536)))
        dst = b.data
        cap = <size_t>b.size


cdef bint _is_frame(const unsigned char* p, size_t n) noexcept nogil:
    return n >= 4 and p[0] == 0x04 and p[1] == 0x22 and p[2] == 0x4D and p[3] == 0x18


def decode(src, out, Py_ssize_t max_size):
    """Decode one or more concatenated (or skippable) frames into bytes or into `out`."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef LZ4F_frameInfo_t info
    cdef size_t r, header = 0
    cdef unsigned long long size = 0, limit
    cdef Py_ssize_t n
    cdef LZ4F_dctx* d = _dctx()
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError("lz4: empty input")
        LZ4F_resetDecompressionContext(d)
        limit = min(<unsigned long long>max_size, <unsigned long long>s.len * MAX_RATIO)
        if _is_frame(<const unsigned char*>s.buf, <size_t>s.len):
            # Read the first header: its content size (if recorded) sizes the output.
            header = <size_t>s.len
            r = LZ4F_getFrameInfo(d, &info, s.buf, &header)
            if LZ4F_isError(r):
                raise DecodeError(f"lz4: bad frame header: {LZ4F_getErrorName(r).decode()}")
            size = info.contentSize
            if size > <unsigned long long>max_size:
                raise DecodeError(f"lz4: frame declares {size} bytes, over max_decoded_bytes={max_size}")
            if size > <unsigned long long>s.len * MAX_RATIO:
                raise DecodeError(f"lz4: frame declares {size} bytes, more than {s.len} input bytes can hold")
        if has_out:
            n = _stream(d, <const char*>s.buf, <size_t>s.len, header, NULL,
                        <char*>o.buf, <size_t>o.len, 0)
            if n != o.len:
                raise DecodeError(f"lz4: decoded {n} bytes, out has {o.len}")
            return out
        if size == 0:
            size = min(limit, max(<unsigned long long>s.len * 4, 65536))
        bytes_new(&b, <Py_ssize_t>size)
        n = _stream(d, <const char*>s.buf, <size_t>s.len, header, &b, NULL, 0, <size_t>limit)
        return bytes_finish(&b, n)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
