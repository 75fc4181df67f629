/* TIFF predictors, in place on rows of native-order samples. Written for opencodecs.
 * Horizontal (2): each sample minus the same channel of the previous pixel.
 * Floating point (3, Adobe TIFF Technote 3): a row's bytes regrouped by
 * significance (most significant byte of every sample first), then byte-wise
 * horizontal differencing with a stride of one pixel. */
#ifndef OPENCODECS_PREDICTORS_H
#define OPENCODECS_PREDICTORS_H
#include <stddef.h>

/* `rows` rows of `cols` pixels of `spp` samples of `itemsize` (1, 2, 4 or 8) bytes. */
void horizontal_decode(void *data, size_t rows, size_t cols, size_t spp, int itemsize);
void horizontal_encode(void *data, size_t rows, size_t cols, size_t spp, int itemsize);
/* `scratch` holds one row (cols * spp * itemsize bytes). itemsize 2, 4 or 8. */
void floatpred_decode(unsigned char *data, size_t rows, size_t cols, size_t spp, int itemsize,
                      unsigned char *scratch);
void floatpred_encode(unsigned char *data, size_t rows, size_t cols, size_t spp, int itemsize,
                      unsigned char *scratch);
#endif
