# cython: language_level=3, boundscheck=False, wraparound=False
"""C-Blosc2 chunks (what blosc2_compress and python-blosc2's compress2 write) and b2nd
arrays (C-Blosc2's NDim layer, as contiguous frames), GIL released."""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from opencodecs._native._buffers cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "<stdbool.h>":
    ctypedef bint bool


cdef extern from "blosc2.h" nogil:
    ctypedef struct blosc2_context
    ctypedef struct blosc2_metalayer
    ctypedef struct blosc2_cparams:
        uint8_t compcode
        uint8_t clevel
        int32_t typesize
        int16_t nthreads
        int32_t blocksize
        int32_t splitmode
        uint8_t filters[6]
    ctypedef struct blosc2_dparams:
        int16_t nthreads
        void* schunk
    ctypedef struct blosc2_storage:
        bool contiguous
        blosc2_cparams* cparams
        blosc2_dparams* dparams
    ctypedef struct blosc2_schunk:
        int32_t typesize
        blosc2_context* dctx
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
        BLOSC_AUTO_SPLIT
    const blosc2_storage BLOSC2_STORAGE_DEFAULTS
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
    blosc2_schunk* blosc2_schunk_from_buffer(uint8_t* cframe, int64_t len, bool copy)
    int blosc2_schunk_free(blosc2_schunk* schunk)


cdef extern from "b2nd.h" nogil:
    ctypedef struct b2nd_context_t
    ctypedef struct b2nd_array_t:
        blosc2_schunk* sc
        int64_t shape[16]
        int64_t nitems
        int8_t ndim
    enum:
        B2ND_MAX_DIM
        DTYPE_NUMPY_FORMAT
    b2nd_context_t* b2nd_create_ctx(const blosc2_storage* b2_storage, int8_t ndim, const int64_t* shape,
                                    const int32_t* chunkshape, const int32_t* blockshape,
                                    const char* dtype, int8_t dtype_format,
                                    const blosc2_metalayer* metalayers, int32_t nmetalayers)
    int b2nd_free_ctx(b2nd_context_t* ctx)
    int b2nd_from_cbuffer(b2nd_context_t* ctx, b2nd_array_t** array, const void* buffer, int64_t buffersize)
    int b2nd_to_cbuffer(const b2nd_array_t* array, void* buffer, int64_t buffersize)
    int b2nd_to_cframe(const b2nd_array_t* array, uint8_t** cframe, int64_t* cframe_len, bool* needs_free)
    int b2nd_from_schunk(blosc2_schunk* schunk, b2nd_array_t** array)
    int b2nd_free(b2nd_array_t* array)


COMPRESSORS = {"blosclz": BLOSC_BLOSCLZ, "lz4": BLOSC_LZ4, "lz4hc": BLOSC_LZ4HC,
               "zlib": BLOSC_ZLIB, "zstd": BLOSC_ZSTD}
SHUFFLES = {"noshuffle": BLOSC_NOSHUFFLE, "shuffle": BLOSC_SHUFFLE, "bitshuffle": BLOSC_BITSHUFFLE}
MAX_BLOCKSIZE = BLOSC2_MAXBLOCKSIZE
MAX_TYPESIZE = BLOSC2_MAXTYPESIZE
MAX_CHUNKSIZE = BLOSC2_MAX_BUFFERSIZE
B2ND_MAX_NDIM = B2ND_MAX_DIM

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


cdef int32_t _checked_nbytes(str codec, const uint8_t* p, Py_ssize_t n, Py_ssize_t max_size,
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
        raise DecodeError(f"{codec}: {n} bytes is shorter than a chunk header")
    if blosc2_cbuffer_sizes(p, &nbytes, cbytes, &blocksize) < 0 or nbytes < 0:
        raise DecodeError(f"{codec}: invalid chunk header")
    flags = p[2]
    if flags & 0x05 == 0x05:  # both shuffle bits: the 32-byte Blosc2 header
        header = BLOSC_EXTENDED_HEADER_LENGTH
        if n < header or cbytes[0] < header:
            raise DecodeError(f"{codec}: truncated chunk header")
        flags2 = p[30]
        blosc2_flags = p[31]
    if cbytes[0] > n:
        raise DecodeError(f"{codec}: chunk of {cbytes[0]} bytes truncated to {n}")
    if flags >> 5 not in (0, 1, 3, 4):  # blosclz, lz4/lz4hc, zlib, zstd
        raise DecodeError(f"{codec}: unsupported compressor format {flags >> 5}")
    if blosc2_flags & 0x08:
        raise DecodeError(f"{codec}: lazy chunks need their super-chunk")
    if flags2 & BLOSC2_VL_BLOCKS:
        raise DecodeError(f"{codec}: chunks of variable-length blocks are not supported")
    if nbytes > max_size:
        raise DecodeError(f"{codec}: chunk declares {nbytes} bytes, over max_decoded_bytes={max_size}")
    special = (blosc2_flags >> 4) & 0x07
    uninit[0] = special == BLOSC2_SPECIAL_UNINIT
    # Special chunks (zeros, NaN, a repeated value) are a header alone and
    # expand to any size; the others must hold the data or a block index.
    if special == 0:
        if flags & BLOSC_MEMCPYED:
            if cbytes[0] != header + nbytes:
                raise DecodeError(f"{codec}: stored chunk declares {nbytes} bytes but holds {cbytes[0] - header}")
        elif nbytes > 0:
            nblocks = (nbytes - 1) // blocksize + 1
            if cbytes[0] < header + 4 * <Py_ssize_t>nblocks:
                raise DecodeError(f"{codec}: chunk declares {nbytes} bytes, more than {cbytes[0]} bytes can index")
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
        nbytes = _checked_nbytes("blosc2", <const uint8_t*>s.buf, s.len, max_size, &cbytes, &uninit)
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


# b2nd: C-Blosc2's NDim arrays, stored as contiguous frames ------------------

cdef int _fill_dims(tuple values, int64_t* dims) except -1:
    for i, v in enumerate(values):
        dims[i] = v
    return 0


cdef int _fill_dims32(tuple values, int32_t* dims) except -1:
    for i, v in enumerate(values):
        dims[i] = v
    return 0


def b2nd_encode(src, tuple shape, tuple chunks, tuple blocks, bytes dtype, int32_t typesize,
                int level, int compcode, int shuffle, int numthreads, out=None):
    """The cframe of a b2nd array of `shape` holding `src` (C order), cut in chunks and blocks."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef blosc2_cparams cp = BLOSC2_CPARAMS_DEFAULTS
    cdef blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS
    cdef blosc2_storage storage = BLOSC2_STORAGE_DEFAULTS
    cdef int64_t cshape[B2ND_MAX_DIM]
    cdef int32_t cchunks[B2ND_MAX_DIM]
    cdef int32_t cblocks[B2ND_MAX_DIM]
    cdef int8_t ndim = <int8_t>len(shape)
    cdef b2nd_context_t* ctx = NULL
    cdef b2nd_array_t* array = NULL
    cdef uint8_t* cframe = NULL
    cdef int64_t cframe_len = 0
    cdef bool needs_free = False
    cdef const char* cdtype = dtype
    cdef int r = 0
    _fill_dims(shape, cshape)
    _fill_dims32(chunks, cchunks)
    _fill_dims32(blocks, cblocks)
    cp.compcode = compcode
    cp.clevel = level
    cp.typesize = typesize
    cp.nthreads = <int16_t>min(max(numthreads, 1), 0x7FFF)
    cp.splitmode = BLOSC_AUTO_SPLIT  # python-blosc2's default
    cp.filters[BLOSC2_MAX_FILTERS - 1] = shuffle
    dp.nthreads = cp.nthreads
    storage.contiguous = True
    storage.cparams = &cp
    storage.dparams = &dp
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        with nogil:
            ctx = b2nd_create_ctx(&storage, ndim, cshape, cchunks, cblocks, cdtype,
                                  DTYPE_NUMPY_FORMAT, NULL, 0)
            if ctx != NULL:
                r = b2nd_from_cbuffer(ctx, &array, s.buf, s.len)
                if r >= 0:
                    r = b2nd_to_cframe(array, &cframe, &cframe_len, &needs_free)
        if ctx == NULL:
            raise EncodeError("b2nd: cannot create an array context (invalid shape, chunks or blocks)")
        if r < 0:
            raise EncodeError(f"b2nd: {_error(r)}")
        if out is None:
            bytes_new(&b, cframe_len)
            with nogil:
                memcpy(b.data, cframe, cframe_len)
            return bytes_finish(&b, cframe_len)
        get_output(out, &o)
        has_out = True
        if o.len < cframe_len:
            raise EncodeError(f"b2nd: the {cframe_len}-byte frame does not fit in out's {o.len} bytes")
        with nogil:
            memcpy(o.buf, cframe, cframe_len)
        return memoryview(out).cast("B")[:cframe_len]
    finally:
        if needs_free:
            free(cframe)
        if array != NULL:
            b2nd_free(array)
        if ctx != NULL:
            b2nd_free_ctx(ctx)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef int _check_frame_chunks(const uint8_t* frame, Py_ssize_t frame_len, Py_ssize_t header_len,
                             int64_t cbytes, int64_t nchunks, int32_t chunksize,
                             Py_ssize_t max_size) except -1:
    """Refuse a frame holding any chunk the library must not see.

    Every chunk passes the same header checks as a lone blosc2 chunk, so no
    plugin codec is ever looked up (C-Blosc2 would run python to find it),
    and no chunk lies outside the chunk section. Uninitialised chunks are
    refused too: the library leaves their bytes as they were, which would
    hand out stale memory.
    """
    cdef const uint8_t* data_end
    cdef const uint8_t* chunk
    cdef int32_t off_cbytes, chunk_cbytes, nbytes
    cdef int64_t* offsets = NULL
    cdef int64_t i, offset
    cdef uint8_t special
    cdef bint uninit
    cdef int r = 0
    if header_len < 0 or cbytes < 0 or header_len + cbytes > frame_len:
        raise DecodeError("b2nd: the frame's chunk section overruns the frame")
    data_end = frame + header_len + cbytes
    # The chunk index follows the chunks: a blosc2 chunk of int64 offsets.
    nbytes = _checked_nbytes("b2nd", data_end, frame + frame_len - data_end, max_size,
                             &off_cbytes, &uninit)
    if uninit or nbytes != nchunks * 8:
        raise DecodeError(f"b2nd: chunk index holds {nbytes} bytes for {nchunks} chunks")
    offsets = <int64_t*>malloc(max(nbytes, 1))
    if offsets == NULL:
        raise MemoryError("b2nd: cannot allocate the chunk index")
    try:
        ctx = _serial_dctx()
        with nogil:
            r = blosc2_decompress_ctx(ctx, data_end, off_cbytes, offsets, nbytes)
        if r != nbytes:
            raise DecodeError("b2nd: corrupt chunk index")
        for i in range(nchunks):
            offset = offsets[i]
            if offset < 0:
                # A special chunk: its kind in the top byte, tested in the library's order.
                special = (<uint64_t>offset >> 56) & 0x7F
                if not special & 0x01 and (special & 0x04 or not special & 0x02):
                    raise DecodeError(f"b2nd: chunk {i} is uninitialised or of unknown kind")
                continue
            if offset > cbytes:
                raise DecodeError(f"b2nd: chunk {i} lies outside the frame's chunk section")
            chunk = frame + header_len + offset
            nbytes = _checked_nbytes("b2nd", chunk, data_end - chunk, max_size, &chunk_cbytes, &uninit)
            if uninit:
                raise DecodeError(f"b2nd: chunk {i} is uninitialised")
            if nbytes != chunksize:
                raise DecodeError(f"b2nd: chunk {i} holds {nbytes} bytes, not the frame's {chunksize}")
    finally:
        free(offsets)
    return 0


cdef bint _same_array(const b2nd_array_t* array, tuple shape, Py_ssize_t nbytes):
    """True if the library reads the array the caller parsed (shape, and bytes for out)."""
    if array.ndim != len(shape) or array.nitems * array.sc.typesize != nbytes:
        return False
    for i, n in enumerate(shape):
        if array.shape[i] != n:
            return False
    return True


def b2nd_decode(src, out, tuple shape, Py_ssize_t header_len, int64_t cbytes, int64_t nchunks,
                int32_t chunksize, int numthreads, Py_ssize_t max_size):
    """Decode a b2nd cframe into `out`, once its chunks pass the checks.

    The caller parsed the frame header and the b2nd metalayer and sized `out`
    for `shape`; the library's own reading of the frame must agree with it.
    """
    cdef Py_buffer s, o
    cdef blosc2_schunk* sc = NULL
    cdef b2nd_array_t* array = NULL
    cdef blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS
    cdef blosc2_context* ctx
    cdef int r = 0
    get_input(src, &s)
    cdef bint has_out = False
    try:
        get_output(out, &o)
        has_out = True
        if nchunks:  # an empty array's frame has no chunk index
            _check_frame_chunks(<const uint8_t*>s.buf, s.len, header_len, cbytes, nchunks, chunksize,
                                max_size)
        with nogil:
            # Read in place (copy=false); the library only reads the frame.
            sc = blosc2_schunk_from_buffer(<uint8_t*>s.buf, s.len, False)
            if sc != NULL:
                r = b2nd_from_schunk(sc, &array)
                if r < 0:
                    blosc2_schunk_free(sc)
        if sc == NULL:
            raise DecodeError("b2nd: invalid frame")
        if r < 0:
            raise DecodeError(f"b2nd: {_error(r)}")
        if not _same_array(array, shape, o.len):
            raise DecodeError("b2nd: the frame's array does not match its b2nd metalayer")
        if numthreads > 1 and o.len >= MT_MIN_BYTES:
            dp.nthreads = <int16_t>min(numthreads, 0x7FFF)
            dp.schunk = sc
            ctx = blosc2_create_dctx(dp)
            if ctx == NULL:
                raise MemoryError("b2nd: cannot create a decompression context")
            blosc2_free_ctx(array.sc.dctx)
            array.sc.dctx = ctx
        with nogil:
            r = b2nd_to_cbuffer(array, o.buf, o.len)
        if r < 0:
            raise DecodeError(f"b2nd: {_error(r)}")
        return out
    finally:
        if array != NULL:
            b2nd_free(array)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
