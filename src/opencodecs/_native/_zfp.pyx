# cython: language_level=3, boundscheck=False, wraparound=False
"""zfp streams over libzfp, GIL released.

Fields are C-order numpy arrays: zfp's x (fastest) is the last axis. zfp's
bit stream reader has no bounds: before decoding, the stream is checked to be
longer than anything the decoder could read, else copied into a zero-padded
buffer that is, and whatever it read past the real stream is reported as a
truncation.
"""

from libc.stdint cimport uint8_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "zfp.h" nogil:
    ctypedef unsigned int uint
    ctypedef int zfp_bool
    ctypedef struct bitstream
    ctypedef enum zfp_exec_policy:
        zfp_exec_serial
        zfp_exec_omp
    ctypedef enum zfp_type:
        zfp_type_int32
        zfp_type_int64
        zfp_type_float
        zfp_type_double
    ctypedef struct zfp_stream:
        uint minbits
        uint maxbits
    ctypedef struct zfp_field:
        zfp_type type
        size_t nx, ny, nz, nw
    enum:
        ZFP_HEADER_MAGIC
        ZFP_HEADER_MODE
        ZFP_HEADER_FULL
        ZFP_HEADER_MAX_BITS
    zfp_stream* zfp_stream_open(bitstream* stream)
    void zfp_stream_close(zfp_stream* zfp)
    void zfp_stream_set_bit_stream(zfp_stream* zfp, bitstream* stream)
    void zfp_stream_rewind(zfp_stream* zfp)
    void zfp_stream_set_reversible(zfp_stream* zfp)
    double zfp_stream_set_rate(zfp_stream* zfp, double rate, zfp_type type, uint dims, zfp_bool align)
    uint zfp_stream_set_precision(zfp_stream* zfp, uint precision)
    double zfp_stream_set_accuracy(zfp_stream* zfp, double tolerance)
    zfp_bool zfp_stream_set_execution(zfp_stream* zfp, zfp_exec_policy policy)
    zfp_bool zfp_stream_set_omp_threads(zfp_stream* zfp, uint threads)
    size_t zfp_stream_maximum_size(const zfp_stream* zfp, const zfp_field* field)
    zfp_field* zfp_field_alloc()
    zfp_field* zfp_field_1d(void* pointer, zfp_type type, size_t nx)
    zfp_field* zfp_field_2d(void* pointer, zfp_type type, size_t nx, size_t ny)
    zfp_field* zfp_field_3d(void* pointer, zfp_type type, size_t nx, size_t ny, size_t nz)
    zfp_field* zfp_field_4d(void* pointer, zfp_type type, size_t nx, size_t ny, size_t nz, size_t nw)
    void zfp_field_free(zfp_field* field)
    void zfp_field_set_pointer(zfp_field* field, void* pointer)
    zfp_type zfp_field_set_type(zfp_field* field, zfp_type type)
    void zfp_field_set_size_1d(zfp_field* field, size_t nx)
    void zfp_field_set_size_2d(zfp_field* field, size_t nx, size_t ny)
    void zfp_field_set_size_3d(zfp_field* field, size_t nx, size_t ny, size_t nz)
    void zfp_field_set_size_4d(zfp_field* field, size_t nx, size_t ny, size_t nz, size_t nw)
    uint zfp_field_dimensionality(const zfp_field* field)
    size_t zfp_field_blocks(const zfp_field* field)
    size_t zfp_write_header(zfp_stream* zfp, const zfp_field* field, uint mask)
    size_t zfp_read_header(zfp_stream* zfp, zfp_field* field, uint mask)
    size_t zfp_compress(zfp_stream* zfp, const zfp_field* field)
    size_t zfp_decompress(zfp_stream* zfp, zfp_field* field)


cdef extern from "zfp/bitstream.h" nogil:
    const size_t stream_word_bits
    bitstream* stream_open(void* buffer, size_t bytes)
    void stream_close(bitstream* stream)


# Compression modes, as the Python layer numbers them.
REVERSIBLE, RATE, PRECISION, ACCURACY = range(4)
# numpy dtype string: zfp scalar type
TYPES = {"<i4": zfp_type_int32, "<i8": zfp_type_int64, "<f4": zfp_type_float, "<f8": zfp_type_double}

# Streams are read and written in words of stream_word_bits (a build choice:
# 8 in Debian's libzfp, 64 by default); 64 bits bound them all.
cdef enum:
    WORD_BYTES = 8
    HEADER_BYTES = 24  # ZFP_HEADER_MAX_BITS, in whole 64-bit words
    HEADER_WORDS = 4   # and one word of read-ahead


cdef inline bint _omp_pays_off() noexcept nogil:
    """zfp runs OpenMP for compression only, where libzfp was built with it:
    each thread fills its own stream, then the streams are concatenated bit
    by bit. With 8-bit stream words (Debian's build) that concatenation costs
    more than the threads save, and fixed-rate mode hits a zfp 1.0 bug (it
    frees per-thread buffers it did not allocate): stay serial there."""
    return stream_word_bits == 64


cdef zfp_field* _field(void* data, zfp_type ztype, tuple shape) except NULL:
    """A zfp field over C-order `data` of `shape` (1 to 4 dimensions)."""
    cdef zfp_field* field = NULL
    cdef size_t n[4]
    cdef int dims = len(shape)
    for i in range(dims):
        n[i] = shape[dims - 1 - i]  # x is the last (fastest) axis
    if dims == 1:
        field = zfp_field_1d(data, ztype, n[0])
    elif dims == 2:
        field = zfp_field_2d(data, ztype, n[0], n[1])
    elif dims == 3:
        field = zfp_field_3d(data, ztype, n[0], n[1], n[2])
    elif dims == 4:
        field = zfp_field_4d(data, ztype, n[0], n[1], n[2], n[3])
    if field == NULL:
        raise MemoryError("zfp: cannot allocate a field")
    return field


cdef int _set_mode(zfp_stream* zfp, int mode, double value, zfp_type ztype, uint dims) except -1:
    if mode == REVERSIBLE:
        zfp_stream_set_reversible(zfp)
    elif mode == RATE:
        zfp_stream_set_rate(zfp, value, ztype, dims, 0)
    elif mode == PRECISION:
        zfp_stream_set_precision(zfp, <uint>value)
    elif mode == ACCURACY:
        zfp_stream_set_accuracy(zfp, value)
    else:
        raise ValueError(f"zfp: unknown mode {mode}")
    return 0


def encode(src, str dtype, tuple shape, int mode, double value, int numthreads, out=None):
    """A zfp stream with a full header (magic, field, mode) for the C-order array `src`."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef zfp_type ztype = TYPES[dtype]
    cdef zfp_stream* zfp = NULL
    cdef zfp_field* field = NULL
    cdef bitstream* stream = NULL
    cdef size_t capacity, written = 0
    cdef char* dst
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        zfp = zfp_stream_open(NULL)
        if zfp == NULL:
            raise MemoryError("zfp: cannot open a stream")
        field = _field(s.buf, ztype, shape)
        _set_mode(zfp, mode, value, ztype, len(shape))
        if numthreads > 1 and _omp_pays_off() and zfp_stream_set_execution(zfp, zfp_exec_omp):
            zfp_stream_set_omp_threads(zfp, numthreads)
        # The stream writer has no bounds: always give it the maximum size,
        # in whole 64-bit words (see below).
        capacity = zfp_stream_maximum_size(zfp, field)
        if capacity == 0:
            raise EncodeError("zfp: unsupported field")
        capacity = _whole_words(capacity)
        if out is not None:
            get_output(out, &o)
            has_out = True
        if has_out and <size_t>o.len >= capacity:
            dst = <char*>o.buf
        else:
            bytes_new(&b, capacity)
            dst = b.data
        stream = stream_open(dst, capacity)
        if stream == NULL:
            raise MemoryError("zfp: cannot open a bit stream")
        zfp_stream_set_bit_stream(zfp, stream)
        with nogil:
            zfp_stream_rewind(zfp)
            if zfp_write_header(zfp, field, ZFP_HEADER_FULL):
                written = zfp_compress(zfp, field)
        if written == 0:
            raise EncodeError("zfp: compression failed")
        # Zero-pad to whole 64-bit words, as zfp writes with its default word
        # size: readers built that way read whole words.
        memset(dst + written, 0, _whole_words(written) - written)
        written = _whole_words(written)
        if not has_out:
            return bytes_finish(&b, written)
        if dst != <char*>o.buf:
            if written > <size_t>o.len:
                raise EncodeError(f"zfp: compressed data does not fit in out's {o.len} bytes")
            memcpy(o.buf, dst, written)
        return memoryview(out).cast("B")[:written]
    finally:
        if stream != NULL:
            stream_close(stream)
        if field != NULL:
            zfp_field_free(field)
        if zfp != NULL:
            zfp_stream_close(zfp)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef inline size_t _whole_words(size_t n) noexcept nogil:
    return (n + WORD_BYTES - 1) // WORD_BYTES * WORD_BYTES


cdef size_t _read_header(zfp_stream* zfp, zfp_field* field, const uint8_t* p, Py_ssize_t n,
                         uint mask) except 0:
    """Read the header from a zero-padded copy of the stream's first words; its size in bits."""
    cdef uint64_t words[HEADER_WORDS]
    cdef bitstream* stream
    cdef size_t bits
    memset(words, 0, sizeof(words))
    memcpy(words, p, min(n, <Py_ssize_t>HEADER_BYTES))
    stream = stream_open(words, sizeof(words))
    if stream == NULL:
        raise MemoryError("zfp: cannot open a bit stream")
    zfp_stream_set_bit_stream(zfp, stream)
    zfp_stream_rewind(zfp)
    bits = zfp_read_header(zfp, field, mask)
    zfp_stream_set_bit_stream(zfp, NULL)
    stream_close(stream)
    if bits == 0 or <Py_ssize_t>((bits + 7) // 8) > n:
        raise DecodeError("zfp: not a zfp stream" + (" with a full header" if mask == ZFP_HEADER_FULL else ""))
    return bits


def read_header(src, bint full_header):
    """(numpy dtype string, shape, minbits) of a stream's header; the dtype and
    shape are None without a full header (magic and mode only)."""
    cdef Py_buffer s
    cdef zfp_stream* zfp = NULL
    cdef zfp_field* field = NULL
    get_input(src, &s)
    try:
        zfp = zfp_stream_open(NULL)
        field = zfp_field_alloc()
        if zfp == NULL or field == NULL:
            raise MemoryError("zfp: cannot allocate a stream")
        _read_header(zfp, field, <const uint8_t*>s.buf, s.len,
                     ZFP_HEADER_FULL if full_header else ZFP_HEADER_MAGIC | ZFP_HEADER_MODE)
        if not full_header:
            return None, None, zfp.minbits
        dims = zfp_field_dimensionality(field)
        dtype = next((k for k, v in TYPES.items() if v == field.type), None)
        if dtype is None or dims == 0:
            raise DecodeError("zfp: corrupt header")
        return dtype, (field.nw, field.nz, field.ny, field.nx)[4 - dims:], zfp.minbits
    finally:
        if field != NULL:
            zfp_field_free(field)
        if zfp != NULL:
            zfp_stream_close(zfp)
        PyBuffer_Release(&s)


cdef size_t _readable_bound(const zfp_stream* zfp, const zfp_field* field,
                           size_t header_bits) noexcept nogil:
    """Bytes the decoder can read for this field and mode. Per block, at most
    every bit plane of every value plus group tests, exponent and precision
    bits, or minbits if more; and maxbits if less, once maxbits covers those
    exponent and precision bits (below, zfp's budget for the rest wraps
    around). Reads end in the 64-bit word holding the last bit."""
    cdef uint values = 1u << (2 * zfp_field_dimensionality(field))
    cdef uint planes = 64 if field.type in (zfp_type_int64, zfp_type_double) else 32
    cdef uint per_block = 32 + (planes + 2) * values + planes
    if zfp.maxbits >= 32:
        per_block = min(per_block, zfp.maxbits)
    per_block = max(per_block, zfp.minbits)
    return (header_bits + zfp_field_blocks(field) * per_block + 63) // 64 * WORD_BYTES


def decode(src, out, str dtype, tuple shape, bint full_header):
    """Decode a stream into `out` (sized by the caller for `dtype` and `shape`).

    With full_header the stream must declare exactly that field; without,
    it starts with zfp's magic and mode only (imagecodecs' header=False).
    """
    cdef Py_buffer s, o
    cdef zfp_type ztype = TYPES[dtype]
    cdef zfp_stream* zfp = NULL
    cdef zfp_field* field = NULL
    cdef bitstream* stream = NULL
    cdef uint8_t* padded = NULL
    cdef void* data
    cdef size_t bound, used = 0
    cdef uint mask = ZFP_HEADER_FULL if full_header else ZFP_HEADER_MAGIC | ZFP_HEADER_MODE
    get_input(src, &s)
    cdef bint has_out = False
    try:
        get_output(out, &o)
        has_out = True
        zfp = zfp_stream_open(NULL)
        if zfp == NULL:
            raise MemoryError("zfp: cannot open a stream")
        field = _field(o.buf, ztype, shape)
        expected = (field.nx, field.ny, field.nz, field.nw)
        header_bits = _read_header(zfp, field, <const uint8_t*>s.buf, s.len, mask)
        if field.type != ztype or (field.nx, field.ny, field.nz, field.nw) != expected:
            raise DecodeError("zfp: the stream's header does not match the field")
        bound = _readable_bound(zfp, field, header_bits)
        if <size_t>s.len >= bound:
            data = s.buf
        else:
            padded = <uint8_t*>calloc(bound, 1)
            if padded == NULL:
                raise MemoryError(f"zfp: cannot allocate {bound} bytes")
            memcpy(padded, s.buf, s.len)
            data = padded
        stream = stream_open(data, max(<size_t>s.len, bound))
        if stream == NULL:
            raise MemoryError("zfp: cannot open a bit stream")
        zfp_stream_set_bit_stream(zfp, stream)
        with nogil:
            zfp_stream_rewind(zfp)
            if zfp_read_header(zfp, field, mask):
                used = zfp_decompress(zfp, field)
        if used == 0:
            raise DecodeError("zfp: decompression failed")
        # Reading past the stream (into the zero padding) means it was cut short.
        if used > (s.len * 8 + stream_word_bits - 1) // stream_word_bits * stream_word_bits // 8:
            raise DecodeError(f"zfp: stream truncated ({s.len} bytes, needs {used})")
        return out
    finally:
        free(padded)
        if stream != NULL:
            stream_close(stream)
        if field != NULL:
            zfp_field_free(field)
        if zfp != NULL:
            zfp_stream_close(zfp)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
