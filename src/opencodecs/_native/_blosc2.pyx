# cython: language_level=3, boundscheck=False, wraparound=False
"""C-Blosc2 chunks (what blosc2_compress and python-blosc2's compress2 write), GIL released."""

from libc.stdint cimport int16_t, int32_t, uint8_t
from libc.string cimport memset
from opencodecs._native._buffers cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "blosc2.h" nogil:
    ctypedef struct blosc2_context
    ctypedef struct blosc2_cparams:
        uint8_t compcode
        uint8_t clevel
        int32_t typesize
        int16_t nthreads
        int32_t blocksize
        uint8_t filters[6]
    ctypedef struct blosc2_dparams:
        int16_t nthreads
    const blosc2_cparams BLOSC2_CPARAMS_DEFAULTS
    const blosc2_dparams BLOSC2_DPARAMS_DEFAULTS
    enum:
        BLOSC_MIN_HEADER_LENGTH
        BLOSC_EXTENDED_HEADER_LENGTH
        BLOSC2_MAX_OVERHEAD
        BLOSC2_MAX_BUFFERSIZE
        BLOSC2_MAXBLOCKSIZE
        BLOSC2_MAXTYPESIZE
        BLOSC2_MAX_FILTERS
        BLOSC_BLOSCLZ
        BLOSC_LZ4
        BLOSC_LZ4HC
        BLOSC_ZLIB
        BLOSC_ZSTD
        BLOSC_NOSHUFFLE
        BLOSC_SHUFFLE
        BLOSC_BITSHUFFLE
        BLOSC_MEMCPYED
        BLOSC2_SPECIAL_UNINIT
        BLOSC2_VL_BLOCKS
    void blosc2_init()
    const char* blosc2_error_string(int error_code)
    int blosc2_cbuffer_sizes(const void* cbuffer, int32_t* nbytes, int32_t* cbytes, int32_t* blocksize)
    blosc2_context* blosc2_create_cctx(blosc2_cparams cparams)
    blosc2_context* blosc2_create_dctx(blosc2_dparams dparams)
    void blosc2_free_ctx(blosc2_context* context)
    int blosc2_compress_ctx(blosc2_context* context, const void* src, int32_t srcsize,
                            void* dest, int32_t destsize)
    int blosc2_decompress_ctx(blosc2_context* context, const void* src, int32_t srcsize,
                              void* dest, int32_t destsize)


COMPRESSORS = {"blosclz": BLOSC_BLOSCLZ, "lz4": BLOSC_LZ4, "lz4hc": BLOSC_LZ4HC,
               "zlib": BLOSC_ZLIB, "zstd": BLOSC_ZSTD}
SHUFFLES = {"noshuffle": BLOSC_NOSHUFFLE, "shuffle": BLOSC_SHUFFLE, "bitshuffle": BLOSC_BITSHUFFLE}
MAX_BLOCKSIZE = BLOSC2_MAXBLOCKSIZE
MAX_TYPESIZE = BLOSC2_MAXTYPESIZE

# Chunks under this size decode on one thread: starting blosc2's worker
# threads (once per call, with the context) costs more than it saves.
cdef int32_t MT_MIN_BYTES = 1 << 20

# Registers the built-in filters and codecs; the *_ctx calls need no more.
blosc2_init()


# A decompression context holds the codecs' own contexts (zstd's is ~100 KiB
# to set up): keep a one-thread one per thread. Compression contexts are made
# per call, as they carry the call's parameters (and its computed blocksize).
cdef void _free_ctx(void* p) noexcept nogil:
    blosc2_free_ctx(<blosc2_context*>p)

cdef ThreadLocal _dctx_key
tls_init(&_dctx_key, _free_ctx)


cdef blosc2_context* _serial_dctx() except NULL:
    cdef blosc2_context* d = <blosc2_context*>tls_get(&_dctx_key)
    if d == NULL:
        d = blosc2_create_dctx(BLOSC2_DPARAMS_DEFAULTS)  # one thread
        if d == NULL:
            raise MemoryError("blosc2: cannot create a decompression context")
        tls_set(&_dctx_key, d)
    return d


cdef str _error(int code):
    return blosc2_error_string(code).decode(errors="replace")


def encode(src, int level, int compcode, int shuffle, int32_t typesize, int32_t blocksize,
           int numthreads, out=None):
    """Compress `src` into one chunk (shuffle is the last filter of the pipeline)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef blosc2_cparams cp = BLOSC2_CPARAMS_DEFAULTS
    cdef blosc2_context* ctx = NULL
    cdef int32_t capacity
    cdef int r = 0
    cdef char* dst
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if s.len > BLOSC2_MAX_BUFFERSIZE:
            raise EncodeError(f"blosc2: {s.len} bytes is over the chunk limit of {BLOSC2_MAX_BUFFERSIZE}")
        if out is None:
            capacity = <int32_t>(s.len + BLOSC2_MAX_OVERHEAD)  # always enough
            bytes_new(&b, capacity)
            dst = b.data
        else:
            get_output(out, &o)
            has_out = True
            capacity = <int32_t>min(o.len, <Py_ssize_t>0x7FFFFFFF)
            dst = <char*>o.buf
        cp.compcode = compcode
        cp.clevel = level
        cp.typesize = typesize
        cp.blocksize = blocksize
        cp.nthreads = <int16_t>min(max(numthreads, 1), 0x7FFF)
        cp.filters[BLOSC2_MAX_FILTERS - 1] = shuffle
        with nogil:
            ctx = blosc2_create_cctx(cp)
            if ctx != NULL:
                r = blosc2_compress_ctx(ctx, s.buf, <int32_t>s.len, dst, capacity)
                blosc2_free_ctx(ctx)
        if ctx == NULL:
            raise EncodeError("blosc2: cannot create a compression context")
        if r == 0:
            raise EncodeError(f"blosc2: compressed data does not fit in out's {capacity} bytes")
        if r < 0:
            raise EncodeError(f"blosc2: {_error(r)}")
        if out is None:
            return bytes_finish(&b, r)
        return memoryview(out).cast("B")[:r]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef int32_t _checked_nbytes(const uint8_t* p, Py_ssize_t n, Py_ssize_t max_size,
                             int32_t* cbytes, bint* uninit) except -1:
    """The decoded size the chunk header declares, once the header is believable.

    Everything that could make the library allocate, read past the input, or
    reach outside this chunk (lazy chunks read from a super-chunk's file,
    plugin codecs are loaded on demand) is refused here, before any output
    is allocated.
    """
    cdef int32_t nbytes, blocksize, nblocks
    cdef int special
    cdef Py_ssize_t header = BLOSC_MIN_HEADER_LENGTH
    cdef uint8_t flags, flags2 = 0, blosc2_flags = 0
    if n < BLOSC_MIN_HEADER_LENGTH:
        raise DecodeError(f"blosc2: {n} bytes is shorter than a chunk header")
    if blosc2_cbuffer_sizes(p, &nbytes, cbytes, &blocksize) < 0 or nbytes < 0:
        raise DecodeError("blosc2: invalid chunk header")
    flags = p[2]
    if flags & 0x05 == 0x05:  # both shuffle bits: the 32-byte Blosc2 header
        header = BLOSC_EXTENDED_HEADER_LENGTH
        if n < header or cbytes[0] < header:
            raise DecodeError("blosc2: truncated chunk header")
        flags2 = p[30]
        blosc2_flags = p[31]
    if cbytes[0] > n:
        raise DecodeError(f"blosc2: chunk of {cbytes[0]} bytes truncated to {n}")
    if flags >> 5 not in (0, 1, 3, 4):  # blosclz, lz4/lz4hc, zlib, zstd
        raise DecodeError(f"blosc2: unsupported compressor format {flags >> 5}")
    if blosc2_flags & 0x08:
        raise DecodeError("blosc2: lazy chunks need their super-chunk")
    if flags2 & BLOSC2_VL_BLOCKS:
        raise DecodeError("blosc2: chunks of variable-length blocks are not supported")
    if nbytes > max_size:
        raise DecodeError(f"blosc2: chunk declares {nbytes} bytes, over max_decoded_bytes={max_size}")
    special = (blosc2_flags >> 4) & 0x07
    uninit[0] = special == BLOSC2_SPECIAL_UNINIT
    # Special chunks (zeros, NaN, a repeated value) are a header alone and
    # expand to any size; the others must hold the data or a block index.
    if special == 0:
        if flags & BLOSC_MEMCPYED:
            if cbytes[0] != header + nbytes:
                raise DecodeError(f"blosc2: stored chunk declares {nbytes} bytes but holds {cbytes[0] - header}")
        elif nbytes > 0:
            nblocks = (nbytes - 1) // blocksize + 1
            if cbytes[0] < header + 4 * <Py_ssize_t>nblocks:
                raise DecodeError(f"blosc2: chunk declares {nbytes} bytes, more than {cbytes[0]} bytes can index")
    return nbytes


def decode(src, out, int numthreads, Py_ssize_t max_size):
    """Decode one chunk into bytes or into `out` (exactly the decoded size)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS
    cdef blosc2_context* ctx = NULL
    cdef int32_t nbytes, cbytes
    cdef bint uninit, threaded
    cdef int r = 0
    cdef char* dst
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        nbytes = _checked_nbytes(<const uint8_t*>s.buf, s.len, max_size, &cbytes, &uninit)
        if out is None:
            bytes_new(&b, nbytes)
            dst = b.data
        elif o.len != nbytes:
            raise DecodeError(f"blosc2: chunk decodes to {nbytes} bytes, out has {o.len}")
        else:
            dst = <char*>o.buf
        threaded = numthreads > 1 and nbytes >= MT_MIN_BYTES
        if threaded:
            dp.nthreads = <int16_t>min(numthreads, 0x7FFF)
            ctx = blosc2_create_dctx(dp)
            if ctx == NULL:
                raise MemoryError("blosc2: cannot create a decompression context")
        else:
            ctx = _serial_dctx()
        with nogil:
            r = blosc2_decompress_ctx(ctx, s.buf, cbytes, dst, nbytes)
            if threaded:
                blosc2_free_ctx(ctx)
            if uninit:  # the library leaves these bytes as they were: never return stale memory
                memset(dst, 0, nbytes)
        if r < 0:
            raise DecodeError(f"blosc2: {_error(r)}")
        if r != nbytes:
            raise DecodeError(f"blosc2: chunk declares {nbytes} bytes but holds {r}")
        if out is None:
            return bytes_finish(&b, r)
        return out
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
