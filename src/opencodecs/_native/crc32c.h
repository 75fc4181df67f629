/* CRC-32C (Castagnoli polynomial), the checksum of the snappy framing format. */
#ifndef OPENCODECS_CRC32C_H
#define OPENCODECS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Build the lookup tables and pick the hardware path; call once before use. */
void oc_crc32c_init(void);

/* CRC-32C of n bytes at p (thread-safe after oc_crc32c_init). */
uint32_t oc_crc32c(const void* p, size_t n);

#endif
