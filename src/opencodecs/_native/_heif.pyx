# cython: language_level=3, boundscheck=False, wraparound=False
"""HEIF/HEIC (libheif with x265 and libde265): RGB/RGBA, 8 or 10/12-bit, GIL released."""

from libc.stdint cimport uint8_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "libheif/heif.h" nogil:
    enum heif_error_code:
        heif_error_Ok
        heif_error_Encoder_plugin_error
    enum heif_compression_format:
        heif_compression_HEVC
    enum heif_colorspace:
        heif_colorspace_RGB
    enum heif_chroma:
        heif_chroma_interleaved_RGB
        heif_chroma_interleaved_RGBA
        heif_chroma_interleaved_RRGGBB_LE
        heif_chroma_interleaved_RRGGBBAA_LE
    enum heif_channel:
        heif_channel_interleaved
    enum heif_matrix_coefficients:
        heif_matrix_coefficients_RGB_GBR
    struct heif_error:
        heif_error_code code
        int subcode
        const char* message
    struct heif_context
    struct heif_image_handle
    struct heif_image
    struct heif_encoder
    struct heif_reading_options
    struct heif_decoding_options
    struct heif_color_profile_nclx:
        heif_matrix_coefficients matrix_coefficients
        uint8_t full_range_flag
    struct heif_encoding_options:
        uint8_t save_two_colr_boxes_when_ICC_and_nclx_available
        heif_color_profile_nclx* output_nclx_profile
    struct heif_writer:
        int writer_api_version
        heif_error (*write)(heif_context*, const void*, size_t, void*) noexcept nogil

    const char* heif_get_version()
    int heif_have_encoder_for_format(heif_compression_format)
    int heif_have_decoder_for_format(heif_compression_format)
    heif_context* heif_context_alloc()
    void heif_context_free(heif_context*)
    void heif_context_set_max_decoding_threads(heif_context*, int)
    heif_error heif_context_read_from_memory_without_copy(heif_context*, const void*, size_t,
                                                          const heif_reading_options*)
    heif_error heif_context_get_primary_image_handle(heif_context*, heif_image_handle**)
    void heif_image_handle_release(const heif_image_handle*)
    int heif_image_handle_get_width(const heif_image_handle*)
    int heif_image_handle_get_height(const heif_image_handle*)
    int heif_image_handle_has_alpha_channel(const heif_image_handle*)
    int heif_image_handle_get_luma_bits_per_pixel(const heif_image_handle*)
    heif_error heif_decode_image(const heif_image_handle*, heif_image**, heif_colorspace,
                                 heif_chroma, const heif_decoding_options*)
    int heif_image_get_width(const heif_image*, heif_channel)
    int heif_image_get_height(const heif_image*, heif_channel)
    int heif_image_get_bits_per_pixel_range(const heif_image*, heif_channel)
    const uint8_t* heif_image_get_plane_readonly(const heif_image*, heif_channel, int*)
    uint8_t* heif_image_get_plane(heif_image*, heif_channel, int*)
    void heif_image_release(const heif_image*)
    heif_error heif_image_create(int, int, heif_colorspace, heif_chroma, heif_image**)
    heif_error heif_image_add_plane(heif_image*, heif_channel, int, int, int)
    heif_error heif_image_set_nclx_color_profile(heif_image*, const heif_color_profile_nclx*)
    heif_error heif_image_set_raw_color_profile(heif_image*, const char*, const void*, size_t)
    size_t heif_image_handle_get_raw_color_profile_size(const heif_image_handle*)
    heif_error heif_image_handle_get_raw_color_profile(const heif_image_handle*, void*)
    heif_error heif_context_get_encoder_for_format(heif_context*, heif_compression_format,
                                                   heif_encoder**)
    void heif_encoder_release(heif_encoder*)
    heif_error heif_encoder_set_lossy_quality(heif_encoder*, int)
    heif_error heif_encoder_set_lossless(heif_encoder*, int)
    heif_error heif_encoder_set_parameter_string(heif_encoder*, const char*, const char*)
    heif_encoding_options* heif_encoding_options_alloc()
    void heif_encoding_options_free(heif_encoding_options*)
    heif_color_profile_nclx* heif_nclx_color_profile_alloc()
    void heif_nclx_color_profile_free(heif_color_profile_nclx*)
    heif_error heif_context_encode_image(heif_context*, const heif_image*, heif_encoder*,
                                         const heif_encoding_options*, heif_image_handle**)
    heif_error heif_context_write(heif_context*, heif_writer*, void*)


VERSION = heif_get_version().decode()
CAN_ENCODE = bool(heif_have_encoder_for_format(heif_compression_HEVC))
CAN_DECODE = bool(heif_have_decoder_for_format(heif_compression_HEVC))


cdef inline bint failed(heif_error e) noexcept nogil:
    return e.code != heif_error_Ok


cdef str _message(heif_error e):
    return e.message.decode(errors="replace") if e.message != NULL else f"error {e.code}"


cdef heif_chroma _chroma(int channels, int depth) noexcept nogil:
    if depth == 8:
        return heif_chroma_interleaved_RGBA if channels == 4 else heif_chroma_interleaved_RGB
    return heif_chroma_interleaved_RRGGBBAA_LE if channels == 4 else heif_chroma_interleaved_RRGGBB_LE


cdef struct Sink:
    # The file libheif writes, grown with realloc.
    char* data
    size_t size
    bint failed


cdef heif_error _write(heif_context* ctx, const void* data, size_t size, void* userdata) noexcept nogil:
    cdef Sink* sink = <Sink*>userdata
    cdef heif_error result
    cdef char* grown = <char*>realloc(sink.data, sink.size + size)
    result.code = heif_error_Ok
    result.subcode = 0
    result.message = "ok"
    if grown == NULL:
        sink.failed = True
        result.code = heif_error_Encoder_plugin_error
        result.message = "out of memory"
        return result
    memcpy(grown + sink.size, data, size)
    sink.data = grown
    sink.size += size
    return result


cdef heif_error _fill_image(heif_image** image, const uint8_t* src, int height, int width,
                            int channels, int depth) noexcept nogil:
    """A new libheif image holding the interleaved pixels of `src`."""
    cdef heif_error e
    cdef int stride, y
    cdef size_t row = <size_t>width * channels * (1 if depth == 8 else 2)
    cdef uint8_t* plane
    e = heif_image_create(width, height, heif_colorspace_RGB, _chroma(channels, depth), image)
    if failed(e):
        return e
    e = heif_image_add_plane(image[0], heif_channel_interleaved, width, height, depth)
    if failed(e):
        return e
    plane = heif_image_get_plane(image[0], heif_channel_interleaved, &stride)
    for y in range(height):
        memcpy(plane + <size_t>y * stride, src + y * row, row)
    return e


def encode(src, int height, int width, int channels, int depth, int quality, bint lossless,
           const uint8_t[:] icc):
    """A HEIF file of a C-contiguous (height, width, channels) RGB(A) buffer coded
    with HEVC, with an ICC profile unless `icc` is None."""
    cdef Py_buffer s
    cdef heif_context* ctx = heif_context_alloc()
    cdef heif_encoder* encoder = NULL
    cdef heif_image* image = NULL
    cdef heif_encoding_options* options = heif_encoding_options_alloc()
    cdef heif_color_profile_nclx* nclx = heif_nclx_color_profile_alloc()
    cdef heif_writer writer
    cdef heif_error e
    cdef Sink sink
    sink.data = NULL
    sink.size = 0
    sink.failed = False
    writer.writer_api_version = 1
    writer.write = _write
    get_input(src, &s)
    try:
        if ctx == NULL or options == NULL or nclx == NULL:
            raise MemoryError("heif: cannot create an encoder")
        with nogil:
            e = heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &encoder)
            if not failed(e) and lossless:
                # Exact: 4:4:4 and RGB stored as GBR planes at full range.
                e = heif_encoder_set_lossless(encoder, 1)
                if not failed(e):
                    e = heif_encoder_set_parameter_string(encoder, "chroma", "444")
                nclx.matrix_coefficients = heif_matrix_coefficients_RGB_GBR
                nclx.full_range_flag = 1
                options.output_nclx_profile = nclx
            elif not failed(e):
                e = heif_encoder_set_lossy_quality(encoder, quality)
            if not failed(e):
                e = _fill_image(&image, <const uint8_t*>s.buf, height, width, channels, depth)
            if not failed(e) and lossless:
                e = heif_image_set_nclx_color_profile(image, nclx)
                options.save_two_colr_boxes_when_ICC_and_nclx_available = 1  # keep GBR with a profile
            if not failed(e) and icc is not None:
                e = heif_image_set_raw_color_profile(image, "prof", &icc[0], <size_t>icc.shape[0])
            if not failed(e):
                e = heif_context_encode_image(ctx, image, encoder, options, NULL)
            if not failed(e):
                e = heif_context_write(ctx, &writer, &sink)
        if failed(e) or sink.failed:
            raise EncodeError(f"heif: {_message(e)}")
        return sink.data[:sink.size]
    finally:
        PyBuffer_Release(&s)
        free(sink.data)
        if image != NULL:
            heif_image_release(image)
        if encoder != NULL:
            heif_encoder_release(encoder)
        options.output_nclx_profile = NULL
        heif_encoding_options_free(options)
        heif_nclx_color_profile_free(nclx)
        heif_context_free(ctx)


cdef heif_image_handle* _primary(heif_context* ctx, Py_buffer* s) except NULL:
    """The primary image of the file in `s` (release it), its pixels not decoded yet."""
    cdef heif_image_handle* handle = NULL
    cdef heif_error e
    if s.len == 0:
        raise DecodeError("heif: empty input")
    with nogil:
        e = heif_context_read_from_memory_without_copy(ctx, s.buf, <size_t>s.len, NULL)
        if not failed(e):
            e = heif_context_get_primary_image_handle(ctx, &handle)
    if failed(e):
        raise DecodeError(f"heif: {_message(e)}")
    return handle


def icc(src):
    """The ICC profile of the primary image, or None."""
    cdef Py_buffer s
    cdef heif_context* ctx = heif_context_alloc()
    cdef heif_image_handle* handle = NULL
    cdef heif_error e
    cdef size_t size
    cdef bytearray profile
    if ctx == NULL:
        raise MemoryError("heif: cannot create a context")
    get_input(src, &s)
    try:
        handle = _primary(ctx, &s)
        size = heif_image_handle_get_raw_color_profile_size(handle)
        if size == 0:
            return None
        profile = bytearray(size)
        e = heif_image_handle_get_raw_color_profile(handle, <char*>profile)
        if failed(e):
            raise DecodeError(f"heif: {_message(e)}")
        return bytes(profile)
    finally:
        PyBuffer_Release(&s)
        if handle != NULL:
            heif_image_handle_release(handle)
        heif_context_free(ctx)


def decode(src, allocate, int numthreads):
    """Decode the primary image into the array `allocate(h, w, c, dtype)` returns."""
    cdef Py_buffer s, o
    cdef heif_context* ctx = heif_context_alloc()
    cdef heif_image_handle* handle = NULL
    cdef heif_image* image = NULL
    cdef heif_error e
    cdef int h, w, bits, channels, depth, stride, y
    cdef size_t row
    cdef const uint8_t* plane
    if ctx == NULL:
        raise MemoryError("heif: cannot create a context")
    get_input(src, &s)
    try:
        heif_context_set_max_decoding_threads(ctx, numthreads)
        handle = _primary(ctx, &s)
        h = heif_image_handle_get_height(handle)
        w = heif_image_handle_get_width(handle)
        bits = heif_image_handle_get_luma_bits_per_pixel(handle)
        channels = 4 if heif_image_handle_has_alpha_channel(handle) else 3
        depth = 8 if bits <= 8 else bits
        if depth > 16:
            raise DecodeError(f"heif: unsupported bit depth {bits}")
        out = allocate(h, w, channels, "uint8" if depth == 8 else "uint16")
        with nogil:
            e = heif_decode_image(handle, &image, heif_colorspace_RGB, _chroma(channels, depth), NULL)
        if failed(e):
            raise DecodeError(f"heif: {_message(e)}")
        plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride)
        row = <size_t>w * channels * (1 if depth == 8 else 2)
        if (plane == NULL or heif_image_get_width(image, heif_channel_interleaved) != w
                or heif_image_get_height(image, heif_channel_interleaved) != h
                or <size_t>stride < row):
            raise DecodeError("heif: decoded image does not match its header")
        get_output(out, &o)
        try:
            if <size_t>o.len != row * h:
                raise DecodeError("heif: output buffer does not match the image size")
            with nogil:
                for y in range(h):
                    memcpy(<uint8_t*>o.buf + y * row, plane + <size_t>y * stride, row)
        finally:
            PyBuffer_Release(&o)
        return out
    finally:
        PyBuffer_Release(&s)
        if image != NULL:
            heif_image_release(image)
        if handle != NULL:
            heif_image_handle_release(handle)
        heif_context_free(ctx)
