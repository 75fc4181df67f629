/* PackBits run-length coding (Apple; TIFF 6.0 section 9). Written for opencodecs. */
#ifndef OPENCODECS_PACKBITS_H
#define OPENCODECS_PACKBITS_H
#include <stddef.h>

/* Worst-case encoded size of n bytes. */
size_t packbits_encode_bound(size_t n);
/* Encode; returns bytes written, or -1 if `cap` is too small. */
ptrdiff_t packbits_encode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap);
/* Decoded size of a stream, or -1 if it is truncated. */
ptrdiff_t packbits_decoded_size(const unsigned char *src, size_t n);
/* Decode into dst (cap must be at least the decoded size); bytes written or -1. */
ptrdiff_t packbits_decode(const unsigned char *src, size_t n, unsigned char *dst, size_t cap);
#endif
