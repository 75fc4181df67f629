/* Applying an ISO 21496-1 / Ultra HDR gain map to an 8-bit sRGB base image. */
#ifndef OPENCODECS_GAINMAP_H
#define OPENCODECS_GAINMAP_H

#include <stdint.h>

/* The map's metadata, per colour channel (a one-channel map uses index 0).
   gain_min/gain_max are log2 boosts; `weight` (0..1) is the share of the
   map applied, 1 for the full HDR rendition. `before` and `after` are
   row-major 3x3 matrices between colour spaces (base to alternate primaries),
   applied to the linear base before the gain, and to the result after it;
   NULL for none. */
typedef struct {
    float gain_min[3], gain_max[3], gamma[3], offset_sdr[3], offset_hdr[3];
    float weight;
    int channels;
    const float *before, *after;
} gainmap_params;

enum {
    GAINMAP_LINEAR_HALF = 0,  /* RGBA float16, linear light, 1.0 = SDR white */
    GAINMAP_HLG_U16 = 1,      /* RGBA uint16, BT.2100 HLG 10-bit code values, alpha 3 */
};

/* Fills the sRGB table and picks the float16 conversion; call once, first. */
void gainmap_init(void);

/* Rows [row_begin, row_end) of the HDR rendition: `sdr` is packed RGB
   (height x width x 3), `map` packed grey or RGB (map_height x map_width x
   channels), sampled bilinearly with map pixel (i, j) on image pixel
   (i * height / map_height, j * width / map_width); `out` is the whole RGBA
   image. Returns 0, or -1 if out of memory. */
int gainmap_apply(const uint8_t *sdr, int width, int height,
                  const uint8_t *map, int map_width, int map_height,
                  const gainmap_params *params, int mode, void *out,
                  int row_begin, int row_end);

#endif
