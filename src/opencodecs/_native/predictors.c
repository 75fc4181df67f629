/* TIFF predictors, written for opencodecs (see predictors.h). */
#include "predictors.h"
#include <stdint.h>
#include <string.h>

#define HORIZONTAL(T)                                                              \
    static void hdec_##T(T *p, size_t rows, size_t cols, size_t spp)              \
    {                                                                              \
        size_t n = cols * spp;                                                     \
        for (size_t r = 0; r < rows; r++, p += n)                                  \
            for (size_t i = spp; i < n; i++)                                       \
                p[i] = (T)(p[i] + p[i - spp]);                                     \
    }                                                                              \
    static void henc_##T(T *p, size_t rows, size_t cols, size_t spp)              \
    {                                                                              \
        size_t n = cols * spp;                                                     \
        for (size_t r = 0; r < rows; r++, p += n)                                  \
            for (size_t i = n; i-- > spp;)                                         \
                p[i] = (T)(p[i] - p[i - spp]);                                     \
    }

HORIZONTAL(uint8_t)
HORIZONTAL(uint16_t)
HORIZONTAL(uint32_t)
HORIZONTAL(uint64_t)

void horizontal_decode(void *data, size_t rows, size_t cols, size_t spp, int itemsize)
{
    switch (itemsize) {
    case 1: hdec_uint8_t(data, rows, cols, spp); break;
    case 2: hdec_uint16_t(data, rows, cols, spp); break;
    case 4: hdec_uint32_t(data, rows, cols, spp); break;
    case 8: hdec_uint64_t(data, rows, cols, spp); break;
    }
}

void horizontal_encode(void *data, size_t rows, size_t cols, size_t spp, int itemsize)
{
    switch (itemsize) {
    case 1: henc_uint8_t(data, rows, cols, spp); break;
    case 2: henc_uint16_t(data, rows, cols, spp); break;
    case 4: henc_uint32_t(data, rows, cols, spp); break;
    case 8: henc_uint64_t(data, rows, cols, spp); break;
    }
}

/* Byte k of a native sample is its (k)-th least significant on little-endian
 * hosts; plane 0 of a row holds the most significant bytes. */
static inline size_t significance_byte(int plane, int itemsize)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)plane;
#else
    return (size_t)(itemsize - 1 - plane);
#endif
}

void floatpred_decode(unsigned char *data, size_t rows, size_t cols, size_t spp, int itemsize,
                      unsigned char *scratch)
{
    size_t samples = cols * spp, nbytes = samples * (size_t)itemsize;
    for (size_t r = 0; r < rows; r++, data += nbytes) {
        memcpy(scratch, data, nbytes);
        for (size_t i = spp; i < nbytes; i++)
            scratch[i] = (unsigned char)(scratch[i] + scratch[i - spp]);
        for (int plane = 0; plane < itemsize; plane++) {
            const unsigned char *src = scratch + (size_t)plane * samples;
            size_t b = significance_byte(plane, itemsize);
            for (size_t s = 0; s < samples; s++)
                data[s * (size_t)itemsize + b] = src[s];
        }
    }
}

void floatpred_encode(unsigned char *data, size_t rows, size_t cols, size_t spp, int itemsize,
                      unsigned char *scratch)
{
    size_t samples = cols * spp, nbytes = samples * (size_t)itemsize;
    for (size_t r = 0; r < rows; r++, data += nbytes) {
        for (int plane = 0; plane < itemsize; plane++) {
            unsigned char *dst = scratch + (size_t)plane * samples;
            size_t b = significance_byte(plane, itemsize);
            for (size_t s = 0; s < samples; s++)
                dst[s] = data[s * (size_t)itemsize + b];
        }
        for (size_t i = nbytes; i-- > spp;)
            scratch[i] = (unsigned char)(scratch[i] - scratch[i - spp]);
        memcpy(data, scratch, nbytes);
    }
}
