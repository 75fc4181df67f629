# cython: language_level=3, boundscheck=False, wraparound=False
"""bzip2 streams through libbz2, GIL released."""

from libc.limits cimport UINT_MAX
from libc.string cimport memcmp, memset
from opencodecs._native._buffers cimport *
from opencodecs._native._sizing cimport first_guess, grown

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "bzlib.h" nogil:
    ctypedef struct bz_stream:
        char* next_in
        unsigned int avail_in
        char* next_out
        unsigned int avail_out
    enum:
        BZ_RUN
        BZ_FINISH
        BZ_OK
        BZ_RUN_OK
        BZ_FINISH_OK
        BZ_STREAM_END
        BZ_MEM_ERROR
        BZ_DATA_ERROR
        BZ_DATA_ERROR_MAGIC
    int BZ2_bzCompressInit(bz_stream*, int, int, int)
    int BZ2_bzCompress(bz_stream*, int)
    int BZ2_bzCompressEnd(bz_stream*)
    int BZ2_bzDecompressInit(bz_stream*, int, int)
    int BZ2_bzDecompress(bz_stream*)
    int BZ2_bzDecompressEnd(bz_stream*)


MIN_LEVEL, MAX_LEVEL = 1, 9


cdef inline unsigned int _chunk(size_t n) noexcept nogil:
    """libbz2 counts bytes in 32 bits: hand it at most this many per call."""
    return <unsigned int>min(n, <size_t>UINT_MAX)


def encode(src, int level, out=None):
    """Compress `src` into one bzip2 stream with `level` x 100 kB blocks."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef bz_stream bzs
    cdef size_t in_left, pos_out = 0, cap
    cdef unsigned int add
    cdef char* base
    cdef int r, action = BZ_RUN
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    memset(&bzs, 0, sizeof(bzs))
    with nogil:
        r = BZ2_bzCompressInit(&bzs, level, 0, 0)
    if r != BZ_OK:
        PyBuffer_Release(&s)
        raise MemoryError("bz2: cannot allocate a compressor")
    try:
        if out is None:
            # libbz2's documented worst case: 1% larger plus 600 bytes.
            bytes_new(&b, s.len + s.len // 100 + 600)
        else:
            get_output(out, &o)
            has_out = True
        bzs.next_in = <char*>s.buf
        in_left = <size_t>s.len
        while True:
            if action == BZ_RUN:
                add = _chunk(min(in_left, UINT_MAX - bzs.avail_in))
                bzs.avail_in += add
                in_left -= add
                if in_left == 0:
                    action = BZ_FINISH
            if has_out:
                base = <char*>o.buf
                cap = <size_t>o.len
                if pos_out == cap:
                    raise EncodeError(f"bz2: output does not fit in {cap} bytes")
            else:
                if pos_out == <size_t>b.size:
                    bytes_resize(&b, b.size + b.size // 2)
                base = b.data
                cap = <size_t>b.size
            bzs.next_out = base + pos_out
            bzs.avail_out = _chunk(cap - pos_out)
            with nogil:
                r = BZ2_bzCompress(&bzs, action)
            pos_out = <size_t>(bzs.next_out - base)
            if r == BZ_STREAM_END:
                break
            if r != BZ_RUN_OK and r != BZ_FINISH_OK:
                raise EncodeError(f"bz2: compression failed (error {r})")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>pos_out)
        return memoryview(out).cast("B")[:pos_out]
    finally:
        with nogil:
            BZ2_bzCompressEnd(&bzs)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef str _decode_error(int r):
    if r == BZ_DATA_ERROR_MAGIC:
        return "not a bzip2 stream (bad magic)"
    if r == BZ_DATA_ERROR:
        return "corrupt data"
    if r == BZ_MEM_ERROR:
        return "out of memory"
    return f"decoder error {r}"


cdef size_t _decode_stream(bz_stream* bzs, const char* src, size_t n, BytesOut* b, char* fixed,
                           size_t fixed_size, size_t* pos_out, size_t limit) except? 0:
    """Decode the one stream at `src`; the input bytes it used.

    Output goes to `b`, grown up to `limit`, or to `fixed`. Once the output is
    full and may not grow, a 1-byte spill buffer tells a complete stream (that
    writes nothing more) from one that decodes to more than allowed.
    """
    cdef size_t in_left = n, cap
    cdef unsigned int add
    cdef char* base
    cdef char spill[1]
    cdef bint spilling
    cdef int r
    memset(bzs, 0, sizeof(bz_stream))
    with nogil:
        r = BZ2_bzDecompressInit(bzs, 0, 0)
    if r != BZ_OK:
        raise MemoryError("bz2: cannot allocate a decompressor")
    try:
        bzs.next_in = <char*>src
        while True:
            add = _chunk(min(in_left, UINT_MAX - bzs.avail_in))
            bzs.avail_in += add
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
                bzs.next_out = spill
                bzs.avail_out = 1
            else:
                bzs.next_out = base + pos_out[0]
                bzs.avail_out = _chunk(cap - pos_out[0])
            with nogil:
                r = BZ2_bzDecompress(bzs)
            if r != BZ_OK and r != BZ_STREAM_END:
                raise DecodeError(f"bz2: {_decode_error(r)}")
            if spilling and bzs.avail_out == 0:
                if fixed != NULL:
                    raise DecodeError(f"bz2: data decodes to more than out's {fixed_size} bytes")
                raise DecodeError(f"bz2: data decodes to more than max_decoded_bytes={limit}")
            if not spilling:
                pos_out[0] = <size_t>(bzs.next_out - base)
            if r == BZ_STREAM_END:
                return <size_t>(bzs.next_in - src)
            if bzs.avail_out > 0 and in_left == 0:
                raise DecodeError("bz2: truncated data")
    finally:
        with nogil:
            BZ2_bzDecompressEnd(bzs)


cdef Py_ssize_t _decode_all(const char* src, size_t n, BytesOut* b, char* fixed,
                            size_t fixed_size, size_t limit) except -1:
    """Decode concatenated streams (as bzip2 and pbzip2 write) into `b` or `fixed`."""
    cdef bz_stream bzs
    cdef size_t pos_in = 0, pos_out = 0
    while True:
        pos_in += _decode_stream(&bzs, src + pos_in, n - pos_in, b, fixed, fixed_size,
                                 &pos_out, limit)
        # Like bzip2 and the stdlib, ignore trailing bytes that start no stream.
        if n - pos_in < 3 or memcmp(src + pos_in, b"BZh", 3) != 0:
            return <Py_ssize_t>pos_out


def decode(src, out, Py_ssize_t max_size):
    """Decode bzip2 data into bytes, or into `out` (exact size)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef Py_ssize_t n
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError("bz2: empty input")
        if has_out:
            n = _decode_all(<const char*>s.buf, <size_t>s.len, NULL, <char*>o.buf,
                            <size_t>o.len, <size_t>max_size)
            if n != o.len:
                raise DecodeError(f"bz2: decoded {n} bytes, out has {o.len}")
            return out
        # bzip2 can expand without practical bound: grow up to max_size.
        bytes_new(&b, <Py_ssize_t>first_guess(<size_t>s.len, <size_t>max_size))
        n = _decode_all(<const char*>s.buf, <size_t>s.len, &b, NULL, 0, <size_t>max_size)
        return bytes_finish(&b, n)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
