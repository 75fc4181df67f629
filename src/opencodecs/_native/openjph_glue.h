/* A C interface to OpenJPH (C++): whole-image HTJ2K encoding.
 *
 * Images are C-contiguous height x width x channels arrays of 1- or 2-byte
 * samples. Functions return 0, or -1 with a message in `err`; OpenJPH's C++
 * exceptions never cross this interface. */

#ifndef OPENCODECS_OPENJPH_GLUE_H
#define OPENCODECS_OPENJPH_GLUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where encoded bytes go: a buffer we realloc (growable) or the caller's. */
typedef struct {
    uint8_t* data;
    size_t size;
    size_t capacity;
    int growable;
    int overflow; /* a write did not fit a fixed buffer */
} htj2k_output;

typedef struct {
    uint32_t height, width, channels;
    int itemsize;  /* bytes per sample: 1 or 2 */
    int is_signed;
} htj2k_layout;

/* Send OpenJPH's messages nowhere instead of stdout/stderr. Call once. */
void htj2k_init(void);

/* reversible: 5/3 wavelet (lossless); else 9/7 with quantisation step `qstep`. */
int htj2k_encode(const void* src, const htj2k_layout* layout, int reversible, float qstep,
                 uint32_t decompositions, htj2k_output* out, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
