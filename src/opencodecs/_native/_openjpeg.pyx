# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""JPEG 2000 (OpenJPEG): J2K codestreams and JP2 files over memory streams, GIL released.

Images are C-contiguous (H, W) or (H, W, C) arrays of 1- or 2-byte samples;
OpenJPEG works on planes of int32, so encode splits the channels into planes
and decode interleaves the decoded planes into the caller's array.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset, strncpy
from cpython.bytes cimport PyBytes_FromStringAndSize
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "openjpeg.h" nogil:
    ctypedef int OPJ_BOOL
    ctypedef int64_t OPJ_OFF_T
    ctypedef size_t OPJ_SIZE_T
    ctypedef uint32_t OPJ_UINT32
    ctypedef struct opj_codec_t
    ctypedef struct opj_stream_t
    ctypedef enum OPJ_CODEC_FORMAT:
        OPJ_CODEC_J2K
        OPJ_CODEC_JP2
    ctypedef enum OPJ_COLOR_SPACE:
        OPJ_CLRSPC_UNSPECIFIED
        OPJ_CLRSPC_SRGB
        OPJ_CLRSPC_GRAY
    ctypedef struct opj_image_comp_t:
        OPJ_UINT32 dx, dy, w, h, x0, y0, prec, sgnd
        int32_t* data
        uint16_t alpha
    ctypedef struct opj_image_t:
        OPJ_UINT32 x0, y0, x1, y1, numcomps
        OPJ_COLOR_SPACE color_space
        opj_image_comp_t* comps
    ctypedef struct opj_image_cmptparm_t:
        OPJ_UINT32 dx, dy, w, h, x0, y0, prec, sgnd
    ctypedef struct opj_cparameters_t:
        OPJ_BOOL tile_size_on
        int cp_tx0, cp_ty0, cp_tdx, cp_tdy
        int cp_disto_alloc
        int cp_fixed_quality
        int tcp_numlayers
        float tcp_rates[100]
        float tcp_distoratio[100]
        int numresolution
        int irreversible
        char tcp_mct
    ctypedef struct opj_dparameters_t:
        pass
    ctypedef void (*opj_msg_callback)(const char*, void*) noexcept nogil
    ctypedef OPJ_SIZE_T (*opj_stream_read_fn)(void*, OPJ_SIZE_T, void*) noexcept nogil
    ctypedef OPJ_SIZE_T (*opj_stream_write_fn)(void*, OPJ_SIZE_T, void*) noexcept nogil
    ctypedef OPJ_OFF_T (*opj_stream_skip_fn)(OPJ_OFF_T, void*) noexcept nogil
    ctypedef OPJ_BOOL (*opj_stream_seek_fn)(OPJ_OFF_T, void*) noexcept nogil
    ctypedef void (*opj_stream_free_user_data_fn)(void*) noexcept nogil

    const char* opj_version()
    opj_stream_t* opj_stream_create(OPJ_SIZE_T buffer_size, OPJ_BOOL is_input)
    void opj_stream_destroy(opj_stream_t*)
    void opj_stream_set_read_function(opj_stream_t*, opj_stream_read_fn)
    void opj_stream_set_write_function(opj_stream_t*, opj_stream_write_fn)
    void opj_stream_set_skip_function(opj_stream_t*, opj_stream_skip_fn)
    void opj_stream_set_seek_function(opj_stream_t*, opj_stream_seek_fn)
    void opj_stream_set_user_data(opj_stream_t*, void*, opj_stream_free_user_data_fn)
    void opj_stream_set_user_data_length(opj_stream_t*, uint64_t)
    OPJ_BOOL opj_set_error_handler(opj_codec_t*, opj_msg_callback, void*)

    opj_codec_t* opj_create_decompress(OPJ_CODEC_FORMAT)
    void opj_destroy_codec(opj_codec_t*)
    void opj_set_default_decoder_parameters(opj_dparameters_t*)
    OPJ_BOOL opj_setup_decoder(opj_codec_t*, opj_dparameters_t*)
    OPJ_BOOL opj_decoder_set_strict_mode(opj_codec_t*, OPJ_BOOL)
    OPJ_BOOL opj_codec_set_threads(opj_codec_t*, int)
    OPJ_BOOL opj_read_header(opj_stream_t*, opj_codec_t*, opj_image_t**)
    OPJ_BOOL opj_decode(opj_codec_t*, opj_stream_t*, opj_image_t*)
    OPJ_BOOL opj_end_decompress(opj_codec_t*, opj_stream_t*)
    void opj_image_destroy(opj_image_t*)

    opj_image_t* opj_image_tile_create(OPJ_UINT32, opj_image_cmptparm_t*, OPJ_COLOR_SPACE)
    opj_codec_t* opj_create_compress(OPJ_CODEC_FORMAT)
    void opj_set_default_encoder_parameters(opj_cparameters_t*)
    OPJ_BOOL opj_setup_encoder(opj_codec_t*, opj_cparameters_t*, opj_image_t*)
    OPJ_BOOL opj_start_compress(opj_codec_t*, opj_image_t*, opj_stream_t*)
    OPJ_BOOL opj_write_tile(opj_codec_t*, OPJ_UINT32, uint8_t*, OPJ_UINT32, opj_stream_t*)
    OPJ_BOOL opj_end_compress(opj_codec_t*, opj_stream_t*)


VERSION = opj_version().decode()
J2K = <int>OPJ_CODEC_J2K
JP2 = <int>OPJ_CODEC_JP2

# OpenJPEG reads and writes through this chunk size; one call per chunk.
cdef size_t STREAM_CHUNK = 1 << 20


# -- memory streams -----------------------------------------------------------

cdef struct MemStream:
    uint8_t* data
    size_t size       # bytes holding data
    size_t capacity   # input: == size
    size_t pos
    bint growable     # encode into our own buffer (realloc) or a fixed one
    bint overflow     # a write did not fit a fixed buffer


cdef OPJ_SIZE_T _read(void* dst, OPJ_SIZE_T n, void* user) noexcept nogil:
    cdef MemStream* m = <MemStream*>user
    if m.pos >= m.size:
        return <OPJ_SIZE_T>-1  # end of stream
    n = min(n, m.size - m.pos)
    memcpy(dst, m.data + m.pos, n)
    m.pos += n
    return n


cdef bint _reserve(MemStream* m, size_t end) noexcept nogil:
    """Room for bytes up to `end`; grows our own buffer geometrically."""
    cdef size_t capacity
    cdef uint8_t* grown
    if end <= m.capacity:
        return True
    if not m.growable:
        m.overflow = True
        return False
    capacity = max(end, m.capacity * 2)
    grown = <uint8_t*>realloc(m.data, capacity)
    if grown == NULL:
        return False
    m.data = grown
    m.capacity = capacity
    return True


cdef OPJ_SIZE_T _write(void* src, OPJ_SIZE_T n, void* user) noexcept nogil:
    cdef MemStream* m = <MemStream*>user
    if not _reserve(m, m.pos + n):
        return <OPJ_SIZE_T>-1
    if m.pos > m.size:  # a skip past the end leaves zeros behind
        memset(m.data + m.size, 0, m.pos - m.size)
    memcpy(m.data + m.pos, src, n)
    m.pos += n
    m.size = max(m.size, m.pos)
    return n


cdef OPJ_OFF_T _skip(OPJ_OFF_T n, void* user) noexcept nogil:
    cdef MemStream* m = <MemStream*>user
    if n < 0 and <size_t>(-n) > m.pos:
        return -1
    if n > 0 and not m.growable and <size_t>n > m.capacity - min(m.pos, m.capacity):
        return -1  # past the end of the input, or of a fixed output buffer
    m.pos = <size_t>(<OPJ_OFF_T>m.pos + n)
    return n


cdef OPJ_BOOL _seek(OPJ_OFF_T offset, void* user) noexcept nogil:
    cdef MemStream* m = <MemStream*>user
    if offset < 0 or (<size_t>offset > m.capacity and not m.growable):
        return 0
    m.pos = <size_t>offset
    return 1


cdef opj_stream_t* _stream(MemStream* m, bint is_input) noexcept nogil:
    cdef opj_stream_t* s = opj_stream_create(STREAM_CHUNK, is_input)
    if s == NULL:
        return NULL
    opj_stream_set_user_data(s, m, NULL)
    opj_stream_set_skip_function(s, _skip)
    opj_stream_set_seek_function(s, _seek)
    if is_input:
        opj_stream_set_read_function(s, _read)
        opj_stream_set_user_data_length(s, m.size)
    else:
        opj_stream_set_write_function(s, _write)
    return s


# -- messages -----------------------------------------------------------------

cdef struct Messages:
    char first_error[256]


cdef void _on_error(const char* msg, void* user) noexcept nogil:
    cdef Messages* m = <Messages*>user
    if m.first_error[0] == 0:  # the first error says what went wrong; later ones follow from it
        strncpy(m.first_error, msg, 255)


cdef str _message(Messages* m, str fallback):
    text = m.first_error.decode("utf-8", "replace").strip()
    return text or fallback


# -- decode -------------------------------------------------------------------

cdef void _interleave(opj_image_t* image, void* dst, int itemsize, bint is_signed) noexcept nogil:
    """Planes of int32 (already clipped to their precision) -> interleaved samples."""
    cdef size_t n = <size_t>image.comps[0].w * image.comps[0].h
    cdef size_t c = image.numcomps, i, k
    cdef int32_t* plane
    for k in range(c):
        plane = image.comps[k].data
        if itemsize == 1:
            if is_signed:
                for i in range(n):
                    (<int8_t*>dst)[i * c + k] = <int8_t>plane[i]
            else:
                for i in range(n):
                    (<uint8_t*>dst)[i * c + k] = <uint8_t>plane[i]
        else:
            if is_signed:
                for i in range(n):
                    (<int16_t*>dst)[i * c + k] = <int16_t>plane[i]
            else:
                for i in range(n):
                    (<uint16_t*>dst)[i * c + k] = <uint16_t>plane[i]


cdef str _layout_mismatch(opj_image_t* image, uint32_t height, uint32_t width, uint32_t channels,
                          int itemsize, bint is_signed):
    """Why the decoded image does not fill `out` exactly, or None if it does."""
    cdef uint32_t k
    cdef opj_image_comp_t* comp
    if image.numcomps != channels:
        return f"{image.numcomps} decoded components, expected {channels}"
    for k in range(channels):
        comp = &image.comps[k]
        if comp.w != width or comp.h != height or comp.dx != 1 or comp.dy != 1:
            return f"component {k} is {comp.w}x{comp.h} (subsampled {comp.dx}x{comp.dy}), expected {width}x{height}"
        if comp.prec < 1 or (comp.prec + 7) // 8 != <uint32_t>itemsize or <bint>comp.sgnd != is_signed:
            return f"component {k} has {comp.prec}-bit {'signed' if comp.sgnd else 'unsigned'} samples"
    return None


def decode(src, int codec_format, out, uint32_t height, uint32_t width, uint32_t channels,
           bint is_signed, int numthreads, str name="jpeg2k"):
    """Decode a J2K codestream or JP2 file into `out`, an (H, W[, C]) array the caller
    allocated from the header's dimensions (checked again here before decoding).
    `name` names the format in error messages (HTJ2K decodes here too)."""
    cdef Py_buffer s, o
    cdef MemStream m
    cdef Messages msg
    cdef opj_dparameters_t params
    cdef opj_stream_t* stream = NULL
    cdef opj_codec_t* codec = NULL
    cdef opj_image_t* image = NULL
    cdef OPJ_BOOL ok = 0
    cdef int itemsize
    get_input(src, &s)
    cdef bint has_out = False
    try:
        get_output(out, &o)
        has_out = True
        itemsize = <int>(o.len // max(<Py_ssize_t>height * width * channels, 1))
        if itemsize not in (1, 2) or <Py_ssize_t>height * width * channels * itemsize != o.len:
            raise DecodeError(f"{name}: out has {o.len} bytes, the image needs "
                              f"{height}x{width}x{channels} samples of 1 or 2 bytes")
        memset(&m, 0, sizeof(m))
        memset(&msg, 0, sizeof(msg))
        m.data = <uint8_t*>s.buf
        m.size = m.capacity = <size_t>s.len
        with nogil:
            stream = _stream(&m, True)
            codec = opj_create_decompress(<OPJ_CODEC_FORMAT>codec_format)
            if stream != NULL and codec != NULL:
                opj_set_error_handler(codec, _on_error, &msg)
                opj_set_default_decoder_parameters(&params)
                ok = opj_setup_decoder(codec, &params) and opj_decoder_set_strict_mode(codec, 1)
                if ok and numthreads > 1:
                    opj_codec_set_threads(codec, numthreads)  # single-threaded if unsupported
                ok = ok and opj_read_header(stream, codec, &image)
        if stream == NULL or codec == NULL:
            raise MemoryError(f"{name}: cannot create a decoder")
        if not ok:
            raise DecodeError(f"{name}: " + _message(&msg, "invalid header"))
        problem = _layout_mismatch(image, height, width, channels, itemsize, is_signed)
        if problem is not None:
            raise DecodeError(f"{name}: header does not match the SIZ marker: {problem}")
        with nogil:
            ok = opj_decode(codec, stream, image) and opj_end_decompress(codec, stream)
        if not ok:
            raise DecodeError(f"{name}: " + _message(&msg, "corrupt or truncated data"))
        # JP2 palettes and channel definitions can change the layout while decoding.
        problem = _layout_mismatch(image, height, width, channels, itemsize, is_signed)
        if problem is not None:
            raise DecodeError(f"{name}: unsupported JP2 colour layout: {problem}")
        with nogil:
            _interleave(image, o.buf, itemsize, is_signed)
        return out
    finally:
        with nogil:
            if image != NULL:
                opj_image_destroy(image)
            if codec != NULL:
                opj_destroy_codec(codec)
            if stream != NULL:
                opj_stream_destroy(stream)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)


# -- encode -------------------------------------------------------------------

cdef void _split_planes(const uint8_t* src, uint8_t* dst, size_t n, size_t c, int itemsize) noexcept nogil:
    """Interleaved samples -> one plane per channel, the layout opj_write_tile takes."""
    cdef size_t i, k
    for k in range(c):
        if itemsize == 1:
            for i in range(n):
                dst[k * n + i] = src[i * c + k]
        else:
            for i in range(n):
                (<uint16_t*>dst)[k * n + i] = (<const uint16_t*>src)[i * c + k]


def encode(src, int codec_format, uint32_t height, uint32_t width, uint32_t channels,
           int itemsize, bint is_signed, int resolutions, float psnr, int numthreads, out=None):
    """Encode an (H, W[, C]) image as one tile: reversible 5/3 wavelet when `psnr`
    is 0 (lossless), else irreversible 9/7 wavelet at that target PSNR (dB)."""
    cdef Py_buffer s, o
    cdef MemStream m
    cdef Messages msg
    cdef opj_cparameters_t params
    cdef opj_image_cmptparm_t comps[4]
    cdef opj_stream_t* stream = NULL
    cdef opj_codec_t* codec = NULL
    cdef opj_image_t* image = NULL
    cdef uint8_t* planes = NULL
    cdef size_t n = <size_t>height * width
    cdef size_t nbytes = n * channels * itemsize
    cdef OPJ_BOOL ok = 0
    cdef uint32_t k
    cdef bint has_out = False
    if channels < 1 or channels > 4:
        raise EncodeError(f"jpeg2k: cannot encode {channels} channels")
    if nbytes >= (<size_t>1 << 32):
        raise EncodeError("jpeg2k: images of 4 GiB or more do not fit one tile")
    get_input(src, &s)
    memset(&m, 0, sizeof(m))
    memset(&msg, 0, sizeof(msg))
    try:
        if <size_t>s.len != nbytes:
            raise EncodeError(f"jpeg2k: {s.len} input bytes for a {height}x{width}x{channels} image")
        if out is None:
            m.growable = True
            m.capacity = nbytes // 2 + 4096
            m.data = <uint8_t*>malloc(m.capacity)
            if m.data == NULL:
                raise MemoryError()
        else:
            get_output(out, &o)
            has_out = True
            m.data = <uint8_t*>o.buf
            m.capacity = <size_t>o.len
        memset(comps, 0, sizeof(comps))
        for k in range(channels):
            comps[k].dx = comps[k].dy = 1
            comps[k].w = width
            comps[k].h = height
            comps[k].prec = itemsize * 8
            comps[k].sgnd = is_signed
        with nogil:
            if channels > 1:
                planes = <uint8_t*>malloc(nbytes)
                if planes != NULL:
                    _split_planes(<const uint8_t*>s.buf, planes, n, channels, itemsize)
            image = opj_image_tile_create(channels, comps,
                                          OPJ_CLRSPC_GRAY if channels < 3 else OPJ_CLRSPC_SRGB)
            stream = _stream(&m, False)
            codec = opj_create_compress(<OPJ_CODEC_FORMAT>codec_format)
        if image == NULL or stream == NULL or codec == NULL or (channels > 1 and planes == NULL):
            raise MemoryError("jpeg2k: cannot create an encoder")
        image.x1 = width
        image.y1 = height
        if channels in (2, 4):
            image.comps[channels - 1].alpha = 1
        opj_set_default_encoder_parameters(&params)
        params.tile_size_on = 1
        params.cp_tdx = width
        params.cp_tdy = height
        params.numresolution = resolutions
        params.tcp_numlayers = 1
        params.tcp_mct = 1 if channels >= 3 else 0
        if psnr > 0:
            params.irreversible = 1
            params.cp_fixed_quality = 1
            params.tcp_distoratio[0] = psnr
        else:
            params.irreversible = 0
            params.cp_disto_alloc = 1
            params.tcp_rates[0] = 0
        with nogil:
            opj_set_error_handler(codec, _on_error, &msg)
            ok = opj_setup_encoder(codec, &params, image)
            if ok and numthreads > 1:
                opj_codec_set_threads(codec, numthreads)
            ok = (ok and opj_start_compress(codec, image, stream)
                  and opj_write_tile(codec, 0, planes if planes != NULL else <uint8_t*>s.buf,
                                     <OPJ_UINT32>nbytes, stream)
                  and opj_end_compress(codec, stream))
        if m.overflow:
            raise EncodeError(f"jpeg2k: the encoded image does not fit the {m.capacity}-byte output buffer")
        if not ok:
            raise EncodeError("jpeg2k: " + _message(&msg, "encoding failed"))
        if out is None:
            return PyBytes_FromStringAndSize(<char*>m.data, <Py_ssize_t>m.size)
        return memoryview(out).cast("B")[:m.size]
    finally:
        with nogil:
            if codec != NULL:
                opj_destroy_codec(codec)
            if stream != NULL:
                opj_stream_destroy(stream)
            if image != NULL:
                opj_image_destroy(image)
            free(planes)
            if m.growable:
                free(m.data)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
