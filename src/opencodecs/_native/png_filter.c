/* PNG scanline filters (see png_filter.h).
 *
 * Encode: one plain loop per filter type that reads only unfiltered bytes, so
 * the compiler vectorises each (-O3). Decode: Up is vectorised the same way;
 * Sub, Average and Paeth depend on the byte just reconstructed, so pixels go
 * one at a time, all channels of a pixel at once in the lanes of a vector.
 */
#include "png_filter.h"

#include <stdlib.h>
#include <string.h>

/* ---- encode ---- */

static void filter_sub(const uint8_t *x, size_t n, unsigned bpp, uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = x[i];
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(x[i] - x[i - bpp]);
}

static void filter_up(const uint8_t *x, const uint8_t *up, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(x[i] - up[i]);
}

/* floor((a + b) / 2) without leaving 8 bits. */
static inline uint8_t average(uint8_t a, uint8_t b)
{
    return (uint8_t)((a & b) + ((a ^ b) >> 1));
}

static void filter_average(const uint8_t *x, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(x[i] - (up[i] >> 1));
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(x[i] - average(x[i - bpp], up[i]));
}

/* The Paeth predictor of a (left), b (up), c (up-left), branch-free. Its
 * terms fit 16 bits, so the compiler vectorises 8 (SSE2) or 16 (AVX2) lanes. */
static inline uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int16_t bc = (int16_t)(b - c), ac = (int16_t)(a - c);
    int16_t pc = (int16_t)(bc + ac);  /* p - c, with p = a + b - c */
    int16_t pa = bc < 0 ? (int16_t)-bc : bc, pb = ac < 0 ? (int16_t)-ac : ac;
    pc = pc < 0 ? (int16_t)-pc : pc;
    uint8_t b_or_c = pb <= pc ? b : c;
    int16_t nearest = pb <= pc ? pb : pc;
    return pa <= nearest ? a : b_or_c;
}

static void filter_paeth(const uint8_t *x, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(x[i] - up[i]);  /* a = c = 0: the predictor is b */
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(x[i] - paeth(x[i - bpp], up[i], up[i - bpp]));
}

static void filter_row(int filter, const uint8_t *x, const uint8_t *up, size_t n, unsigned bpp,
                       uint8_t *out)
{
    switch (filter) {
    case PNG_FILTER_SUB: filter_sub(x, n, bpp, out); break;
    case PNG_FILTER_UP: filter_up(x, up, n, out); break;
    case PNG_FILTER_AVERAGE: filter_average(x, up, n, bpp, out); break;
    case PNG_FILTER_PAETH: filter_paeth(x, up, n, bpp, out); break;
    default: memcpy(out, x, n);
    }
}

/* Sum of |byte| with bytes taken as signed: small when the filter predicted
 * well. In runs of 256 bytes, whose sum (at most 256 * 128) fits 16-bit lanes. */
static uint64_t row_cost(const uint8_t *f, size_t n)
{
    uint64_t total = 0;
    while (n > 0) {
        size_t m = n < 256 ? n : 256;
        uint16_t sum = 0;
        for (size_t i = 0; i < m; i++)
            sum += (uint8_t)(f[i] < 128 ? f[i] : -f[i]);
        total += sum;
        f += m;
        n -= m;
    }
    return total;
}

static void swap_pairs(uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint16_t v;
        memcpy(&v, p + i, 2);
        v = (uint16_t)(v << 8 | v >> 8);
        memcpy(p + i, &v, 2);
    }
}

int png_filter_rows(const uint8_t *image, size_t rowbytes, unsigned bpp, size_t rows, int filter,
                    int swap16, uint8_t *dst)
{
    int adaptive = filter == PNG_FILTER_ADAPTIVE;
    /* A zero row above the first; five candidate rows when adaptive. */
    uint8_t *scratch = calloc(adaptive ? 6 : 1, rowbytes ? rowbytes : 1);
    if (scratch == NULL)
        return -1;
    const uint8_t *zero_row = scratch;
    for (size_t y = 0; y < rows; y++) {
        const uint8_t *x = image + y * rowbytes;
        const uint8_t *up = y > 0 ? x - rowbytes : zero_row;
        uint8_t *d = dst + y * (rowbytes + 1);
        if (!adaptive) {
            d[0] = (uint8_t)filter;
            filter_row(filter, x, up, rowbytes, bpp, d + 1);
        } else {
            uint64_t best_cost = UINT64_MAX;
            int best = 0;
            for (int f = PNG_FILTER_NONE; f <= PNG_FILTER_PAETH; f++) {
                uint8_t *candidate = scratch + (size_t)(f + 1) * rowbytes;
                filter_row(f, x, up, rowbytes, bpp, candidate);
                uint64_t cost = row_cost(candidate, rowbytes);
                if (cost < best_cost) {
                    best_cost = cost;
                    best = f;
                }
            }
            d[0] = (uint8_t)best;
            memcpy(d + 1, scratch + (size_t)(best + 1) * rowbytes, rowbytes);
        }
        if (swap16)
            swap_pairs(d + 1, rowbytes);
    }
    free(scratch);
    return 0;
}

/* ---- decode ---- */

static void unfilter_sub(const uint8_t *f, size_t n, unsigned bpp, uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = f[i];
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(f[i] + out[i - bpp]);
}

static void unfilter_up(const uint8_t *f, const uint8_t *up, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(f[i] + up[i]);
}

static void unfilter_average_bytes(const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp,
                                   uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(f[i] + (up[i] >> 1));
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(f[i] + average(out[i - bpp], up[i]));
}

static void unfilter_paeth_bytes(const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp,
                                 uint8_t *out)
{
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(f[i] + up[i]);
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(f[i] + paeth(out[i - bpp], up[i], up[i - bpp]));
}

#if defined(__GNUC__)
/* One pixel (up to 8 bytes) in the 16-bit lanes of a vector (GCC/Clang
 * vector extensions: SSE2 on x86-64, NEON on arm64). Pixels of 3 and 6
 * bytes move as 4 and 8 (one move each instead of a byte-by-byte build): the
 * extra lane computes garbage that the next pixel's store overwrites, and
 * the last pixel of a row moves exactly, so nothing past the row is touched. */
typedef int16_t pixel __attribute__((vector_size(16)));
typedef uint8_t pixel_bytes __attribute__((vector_size(8)));

static inline __attribute__((always_inline)) pixel load_pixel(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);
    return __builtin_convertvector((pixel_bytes)v, pixel);
}

static inline __attribute__((always_inline)) void store_pixel(uint8_t *p, pixel v, unsigned size)
{
    uint64_t b = (uint64_t)__builtin_convertvector(v, pixel_bytes);
    memcpy(p, &b, size);
}

static inline pixel vabs(pixel x)
{
    pixel sign = x >> 15;
    return (x ^ sign) - sign;
}

static inline __attribute__((always_inline)) pixel average_pixel(pixel f, pixel a, pixel b)
{
    return (f + ((a + b) >> 1)) & 0xFF;
}

static inline __attribute__((always_inline)) pixel paeth_pixel(pixel f, pixel a, pixel b, pixel c)
{
    pixel pa = vabs(b - c), pb = vabs(a - c), pc = vabs(a + b - c - c);
    pixel take_a = (pa <= pb) & (pa <= pc);
    pixel take_b = pb <= pc;
    pixel pred = (take_a & a) | (~take_a & ((take_b & b) | (~take_b & c)));
    return (f + pred) & 0xFF;
}

static inline __attribute__((always_inline)) void unfilter_average_pixels(
    const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
    unsigned wide = bpp <= 4 ? 4 : 8;
    pixel a = {0};
    size_t i = 0;
    for (; i + bpp < n; i += bpp) {
        a = average_pixel(load_pixel(f + i, wide), a, load_pixel(up + i, wide));
        store_pixel(out + i, a, wide);
    }
    a = average_pixel(load_pixel(f + i, bpp), a, load_pixel(up + i, bpp));
    store_pixel(out + i, a, bpp);
}

static inline __attribute__((always_inline)) void unfilter_paeth_pixels(
    const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
    unsigned wide = bpp <= 4 ? 4 : 8;
    pixel a = {0}, c = {0}, b;
    size_t i = 0;
    for (; i + bpp < n; i += bpp) {
        b = load_pixel(up + i, wide);
        a = paeth_pixel(load_pixel(f + i, wide), a, b, c);
        store_pixel(out + i, a, wide);
        c = b;
    }
    b = load_pixel(up + i, bpp);
    a = paeth_pixel(load_pixel(f + i, bpp), a, b, c);
    store_pixel(out + i, a, bpp);
}

/* Pixels of 3 or more bytes go by vector, one instance per pixel size. */
#define BY_PIXEL_SIZE(fn, f, up, n, bpp, out)          \
    switch (bpp) {                                     \
    case 3: fn##_pixels(f, up, n, 3, out); return;     \
    case 4: fn##_pixels(f, up, n, 4, out); return;     \
    case 6: fn##_pixels(f, up, n, 6, out); return;     \
    case 8: fn##_pixels(f, up, n, 8, out); return;     \
    }
#else
#define BY_PIXEL_SIZE(fn, f, up, n, bpp, out)
#endif

static void unfilter_average(const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
    BY_PIXEL_SIZE(unfilter_average, f, up, n, bpp, out)
    unfilter_average_bytes(f, up, n, bpp, out);
}

static void unfilter_paeth(const uint8_t *f, const uint8_t *up, size_t n, unsigned bpp, uint8_t *out)
{
#if defined(__GNUC__)
    if (bpp == 2) {  /* faster by vector too (one byte pixels are not) */
        unfilter_paeth_pixels(f, up, n, 2, out);
        return;
    }
#endif
    BY_PIXEL_SIZE(unfilter_paeth, f, up, n, bpp, out)
    unfilter_paeth_bytes(f, up, n, bpp, out);
}

int png_unfilter_rows(uint8_t *filtered, size_t height, size_t rowbytes, unsigned bpp,
                      int swap16, uint8_t *out)
{
    uint8_t *zero_row = calloc(1, rowbytes ? rowbytes : 1);
    if (zero_row == NULL)
        return -2;
    int status = 0;
    for (size_t y = 0; y < height && status == 0; y++) {
        uint8_t *f = filtered + y * (rowbytes + 1);
        uint8_t *row = out + y * rowbytes;
        const uint8_t *up = y > 0 ? row - rowbytes : zero_row;
        if (swap16)
            swap_pairs(f + 1, rowbytes);
        switch (f[0]) {
        case PNG_FILTER_NONE: memcpy(row, f + 1, rowbytes); break;
        case PNG_FILTER_SUB: unfilter_sub(f + 1, rowbytes, bpp, row); break;
        case PNG_FILTER_UP: unfilter_up(f + 1, up, rowbytes, row); break;
        case PNG_FILTER_AVERAGE: unfilter_average(f + 1, up, rowbytes, bpp, row); break;
        case PNG_FILTER_PAETH: unfilter_paeth(f + 1, up, rowbytes, bpp, row); break;
        default: status = -1;
        }
    }
    free(zero_row);
    return status;
}
