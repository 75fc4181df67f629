/* PNG scanline filters (PNG specification, section 9): the per-row byte
 * predictors applied before deflate on encode and undone after inflate on
 * decode. A filtered image is `height` rows of 1 + rowbytes bytes, each row
 * starting with its filter type.
 *
 * 16-bit samples: PNG stores them big-endian. Filters work byte by byte with
 * an offset of bpp bytes (even for 16-bit images), and swapping the two bytes
 * of every sample commutes with such offsets, so the filters run on the
 * native little-endian samples and only the filtered bytes are swapped
 * (`swap16`): no big-endian copy of the image is ever made.
 */
#ifndef OPENCODECS_PNG_FILTER_H
#define OPENCODECS_PNG_FILTER_H

#include <stddef.h>
#include <stdint.h>

enum {
    PNG_FILTER_NONE = 0,
    PNG_FILTER_SUB = 1,
    PNG_FILTER_UP = 2,
    PNG_FILTER_AVERAGE = 3,
    PNG_FILTER_PAETH = 4,
    /* Per row, the filter whose output has the smallest sum of absolute
     * values (bytes taken as signed), the heuristic the PNG spec suggests. */
    PNG_FILTER_ADAPTIVE = 5,
};

/* Filter `rows` rows of `image` (rows of rowbytes bytes, bpp bytes per
 * pixel, bpp 1..8) into `dst` (rows * (rowbytes + 1) bytes). Return 0, or -1
 * if a scratch row cannot be allocated. */
int png_filter_rows(const uint8_t *image, size_t rowbytes, unsigned bpp, size_t rows, int filter,
                    int swap16, uint8_t *dst);

/* Reconstruct `height` filtered rows (`filtered` is overwritten when swap16)
 * into `out` (height * rowbytes bytes). Return 0, -1 on an invalid filter
 * type byte, or -2 if a scratch row cannot be allocated. */
int png_unfilter_rows(uint8_t *filtered, size_t height, size_t rowbytes, unsigned bpp,
                      int swap16, uint8_t *out);

#endif
