/* TIFF LZW codec, written for opencodecs (see lzw.h). */
#include "lzw.h"
#include <string.h>

#define CLEAR 256
#define EOI 257
#define FIRST 258
#define MAX_CODE 4095
#define MIN_WIDTH 9
#define MAX_WIDTH 12

size_t lzw_encode_bound(size_t n)
{
    /* At worst every byte becomes a 12-bit code, plus Clear codes every
     * ~3836 codes, the leading Clear and EOI. */
    return n + n / 2 + n / 1024 + 16;
}

typedef struct {
    unsigned char *dst;
    size_t cap, pos;
    unsigned long long acc; /* pending bits, right-aligned */
    int nacc;
} bitwriter;

static inline int put_code(bitwriter *w, unsigned code, int width)
{
    w->acc = (w->acc << width) | code;
    w->nacc += width;
    while (w->nacc >= 8) {
        if (w->pos >= w->cap)
            return -1;
        w->nacc -= 8;
        w->dst[w->pos++] = (unsigned char)(w->acc >> w->nacc);
    }
    return 0;
}

/* Open-addressing hash of (prefix code, byte) -> code. */
#define HASH_BITS 13
#define HASH_SIZE (1 << HASH_BITS)

ptrdiff_t lzw_encode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap)
{
    bitwriter w = {dst, cap, 0, 0, 0};
    unsigned keys[HASH_SIZE]; /* (prefix << 8 | byte) + 1, 0 = empty; 48 KiB on the stack */
    unsigned short codes[HASH_SIZE];
    memset(keys, 0, sizeof(keys));
    int width = MIN_WIDTH, next = FIRST, err = 0;
    err |= put_code(&w, CLEAR, width);
    if (n > 0) {
        unsigned ent = src[0];
        for (size_t i = 1; i < n && !err; i++) {
            unsigned c = src[i];
            unsigned key = ((ent << 8) | c) + 1;
            unsigned h = (key * 2654435761u) >> (32 - HASH_BITS);
            while (keys[h] && keys[h] != key)
                h = (h + 1) & (HASH_SIZE - 1);
            if (keys[h]) {
                ent = codes[h];
                continue;
            }
            err |= put_code(&w, ent, width);
            keys[h] = key;
            codes[h] = (unsigned short)next++;
            if (next == MAX_CODE - 1) { /* table full: Clear and start over */
                err |= put_code(&w, CLEAR, width);
                memset(keys, 0, sizeof(keys));
                width = MIN_WIDTH;
                next = FIRST;
            } else if (next > (1 << width) - 1) {
                width++;
            }
            ent = c;
        }
        if (!err) {
            err |= put_code(&w, ent, width);
            next++;
            if (next == MAX_CODE - 1)
                width = MIN_WIDTH; /* the decoder clears its table here too */
            else if (next > (1 << width) - 1)
                width++;
        }
    }
    err |= put_code(&w, EOI, width);
    if (!err && w.nacc > 0) {
        if (w.pos >= w.cap)
            err = 1;
        else
            w.dst[w.pos++] = (unsigned char)(w.acc << (8 - w.nacc));
    }
    return err ? LZW_OUTPUT_FULL : (ptrdiff_t)w.pos;
}

void lzw_decode_init(lzw_decoder *d)
{
    d->in_bit = 0;
    d->out_pos = 0;
    d->width = MIN_WIDTH;
    d->next = FIRST;
    d->prev = -1;
    d->done = 0;
    d->prev_pos = d->prev_len = 0;
}

/* The `width` bits at bit offset `bit` (MSB first); the caller checks bounds. */
static inline unsigned get_code(const unsigned char *src, size_t n, size_t bit, int width)
{
    size_t byte = bit >> 3;
    unsigned v = 0;
    for (int k = 0; k < 3; k++) /* 12 bits + 7 of offset fit in 3 bytes */
        v = (v << 8) | (byte + k < n ? src[byte + k] : 0);
    return (v >> (24 - width - (int)(bit & 7))) & ((1u << width) - 1);
}

int lzw_decode(lzw_decoder *d, const unsigned char *src, size_t n, unsigned char *dst, size_t cap)
{
    size_t nbits = n * 8;
    while (!d->done) {
        if (d->in_bit + (size_t)d->width > nbits) { /* no EOI: the data simply ends */
            d->done = 1;
            break;
        }
        int width = d->width;
        unsigned code = get_code(src, n, d->in_bit, width);
        if (code == CLEAR) {
            d->in_bit += width;
            d->width = MIN_WIDTH;
            d->next = FIRST;
            d->prev = -1;
            continue;
        }
        if (code == EOI) {
            d->done = 1;
            break;
        }
        size_t out = d->out_pos, len;
        if (d->prev < 0) { /* first code after Clear: a literal */
            if (code > 255)
                return LZW_CORRUPT;
            if (out + 1 > cap)
                return LZW_OUTPUT_FULL;
            dst[out] = (unsigned char)code;
            len = 1;
        } else {
            if ((int)code > d->next || (int)code == EOI)
                return LZW_CORRUPT;
            if ((int)code == d->next) { /* KwKwK: previous string plus its first byte */
                len = d->prev_len + 1;
                if (out + len > cap)
                    return LZW_OUTPUT_FULL;
                memcpy(dst + out, dst + d->prev_pos, d->prev_len);
                dst[out + d->prev_len] = dst[d->prev_pos];
            } else if (code < 256) {
                len = 1;
                if (out + 1 > cap)
                    return LZW_OUTPUT_FULL;
                dst[out] = (unsigned char)code;
            } else {
                len = d->len[code];
                if (out + len > cap)
                    return LZW_OUTPUT_FULL;
                memcpy(dst + out, dst + d->pos[code], len);
            }
            if (d->next <= MAX_CODE) { /* new entry: previous string + first byte of this one */
                d->pos[d->next] = d->prev_pos;
                d->len[d->next] = (unsigned short)(d->prev_len + 1);
                d->next++;
                if (d->next >= (1 << d->width) - 1 && d->width < MAX_WIDTH)
                    d->width++;
            }
        }
        /* Committed only now, so OUTPUT_FULL retries this code after growing. */
        d->in_bit += width;
        d->prev = (int)code;
        d->prev_pos = out;
        d->prev_len = len;
        d->out_pos = out + len;
    }
    return LZW_OK;
}
