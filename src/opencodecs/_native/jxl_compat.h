/* The colour-profile getters across libjxl versions: 0.9 dropped their unused
 * JxlPixelFormat* argument (Debian 12 ships 0.7, Debian 13 and upstream 0.11). */
#ifndef OPENCODECS_JXL_COMPAT_H
#define OPENCODECS_JXL_COMPAT_H
#include <jxl/decode.h>
#include <jxl/version.h>

#if JPEGXL_NUMERIC_VERSION < JPEGXL_COMPUTE_NUMERIC_VERSION(0, 9, 0)
#define OC_JXL_FORMAT NULL,
#else
#define OC_JXL_FORMAT
#endif

static inline JxlDecoderStatus oc_jxl_color_encoding(const JxlDecoder* d, JxlColorEncoding* c) {
    return JxlDecoderGetColorAsEncodedProfile(d, OC_JXL_FORMAT JXL_COLOR_PROFILE_TARGET_ORIGINAL, c);
}
static inline JxlDecoderStatus oc_jxl_icc_size(const JxlDecoder* d, size_t* size) {
    return JxlDecoderGetICCProfileSize(d, OC_JXL_FORMAT JXL_COLOR_PROFILE_TARGET_ORIGINAL, size);
}
static inline JxlDecoderStatus oc_jxl_icc(const JxlDecoder* d, uint8_t* icc, size_t size) {
    return JxlDecoderGetColorAsICCProfile(d, OC_JXL_FORMAT JXL_COLOR_PROFILE_TARGET_ORIGINAL, icc, size);
}
#endif
