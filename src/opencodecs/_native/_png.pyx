# cython: language_level=3, boundscheck=False, wraparound=False
"""PNG: written by our own filters and one libdeflate call; read by libspng,
with a faster path for the common files. GIL released around all work.

Encode: rows are filtered in C (png_filter.c), all filtered rows are
compressed by ONE libdeflate zlib call straight into the output, and the
chunks (IHDR, optional iCCP, IDAT, IEND) get their CRC-32 from libdeflate.

Decode: libspng parses and validates the header chunks and decodes every
kind of PNG (palette, 1/2/4-bit, Adam7, tRNS). Non-interlaced 8/16-bit files
without palette or tRNS -- what cameras, microscopes and our encoder write --
take a faster path: the IDAT chunks (CRCs checked) are inflated by one
libdeflate call (Adler-32 checked) and unfiltered by png_filter.c straight
into the caller's array.
"""

from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memcpy, memmove
from opencodecs._native._buffers cimport *
from opencodecs._native._sizing cimport DEFLATE_MAX_RATIO
from opencodecs._native._libdeflate cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "png_filter.h" nogil:
    int png_filter_rows(const uint8_t*, size_t, unsigned, size_t, int, int, uint8_t*)
    int png_unfilter_rows(uint8_t*, size_t, size_t, unsigned, int, uint8_t*)


cdef extern from "spng.h" nogil:
    ctypedef struct spng_ctx
    struct spng_ihdr:
        uint32_t width
        uint32_t height
        uint8_t bit_depth
        uint8_t color_type
        uint8_t interlace_method
    struct spng_trns:
        pass
    struct spng_iccp:
        size_t profile_len
        char* profile
    enum:
        SPNG_FMT_RGBA8, SPNG_FMT_RGBA16, SPNG_FMT_RGB8, SPNG_FMT_GA8, SPNG_FMT_GA16,
        SPNG_FMT_G8, SPNG_FMT_PNG, SPNG_DECODE_TRNS, SPNG_ECHUNKAVAIL
    spng_ctx* spng_ctx_new(int)
    void spng_ctx_free(spng_ctx*)
    int spng_set_png_buffer(spng_ctx*, const void*, size_t)
    int spng_set_image_limits(spng_ctx*, uint32_t, uint32_t)
    int spng_set_chunk_limits(spng_ctx*, size_t, size_t)
    int spng_get_ihdr(spng_ctx*, spng_ihdr*)
    int spng_get_trns(spng_ctx*, spng_trns*)
    int spng_get_iccp(spng_ctx*, spng_iccp*)
    int spng_decoded_image_size(spng_ctx*, int, size_t*)
    int spng_decode_image(spng_ctx*, void*, size_t, int, int)
    const char* spng_strerror(int)


MIN_LEVEL, MAX_LEVEL = 0, 12

cdef enum:
    # PNG limits a chunk to 2**31 - 1 bytes, and so an image side.
    MAX_CHUNK = 0x7FFFFFFF
    # Largest ancillary chunk libspng will read, and all of them together.
    ANCILLARY_CHUNK_LIMIT = 64 << 20
    ANCILLARY_TOTAL_LIMIT = 256 << 20
    ICC_NAME_LEN = 11

# Largest IDAT chunk written (png.py passes it; a test lowers it to see the split).
IDAT_MAX = MAX_CHUNK
cdef const char* SIGNATURE = b"\x89PNG\r\n\x1a\n"
cdef const char* ICC_NAME = b"ICC profile"  # the keyword Pillow and libpng write
# PNG colour type by channel count (grey, grey+alpha, RGB, RGBA).
cdef int[5] COLOR_TYPE = [-1, 0, 4, 2, 6]


cdef ThreadLocal _compressor_key
cdef ThreadLocal _decompressor_key
tls_init(&_compressor_key, free_level_compressor)
tls_init(&_decompressor_key, free_decompressor)


cdef inline libdeflate_compressor* _compressor(int level) except NULL:
    return thread_compressor(&_compressor_key, level)


cdef inline libdeflate_decompressor* _decompressor() except NULL:
    return thread_decompressor(&_decompressor_key)


# ---- chunks ----

cdef inline void _put32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = v >> 24
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


cdef inline uint32_t _get32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef uint8_t* _chunk(uint8_t* p, const char* kind, size_t n) noexcept nogil:
    """Frame the n data bytes already at p + 8 as a chunk; return its end."""
    _put32(p, <uint32_t>n)
    memcpy(p + 4, kind, 4)
    _put32(p + 8 + n, libdeflate_crc32(0, p + 4, n + 4))
    return p + 12 + n


cdef size_t _split_idat(uint8_t* p, size_t n, size_t piece) noexcept nogil:
    """Frame the n zlib bytes at p + 8 as IDAT chunks of at most `piece` bytes.

    The stream was compressed in place as if for one chunk; later pieces move
    right (last first) to make room for the headers in between.
    """
    cdef size_t count = (n + piece - 1) // piece, k, size
    k = count - 1
    while k > 0:
        size = min(piece, n - k * piece)
        memmove(p + 8 + k * (piece + 12), p + 8 + k * piece, size)
        k -= 1
    for k in range(count):
        size = min(piece, n - k * piece)
        _chunk(p + k * (piece + 12), b"IDAT", size)
    return n + 12 * count


cdef size_t _compress_at(libdeflate_compressor* c, const void* src, size_t n, uint8_t* dst,
                        size_t cap, size_t offset, size_t reserve) noexcept nogil:
    """Compress into dst + offset, leaving `reserve` bytes before cap; 0 if it does not fit."""
    if offset + reserve >= cap:
        return 0
    return libdeflate_zlib_compress(c, src, n, dst + offset, cap - offset - reserve)


cdef size_t _write_png(libdeflate_compressor* c, const uint8_t* filtered, size_t filtered_size,
                       size_t height, size_t width, int channels, int itemsize,
                       const void* icc, size_t icc_len, size_t idat_max,
                       uint8_t* dst, size_t cap) noexcept nogil:
    """Signature, IHDR, iCCP (if icc), IDAT, IEND into dst; the size, or 0 if over cap."""
    cdef size_t pos, z, name_len = ICC_NAME_LEN, framing
    cdef uint8_t* p
    if cap < 8 + 25:
        return 0
    memcpy(dst, SIGNATURE, 8)
    p = dst + 8
    _put32(p + 8, <uint32_t>width)
    _put32(p + 12, <uint32_t>height)
    p[16] = <uint8_t>(8 * itemsize)
    p[17] = <uint8_t>COLOR_TYPE[channels]
    p[18] = p[19] = p[20] = 0  # deflate, adaptive filtering, no interlace
    pos = _chunk(p, b"IHDR", 13) - dst
    if icc != NULL:
        # keyword, NUL, compression method 0 (deflate), zlib stream
        z = _compress_at(c, icc, icc_len, dst, cap, pos + 8 + name_len + 2, 4)
        if z == 0:
            return 0
        memcpy(dst + pos + 8, ICC_NAME, name_len + 1)
        dst[pos + 8 + name_len + 1] = 0
        pos = _chunk(dst + pos, b"iCCP", name_len + 2 + z) - dst
    z = _compress_at(c, filtered, filtered_size, dst, cap, pos + 8, 4 + 12)
    framing = 12 * ((z + idat_max - 1) // idat_max) + 12  # IDAT chunk frames, IEND
    if z == 0 or cap - pos < z + framing:
        return 0
    pos += _split_idat(dst + pos, z, idat_max)
    return _chunk(dst + pos, b"IEND", 0) - dst


def encode(src, size_t height, size_t width, int channels, int itemsize, bint swap16,
           int filter, int level, icc, size_t idat_max, out=None):
    """A PNG of the (height, width, channels) image of 1- or 2-byte samples in `src`.

    16-bit samples are native-endian when swap16, else already big-endian;
    `icc` (bytes or None) is stored in an iCCP chunk.
    """
    cdef Py_buffer s, o, pr
    cdef BytesOut b
    cdef libdeflate_compressor* c = _compressor(level)
    cdef size_t rowbytes = width * <size_t>channels * <size_t>itemsize
    cdef size_t filtered_size = height * (rowbytes + 1)
    cdef size_t cap, bound, size = 0
    cdef uint8_t* dst
    cdef uint8_t* filtered = NULL
    cdef const void* profile = NULL
    cdef size_t profile_len = 0
    cdef bint has_out = False, has_icc = False, no_memory = False
    get_input(src, &s)
    b.obj = NULL
    try:
        if icc is not None:
            get_input(icc, &pr)
            has_icc = True
            profile, profile_len = pr.buf, <size_t>pr.len
        if out is None:
            bound = libdeflate_zlib_compress_bound(c, filtered_size)
            cap = 8 + 25 + bound + 12 * (bound // idat_max + 1) + 12
            if has_icc:
                cap += 12 + ICC_NAME_LEN + 2 + libdeflate_zlib_compress_bound(c, profile_len)
            bytes_new(&b, <Py_ssize_t>cap)
            dst = <uint8_t*>b.data
        else:
            get_output(out, &o)
            has_out = True
            dst = <uint8_t*>o.buf
            cap = <size_t>o.len
        with nogil:
            filtered = <uint8_t*>malloc(filtered_size)
            if filtered == NULL or png_filter_rows(<const uint8_t*>s.buf, rowbytes, channels * itemsize,
                                                   height, filter, swap16, filtered) != 0:
                no_memory = True
            else:
                size = _write_png(c, filtered, filtered_size, height, width, channels, itemsize,
                                  profile, profile_len, idat_max, dst, cap)
            free(filtered)
        if no_memory:
            raise MemoryError("png: cannot allocate the filtered rows")
        if size == 0:
            raise EncodeError(f"png: output does not fit in {cap} bytes")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>size)
        return memoryview(out).cast("B")[:size]
    finally:
        PyBuffer_Release(&s)
        if has_icc:
            PyBuffer_Release(&pr)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


# ---- decode ----

cdef struct Layout:
    # What a PNG decodes to, and how.
    size_t height, width, channels, itemsize
    size_t stored_rowbytes  # one row as filtered in the file, without its filter byte
    int fmt                 # libspng output format
    int flags               # libspng decode flags
    bint fast               # take the libdeflate path


cdef void _layout(spng_ihdr* h, bint trns, Layout* L) noexcept nogil:
    """Grey stays grey (1/2/4-bit scaled to uint8), palette becomes RGB, and tRNS adds alpha."""
    cdef int ct = h.color_type, deep = h.bit_depth == 16
    cdef int samples = 1 if ct == 0 or ct == 3 else 2 if ct == 4 else 3 if ct == 2 else 4
    L.height = h.height
    L.width = h.width
    L.itemsize = 2 if deep else 1
    L.stored_rowbytes = (<size_t>h.width * samples * h.bit_depth + 7) // 8
    L.flags = SPNG_DECODE_TRNS if trns else 0
    if ct == 3:
        L.channels = 4 if trns else 3
        L.fmt = SPNG_FMT_RGBA8 if trns else SPNG_FMT_RGB8
    elif trns:  # a transparent key colour on grey or RGB: an alpha channel
        L.channels = 2 if ct == 0 else 4
        L.fmt = ((SPNG_FMT_GA16 if deep else SPNG_FMT_GA8) if ct == 0
                 else (SPNG_FMT_RGBA16 if deep else SPNG_FMT_RGBA8))
    else:
        L.channels = samples
        L.fmt = SPNG_FMT_G8 if ct == 0 and h.bit_depth < 8 else SPNG_FMT_PNG
    L.fast = L.fmt == SPNG_FMT_PNG and h.bit_depth >= 8 and not h.interlace_method


cdef str _spng_error(int r):
    return spng_strerror(r).decode("utf-8", "replace")


cdef spng_ctx* _open(Py_buffer* s, size_t max_size, Layout* L) except NULL:
    """A libspng context over the PNG in `s`, header chunks read and checked."""
    cdef spng_ctx* ctx
    cdef spng_ihdr h
    cdef spng_trns t
    cdef int r = 0
    cdef uint32_t side = <uint32_t>min(max_size, <size_t>MAX_CHUNK)
    if s.len == 0:
        raise DecodeError("png: empty input")
    if s.len < 8 or (<const uint8_t*>s.buf)[0] != 0x89:
        raise DecodeError("png: not a PNG file (bad signature)")
    with nogil:
        ctx = spng_ctx_new(0)
        if ctx != NULL:
            spng_set_image_limits(ctx, side, side)
            spng_set_chunk_limits(ctx, min(max_size, <size_t>ANCILLARY_CHUNK_LIMIT),
                                  min(max_size, <size_t>ANCILLARY_TOTAL_LIMIT))
            r = spng_set_png_buffer(ctx, s.buf, <size_t>s.len)
            if r == 0:
                r = spng_get_ihdr(ctx, &h)
            if r == 0:
                r = spng_get_trns(ctx, &t)
                if r == SPNG_ECHUNKAVAIL:
                    r = 0
                    _layout(&h, False, L)
                elif r == 0:
                    _layout(&h, True, L)
    if ctx == NULL:
        raise MemoryError("png: cannot create a libspng context")
    if r != 0:
        spng_ctx_free(ctx)
        raise DecodeError(f"png: {_spng_error(r)}")
    # Deflate expands at most DEFLATE_MAX_RATIO times: refuse sizes the input cannot hold.
    if L.stored_rowbytes + 1 > <size_t>s.len * DEFLATE_MAX_RATIO // L.height:
        spng_ctx_free(ctx)
        raise DecodeError(f"png: IHDR declares {L.height}x{L.width} pixels, more than "
                          f"{s.len} input bytes can hold")
    return ctx


def info(src, size_t max_size):
    """(height, width, channels, itemsize) of the array the PNG in `src` decodes to."""
    cdef Py_buffer s
    cdef Layout L
    get_input(src, &s)
    try:
        spng_ctx_free(_open(&s, max_size, &L))
        return L.height, L.width, L.channels, L.itemsize
    finally:
        PyBuffer_Release(&s)


def read_icc(src, size_t max_size):
    """The ICC profile of the iCCP chunk (decompressed), or None."""
    cdef Py_buffer s
    cdef Layout L
    cdef spng_iccp icc
    cdef int r
    get_input(src, &s)
    cdef spng_ctx* ctx = _open(&s, max_size, &L)
    try:
        with nogil:
            r = spng_get_iccp(ctx, &icc)
        if r == SPNG_ECHUNKAVAIL:
            return None
        if r != 0:
            raise DecodeError(f"png: {_spng_error(r)}")
        return icc.profile[:icc.profile_len]
    finally:
        spng_ctx_free(ctx)
        PyBuffer_Release(&s)


cdef const char* _find_idat(const uint8_t* data, size_t n, const uint8_t** stream,
                            size_t* stream_len, uint8_t** joined) noexcept nogil:
    """The zlib stream of the first run of IDAT chunks, CRCs checked: in place
    if one chunk holds it, else copied into *joined (the caller frees it).
    Like libpng and libspng, ignore what follows the image data. Return an
    error message, or NULL."""
    cdef size_t pos = 8, first = 0, count = 0, total = 0, length
    cdef bint complete
    while n - pos >= 8:
        length = _get32(data + pos)
        complete = length <= MAX_CHUNK and n - pos - 8 >= length + 4
        if memcmp(data + pos + 4, b"IDAT", 4) != 0:
            if count or not complete:
                break  # the run of IDAT chunks is over, or never came
        else:
            if not complete:
                return "truncated IDAT chunk"
            if libdeflate_crc32(0, data + pos + 4, length + 4) != _get32(data + pos + 8 + length):
                return "IDAT CRC mismatch"
            if count == 0:
                first = pos
            count += 1
            total += length
        pos += 12 + length
    if count == 0:
        return "no image data (IDAT)"
    if count == 1:
        stream[0] = data + first + 8
        stream_len[0] = total
        return NULL
    joined[0] = <uint8_t*>malloc(total if total else 1)
    if joined[0] == NULL:
        return "cannot allocate the image data"
    pos = first
    total = 0
    while count:
        length = _get32(data + pos)
        memcpy(joined[0] + total, data + pos + 8, length)
        total += length
        pos += 12 + length
        count -= 1
    stream[0] = joined[0]
    stream_len[0] = total
    return NULL


# The fast path gives up on streams longer than the image: libspng reads those.
cdef const char* EXTRA_DATA = "more image data than IHDR declares"


cdef const char* _decode_fast(libdeflate_decompressor* d, const uint8_t* data, size_t n,
                              Layout* L, bint swap16, uint8_t* out) noexcept nogil:
    """Inflate the IDAT stream in one call and unfilter it into `out`."""
    cdef const uint8_t* stream = NULL
    cdef uint8_t* joined = NULL
    cdef uint8_t* filtered = NULL
    cdef size_t stream_len = 0, rowbytes = L.stored_rowbytes, used_in, used_out
    cdef size_t filtered_size = L.height * (rowbytes + 1)
    cdef const char* error = _find_idat(data, n, &stream, &stream_len, &joined)
    cdef libdeflate_result r
    cdef int status
    if error == NULL:
        filtered = <uint8_t*>malloc(filtered_size)
        if filtered == NULL:
            error = "cannot allocate the filtered rows"
    if error == NULL:
        r = libdeflate_zlib_decompress_ex(d, stream, stream_len, filtered, filtered_size,
                                          &used_in, &used_out)
        if r == LIBDEFLATE_INSUFFICIENT_SPACE:
            error = EXTRA_DATA
        elif r != LIBDEFLATE_SUCCESS:
            error = "corrupt image data (deflate stream or Adler-32)"
        elif used_out != filtered_size:
            error = "truncated image data"
    if error == NULL:
        status = png_unfilter_rows(filtered, L.height, rowbytes,
                                   <unsigned>(L.channels * L.itemsize), swap16, out)
        if status == -1:
            error = "invalid filter type"
        elif status != 0:
            error = "cannot allocate a row"
    free(joined)
    free(filtered)
    return error


def decode(src, out, bint swap16, size_t max_size):
    """Decode the PNG in `src` into `out`, sized from info() (host-endian samples)."""
    cdef Py_buffer s, o
    cdef Layout L
    cdef size_t needed = 0
    cdef int r = 0
    cdef const char* error = NULL
    cdef libdeflate_decompressor* d = _decompressor()
    get_input(src, &s)
    cdef spng_ctx* ctx = NULL
    cdef bint has_out = False
    try:
        ctx = _open(&s, max_size, &L)
        get_output(out, &o)
        has_out = True
        expected = int(L.height) * int(L.width) * int(L.channels) * int(L.itemsize)
        if o.len != expected:
            raise DecodeError(f"png: image needs {expected} bytes, out has {o.len}")
        with nogil:
            if L.fast:
                error = _decode_fast(d, <const uint8_t*>s.buf, <size_t>s.len, &L,
                                     swap16 and L.itemsize == 2, <uint8_t*>o.buf)
            if not L.fast or error == EXTRA_DATA:  # libspng, like libpng, ignores extra data
                error = NULL
                r = spng_decoded_image_size(ctx, L.fmt, &needed)
                if r == 0 and needed != <size_t>o.len:
                    error = "libspng output size differs from the header's"
                elif r == 0:
                    r = spng_decode_image(ctx, o.buf, needed, L.fmt, L.flags)
        if error != NULL:
            raise DecodeError(f"png: {error.decode()}")
        if r != 0:
            raise DecodeError(f"png: {_spng_error(r)}")
        return out
    finally:
        spng_ctx_free(ctx)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
