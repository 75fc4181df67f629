/* Byte shuffle (Blosc's "shuffle" filter; CZI's hi/lo byte packing is the
 * 2-byte case): byte k of every element, then byte k+1, ... Written for opencodecs. */
#ifndef OPENCODECS_BYTESHUFFLE_H
#define OPENCODECS_BYTESHUFFLE_H
#include <stddef.h>

/* n elements of `typesize` bytes: src element-major -> dst byte-plane-major. */
void byte_shuffle(const unsigned char *src, unsigned char *dst, size_t n, size_t typesize);
/* The inverse. */
void byte_unshuffle(const unsigned char *src, unsigned char *dst, size_t n, size_t typesize);
#endif
