/* TIFF LZW (TIFF 6.0 section 13): MSB-first codes of 9-12 bits, Clear 256,
 * EOI 257, "early change" code widths. Written for opencodecs. */
#ifndef OPENCODECS_LZW_H
#define OPENCODECS_LZW_H
#include <stddef.h>

enum { LZW_OK = 0, LZW_CORRUPT = -1, LZW_OUTPUT_FULL = -2 };

/* Worst-case encoded size of n input bytes. */
size_t lzw_encode_bound(size_t n);
/* Encode; returns bytes written or LZW_OUTPUT_FULL. */
ptrdiff_t lzw_encode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap);

/* Decode state, so a caller can grow the output and resume. */
typedef struct {
    size_t in_bit;     /* next bit to read */
    size_t out_pos;    /* bytes written so far */
    int width;         /* current code width */
    int next;          /* next free code */
    int prev;          /* previous code, -1 after Clear */
    int done;          /* EOI seen or input exhausted */
    size_t prev_pos, prev_len;
    size_t pos[4096];  /* where each code's string starts in the output */
    unsigned short len[4096];
} lzw_decoder;

void lzw_decode_init(lzw_decoder *d);
/* Decode into dst[0:cap] (dst holds everything written so far: strings are
 * copied from earlier output). Returns LZW_OK when done, LZW_OUTPUT_FULL when
 * dst must grow (call again with the larger buffer), or LZW_CORRUPT. */
int lzw_decode(lzw_decoder *d, const unsigned char *src, size_t n, unsigned char *dst, size_t cap);
#endif
