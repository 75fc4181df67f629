# cython: language_level=3, boundscheck=False, wraparound=False
"""Raw DEFLATE, zlib and gzip streams through libdeflate: one-shot, GIL released."""

from opencodecs._native._buffers cimport *
from opencodecs._native._sizing cimport (DEFLATE_MAX_RATIO, expansion_limit, first_guess,
                                        grown, gzip_isize_hint)
from opencodecs._native._libdeflate cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init

from opencodecs.core.errors import DecodeError, EncodeError


# Stream formats (the `fmt` argument).
cdef enum:
    RAW = 0
    ZLIB = 1
    GZIP = 2
MIN_LEVEL, MAX_LEVEL = 0, 12


cdef ThreadLocal _compressor_key
cdef ThreadLocal _decompressor_key
tls_init(&_compressor_key, free_level_compressor)
tls_init(&_decompressor_key, free_decompressor)


cdef inline libdeflate_compressor* _compressor(int level) except NULL:
    return thread_compressor(&_compressor_key, level)


cdef inline libdeflate_decompressor* _decompressor() except NULL:
    return thread_decompressor(&_decompressor_key)


cdef size_t _bound(libdeflate_compressor* c, int fmt, size_t n) noexcept nogil:
    if fmt == GZIP:
        return libdeflate_gzip_compress_bound(c, n)
    if fmt == ZLIB:
        return libdeflate_zlib_compress_bound(c, n)
    return libdeflate_deflate_compress_bound(c, n)


cdef size_t _compress(libdeflate_compressor* c, int fmt, const void* src, size_t n,
                      void* dst, size_t cap) noexcept nogil:
    if fmt == GZIP:
        return libdeflate_gzip_compress(c, src, n, dst, cap)
    if fmt == ZLIB:
        return libdeflate_zlib_compress(c, src, n, dst, cap)
    return libdeflate_deflate_compress(c, src, n, dst, cap)


cdef libdeflate_result _decompress(libdeflate_decompressor* d, int fmt, const void* src, size_t n,
                                   void* dst, size_t cap, size_t* used_in,
                                   size_t* used_out) noexcept nogil:
    if fmt == GZIP:
        return libdeflate_gzip_decompress_ex(d, src, n, dst, cap, used_in, used_out)
    if fmt == ZLIB:
        return libdeflate_zlib_decompress_ex(d, src, n, dst, cap, used_in, used_out)
    return libdeflate_deflate_decompress_ex(d, src, n, dst, cap, used_in, used_out)


cdef str _name(int fmt):
    return "gzip" if fmt == GZIP else "deflate"


def encode(src, int level, int fmt, out=None):
    """Compress `src` into one stream of format `fmt` (RAW, ZLIB or GZIP)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef size_t r, cap
    cdef char* dst
    cdef libdeflate_compressor* c = _compressor(level)
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is None:
            cap = _bound(c, fmt, <size_t>s.len)
            bytes_new(&b, <Py_ssize_t>cap)
            dst = b.data
        else:
            get_output(out, &o)
            has_out = True
            dst = <char*>o.buf
            cap = <size_t>o.len
        with nogil:
            r = _compress(c, fmt, s.buf, <size_t>s.len, dst, cap)
        if r == 0:
            raise EncodeError(f"{_name(fmt)}: output does not fit in {cap} bytes")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>r)
        return memoryview(out).cast("B")[:r]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef Py_ssize_t _inflate(libdeflate_decompressor* d, int fmt, const char* src, size_t n,
                         BytesOut* b, char* fixed, size_t fixed_size, size_t limit,
                         size_t max_size) except -1:
    """Decode the stream (every gzip member) into `b`, grown up to `limit`, or into `fixed`.

    libdeflate decodes a stream in one call into a buffer that must be large
    enough: on INSUFFICIENT_SPACE the buffer grows and the member is redone.
    """
    cdef size_t pos_in = 0, pos_out = 0, used_in = 0, used_out = 0, cap, want
    cdef char* dst
    cdef libdeflate_result r
    while True:
        if fixed != NULL:
            dst = fixed
            cap = fixed_size
        else:
            if fmt == GZIP:
                want = min(limit, pos_out + gzip_isize_hint(<const unsigned char*>src + pos_in, n - pos_in))
                if <size_t>b.size < want:  # exact for one member, geometric over many
                    bytes_resize(b, <Py_ssize_t>min(limit, max(want, <size_t>b.size * 2)))
            dst = b.data
            cap = <size_t>b.size
        with nogil:
            r = _decompress(d, fmt, src + pos_in, n - pos_in, dst + pos_out, cap - pos_out,
                            &used_in, &used_out)
        if r == LIBDEFLATE_INSUFFICIENT_SPACE:
            if fixed != NULL:
                raise DecodeError(f"{_name(fmt)}: data decodes to more than out's {fixed_size} bytes")
            if cap >= limit:
                if limit == max_size:
                    raise DecodeError(f"{_name(fmt)}: data decodes to more than "
                                      f"max_decoded_bytes={max_size}")
                raise DecodeError(f"{_name(fmt)}: corrupt data (expands beyond deflate's "
                                  f"{DEFLATE_MAX_RATIO}:1 limit)")
            bytes_resize(b, <Py_ssize_t>grown(cap, limit))
            continue
        if r != LIBDEFLATE_SUCCESS:
            raise DecodeError(f"{_name(fmt)}: corrupt or truncated data")
        pos_in += used_in
        pos_out += used_out
        if fmt != GZIP:
            return <Py_ssize_t>pos_out  # like zlib, ignore bytes after the stream
        # Concatenated members form one file; zero padding may follow any.
        while pos_in < n and src[pos_in] == 0:
            pos_in += 1
        if pos_in == n:
            return <Py_ssize_t>pos_out


def decode(src, int fmt, out, Py_ssize_t max_size):
    """Decode a stream of format `fmt` into bytes, or into `out` (exact size)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef Py_ssize_t n
    cdef size_t limit, start
    cdef libdeflate_decompressor* d = _decompressor()
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError(f"{_name(fmt)}: empty input")
        limit = expansion_limit(<size_t>s.len, DEFLATE_MAX_RATIO, <size_t>max_size)
        if has_out:
            n = _inflate(d, fmt, <const char*>s.buf, <size_t>s.len, NULL, <char*>o.buf,
                         <size_t>o.len, limit, <size_t>max_size)
            if n != o.len:
                raise DecodeError(f"{_name(fmt)}: decoded {n} bytes, out has {o.len}")
            return out
        # gzip sizes itself from the member trailer; zlib and raw start from a guess.
        start = 0 if fmt == GZIP else first_guess(<size_t>s.len, limit)
        bytes_new(&b, <Py_ssize_t>start)
        n = _inflate(d, fmt, <const char*>s.buf, <size_t>s.len, &b, NULL, 0, limit,
                     <size_t>max_size)
        return bytes_finish(&b, n)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
