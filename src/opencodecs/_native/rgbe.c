/* Radiance RGBE scanlines (see rgbe.h). */
#include "rgbe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    MIN_RLE_WIDTH = 8,          /* narrower and wider scanlines are flat */
    MAX_RLE_WIDTH = 0x7fff,
    MIN_RUN = 4,                /* shorter runs are cheaper as literals */
    MAX_RUN = 127,
    MAX_LITERALS = 128,
};

/* ---- pixels ---- */

/* The largest value a pixel holds: mantissa 255 at E = 255. */
static const float RGBE_MAX = 0x1.fep126f;

/* Branch-free (fminf and fmaxf would be library calls, for their NaN rules). */
static inline void pixel_from_rgb(const float rgb[3], uint8_t out[4])
{
    float c[3];
    for (int k = 0; k < 3; k++)  /* NaN and <= 0 -> 0 */
        c[k] = rgb[k] > 0 ? (rgb[k] < RGBE_MAX ? rgb[k] : RGBE_MAX) : 0;
    float v = c[0] > c[1] ? c[0] : c[1];
    v = v > c[2] ? v : c[2];
    /* v = m * 2**e with 0.5 <= m < 1 (frexp), read off v's exponent bits:
     * e = biased - 126. The mantissas are c * 2**(8 - e), exactly, below 256. */
    uint32_t bits;
    memcpy(&bits, &v, 4);
    uint32_t biased = (bits >> 23) & 0xff;  /* 20..253 for v in 1e-32..RGBE_MAX */
    int black = v < 1e-32f;
    uint32_t scale_bits = black ? 0 : (261 - biased) << 23;  /* 2**(134 - biased), or 0 */
    float scale;
    memcpy(&scale, &scale_bits, 4);
    for (int k = 0; k < 3; k++)
        out[k] = (uint8_t)(c[k] * scale);
    out[3] = (uint8_t)(black ? 0 : biased + 2);  /* e + 128 */
}

static void rgb_from_pixels(const uint8_t *px, size_t n, const float scale[256], float *rgb)
{
    for (size_t x = 0; x < n; x++, px += 4, rgb += 3) {
        float f = scale[px[3]];
        rgb[0] = px[0] * f;
        rgb[1] = px[1] * f;
        rgb[2] = px[2] * f;
    }
}

/* ---- encode ---- */

size_t rgbe_encode_bound(size_t width, size_t rows)
{
    /* A run-length scanline: 4 header bytes, each channel at worst all
     * literals (one count byte per 128); a flat one: 4 bytes a pixel. */
    return rows * (4 + 4 * (width + (width + MAX_LITERALS - 1) / MAX_LITERALS));
}

/* Length of the run of equal bytes at d[i] (every 4th byte: one channel). */
static inline size_t run_at(const uint8_t *d, size_t i, size_t n)
{
    size_t run = 1;
    while (i + run < n && run < MAX_RUN && d[4 * (i + run)] == d[4 * i])
        run++;
    return run;
}

/* A run of MIN_RUN (4) equal bytes starts at d[i]. */
static inline int run_starts(const uint8_t *d, size_t i, size_t n)
{
    const uint8_t *p = d + 4 * i;
    return i + MIN_RUN <= n && p[0] == p[4] && p[0] == p[8] && p[0] == p[12];
}

/* One channel of a scanline (the channel's byte of each of n pixels): runs
 * of MIN_RUN or more as (128 + length, byte), everything between as (count,
 * count literal bytes). */
static uint8_t *encode_channel(const uint8_t *d, size_t n, uint8_t *dst)
{
    size_t i = 0;
    while (i < n) {
        if (run_starts(d, i, n)) {
            size_t run = run_at(d, i, n);
            *dst++ = (uint8_t)(128 + run);
            *dst++ = d[4 * i];
            i += run;
            continue;
        }
        size_t j = i + 1;  /* literals up to the next run */
        while (j < n && j - i < MAX_LITERALS && !run_starts(d, j, n))
            j++;
        *dst++ = (uint8_t)(j - i);
        for (; i < j; i++)
            *dst++ = d[4 * i];
    }
    return dst;
}

size_t rgbe_encode(const float *rgb, size_t width, size_t rows, int rle, uint8_t *dst)
{
    const uint8_t *start = dst;
    int by_runs = rle && width >= MIN_RLE_WIDTH && width <= MAX_RLE_WIDTH;
    uint8_t *line = malloc(by_runs ? 4 * width : 1);
    if (line == NULL)
        return 0;
    for (size_t y = 0; y < rows; y++, rgb += 3 * width) {
        uint8_t *pixels = by_runs ? line : dst;
        for (size_t x = 0; x < width; x++)
            pixel_from_rgb(rgb + 3 * x, pixels + 4 * x);
        if (!by_runs) {
            dst += 4 * width;
            continue;
        }
        *dst++ = 2;
        *dst++ = 2;
        *dst++ = (uint8_t)(width >> 8);
        *dst++ = (uint8_t)width;
        for (int k = 0; k < 4; k++)
            dst = encode_channel(line + k, width, dst);
    }
    free(line);
    return (size_t)(dst - start);
}

/* ---- decode ---- */

/* A new-style scanline after its 4-byte mark: each channel's runs and
 * literals in turn. Return the bytes read, or 0 on bad data. */
static size_t decode_rle_line(const uint8_t *src, size_t size, size_t width, uint8_t *pixels)
{
    size_t pos = 0;
    for (int k = 0; k < 4; k++) {
        for (size_t x = 0; x < width;) {
            if (pos >= size)
                return 0;
            size_t count = src[pos++];
            if (count > 128) {  /* a run */
                count -= 128;
                if (count > width - x || pos >= size)
                    return 0;
                for (uint8_t v = src[pos++]; count > 0; count--, x++)
                    pixels[4 * x + k] = v;
            } else {  /* literals */
                if (count == 0 || count > width - x || count > size - pos)
                    return 0;
                for (; count > 0; count--, x++)
                    pixels[4 * x + k] = src[pos++];
            }
        }
    }
    return pos;
}

/* A flat scanline, where (1, 1, 1, n) repeats the previous pixel n times
 * (old-style RLE; consecutive repeats count in ever higher bytes). Return
 * the bytes read, or 0 on bad data. */
static size_t decode_flat_line(const uint8_t *src, size_t size, size_t width, uint8_t *pixels)
{
    size_t pos = 0, x = 0;
    unsigned shift = 0;
    while (x < width) {
        if (size - pos < 4)
            return 0;
        const uint8_t *p = src + pos;
        pos += 4;
        if (p[0] == 1 && p[1] == 1 && p[2] == 1) {
            size_t count = (size_t)p[3] << shift;
            if (x == 0 || shift > 24 || count > width - x)
                return 0;
            for (; count > 0; count--, x++)
                memcpy(pixels + 4 * x, pixels + 4 * (x - 1), 4);
            shift += 8;
        } else {
            memcpy(pixels + 4 * x++, p, 4);
            shift = 0;
        }
    }
    return pos;
}

int rgbe_decode(const uint8_t *src, size_t size, size_t width, size_t rows, float *out,
                ptrdiff_t row_step)
{
    float scale[256];
    scale[0] = 0;
    for (int e = 1; e < 256; e++)
        scale[e] = ldexpf(1.0f, e - 136);
    uint8_t *pixels = malloc(4 * width);
    if (pixels == NULL)
        return -2;
    size_t pos = 0;
    int status = 0;
    for (size_t y = 0; y < rows && status == 0; y++, out += row_step) {
        const uint8_t *p = src + pos;
        size_t left = size - pos, used;
        if (width >= MIN_RLE_WIDTH && width <= MAX_RLE_WIDTH && left >= 4 && p[0] == 2 && p[1] == 2
                && !(p[2] & 0x80)) {
            used = (size_t)(p[2] << 8 | p[3]) == width ? decode_rle_line(p + 4, left - 4, width, pixels) : 0;
            used = used ? used + 4 : 0;
        } else {
            used = decode_flat_line(p, left, width, pixels);
        }
        if (used == 0)
            status = -1;
        else {
            rgb_from_pixels(pixels, width, scale, out);
            pos += used;
        }
    }
    free(pixels);
    return status;
}
