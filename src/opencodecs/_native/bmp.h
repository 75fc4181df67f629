/* BMP pixel rows (the header is parsed in Python, codecs/images/bmp.py).
 *
 * Rows are addressed by the offset of the first row to produce and a signed
 * stride, so bottom-up files flip for free. The caller checks that every row
 * lies inside its buffer; the RLE decoder checks every read itself.
 */
#ifndef OPENCODECS_BMP_H
#define OPENCODECS_BMP_H

#include <stddef.h>
#include <stdint.h>

/* Copy `rows` rows of `width` pixels of in_bytes into pixels of out_bytes
 * (1 -> 1, 3 -> 3, 4 -> 4 or 4 -> 3), reversing the first three bytes of each
 * pixel (BGR <-> RGB); a fourth byte is copied, or dropped for 4 -> 3. */
void bmp_swap_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, ptrdiff_t dst_stride,
                   size_t rows, size_t width, unsigned in_bytes, unsigned out_bytes);

/* Unpack pixels of 2 or 4 little-endian bytes into `channels` bytes each:
 * channel k is luts[k][(pixel >> shifts[k]) & masks[k]]. */
void bmp_bitfield_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, size_t rows,
                       size_t width, unsigned pixel_bytes, unsigned channels,
                       const unsigned shifts[4], const uint32_t masks[4], const uint8_t *const luts[4]);

/* Expand 1, 2, 4 or 8-bit palette indices (most significant bits first)
 * through a 256-entry palette of `channels` (1 or 3) bytes per entry. */
void bmp_palette_rows(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, size_t rows,
                      size_t width, unsigned bits, const uint8_t *palette, unsigned channels);

/* Decode BI_RLE8 (bits 8) or BI_RLE4 (bits 4) data into rows x width palette
 * indices, rows in file order; pixels the data skips stay 0. Return 0, or -1
 * if the data ends before the end-of-bitmap mark and the last row. */
int bmp_rle_decode(const uint8_t *src, size_t size, uint8_t *indices, size_t rows, size_t width,
                   unsigned bits);

#endif
