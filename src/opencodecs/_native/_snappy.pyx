# cython: language_level=3, boundscheck=False, wraparound=False
"""Snappy (libsnappy, snappy-c.h): the raw block format, and the framing format
(stream identifier, then checksummed chunks of at most 64 KiB) written here."""

from libc.stdint cimport uint32_t
from libc.string cimport memcmp, memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "snappy-c.h" nogil:
    ctypedef enum snappy_status:
        SNAPPY_OK
        SNAPPY_INVALID_INPUT
        SNAPPY_BUFFER_TOO_SMALL
    snappy_status snappy_compress(const char*, size_t, char*, size_t*)
    snappy_status snappy_uncompress(const char*, size_t, char*, size_t*)
    size_t snappy_max_compressed_length(size_t)
    snappy_status snappy_uncompressed_length(const char*, size_t, size_t*)


cdef extern from "opencodecs/_native/crc32c.h" nogil:
    void oc_crc32c_init()
    uint32_t oc_crc32c(const void*, size_t)


oc_crc32c_init()

cdef const char* STREAM_ID = b"\xff\x06\x00\x00sNaPpY"  # an identifier chunk
cdef enum:
    STREAM_ID_SIZE = 10
    CHUNK_MAX = 65536  # uncompressed bytes per chunk, by the format
    CHUNK_HEADER = 8   # type, 3-byte length, masked CRC-32C of the uncompressed bytes
    COMPRESSED = 0x00
    UNCOMPRESSED = 0x01
    IDENTIFIER = 0xff


cdef inline uint32_t _masked_crc(const char* p, size_t n) noexcept nogil:
    cdef uint32_t c = oc_crc32c(p, n)
    return ((c >> 15) | (c << 17)) + 0xa282ead8u


cdef inline void _put_le(char* p, uint32_t v, int nbytes) noexcept nogil:
    cdef int i
    for i in range(nbytes):
        p[i] = <char>((v >> (8 * i)) & 0xff)


cdef inline uint32_t _get_le(const char* p, int nbytes) noexcept nogil:
    cdef const unsigned char* u = <const unsigned char*>p
    cdef uint32_t v = 0
    cdef int i
    for i in range(nbytes):
        v |= (<uint32_t>u[i]) << (8 * i)
    return v


cdef inline size_t _max_expansion(size_t n) noexcept nogil:
    """Most bytes a raw block of n bytes can decode to: no element beats a
    3-byte copy with a 2-byte offset, which emits 64 bytes."""
    return (n // 3 + 1) * 64


cdef size_t _framed_bound(size_t n) noexcept nogil:
    cdef size_t chunks = (n + CHUNK_MAX - 1) // CHUNK_MAX
    return STREAM_ID_SIZE + chunks * (CHUNK_HEADER + snappy_max_compressed_length(CHUNK_MAX))


cdef size_t _encode_framed(const char* src, size_t n, char* dst) noexcept nogil:
    """Write the stream identifier and one chunk per 64 KiB; the bytes written."""
    cdef size_t pos = STREAM_ID_SIZE, i = 0, size, clen
    cdef unsigned char kind
    memcpy(dst, STREAM_ID, STREAM_ID_SIZE)
    while i < n:
        size = min(<size_t>CHUNK_MAX, n - i)
        clen = snappy_max_compressed_length(size)
        snappy_compress(src + i, size, dst + pos + CHUNK_HEADER, &clen)
        kind = COMPRESSED
        # Like the reference writers: keep the compressed form only if it saves 1/8.
        if clen >= size - size // 8:
            kind = UNCOMPRESSED
            clen = size
            memcpy(dst + pos + CHUNK_HEADER, src + i, size)
        dst[pos] = <char>kind
        _put_le(dst + pos + 1, <uint32_t>(clen + 4), 3)
        _put_le(dst + pos + 4, _masked_crc(src + i, size), 4)
        pos += CHUNK_HEADER + clen
        i += size
    return pos


def encode(src, bint framed, out=None):
    """Compress `src` as one raw block, or as a framed stream."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef size_t bound, size
    cdef char* dst
    cdef snappy_status st = SNAPPY_OK
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        bound = _framed_bound(<size_t>s.len) if framed else snappy_max_compressed_length(<size_t>s.len)
        if out is not None:
            get_output(out, &o)
            has_out = True
        # The encoders need room for the worst case: a smaller `out` gets the
        # result through a bytes object, if it fits.
        if has_out and <size_t>o.len >= bound:
            dst = <char*>o.buf
        else:
            bytes_new(&b, <Py_ssize_t>bound)
            dst = b.data
        size = bound
        with nogil:
            if framed:
                size = _encode_framed(<const char*>s.buf, <size_t>s.len, dst)
            else:
                st = snappy_compress(<const char*>s.buf, <size_t>s.len, dst, &size)
        if st != SNAPPY_OK:
            raise EncodeError(f"snappy: compression failed (status {st})")
        if not has_out:
            return bytes_finish(&b, <Py_ssize_t>size)
        if b.obj != NULL:  # went through a bytes object
            if size > <size_t>o.len:
                raise EncodeError(f"snappy: {size} encoded bytes do not fit into out's {o.len}")
            memcpy(o.buf, dst, size)
        return memoryview(out).cast("B")[:size]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef const char* _framed_size(const char* src, size_t n, size_t* total) noexcept nogil:
    """Walk the chunks checking their structure; sets the decoded size, or returns an error."""
    cdef size_t pos = 0, length, size
    cdef unsigned char kind
    total[0] = 0
    while pos < n:
        if n - pos < 4:
            return "truncated chunk header"
        kind = <unsigned char>src[pos]
        length = _get_le(src + pos + 1, 3)
        pos += 4
        if length > n - pos:
            return "truncated chunk"
        if kind == IDENTIFIER:
            if length != 6 or memcmp(src + pos - 4, STREAM_ID, STREAM_ID_SIZE) != 0:
                return "bad stream identifier"
        elif kind == COMPRESSED or kind == UNCOMPRESSED:
            if length < 4:
                return "chunk too short for its checksum"
            if kind == UNCOMPRESSED:
                size = length - 4
            elif snappy_uncompressed_length(src + pos + 4, length - 4, &size) != SNAPPY_OK:
                return "corrupt chunk length"
            elif size > _max_expansion(length - 4):
                return "chunk declares more bytes than it can hold"
            if size > CHUNK_MAX:
                return "chunk holds more than 65536 bytes"
            total[0] += size
        elif kind < 0x80:
            return "reserved unskippable chunk type"
        # 0x80-0xfd reserved skippable, 0xfe padding: nothing to decode.
        pos += length
    return NULL


cdef const char* _decode_framed(const char* src, size_t n, char* dst) noexcept nogil:
    """Decode chunks already checked by _framed_size, verifying their checksums."""
    cdef size_t pos = 0, out = 0, length, size
    cdef unsigned char kind
    cdef const char* body
    while pos < n:
        kind = <unsigned char>src[pos]
        length = _get_le(src + pos + 1, 3)
        body = src + pos + 4
        pos += 4 + length
        if kind != COMPRESSED and kind != UNCOMPRESSED:
            continue
        if kind == UNCOMPRESSED:
            size = length - 4
            memcpy(dst + out, body + 4, size)
        else:
            snappy_uncompressed_length(body + 4, length - 4, &size)
            if snappy_uncompress(body + 4, length - 4, dst + out, &size) != SNAPPY_OK:
                return "corrupt chunk"
        if _masked_crc(dst + out, size) != _get_le(body, 4):
            return "chunk checksum mismatch"
        out += size
    return NULL


cdef object _decode_raw(const char* src, size_t n, out, Py_buffer* o, Py_ssize_t max_size):
    cdef BytesOut b
    cdef size_t size
    cdef char* dst
    cdef snappy_status st
    b.obj = NULL
    try:
        if snappy_uncompressed_length(src, n, &size) != SNAPPY_OK:
            raise DecodeError("snappy: corrupt length header")
        if size > <size_t>max_size:
            raise DecodeError(f"snappy: data declares {size} bytes, over max_decoded_bytes={max_size}")
        if size > _max_expansion(n):
            raise DecodeError(f"snappy: data declares {size} bytes, more than {n} input bytes can hold")
        if out is None:
            bytes_new(&b, <Py_ssize_t>size)
            dst = b.data
        elif <size_t>o.len != size:
            raise DecodeError(f"snappy: data decodes to {size} bytes, out has {o.len}")
        else:
            dst = <char*>o.buf
        with nogil:
            st = snappy_uncompress(src, n, dst, &size)
        if st != SNAPPY_OK:
            raise DecodeError("snappy: corrupt data")
        return out if out is not None else bytes_finish(&b, <Py_ssize_t>size)
    finally:
        bytes_free(&b)


cdef object _decode_framed_stream(const char* src, size_t n, out, Py_buffer* o, Py_ssize_t max_size):
    cdef BytesOut b
    cdef size_t size
    cdef char* dst
    cdef const char* err
    b.obj = NULL
    try:
        with nogil:
            err = _framed_size(src, n, &size)
        if err != NULL:
            raise DecodeError(f"snappy: {err.decode()}")
        if size > <size_t>max_size:
            raise DecodeError(f"snappy: stream holds {size} bytes, over max_decoded_bytes={max_size}")
        if out is None:
            bytes_new(&b, <Py_ssize_t>size)
            dst = b.data
        elif <size_t>o.len != size:
            raise DecodeError(f"snappy: stream decodes to {size} bytes, out has {o.len}")
        else:
            dst = <char*>o.buf
        with nogil:
            err = _decode_framed(src, n, dst)
        if err != NULL:
            raise DecodeError(f"snappy: {err.decode()}")
        return out if out is not None else bytes_finish(&b, <Py_ssize_t>size)
    finally:
        bytes_free(&b)


def decode(src, out, Py_ssize_t max_size):
    """Decode a framed stream (by its stream identifier) or a raw block."""
    cdef Py_buffer s, o
    get_input(src, &s)
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError("snappy: empty input")
        if <size_t>s.len >= STREAM_ID_SIZE and memcmp(s.buf, STREAM_ID, STREAM_ID_SIZE) == 0:
            return _decode_framed_stream(<const char*>s.buf, <size_t>s.len, out, &o, max_size)
        return _decode_raw(<const char*>s.buf, <size_t>s.len, out, &o, max_size)
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
