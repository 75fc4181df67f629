# cython: language_level=3, boundscheck=False, wraparound=False
"""Raw DEFLATE, zlib and gzip streams through Intel ISA-L (igzip), GIL released."""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, UINT32_MAX
from libc.stdlib cimport malloc, free
from opencodecs._native._buffers cimport *
from opencodecs._native._sizing cimport (DEFLATE_MAX_RATIO, expansion_limit, first_guess,
                                        grown, gzip_isize_hint)
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "isa-l.h" nogil:
    enum:
        ISAL_DEF_MIN_LEVEL
        ISAL_DEF_MAX_LEVEL
        ISAL_DEF_LVL0_DEFAULT
        ISAL_DEF_LVL1_DEFAULT
        ISAL_DEF_LVL2_DEFAULT
        ISAL_DEF_LVL3_DEFAULT
        IGZIP_DEFLATE
        IGZIP_GZIP
        IGZIP_ZLIB
        ISAL_DEFLATE
        ISAL_GZIP
        ISAL_ZLIB
        NO_FLUSH
        FULL_FLUSH
        COMP_OK
        ISAL_DECOMP_OK
        ISAL_INVALID_BLOCK
        ISAL_INVALID_SYMBOL
        ISAL_INVALID_LOOKBACK
        ISAL_INVALID_WRAPPER
        ISAL_UNSUPPORTED_METHOD
        ISAL_INCORRECT_CHECKSUM
        ISAL_NEED_DICT
    enum isal_zstate_state:
        ZSTATE_END
    enum isal_block_state:
        ISAL_BLOCK_FINISH
    struct isal_zstate:
        isal_zstate_state state
    struct isal_zstream:
        uint8_t* next_in
        uint32_t avail_in
        uint8_t* next_out
        uint32_t avail_out
        uint32_t level
        uint32_t level_buf_size
        uint8_t* level_buf
        uint16_t end_of_stream
        uint16_t flush
        uint16_t gzip_flag
        isal_zstate internal_state
    struct inflate_state:
        uint8_t* next_out
        uint32_t avail_out
        uint8_t* next_in
        uint32_t avail_in
        int32_t read_in_length
        isal_block_state block_state
        uint32_t crc_flag
    void isal_deflate_init(isal_zstream*)
    int isal_deflate(isal_zstream*)
    void isal_inflate_init(inflate_state*)
    int isal_inflate(inflate_state*)


# Stream formats (the `fmt` argument), as in _deflate.
cdef enum:
    RAW = 0
    ZLIB = 1
    GZIP = 2
MIN_LEVEL, MAX_LEVEL = ISAL_DEF_MIN_LEVEL, ISAL_DEF_MAX_LEVEL

cdef uint16_t[3] _ENCODE_WRAPPER = [IGZIP_DEFLATE, IGZIP_ZLIB, IGZIP_GZIP]
cdef uint32_t[3] _DECODE_WRAPPER = [ISAL_DEFLATE, ISAL_ZLIB, ISAL_GZIP]
# Each level's working buffer, at the size ISA-L (and python-isal) default to.
cdef uint32_t[4] _LEVEL_BUF_SIZE = [ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                    ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT]


cdef struct Deflater:
    # ~100 KiB of stream state plus up to ~350 KiB of level buffer: one per thread.
    isal_zstream z
    uint8_t* level_buf

cdef void _free_deflater(void* p) noexcept nogil:
    free((<Deflater*>p).level_buf)
    free(p)

cdef void _free_inflater(void* p) noexcept nogil:
    free(p)

cdef ThreadLocal _deflater_key
cdef ThreadLocal _inflater_key
tls_init(&_deflater_key, _free_deflater)
tls_init(&_inflater_key, _free_inflater)


cdef Deflater* _deflater() except NULL:
    cdef Deflater* k = <Deflater*>tls_get(&_deflater_key)
    if k == NULL:
        k = <Deflater*>malloc(sizeof(Deflater))
        if k == NULL:
            raise MemoryError("isal: cannot allocate a compressor")
        k.level_buf = <uint8_t*>malloc(max(_LEVEL_BUF_SIZE[0], _LEVEL_BUF_SIZE[1],
                                           _LEVEL_BUF_SIZE[2], _LEVEL_BUF_SIZE[3]))
        if k.level_buf == NULL:
            free(k)
            raise MemoryError("isal: cannot allocate a compressor")
        tls_set(&_deflater_key, k)
    return k


cdef inflate_state* _inflater() except NULL:
    cdef inflate_state* st = <inflate_state*>tls_get(&_inflater_key)
    if st == NULL:
        st = <inflate_state*>malloc(sizeof(inflate_state))
        if st == NULL:
            raise MemoryError("isal: cannot allocate a decompressor")
        tls_set(&_inflater_key, st)
    return st


cdef str _name(int fmt):
    return "gzip" if fmt == GZIP else "deflate"


cdef inline uint32_t _chunk(size_t n) noexcept nogil:
    """ISA-L counts bytes in 32 bits: feed at most this many per call."""
    return <uint32_t>min(n, <size_t>UINT32_MAX)


def encode(src, int level, int fmt, out=None):
    """Compress `src` into one stream of format `fmt` (RAW, ZLIB or GZIP)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef size_t in_left, pos_out = 0, cap
    cdef uint32_t add
    cdef char* base
    cdef int r
    cdef Deflater* k = _deflater()
    cdef isal_zstream* z = &k.z
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is None:
            # Level 0 expands random data by up to ~23%; grown if ever short.
            bytes_new(&b, s.len + s.len // 4 + 1024)
        else:
            get_output(out, &o)
            has_out = True
        with nogil:
            isal_deflate_init(z)
        z.level = level
        z.level_buf = k.level_buf
        z.level_buf_size = _LEVEL_BUF_SIZE[level]
        z.gzip_flag = _ENCODE_WRAPPER[fmt]
        z.next_in = <uint8_t*>s.buf
        z.avail_in = 0
        in_left = <size_t>s.len
        while z.internal_state.state != ZSTATE_END:
            add = _chunk(min(in_left, UINT32_MAX - z.avail_in))
            z.avail_in += add
            in_left -= add
            if in_left == 0:
                z.end_of_stream = 1
                z.flush = FULL_FLUSH
            else:
                z.flush = NO_FLUSH
            if has_out:
                base = <char*>o.buf
                cap = <size_t>o.len
                if pos_out == cap:
                    raise EncodeError(f"{_name(fmt)}: output does not fit in {cap} bytes")
            else:
                if pos_out == <size_t>b.size:
                    bytes_resize(&b, b.size + b.size // 2)
                base = b.data
                cap = <size_t>b.size
            z.next_out = <uint8_t*>base + pos_out
            z.avail_out = _chunk(cap - pos_out)
            with nogil:
                r = isal_deflate(z)
            pos_out = <size_t>(<char*>z.next_out - base)
            if r != COMP_OK:
                raise EncodeError(f"{_name(fmt)}: ISA-L deflate failed (error {r})")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>pos_out)
        return memoryview(out).cast("B")[:pos_out]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef str _inflate_error(int r):
    if r == ISAL_INCORRECT_CHECKSUM:
        return "checksum mismatch"
    if r == ISAL_INVALID_WRAPPER or r == ISAL_UNSUPPORTED_METHOD:
        return "bad header"
    if r == ISAL_NEED_DICT:
        return "needs a preset dictionary"
    return "corrupt data"


cdef size_t _inflate_member(inflate_state* st, int fmt, const char* src, size_t n,
                            BytesOut* b, char* fixed, size_t fixed_size, size_t* pos_out,
                            size_t limit, size_t max_size) except? 0:
    """Decode one stream (one gzip member) at `src`; the input bytes it used.

    Output goes to `b`, grown up to `limit`, or to `fixed`. Once the output is
    full and may not grow, a 1-byte spill buffer tells a complete stream (that
    writes nothing more) from one that decodes to more than allowed.
    """
    cdef size_t in_left = n, cap
    cdef uint32_t add
    cdef char* base
    cdef char spill[1]
    cdef bint spilling
    cdef int r
    with nogil:
        isal_inflate_init(st)
    st.crc_flag = _DECODE_WRAPPER[fmt]
    st.next_in = <uint8_t*>src
    st.avail_in = 0
    while True:
        add = _chunk(min(in_left, UINT32_MAX - st.avail_in))
        st.avail_in += add
        in_left -= add
        if fixed != NULL:
            base = fixed
            cap = fixed_size
        else:
            if pos_out[0] == <size_t>b.size and <size_t>b.size < limit:
                bytes_resize(b, <Py_ssize_t>grown(<size_t>b.size, limit))
            base = b.data
            cap = <size_t>b.size
        spilling = pos_out[0] == cap
        if spilling:
            st.next_out = <uint8_t*>spill
            st.avail_out = 1
        else:
            st.next_out = <uint8_t*>base + pos_out[0]
            st.avail_out = _chunk(cap - pos_out[0])
        with nogil:
            r = isal_inflate(st)
        if r != ISAL_DECOMP_OK:
            raise DecodeError(f"{_name(fmt)}: {_inflate_error(r)}")
        if spilling and st.avail_out == 0:
            if fixed != NULL:
                raise DecodeError(f"{_name(fmt)}: data decodes to more than out's {fixed_size} bytes")
            if limit == max_size:
                raise DecodeError(f"{_name(fmt)}: data decodes to more than max_decoded_bytes={max_size}")
            raise DecodeError(f"{_name(fmt)}: corrupt data (expands beyond deflate's "
                              f"{DEFLATE_MAX_RATIO}:1 limit)")
        if not spilling:
            pos_out[0] = <size_t>(<char*>st.next_out - base)
        if st.block_state == ISAL_BLOCK_FINISH:
            # Input ISA-L buffered but did not use sits just before next_in.
            return <size_t>(<const char*>st.next_in - src) - <size_t>(st.read_in_length // 8)
        if st.avail_out > 0 and in_left == 0:
            raise DecodeError(f"{_name(fmt)}: truncated data")


cdef Py_ssize_t _inflate(inflate_state* st, int fmt, const char* src, size_t n, BytesOut* b,
                         char* fixed, size_t fixed_size, size_t limit, size_t max_size) except -1:
    """Decode the stream (every gzip member) into `b` or `fixed`; the decoded size."""
    cdef size_t pos_in = 0, pos_out = 0, want
    while True:
        if fmt == GZIP and fixed == NULL:
            want = min(limit, pos_out + gzip_isize_hint(<const unsigned char*>src + pos_in, n - pos_in))
            if <size_t>b.size < want:  # exact for one member, geometric over many
                bytes_resize(b, <Py_ssize_t>min(limit, max(want, <size_t>b.size * 2)))
        pos_in += _inflate_member(st, fmt, src + pos_in, n - pos_in, b, fixed, fixed_size,
                                  &pos_out, limit, max_size)
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
    cdef inflate_state* st = _inflater()
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
            n = _inflate(st, fmt, <const char*>s.buf, <size_t>s.len, NULL, <char*>o.buf,
                         <size_t>o.len, limit, <size_t>max_size)
            if n != o.len:
                raise DecodeError(f"{_name(fmt)}: decoded {n} bytes, out has {o.len}")
            return out
        # gzip sizes itself from the member trailer; zlib and raw start from a guess.
        start = 0 if fmt == GZIP else first_guess(<size_t>s.len, limit)
        bytes_new(&b, <Py_ssize_t>start)
        n = _inflate(st, fmt, <const char*>s.buf, <size_t>s.len, &b, NULL, 0, limit,
                     <size_t>max_size)
        return bytes_finish(&b, n)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
