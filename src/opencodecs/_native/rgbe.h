/* Radiance RGBE (.hdr) scanlines: float32 RGB <-> 4-byte shared-exponent
 * pixels, and the run-length coding of the pixel data. The text header is
 * Python's (codecs/images/rgbe.py).
 *
 * A pixel is R, G, B mantissas and an exponent byte E: a channel decodes to
 * mantissa * 2**(E - 136), E = 0 is black. Encoding picks E from the largest
 * channel and truncates the mantissas, as Greg Ward's and Bruce Walter's
 * code does; negative and NaN channels become 0, values past 2**127 saturate.
 */
#ifndef OPENCODECS_RGBE_H
#define OPENCODECS_RGBE_H

#include <stddef.h>
#include <stdint.h>

/* Most bytes rgbe_encode writes for `rows` scanlines of `width` pixels. */
size_t rgbe_encode_bound(size_t width, size_t rows);

/* Encode rows x width RGB floats as scanlines: new-style run-length coded
 * (each channel on its own) when `rle` and 8 <= width < 32768, else flat.
 * Return the bytes written, or 0 if a scanline buffer cannot be allocated. */
size_t rgbe_encode(const float *rgb, size_t width, size_t rows, int rle, uint8_t *dst);

/* Decode `rows` scanlines of `width` pixels (new-style RLE, old-style RLE or
 * flat, each scanline on its own) from src[0:size] into RGB floats; scanline
 * i fills the row at out + i * row_step floats. Return 0, -1 on corrupt or
 * truncated data, or -2 if a scanline buffer cannot be allocated. */
int rgbe_decode(const uint8_t *src, size_t size, size_t width, size_t rows, float *out,
                ptrdiff_t row_step);

#endif
