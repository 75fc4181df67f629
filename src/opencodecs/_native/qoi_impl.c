/* The one translation unit that compiles qoi.h (its encoder is ours to
 * call), and our decoder (qoi_decode.h). */
#define QOI_IMPLEMENTATION
#define QOI_NO_STDIO
#include <qoi.h>

#include "qoi_decode.h"

enum {
    HEADER_SIZE = 14,
    END_MARKER_SIZE = 8,
    OP_RGB = 0xfe, OP_RGBA = 0xff,
};

/* A pixel as r | g << 8 | b << 16 | a << 24 in a register. */
static inline unsigned hash(uint32_t px)
{
    return ((px & 0xff) * 3 + ((px >> 8) & 0xff) * 5 + ((px >> 16) & 0xff) * 7 + (px >> 24) * 11) & 63;
}

/* Add per-byte deltas (mod 256 each), two bytes at a time in 16-bit lanes. */
static inline uint32_t add_bytes(uint32_t px, uint32_t delta)
{
    return (((px & 0x00ff00ff) + (delta & 0x00ff00ff)) & 0x00ff00ff)
         | (((px & 0xff00ff00) + (delta & 0xff00ff00)) & 0xff00ff00);
}

static inline uint32_t rgb_delta(int dr, int dg, int db)
{
    return (uint32_t)(uint8_t)dr | (uint32_t)(uint8_t)dg << 8 | (uint32_t)(uint8_t)db << 16;
}

static inline void store(uint8_t *out, uint32_t px, int channels)
{
    out[0] = (uint8_t)px;
    out[1] = (uint8_t)(px >> 8);
    out[2] = (uint8_t)(px >> 16);
    if (channels == 4)
        out[3] = (uint8_t)(px >> 24);
}

/* One instance per channel count. The end marker's 8 bytes follow `end`, so
 * an operation (at most 5 bytes) that starts before `end` is read without a
 * check per byte; data that runs past `end` was truncated. */
static inline __attribute__((always_inline)) int decode(const uint8_t *data, size_t size, uint8_t *out,
                                                        size_t pixels, int channels)
{
    uint32_t index[64] = {0};
    uint32_t px = 0xff000000u;  /* opaque black */
    if (size < HEADER_SIZE + END_MARKER_SIZE)
        return pixels ? -1 : 0;
    const uint8_t *p = data + HEADER_SIZE, *end = data + size - END_MARKER_SIZE;
    size_t i = 0;
    while (i < pixels) {
        if (p >= end)
            return -1;
        unsigned op = *p++;
        if (op < 0x80) {
            if (op < 0x40)  /* index */
                px = index[op];
            else  /* small difference */
                px = add_bytes(px, rgb_delta((int)((op >> 4) & 3) - 2, (int)((op >> 2) & 3) - 2,
                                             (int)(op & 3) - 2));
        } else if (op < 0xc0) {  /* luma: green difference, red and blue relative to it */
            int dg = (int)(op & 0x3f) - 32;
            unsigned next = *p++;
            px = add_bytes(px, rgb_delta(dg - 8 + (int)(next >> 4), dg, dg - 8 + (int)(next & 0x0f)));
        } else if (op == OP_RGB) {
            px = (px & 0xff000000u) | p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
            p += 3;
        } else if (op == OP_RGBA) {
            px = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            p += 4;
        } else {  /* run: this pixel repeated 1..62 times */
            size_t count = (op & 0x3f) + 1;
            if (count > pixels - i)
                count = pixels - i;
            index[hash(px)] = px;  /* every pixel seen goes in, as the spec says */
            for (size_t k = 0; k < count; k++, out += channels)
                store(out, px, channels);
            i += count;
            continue;
        }
        index[hash(px)] = px;
        store(out, px, channels);
        out += channels;
        i++;
    }
    if (p > end)
        return -1;
    return 0;
}

int qoi_decode_into(const uint8_t *data, size_t size, uint8_t *out, size_t pixels, int channels)
{
    return channels == 4 ? decode(data, size, out, pixels, 4) : decode(data, size, out, pixels, 3);
}
