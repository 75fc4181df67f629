/* Bit shuffle: a bit-level transpose of fixed-size elements, in the layout
 * of the `bitshuffle` package (HDF5 filter 32008) so the bytes interoperate.
 *
 * The elements are cut into blocks of `block` elements (a multiple of 8).
 * Within a block of n elements of `itemsize` bytes the output is
 * itemsize * 8 rows of n / 8 bytes: row (8 * j + k) holds bit k of byte j
 * of every element, element i at bit i % 8 of byte i / 8. After the full
 * blocks, the largest multiple of 8 of the remaining elements forms one
 * shorter block; the last n % 8 elements are copied unchanged.
 */
#ifndef OPENCODECS_BITSHUFFLE_H
#define OPENCODECS_BITSHUFFLE_H

#include <stddef.h>

/* Block size (in elements) the bitshuffle package picks when given 0. */
size_t bitshuffle_default_block(size_t itemsize);

/* Shuffle (encode) or unshuffle (decode) n elements from src into dst (the
 * buffers must not overlap). block = 0 means the default block size.
 * Return 0, or -1 if itemsize is 0 or block is not a multiple of 8. */
int bitshuffle_encode(const void *src, void *dst, size_t n, size_t itemsize, size_t block);
int bitshuffle_decode(const void *src, void *dst, size_t n, size_t itemsize, size_t block);

#endif
