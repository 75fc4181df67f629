/* Decoders for block-compressed GPU textures: BC1-BC3 (S3TC/DXT), BC4-BC5
 * (RGTC, unsigned and signed), BC6H and BC7 (BPTC). Written from the
 * Direct3D block-compression documentation and the Khronos BPTC specification
 * (ARB_texture_compression_bptc).
 *
 * Blocks cover 4x4 pixels and are stored row by row. Decoded pixels:
 *   BC1, BC2, BC3, BC7   RGBA, 4 x uint8
 *   BC4                  1 x uint8 (signed: int8, -127..127)
 *   BC5                  2 x uint8 (signed: int8)
 *   BC6H                 RGB, 3 x float16 (unsigned or signed) */

#ifndef OPENCODECS_BCN_H
#define OPENCODECS_BCN_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one 4x4 block of `format` (1..7): 8 or 16, 0 if unknown. */
size_t bcn_block_size(int format);

/* Bytes of one decoded pixel of `format`. */
size_t bcn_pixel_size(int format);

/* Decode the block rows row0..row1-1 of a width x height image into `dst`,
 * a C-contiguous height x width image. `src` holds every block of the image,
 * ceil(width / 4) * ceil(height / 4) of them; the caller checks its size. */
void bcn_decode(const uint8_t* src, int format, int is_signed, uint32_t width, uint32_t height,
                uint32_t row0, uint32_t row1, uint8_t* dst);

#endif
