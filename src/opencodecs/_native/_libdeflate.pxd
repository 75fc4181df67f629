# libdeflate declarations and per-thread contexts, shared by _deflate and _png.
# Inline, so no module of its own; each module keeps its own thread-local keys.

from libc.stdint cimport uint32_t
from libc.stdlib cimport calloc, free
from opencodecs._native._tls cimport ThreadLocal, tls_get, tls_set


cdef extern from "libdeflate.h" nogil:
    struct libdeflate_compressor
    struct libdeflate_decompressor
    enum libdeflate_result:
        LIBDEFLATE_SUCCESS
        LIBDEFLATE_BAD_DATA
        LIBDEFLATE_SHORT_OUTPUT
        LIBDEFLATE_INSUFFICIENT_SPACE
    libdeflate_compressor* libdeflate_alloc_compressor(int)
    void libdeflate_free_compressor(libdeflate_compressor*)
    size_t libdeflate_deflate_compress(libdeflate_compressor*, const void*, size_t, void*, size_t)
    size_t libdeflate_zlib_compress(libdeflate_compressor*, const void*, size_t, void*, size_t)
    size_t libdeflate_gzip_compress(libdeflate_compressor*, const void*, size_t, void*, size_t)
    size_t libdeflate_deflate_compress_bound(libdeflate_compressor*, size_t)
    size_t libdeflate_zlib_compress_bound(libdeflate_compressor*, size_t)
    size_t libdeflate_gzip_compress_bound(libdeflate_compressor*, size_t)
    libdeflate_decompressor* libdeflate_alloc_decompressor()
    void libdeflate_free_decompressor(libdeflate_decompressor*)
    libdeflate_result libdeflate_deflate_decompress_ex(
        libdeflate_decompressor*, const void*, size_t, void*, size_t, size_t*, size_t*)
    libdeflate_result libdeflate_zlib_decompress_ex(
        libdeflate_decompressor*, const void*, size_t, void*, size_t, size_t*, size_t*)
    libdeflate_result libdeflate_gzip_decompress_ex(
        libdeflate_decompressor*, const void*, size_t, void*, size_t, size_t*, size_t*)
    uint32_t libdeflate_crc32(uint32_t, const void*, size_t)


cdef struct LevelCompressor:
    # A compressor is bound to one level; a thread keeps its last one.
    libdeflate_compressor* c
    int level


cdef inline void free_level_compressor(void* p) noexcept nogil:
    libdeflate_free_compressor((<LevelCompressor*>p).c)
    free(p)


cdef inline void free_decompressor(void* p) noexcept nogil:
    libdeflate_free_decompressor(<libdeflate_decompressor*>p)


cdef inline libdeflate_compressor* thread_compressor(ThreadLocal* key, int level) except NULL:
    """This thread's compressor at `level` (key initialised with free_level_compressor)."""
    cdef LevelCompressor* k = <LevelCompressor*>tls_get(key)
    if k == NULL:
        k = <LevelCompressor*>calloc(1, sizeof(LevelCompressor))
        if k == NULL:
            raise MemoryError("libdeflate: cannot allocate a compressor")
        k.level = -1
        tls_set(key, k)
    if k.level != level:
        with nogil:
            if k.c != NULL:
                libdeflate_free_compressor(k.c)
            k.c = libdeflate_alloc_compressor(level)
        k.level = level if k.c != NULL else -1
        if k.c == NULL:
            raise MemoryError(f"libdeflate: cannot allocate a level {level} compressor")
    return k.c


cdef inline libdeflate_decompressor* thread_decompressor(ThreadLocal* key) except NULL:
    """This thread's decompressor (key initialised with free_decompressor)."""
    cdef libdeflate_decompressor* d = <libdeflate_decompressor*>tls_get(key)
    if d == NULL:
        with nogil:
            d = libdeflate_alloc_decompressor()
        if d == NULL:
            raise MemoryError("libdeflate: cannot allocate a decompressor")
        tls_set(key, d)
    return d
