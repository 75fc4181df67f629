/* CRC-32C (Castagnoli): SSE4.2 instruction where the CPU has it, else
 * slicing-by-8 tables (eight bytes per step through eight 256-entry tables). */
#include "crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u  /* 0x1EDC6F41 bit-reversed: the CRC runs LSB first */

static uint32_t table[8][256];

static uint32_t crc_tables(uint32_t crc, const unsigned char* p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        /* The first byte has the most steps left to run: table 7. */
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
              table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
              table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
              table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
    }
#endif
    for (; n; p++, n--)
        crc = table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc_sse42(uint32_t crc, const unsigned char* p, size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
    }
    crc = (uint32_t)c;
    for (; n; p++, n--)
        crc = _mm_crc32_u8(crc, *p);
    return crc;
}
#endif

static uint32_t (*crc_update)(uint32_t, const unsigned char*, size_t) = crc_tables;

void oc_crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("sse4.2"))
        crc_update = crc_sse42;
#endif
}

uint32_t oc_crc32c(const void* p, size_t n)
{
    return ~crc_update(~0u, (const unsigned char*)p, n);
}
