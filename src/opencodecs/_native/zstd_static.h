/* zstd.h with the declarations of its "static linking only" section, where
 * ZSTD_findDecompressedSize and ZSTD_decompressBound live. Without them C
 * would assume they return int and truncate their 64-bit sizes. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
