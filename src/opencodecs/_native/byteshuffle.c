/* Byte shuffle, written for opencodecs (see byteshuffle.h). The 2-byte case
 * is written so compilers turn it into SIMD unpack/pack instructions. */
#include "byteshuffle.h"

static void shuffle2(const unsigned char *restrict src, unsigned char *restrict dst, size_t n)
{
    unsigned char *restrict lo = dst, *restrict hi = dst + n;
    for (size_t i = 0; i < n; i++) {
        lo[i] = src[2 * i];
        hi[i] = src[2 * i + 1];
    }
}

static void unshuffle2(const unsigned char *restrict src, unsigned char *restrict dst, size_t n)
{
    const unsigned char *restrict lo = src, *restrict hi = src + n;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = lo[i];
        dst[2 * i + 1] = hi[i];
    }
}

void byte_shuffle(const unsigned char *src, unsigned char *dst, size_t n, size_t typesize)
{
    if (typesize == 2) {
        shuffle2(src, dst, n);
        return;
    }
    for (size_t k = 0; k < typesize; k++)
        for (size_t i = 0; i < n; i++)
            dst[k * n + i] = src[i * typesize + k];
}

void byte_unshuffle(const unsigned char *src, unsigned char *dst, size_t n, size_t typesize)
{
    if (typesize == 2) {
        unshuffle2(src, dst, n);
        return;
    }
    for (size_t k = 0; k < typesize; k++)
        for (size_t i = 0; i < n; i++)
            dst[i * typesize + k] = src[k * n + i];
}
