/* Bit shuffle in the `bitshuffle` package's layout (see bitshuffle.h).
 *
 * A block goes through two transposes, fused: bytes (element-major to one
 * plane per byte position) and bits (each byte plane to 8 rows of bits).
 * With SSE2 (always there on x86_64) item sizes 1, 2, 4 and 8 take a vector
 * path; the rest, and block tails, go 8 elements at a time through a
 * portable 64-bit bit-matrix transpose.
 */
#include "bitshuffle.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The package aims at 8 KiB blocks, and at least 128 elements. */
enum { TARGET_BLOCK_BYTES = 8192, MIN_DEFAULT_BLOCK = 128 };

size_t bitshuffle_default_block(size_t itemsize)
{
    size_t block = TARGET_BLOCK_BYTES / itemsize / 8 * 8;
    return block > MIN_DEFAULT_BLOCK ? block : MIN_DEFAULT_BLOCK;
}

/* Transpose the 8x8 bit matrix held in x (bit c of byte r <-> bit r of byte
 * c) by swapping ever larger off-diagonal blocks: 1x1, 2x2, then 4x4. */
static uint64_t transpose8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x ^= t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x ^= t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    x ^= t ^ (t << 28);
    return x;
}

/* 8 elements of s bytes to their 8 * s bit-row bytes (rows `stride` apart). */
static void encode8(const uint8_t *src, uint8_t *rows, size_t s, size_t stride)
{
    for (size_t j = 0; j < s; j++) {
        uint64_t x = 0;
        for (int m = 7; m >= 0; m--)
            x = x << 8 | src[(size_t)m * s + j];
        x = transpose8(x);
        for (size_t k = 0; k < 8; k++)
            rows[(8 * j + k) * stride] = (uint8_t)(x >> 8 * k);
    }
}

static void decode8(const uint8_t *rows, uint8_t *dst, size_t s, size_t stride)
{
    for (size_t j = 0; j < s; j++) {
        uint64_t x = 0;
        for (int k = 7; k >= 0; k--)
            x = x << 8 | rows[(8 * j + (size_t)k) * stride];
        x = transpose8(x);
        for (size_t m = 0; m < 8; m++)
            dst[m * s + j] = (uint8_t)(x >> 8 * m);
    }
}

#if defined(__SSE2__)

#define HAVE_VECTOR_PATH 1

/* Even and odd bytes of the 32-byte stream x:y. */
static inline void unzip(__m128i x, __m128i y, __m128i *even, __m128i *odd)
{
    const __m128i low = _mm_set1_epi16(0x00FF);
    *even = _mm_packus_epi16(_mm_and_si128(x, low), _mm_and_si128(y, low));
    *odd = _mm_packus_epi16(_mm_srli_epi16(x, 8), _mm_srli_epi16(y, 8));
}

/* 16 elements of s (1, 2, 4 or 8) bytes in v[0..s) to byte planes in place
 * (v[j] = byte j of each element). One round moves the stream's even bytes
 * to its first half and odd bytes to its second, rotating the bits of each
 * byte's position (element * s + j) right by one: log2(s) rounds make it
 * j * 16 + element. */
static inline void unzip_planes(__m128i *v, size_t s)
{
    for (size_t round = 1; round < s; round *= 2) {
        __m128i t[8];
        for (size_t f = 0; f < s / 2; f++)
            unzip(v[2 * f], v[2 * f + 1], &t[f], &t[f + s / 2]);
        for (size_t f = 0; f < s; f++)
            v[f] = t[f];
    }
}

/* The inverse: interleave the halves, rotating left. */
static inline void zip_planes(__m128i *v, size_t s)
{
    for (size_t round = 1; round < s; round *= 2) {
        __m128i t[8];
        for (size_t f = 0; f < s / 2; f++) {
            t[2 * f] = _mm_unpacklo_epi8(v[f], v[f + s / 2]);
            t[2 * f + 1] = _mm_unpackhi_epi8(v[f], v[f + s / 2]);
        }
        for (size_t f = 0; f < s; f++)
            v[f] = t[f];
    }
}

/* 32 elements: movemask gathers the top bit of 16 plane bytes, doubling
 * brings the next bit up; two masks make one 4-byte store per row. */
static inline void encode32(const uint8_t *src, uint8_t *rows, size_t s, size_t stride)
{
    __m128i a[8], b[8];
    for (size_t f = 0; f < s; f++) {
        a[f] = _mm_loadu_si128((const __m128i *)(src + 16 * f));
        b[f] = _mm_loadu_si128((const __m128i *)(src + 16 * (s + f)));
    }
    unzip_planes(a, s);
    unzip_planes(b, s);
    for (size_t j = 0; j < s; j++) {
        for (int k = 7; k >= 0; k--) {
            uint32_t m = (uint32_t)_mm_movemask_epi8(a[j]) | (uint32_t)_mm_movemask_epi8(b[j]) << 16;
            memcpy(rows + (8 * j + (size_t)k) * stride, &m, 4);
            a[j] = _mm_add_epi8(a[j], a[j]);
            b[j] = _mm_add_epi8(b[j], b[j]);
        }
    }
}

/* transpose8 on both 64-bit lanes at once. */
static inline __m128i transpose8x2(__m128i x)
{
    __m128i t;
    t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 7)), _mm_set1_epi64x(0x00AA00AA00AA00AAll));
    x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 7)));
    t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 14)), _mm_set1_epi64x(0x0000CCCC0000CCCCll));
    x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 14)));
    t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 28)), _mm_set1_epi64x(0x00000000F0F0F0F0ll));
    x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 28)));
    return x;
}

/* 8 bit rows (16 bytes each) to one byte plane of 128 elements, out[g] for
 * elements 16g..16g+15: a byte transpose gathers the 8 row bytes of each
 * group of 8 elements into a 64-bit lane, a bit transpose per lane then
 * yields the elements' bytes. */
static inline void rows_to_plane128(const uint8_t *rows, size_t stride, __m128i *out)
{
    __m128i r[8], a[8], b[8];
    for (int k = 0; k < 8; k++)
        r[k] = _mm_loadu_si128((const __m128i *)(rows + (size_t)k * stride));
    for (int k = 0; k < 8; k += 2) {
        a[k] = _mm_unpacklo_epi8(r[k], r[k + 1]);
        a[k + 1] = _mm_unpackhi_epi8(r[k], r[k + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        b[h] = _mm_unpacklo_epi16(a[h], a[h + 2]);
        b[h + 1] = _mm_unpackhi_epi16(a[h], a[h + 2]);
        b[h + 2] = _mm_unpacklo_epi16(a[h + 1], a[h + 3]);
        b[h + 3] = _mm_unpackhi_epi16(a[h + 1], a[h + 3]);
    }
    for (int p = 0; p < 4; p++) {
        out[2 * p] = transpose8x2(_mm_unpacklo_epi32(b[p], b[p + 4]));
        out[2 * p + 1] = transpose8x2(_mm_unpackhi_epi32(b[p], b[p + 4]));
    }
}

/* 128 elements: each byte plane from its rows, then planes zipped into
 * elements 16 at a time. */
static inline void decode128(const uint8_t *rows, uint8_t *dst, size_t s, size_t stride)
{
    __m128i planes[8][8], v[8];
    for (size_t j = 0; j < s; j++)
        rows_to_plane128(rows + 8 * j * stride, stride, planes[j]);
    for (size_t g = 0; g < 8; g++) {
        for (size_t j = 0; j < s; j++)
            v[j] = planes[j][g];
        zip_planes(v, s);
        for (size_t f = 0; f < s; f++)
            _mm_storeu_si128((__m128i *)(dst + 16 * (g * s + f)), v[f]);
    }
}

/* Vector loops over a block; they return how many elements they did. */
static inline size_t encode_vectors(const uint8_t *src, uint8_t *dst, size_t n, size_t s)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        encode32(src + i * s, dst + i / 8, s, n / 8);
    return i;
}

static inline size_t decode_vectors(const uint8_t *src, uint8_t *dst, size_t n, size_t s)
{
    size_t i = 0;
    for (; i + 128 <= n; i += 128)
        decode128(src + i / 8, dst + i * s, s, n / 8);
    return i;
}

#endif

/* One block of n elements (a multiple of 8) of s bytes: row r of the block's
 * output (bit r % 8 of byte r / 8) is n / 8 bytes at dst + r * n / 8. The
 * vector loops are called with literal sizes, so each gets specialised. */
static void encode_block(const uint8_t *src, uint8_t *dst, size_t n, size_t s)
{
    size_t i = 0;
#ifdef HAVE_VECTOR_PATH
    switch (s) {
    case 1: i = encode_vectors(src, dst, n, 1); break;
    case 2: i = encode_vectors(src, dst, n, 2); break;
    case 4: i = encode_vectors(src, dst, n, 4); break;
    case 8: i = encode_vectors(src, dst, n, 8); break;
    }
#endif
    for (; i < n; i += 8)
        encode8(src + i * s, dst + i / 8, s, n / 8);
}

static void decode_block(const uint8_t *src, uint8_t *dst, size_t n, size_t s)
{
    size_t i = 0;
#ifdef HAVE_VECTOR_PATH
    switch (s) {
    case 1: i = decode_vectors(src, dst, n, 1); break;
    case 2: i = decode_vectors(src, dst, n, 2); break;
    case 4: i = decode_vectors(src, dst, n, 4); break;
    case 8: i = decode_vectors(src, dst, n, 8); break;
    }
#endif
    for (; i < n; i += 8)
        decode8(src + i / 8, dst + i * s, s, n / 8);
}

/* A block reads from 8 * s short row streams (decode) at once, too many
 * and too short for the hardware prefetcher: fetch the next block ahead. */
static void prefetch_next(const uint8_t *next, const uint8_t *end, size_t size)
{
#if defined(__GNUC__)
    for (size_t off = 0; off < size && next + off < end; off += 64)
        __builtin_prefetch(next + off);
#else
    (void)next, (void)end, (void)size;
#endif
}

typedef void (*block_fn)(const uint8_t *, uint8_t *, size_t, size_t);

static int run_blocks(block_fn fn, const uint8_t *src, uint8_t *dst, size_t n, size_t s, size_t block)
{
    if (s == 0 || block % 8 != 0)
        return -1;
    if (block == 0)
        block = bitshuffle_default_block(s);
    size_t whole = n / 8 * 8;  /* the trailing n % 8 elements are copied */
    for (size_t i = 0; i < whole; i += block) {
        size_t m = whole - i < block ? whole - i : block;
        prefetch_next(src + (i + m) * s, src + whole * s, m * s);
        fn(src + i * s, dst + i * s, m, s);
    }
    memcpy(dst + whole * s, src + whole * s, (n - whole) * s);
    return 0;
}

int bitshuffle_encode(const void *src, void *dst, size_t n, size_t itemsize, size_t block)
{
    return run_blocks(encode_block, src, dst, n, itemsize, block);
}

int bitshuffle_decode(const void *src, void *dst, size_t n, size_t itemsize, size_t block)
{
    return run_blocks(decode_block, src, dst, n, itemsize, block);
}
