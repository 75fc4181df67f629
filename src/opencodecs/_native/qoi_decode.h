/* QOI decoding straight into the caller's buffer (the format: qoiformat.org).
 * qoi.h's own decoder allocates its output and counts in int; this one
 * fills any buffer the caller sized from the header, checking every read. */
#ifndef OPENCODECS_QOI_DECODE_H
#define OPENCODECS_QOI_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Decode the operations that follow the 14-byte header of the QOI file in
 * data[0:size] into `pixels` pixels of `channels` (3 or 4) bytes at `out`.
 * Return 0, or -1 if the data ends before the last pixel. */
int qoi_decode_into(const uint8_t *data, size_t size, uint8_t *out, size_t pixels, int channels);

#endif
