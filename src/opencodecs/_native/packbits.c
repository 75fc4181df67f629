/* PackBits, written for opencodecs (see packbits.h).
 * Header byte h: 0..127 copy h+1 literal bytes; 129..255 repeat the next byte
 * 257-h times; 128 is a no-op. */
#include "packbits.h"
#include <string.h>

size_t packbits_encode_bound(size_t n)
{
    return n + (n + 127) / 128 + 1;
}

ptrdiff_t packbits_encode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        /* A run of at least 3 equal bytes becomes a repeat (2 only at the start of data
         * would not save anything). */
        size_t run = 1;
        while (i + run < n && run < 128 && src[i + run] == src[i])
            run++;
        if (run >= 3) {
            if (o + 2 > cap)
                return -1;
            dst[o++] = (unsigned char)(257 - run);
            dst[o++] = src[i];
            i += run;
            continue;
        }
        /* Literals up to the next run of 3, at most 128. */
        size_t start = i, lit = 0;
        while (i < n && lit < 128) {
            if (i + 2 < n && src[i] == src[i + 1] && src[i] == src[i + 2])
                break;
            i++;
            lit++;
        }
        if (o + 1 + lit > cap)
            return -1;
        dst[o++] = (unsigned char)(lit - 1);
        memcpy(dst + o, src + start, lit);
        o += lit;
    }
    return (ptrdiff_t)o;
}

ptrdiff_t packbits_decoded_size(const unsigned char *src, size_t n)
{
    size_t i = 0, size = 0;
    while (i < n) {
        unsigned h = src[i++];
        if (h < 128) {
            if (i + h + 1 > n)
                return -1;
            size += h + 1;
            i += h + 1;
        } else if (h > 128) {
            if (i >= n)
                return -1;
            size += 257 - h;
            i++;
        }
    }
    return (ptrdiff_t)size;
}

ptrdiff_t packbits_decode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned h = src[i++];
        if (h < 128) {
            size_t len = h + 1;
            if (i + len > n || o + len > cap)
                return -1;
            memcpy(dst + o, src + i, len);
            i += len;
            o += len;
        } else if (h > 128) {
            size_t len = 257 - h;
            if (i >= n || o + len > cap)
                return -1;
            memset(dst + o, src[i++], len);
            o += len;
        }
    }
    return (ptrdiff_t)o;
}
