/* BCn texture block decoders; see bcn.h. */

#include "bcn.h"

#include <string.h>

static inline uint64_t load_le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

/* ---- BC1-BC5: colour and single-channel blocks ---------------------------- */

/* 5- and 6-bit colour channels, and the palette's weighted sums of them, as
 * 8 bits: round(x * 255 / d), exact until one final rounding (as bcdec and
 * imagecodecs compute it), each as one multiply and shift whose constants
 * are fitted exactly over x's range. */
static inline uint8_t expand5(unsigned v) { return (uint8_t)((v * 527 + 23) >> 6); }      /* d = 31 */
static inline uint8_t expand6(unsigned v) { return (uint8_t)((v * 259 + 33) >> 6); }      /* d = 63 */
static inline uint8_t third5(unsigned x) { return (uint8_t)((x * 351 + 61) >> 7); }       /* 2a+b, d = 93 */
static inline uint8_t third6(unsigned x) { return (uint8_t)((x * 2763 + 1039) >> 11); }   /* d = 189 */
static inline uint8_t half5(unsigned x) { return (uint8_t)((x * 1053 + 125) >> 8); }      /* a+b, d = 62 */
static inline uint8_t half6(unsigned x) { return (uint8_t)((x * 4145 + 1019) >> 11); }    /* d = 126 */

/* Four bytes as one word in memory order (built in registers: a pixel written
 * byte by byte and read back as a word would stall store forwarding). */
static inline uint32_t rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
    uint8_t bytes[4] = {r, g, b, a};
    uint32_t word;
    memcpy(&word, bytes, 4);
    return word;
}

/* The colour half of BC1-BC3: two RGB565 endpoints and 2-bit indices.
 * BC1 (alpha NULL): blocks whose first endpoint is not the larger have three
 * colours and transparent black. BC2 and BC3 colour blocks always have four
 * colours, and `alpha` holds each pixel's alpha as a word to OR in. */
static inline void color_block(const uint8_t* b, uint8_t* dst, size_t pitch, const uint32_t* alpha) {
    unsigned c0 = b[0] | (unsigned)b[1] << 8, c1 = b[2] | (unsigned)b[3] << 8;
    unsigned r0 = c0 >> 11, g0 = (c0 >> 5) & 63, b0 = c0 & 31;
    unsigned r1 = c1 >> 11, g1 = (c1 >> 5) & 63, b1 = c1 & 31;
    uint8_t opaque = alpha ? 0 : 255;
    uint32_t indices = (uint32_t)load_le(b + 4, 4);
    uint32_t palette[4];
    palette[0] = rgba(expand5(r0), expand6(g0), expand5(b0), opaque);
    palette[1] = rgba(expand5(r1), expand6(g1), expand5(b1), opaque);
    if (alpha || c0 > c1) {
        palette[2] = rgba(third5(2 * r0 + r1), third6(2 * g0 + g1), third5(2 * b0 + b1), opaque);
        palette[3] = rgba(third5(r0 + 2 * r1), third6(g0 + 2 * g1), third5(b0 + 2 * b1), opaque);
    } else {
        palette[2] = rgba(half5(r0 + r1), half6(g0 + g1), half5(b0 + b1), opaque);
        palette[3] = 0;
    }
    for (int i = 0; i < 16; ++i, indices >>= 2) {
        uint32_t word = palette[indices & 3] | (alpha ? alpha[i] : 0);
        memcpy(dst + (i / 4) * pitch + 4 * (i % 4), &word, 4);
    }
}

/* The values of one channel from two 8-bit endpoints (BC3 alpha, BC4, BC5):
 * endpoints in descending order give eight values, else six plus the
 * extremes. Signed blocks hold SNORM values -127..127. */
static inline void channel_values(const uint8_t* b, int values[8], const int is_signed) {
    int a0 = is_signed ? (int8_t)b[0] : b[0], a1 = is_signed ? (int8_t)b[1] : b[1];
    if (is_signed) {  /* -128 means -1.0, as -127 does */
        a0 = a0 < -127 ? -127 : a0;
        a1 = a1 < -127 ? -127 : a1;
    }
    values[0] = a0;
    values[1] = a1;
    if (a0 > a1) {
        for (int i = 1; i < 7; ++i)
            values[i + 1] = ((7 - i) * a0 + i * a1) / 7;
    } else {
        for (int i = 1; i < 5; ++i)
            values[i + 1] = ((5 - i) * a0 + i * a1) / 5;
        values[6] = is_signed ? -127 : 0;
        values[7] = is_signed ? 127 : 255;
    }
}

/* A BC4 block, or one half of a BC5 block (step 2). */
static inline void channel_block(const uint8_t* b, uint8_t* dst, size_t pitch, size_t step,
                                 const int is_signed) {
    int values[8];
    channel_values(b, values, is_signed);
    uint64_t indices = load_le(b + 2, 6);
    for (int i = 0; i < 16; ++i, indices >>= 3)
        dst[(i / 4) * pitch + (i % 4) * step] = (uint8_t)values[indices & 7];
}

static void bc1(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    (void)is_signed;
    color_block(b, dst, pitch, NULL);
}

static void bc2(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    (void)is_signed;
    uint64_t explicit_alpha = load_le(b, 8);  /* 4 bits a pixel */
    uint32_t alpha[16];
    for (int i = 0; i < 16; ++i, explicit_alpha >>= 4)
        alpha[i] = rgba(0, 0, 0, (uint8_t)((explicit_alpha & 15) * 17));
    color_block(b + 8, dst, pitch, alpha);
}

static void bc3(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    (void)is_signed;
    int values[8];
    channel_values(b, values, 0);
    uint64_t indices = load_le(b + 2, 6);
    uint32_t alpha[16];
    for (int i = 0; i < 16; ++i, indices >>= 3)
        alpha[i] = rgba(0, 0, 0, (uint8_t)values[indices & 7]);
    color_block(b + 8, dst, pitch, alpha);
}

static void bc4(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    if (is_signed)
        channel_block(b, dst, pitch, 1, 1);
    else
        channel_block(b, dst, pitch, 1, 0);
}

static void bc5(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    channel_block(b, dst, pitch, 2, is_signed != 0);
    channel_block(b + 8, dst + 1, pitch, 2, is_signed != 0);
}

/* ---- BC6H and BC7: BPTC --------------------------------------------------- */

/* The 128 bits of a block, little-endian, consumed from the bottom. */
typedef struct {
    uint64_t lo, hi;
} Bits;

static inline Bits bits_of(const uint8_t* block, unsigned skip) {
    Bits bits = {load_le(block, 8), load_le(block + 8, 8)};
    bits.lo = bits.lo >> skip | bits.hi << (64 - skip);  /* 0 < skip < 64 */
    bits.hi >>= skip;
    return bits;
}

static inline unsigned take(Bits* bits, unsigned n) {  /* n < 32 */
    unsigned v = (unsigned)(bits->lo & ((1u << n) - 1));
    if (n) {
        bits->lo = bits->lo >> n | bits->hi << (64 - n);
        bits->hi >>= n;
    }
    return v;
}

/* Interpolation weights (of 64) for 2-, 3- and 4-bit indices. */
static const uint8_t WEIGHTS2[4] = {0, 21, 43, 64};
static const uint8_t WEIGHTS3[8] = {0, 9, 18, 27, 37, 46, 55, 64};
static const uint8_t WEIGHTS4[16] = {0, 4, 9, 13, 17, 21, 26, 30, 34, 38, 43, 47, 51, 55, 60, 64};
static const uint8_t* const WEIGHTS[5] = {NULL, NULL, WEIGHTS2, WEIGHTS3, WEIGHTS4};

/* Table.P2 (bit i set: pixel i is in subset 1), Table.P3 (2 bits a pixel),
 * and the anchor pixels of the second and third subsets (Table.A2, A3a, A3b). */
static const uint16_t PARTITION2[64] = {
    0xcccc, 0x8888, 0xeeee, 0xecc8, 0xc880, 0xfeec, 0xfec8, 0xec80,
    0xc800, 0xffec, 0xfe80, 0xe800, 0xffe8, 0xff00, 0xfff0, 0xf000,
    0xf710, 0x008e, 0x7100, 0x08ce, 0x008c, 0x7310, 0x3100, 0x8cce,
    0x088c, 0x3110, 0x6666, 0x366c, 0x17e8, 0x0ff0, 0x718e, 0x399c,
    0xaaaa, 0xf0f0, 0x5a5a, 0x33cc, 0x3c3c, 0x55aa, 0x9696, 0xa55a,
    0x73ce, 0x13c8, 0x324c, 0x3bdc, 0x6996, 0xc33c, 0x9966, 0x0660,
    0x0272, 0x04e4, 0x4e40, 0x2720, 0xc936, 0x936c, 0x39c6, 0x639c,
    0x9336, 0x9cc6, 0x817e, 0xe718, 0xccf0, 0x0fcc, 0x7744, 0xee22,
};
static const uint32_t PARTITION3[64] = {
    0xaa685050, 0x6a5a5040, 0x5a5a4200, 0x5450a0a8, 0xa5a50000, 0xa0a05050,
    0x5555a0a0, 0x5a5a5050, 0xaa550000, 0xaa555500, 0xaaaa5500, 0x90909090,
    0x94949494, 0xa4a4a4a4, 0xa9a59450, 0x2a0a4250, 0xa5945040, 0x0a425054,
    0xa5a5a500, 0x55a0a0a0, 0xa8a85454, 0x6a6a4040, 0xa4a45000, 0x1a1a0500,
    0x0050a4a4, 0xaaa59090, 0x14696914, 0x69691400, 0xa08585a0, 0xaa821414,
    0x50a4a450, 0x6a5a0200, 0xa9a58000, 0x5090a0a8, 0xa8a09050, 0x24242424,
    0x00aa5500, 0x24924924, 0x24499224, 0x50a50a50, 0x500aa550, 0xaaaa4444,
    0x66660000, 0xa5a0a5a0, 0x50a050a0, 0x69286928, 0x44aaaa44, 0x66666600,
    0xaa444444, 0x54a854a8, 0x95809580, 0x96969600, 0xa85454a8, 0x80959580,
    0xaa141414, 0x96960000, 0xaaaa1414, 0xa05050a0, 0xa0a5a5a0, 0x96000000,
    0x40804080, 0xa9a8a9a8, 0xaaaaaa44, 0x2a4a5254,
};
static const uint8_t ANCHOR2[64] = {
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 2, 8, 2, 2, 8, 8, 15, 2, 8, 2, 2, 8, 8, 2, 2,
    15, 15, 6, 8, 2, 8, 15, 15, 2, 8, 2, 2, 2, 15, 15, 6,
    6, 2, 6, 8, 15, 15, 2, 2, 15, 15, 15, 15, 15, 2, 2, 15,
};
static const uint8_t ANCHOR3[2][64] = {{
    3, 3, 15, 15, 8, 3, 15, 15, 8, 8, 6, 6, 6, 5, 3, 3,
    3, 3, 8, 15, 3, 3, 6, 10, 5, 8, 8, 6, 8, 5, 15, 15,
    8, 15, 3, 5, 6, 10, 8, 15, 15, 3, 15, 5, 15, 15, 15, 15,
    3, 15, 5, 5, 5, 8, 5, 10, 5, 10, 8, 13, 15, 12, 3, 3,
}, {
    15, 8, 8, 3, 15, 15, 3, 8, 15, 15, 15, 15, 15, 15, 15, 8,
    15, 8, 15, 3, 15, 8, 15, 8, 3, 15, 6, 10, 15, 15, 10, 8,
    15, 3, 15, 10, 10, 8, 9, 10, 6, 15, 8, 15, 3, 6, 6, 8,
    15, 3, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 3, 15, 15, 8,
}};

static inline unsigned subset_of(unsigned subsets, unsigned partition, unsigned i) {
    if (subsets == 2)
        return PARTITION2[partition] >> i & 1;
    if (subsets == 3)
        return PARTITION3[partition] >> (2 * i) & 3;
    return 0;
}

/* Anchor pixels store their index with one bit less (its top bit is 0). */
static inline int is_anchor(unsigned subsets, unsigned partition, unsigned i) {
    if (i == 0)
        return 1;
    if (subsets == 2)
        return i == ANCHOR2[partition];
    if (subsets == 3)
        return i == ANCHOR3[0][partition] || i == ANCHOR3[1][partition];
    return 0;
}

/* BC7 block modes (Table.M). */
typedef struct {
    uint8_t subsets, partition_bits, rotation_bits, selector_bits, color_bits, alpha_bits,
        endpoint_pbits, shared_pbits, index_bits, index2_bits;
} Bc7Mode;

static const Bc7Mode BC7_MODES[8] = {
    {3, 4, 0, 0, 4, 0, 1, 0, 3, 0}, {2, 6, 0, 0, 6, 0, 0, 1, 3, 0},
    {3, 6, 0, 0, 5, 0, 0, 0, 2, 0}, {2, 6, 0, 0, 7, 0, 1, 0, 2, 0},
    {1, 0, 2, 1, 5, 6, 0, 0, 2, 3}, {1, 0, 2, 0, 7, 8, 0, 0, 2, 2},
    {1, 0, 0, 0, 7, 7, 1, 0, 4, 0}, {2, 6, 0, 0, 5, 5, 1, 0, 2, 0},
};

static inline unsigned to8(unsigned v, unsigned bits) {  /* replicate the top bits below */
    return v << (8 - bits) | v >> (2 * bits - 8);
}

static inline uint8_t mix64(unsigned e0, unsigned e1, unsigned w) {
    return (uint8_t)(((64 - w) * e0 + w * e1 + 32) >> 6);
}

static void bc7(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    (void)is_signed;
    unsigned mode = 0;
    while (mode < 8 && !(b[0] >> mode & 1))
        ++mode;
    if (mode == 8) {  /* reserved: a block of zeros */
        for (int y = 0; y < 4; ++y)
            memset(dst + y * pitch, 0, 16);
        return;
    }
    const Bc7Mode* m = &BC7_MODES[mode];
    Bits bits = bits_of(b, mode + 1);
    unsigned partition = take(&bits, m->partition_bits);
    unsigned rotation = take(&bits, m->rotation_bits);
    unsigned selector = take(&bits, m->selector_bits);
    unsigned ns = m->subsets, cbits = m->color_bits, abits = m->alpha_bits;
    unsigned ep[3][2][4];  /* [subset][endpoint][rgba] */
    for (unsigned c = 0; c < 3; ++c)
        for (unsigned s = 0; s < ns; ++s)
            for (unsigned e = 0; e < 2; ++e)
                ep[s][e][c] = take(&bits, cbits);
    for (unsigned s = 0; s < ns; ++s)
        for (unsigned e = 0; e < 2; ++e)
            ep[s][e][3] = abits ? take(&bits, abits) : 255;
    if (m->endpoint_pbits || m->shared_pbits) {  /* a P-bit below each channel */
        for (unsigned s = 0; s < ns; ++s) {
            unsigned shared = m->shared_pbits ? take(&bits, 1) : 0;
            for (unsigned e = 0; e < 2; ++e) {
                unsigned p = m->shared_pbits ? shared : take(&bits, 1);
                for (unsigned c = 0; c < (abits ? 4u : 3u); ++c)
                    ep[s][e][c] = ep[s][e][c] << 1 | p;
            }
        }
        ++cbits;
        abits += abits ? 1 : 0;
    }
    for (unsigned s = 0; s < ns; ++s)
        for (unsigned e = 0; e < 2; ++e) {
            for (unsigned c = 0; c < 3; ++c)
                ep[s][e][c] = to8(ep[s][e][c], cbits);
            if (abits)
                ep[s][e][3] = to8(ep[s][e][3], abits);
        }
    unsigned index1[16], index2[16];
    for (unsigned i = 0; i < 16; ++i)
        index1[i] = take(&bits, m->index_bits - is_anchor(ns, partition, i));
    for (unsigned i = 0; m->index2_bits && i < 16; ++i)
        index2[i] = take(&bits, m->index2_bits - (i == 0));
    const uint8_t* w1 = WEIGHTS[m->index_bits];
    const uint8_t* w2 = WEIGHTS[m->index2_bits ? m->index2_bits : m->index_bits];
    for (unsigned y = 0; y < 4; ++y) {
        for (unsigned x = 0; x < 4; ++x) {
            unsigned i = 4 * y + x, s = subset_of(ns, partition, i);
            unsigned wc = w1[index1[i]], wa = wc;
            if (m->index2_bits) {
                wc = selector ? w2[index2[i]] : w1[index1[i]];
                wa = selector ? w1[index1[i]] : w2[index2[i]];
            }
            uint8_t r = mix64(ep[s][0][0], ep[s][1][0], wc), g = mix64(ep[s][0][1], ep[s][1][1], wc);
            uint8_t b = mix64(ep[s][0][2], ep[s][1][2], wc), a = mix64(ep[s][0][3], ep[s][1][3], wa);
            uint32_t word;
            switch (rotation) {  /* swap alpha with red, green or blue */
            case 1: word = rgba(a, g, b, r); break;
            case 2: word = rgba(r, a, b, g); break;
            case 3: word = rgba(r, g, a, b); break;
            default: word = rgba(r, g, b, a);
            }
            memcpy(dst + y * pitch + 4 * x, &word, 4);
        }
    }
}

/* BC6H block modes (Table.MF): the header layout, whether endpoints after the
 * first are deltas from it, and the bits of endpoints and of their deltas. */
/* Table.F: the header after the mode bits as runs of bits in block order,
 * each {field << 4 | lowest bit, bit count}, fields r0 g0 b0 r1 g1 b1 r2 g2 b2
 * r3 g3 b3; reversed fields (r0[10:15]) are runs of one bit. */
static const uint8_t BC6H_LAYOUT_0[][2] = {
    {0x74, 1}, {0x84, 1}, {0xb4, 1}, {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 5}, {0xa4, 1},
    {0x70, 4}, {0x40, 5}, {0xb0, 1}, {0xa0, 4}, {0x50, 5}, {0xb1, 1}, {0x80, 4}, {0x60, 5},
    {0xb2, 1}, {0x90, 5}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_1[][2] = {
    {0x75, 1}, {0xa4, 1}, {0xa5, 1}, {0x00, 7}, {0xb0, 1}, {0xb1, 1}, {0x84, 1}, {0x10, 7},
    {0x85, 1}, {0xb2, 1}, {0x74, 1}, {0x20, 7}, {0xb3, 1}, {0xb5, 1}, {0xb4, 1}, {0x30, 6},
    {0x70, 4}, {0x40, 6}, {0xa0, 4}, {0x50, 6}, {0x80, 4}, {0x60, 6}, {0x90, 6},
};
static const uint8_t BC6H_LAYOUT_2[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 5}, {0x0a, 1}, {0x70, 4}, {0x40, 4}, {0x1a, 1},
    {0xb0, 1}, {0xa0, 4}, {0x50, 4}, {0x2a, 1}, {0xb1, 1}, {0x80, 4}, {0x60, 5}, {0xb2, 1},
    {0x90, 5}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_6[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 4}, {0x0a, 1}, {0xa4, 1}, {0x70, 4}, {0x40, 5},
    {0x1a, 1}, {0xa0, 4}, {0x50, 4}, {0x2a, 1}, {0xb1, 1}, {0x80, 4}, {0x60, 4}, {0xb0, 1},
    {0xb2, 1}, {0x90, 4}, {0x74, 1}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_10[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 4}, {0x0a, 1}, {0x84, 1}, {0x70, 4}, {0x40, 4},
    {0x1a, 1}, {0xb0, 1}, {0xa0, 4}, {0x50, 5}, {0x2a, 1}, {0x80, 4}, {0x60, 4}, {0xb1, 1},
    {0xb2, 1}, {0x90, 4}, {0xb4, 1}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_14[][2] = {
    {0x00, 9}, {0x84, 1}, {0x10, 9}, {0x74, 1}, {0x20, 9}, {0xb4, 1}, {0x30, 5}, {0xa4, 1},
    {0x70, 4}, {0x40, 5}, {0xb0, 1}, {0xa0, 4}, {0x50, 5}, {0xb1, 1}, {0x80, 4}, {0x60, 5},
    {0xb2, 1}, {0x90, 5}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_18[][2] = {
    {0x00, 8}, {0xa4, 1}, {0x84, 1}, {0x10, 8}, {0xb2, 1}, {0x74, 1}, {0x20, 8}, {0xb3, 1},
    {0xb4, 1}, {0x30, 6}, {0x70, 4}, {0x40, 5}, {0xb0, 1}, {0xa0, 4}, {0x50, 5}, {0xb1, 1},
    {0x80, 4}, {0x60, 6}, {0x90, 6},
};
static const uint8_t BC6H_LAYOUT_22[][2] = {
    {0x00, 8}, {0xb0, 1}, {0x84, 1}, {0x10, 8}, {0x75, 1}, {0x74, 1}, {0x20, 8}, {0xa5, 1},
    {0xb4, 1}, {0x30, 5}, {0xa4, 1}, {0x70, 4}, {0x40, 6}, {0xa0, 4}, {0x50, 5}, {0xb1, 1},
    {0x80, 4}, {0x60, 5}, {0xb2, 1}, {0x90, 5}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_26[][2] = {
    {0x00, 8}, {0xb1, 1}, {0x84, 1}, {0x10, 8}, {0x85, 1}, {0x74, 1}, {0x20, 8}, {0xb5, 1},
    {0xb4, 1}, {0x30, 5}, {0xa4, 1}, {0x70, 4}, {0x40, 5}, {0xb0, 1}, {0xa0, 4}, {0x50, 6},
    {0x80, 4}, {0x60, 5}, {0xb2, 1}, {0x90, 5}, {0xb3, 1},
};
static const uint8_t BC6H_LAYOUT_30[][2] = {
    {0x00, 6}, {0xa4, 1}, {0xb0, 1}, {0xb1, 1}, {0x84, 1}, {0x10, 6}, {0x75, 1}, {0x85, 1},
    {0xb2, 1}, {0x74, 1}, {0x20, 6}, {0xa5, 1}, {0xb3, 1}, {0xb5, 1}, {0xb4, 1}, {0x30, 6},
    {0x70, 4}, {0x40, 6}, {0xa0, 4}, {0x50, 6}, {0x80, 4}, {0x60, 6}, {0x90, 6},
};
static const uint8_t BC6H_LAYOUT_3[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 10}, {0x40, 10}, {0x50, 10},
};
static const uint8_t BC6H_LAYOUT_7[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 9}, {0x0a, 1}, {0x40, 9}, {0x1a, 1}, {0x50, 9},
    {0x2a, 1},
};
static const uint8_t BC6H_LAYOUT_11[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 8}, {0x0b, 1}, {0x0a, 1}, {0x40, 8}, {0x1b, 1},
    {0x1a, 1}, {0x50, 8}, {0x2b, 1}, {0x2a, 1},
};
static const uint8_t BC6H_LAYOUT_15[][2] = {
    {0x00, 10}, {0x10, 10}, {0x20, 10}, {0x30, 4}, {0x0f, 1}, {0x0e, 1}, {0x0d, 1}, {0x0c, 1},
    {0x0b, 1}, {0x0a, 1}, {0x40, 4}, {0x1f, 1}, {0x1e, 1}, {0x1d, 1}, {0x1c, 1}, {0x1b, 1},
    {0x1a, 1}, {0x50, 4}, {0x2f, 1}, {0x2e, 1}, {0x2d, 1}, {0x2c, 1}, {0x2b, 1}, {0x2a, 1},
};
typedef struct {
    const uint8_t (*layout)[2];
    uint8_t runs, transformed, partition_bits, endpoint_bits, delta_bits[3];
} Bc6Mode;

#define BC6H_MODE(n, tr, pb, epb, dr, dg, db) \
    [n] = {BC6H_LAYOUT_##n, sizeof(BC6H_LAYOUT_##n) / 2, tr, pb, epb, {dr, dg, db}}

static const Bc6Mode BC6H_MODES[32] = {  /* by mode number; the rest are reserved */
    BC6H_MODE(0, 1, 5, 10, 5, 5, 5),   BC6H_MODE(1, 1, 5, 7, 6, 6, 6),
    BC6H_MODE(2, 1, 5, 11, 5, 4, 4),   BC6H_MODE(6, 1, 5, 11, 4, 5, 4),
    BC6H_MODE(10, 1, 5, 11, 4, 4, 5),  BC6H_MODE(14, 1, 5, 9, 5, 5, 5),
    BC6H_MODE(18, 1, 5, 8, 6, 5, 5),   BC6H_MODE(22, 1, 5, 8, 5, 6, 5),
    BC6H_MODE(26, 1, 5, 8, 5, 5, 6),   BC6H_MODE(30, 0, 5, 6, 6, 6, 6),
    BC6H_MODE(3, 0, 0, 10, 10, 10, 10), BC6H_MODE(7, 1, 0, 11, 9, 9, 9),
    BC6H_MODE(11, 1, 0, 12, 8, 8, 8),  BC6H_MODE(15, 1, 0, 16, 4, 4, 4),
};

static inline int sign_extend(int v, unsigned bits) {
    unsigned m = 1u << (bits - 1);
    return (int)((v & ((1u << bits) - 1)) ^ m) - (int)m;
}

/* Endpoint values stretched over the 16-bit range (unsigned) or +-0x7FFF. */
/* Endpoint values stretched over the 16-bit range (unsigned) or +-0x7FFF;
 * written to compile to conditional moves (modes vary block to block). */
static inline int unquantize(int x, unsigned bits, const int is_signed) {
    if (!is_signed) {
        int q = ((x << 15) + 0x4000) >> (bits - 1);
        q = x == (1 << bits) - 1 ? 0xFFFF : q;
        return bits >= 15 || x == 0 ? x : q;
    }
    int magnitude = x < 0 ? -x : x;
    int q = ((magnitude << 15) + 0x4000) >> (bits - 1);
    q = magnitude >= (1 << (bits - 1)) - 1 ? 0x7FFF : q;
    q = magnitude == 0 ? 0 : q;
    q = x < 0 ? -q : q;
    return bits >= 16 ? x : q;
}

/* An interpolated value as the bits of a half float. */
static inline uint16_t finish(int v, const int is_signed) {
    if (!is_signed)
        return (uint16_t)((v * 31) >> 6);
    return v < 0 ? (uint16_t)(0x8000 | ((-v * 31) >> 5)) : (uint16_t)((v * 31) >> 5);
}

static inline void bc6h_block(const uint8_t* b, uint8_t* dst, size_t pitch, const int is_signed) {
    unsigned code = (b[0] & 3) < 2 ? (b[0] & 3u) : (b[0] & 31u);
    const Bc6Mode* m = &BC6H_MODES[code];
    if (m->layout == NULL) {  /* reserved mode: black */
        for (int y = 0; y < 4; ++y)
            memset(dst + y * pitch, 0, 24);
        return;
    }
    Bits bits = bits_of(b, code < 2 ? 2 : 5);
    int ep[12] = {0};  /* r0 g0 b0 r1 g1 b1 (subset 0), r2 g2 b2 r3 g3 b3 (subset 1) */
    for (unsigned k = 0; k < m->runs; ++k)
        ep[m->layout[k][0] >> 4] |= (int)take(&bits, m->layout[k][1]) << (m->layout[k][0] & 15);
    unsigned partition = take(&bits, m->partition_bits);
    unsigned ns = m->partition_bits ? 2 : 1, epb = m->endpoint_bits;
    for (unsigned c = 0; c < 3; ++c) {
        int base = is_signed ? sign_extend(ep[c], epb) : ep[c];
        ep[c] = unquantize(base, epb, is_signed);
        for (unsigned e = 1; e < 2 * ns; ++e) {
            int v = ep[3 * e + c];
            if (m->transformed)
                v = (base + sign_extend(v, m->delta_bits[c])) & ((1 << epb) - 1);
            ep[3 * e + c] = unquantize(is_signed ? sign_extend(v, epb) : v, epb, is_signed);
        }
    }
    unsigned index_bits = ns == 2 ? 3 : 4;
    const uint8_t* weights = WEIGHTS[index_bits];
    for (unsigned i = 0; i < 16; ++i) {
        int w = weights[take(&bits, index_bits - is_anchor(ns, partition, i))];
        const int* e0 = ep + 6 * subset_of(ns, partition, i);
        uint8_t* px = dst + (i / 4) * pitch + 6 * (i % 4);
        for (unsigned c = 0; c < 3; ++c) {
            uint16_t half = finish(((64 - w) * e0[c] + w * e0[c + 3] + 32) >> 6, is_signed);
            memcpy(px + 2 * c, &half, 2);
        }
    }
}

static void bc6h(const uint8_t* b, uint8_t* dst, size_t pitch, int is_signed) {
    if (is_signed)
        bc6h_block(b, dst, pitch, 1);
    else
        bc6h_block(b, dst, pitch, 0);
}

/* ---- images --------------------------------------------------------------- */

typedef void (*BlockDecoder)(const uint8_t* block, uint8_t* dst, size_t pitch, int is_signed);

/* Decode block rows of one format. Inlined into a function per format, so
 * that the block decoder is a direct call the compiler can inline too. */
static inline void decode_rows(BlockDecoder decode, size_t block_size, size_t pixel_size,
                               const uint8_t* src, int is_signed, uint32_t width, uint32_t height,
                               uint32_t row0, uint32_t row1, uint8_t* dst) {
    size_t pitch = (size_t)width * pixel_size, blocks_across = (width + 3) / 4;
    uint8_t edge[4 * 4 * 8];  /* a block cut by the image's right or bottom edge */
    for (uint32_t by = row0; by < row1; ++by) {
        const uint8_t* block = src + (size_t)by * blocks_across * block_size;
        uint8_t* out = dst + (size_t)4 * by * pitch;
        uint32_t rows = height - 4 * by < 4 ? height - 4 * by : 4;
        size_t whole = rows == 4 ? width / 4 : 0;  /* blocks that lie inside the image */
        for (size_t bx = 0; bx < whole; ++bx, block += block_size, out += 4 * pixel_size)
            decode(block, out, pitch, is_signed);
        for (size_t bx = whole; bx < blocks_across; ++bx, block += block_size, out += 4 * pixel_size) {
            size_t cols = width - 4 * bx < 4 ? width - 4 * bx : 4;
            decode(block, edge, 4 * pixel_size, is_signed);
            for (uint32_t y = 0; y < rows; ++y)
                memcpy(out + y * pitch, edge + y * 4 * pixel_size, cols * pixel_size);
        }
    }
}

#define ROWS(name, block_size, pixel_size)                                                     \
    static void rows_##name(const uint8_t* src, int is_signed, uint32_t width, uint32_t height, \
                            uint32_t row0, uint32_t row1, uint8_t* dst) {                      \
        decode_rows(name, block_size, pixel_size, src, is_signed, width, height, row0, row1, dst); \
    }
ROWS(bc1, 8, 4)
ROWS(bc2, 16, 4)
ROWS(bc3, 16, 4)
ROWS(bc4, 8, 1)
ROWS(bc5, 16, 2)
ROWS(bc6h, 16, 6)
ROWS(bc7, 16, 4)

static const struct {
    void (*rows)(const uint8_t*, int, uint32_t, uint32_t, uint32_t, uint32_t, uint8_t*);
    uint8_t block_size, pixel_size;
} FORMATS[8] = {
    {NULL, 0, 0},        {rows_bc1, 8, 4},   {rows_bc2, 16, 4}, {rows_bc3, 16, 4},
    {rows_bc4, 8, 1},    {rows_bc5, 16, 2},  {rows_bc6h, 16, 6}, {rows_bc7, 16, 4},
};

size_t bcn_block_size(int format) {
    return format >= 1 && format <= 7 ? FORMATS[format].block_size : 0;
}

size_t bcn_pixel_size(int format) {
    return format >= 1 && format <= 7 ? FORMATS[format].pixel_size : 0;
}

void bcn_decode(const uint8_t* src, int format, int is_signed, uint32_t width, uint32_t height,
                uint32_t row0, uint32_t row1, uint8_t* dst) {
    FORMATS[format].rows(src, is_signed, width, height, row0, row1, dst);
}
