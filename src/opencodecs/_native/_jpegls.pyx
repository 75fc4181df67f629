# cython: language_level=3, boundscheck=False, wraparound=False
"""JPEG-LS through the CharLS 2.x C API: encode, header, decode, GIL released."""

from libc.stdint cimport int32_t, uint32_t
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "charls/charls.h" nogil:
    ctypedef struct charls_jpegls_decoder
    ctypedef struct charls_jpegls_encoder
    ctypedef int charls_jpegls_errc
    ctypedef int charls_interleave_mode
    int CHARLS_INTERLEAVE_MODE_NONE, CHARLS_INTERLEAVE_MODE_LINE, CHARLS_INTERLEAVE_MODE_SAMPLE
    ctypedef struct charls_frame_info:
        uint32_t width
        uint32_t height
        int32_t bits_per_sample
        int32_t component_count
    const char* charls_get_error_message(charls_jpegls_errc)

    charls_jpegls_decoder* charls_jpegls_decoder_create()
    void charls_jpegls_decoder_destroy(const charls_jpegls_decoder*)
    charls_jpegls_errc charls_jpegls_decoder_set_source_buffer(charls_jpegls_decoder*, const void*, size_t)
    charls_jpegls_errc charls_jpegls_decoder_read_header(charls_jpegls_decoder*)
    charls_jpegls_errc charls_jpegls_decoder_get_frame_info(const charls_jpegls_decoder*, charls_frame_info*)
    charls_jpegls_errc charls_jpegls_decoder_get_interleave_mode(const charls_jpegls_decoder*,
                                                                 charls_interleave_mode*)
    charls_jpegls_errc charls_jpegls_decoder_decode_to_buffer(charls_jpegls_decoder*, void*, size_t, uint32_t)

    charls_jpegls_encoder* charls_jpegls_encoder_create()
    void charls_jpegls_encoder_destroy(const charls_jpegls_encoder*)
    charls_jpegls_errc charls_jpegls_encoder_set_frame_info(charls_jpegls_encoder*, const charls_frame_info*)
    charls_jpegls_errc charls_jpegls_encoder_set_near_lossless(charls_jpegls_encoder*, int32_t)
    charls_jpegls_errc charls_jpegls_encoder_set_interleave_mode(charls_jpegls_encoder*, charls_interleave_mode)
    charls_jpegls_errc charls_jpegls_encoder_get_estimated_destination_size(const charls_jpegls_encoder*, size_t*)
    charls_jpegls_errc charls_jpegls_encoder_set_destination_buffer(charls_jpegls_encoder*, void*, size_t)
    charls_jpegls_errc charls_jpegls_encoder_encode_from_buffer(charls_jpegls_encoder*, const void*, size_t,
                                                                uint32_t)
    charls_jpegls_errc charls_jpegls_encoder_get_bytes_written(const charls_jpegls_encoder*, size_t*)


# Decoders and encoders are small and single-use in CharLS 2.4 (a decoder
# reads one source buffer): one per call.

cdef str _message(charls_jpegls_errc e):
    return charls_get_error_message(e).decode("utf-8", "replace")


def encode(src, int width, int height, int components, int bits, int near_lossless):
    """Compress packed samples (uint8 up to 8 bits, else uint16; components
    pixel-interleaved) into a JPEG-LS stream."""
    cdef Py_buffer s
    cdef BytesOut b
    cdef charls_frame_info info
    cdef charls_jpegls_errc e = 0
    cdef size_t size = 0, written = 0
    # Sample interleave for RGB; CharLS interleaves 4 components by line.
    cdef charls_interleave_mode mode = (CHARLS_INTERLEAVE_MODE_NONE if components == 1 else
                                        CHARLS_INTERLEAVE_MODE_SAMPLE if components == 3 else
                                        CHARLS_INTERLEAVE_MODE_LINE)
    cdef charls_jpegls_encoder* enc = charls_jpegls_encoder_create()
    if enc == NULL:
        raise MemoryError("jpegls: cannot create a CharLS encoder")
    info.width, info.height, info.bits_per_sample, info.component_count = width, height, bits, components
    b.obj = NULL
    get_input(src, &s)
    try:
        with nogil:
            e = charls_jpegls_encoder_set_frame_info(enc, &info)
            if e == 0:
                e = charls_jpegls_encoder_set_near_lossless(enc, near_lossless)
            if e == 0:
                e = charls_jpegls_encoder_set_interleave_mode(enc, mode)
            if e == 0:
                e = charls_jpegls_encoder_get_estimated_destination_size(enc, &size)
        if e != 0:
            raise EncodeError(f"jpegls: {_message(e)}")
        bytes_new(&b, <Py_ssize_t>size)
        with nogil:
            e = charls_jpegls_encoder_set_destination_buffer(enc, b.data, size)
            if e == 0:
                e = charls_jpegls_encoder_encode_from_buffer(enc, s.buf, <size_t>s.len, 0)
            if e == 0:
                e = charls_jpegls_encoder_get_bytes_written(enc, &written)
        if e != 0:
            raise EncodeError(f"jpegls: {_message(e)}")
        return bytes_finish(&b, <Py_ssize_t>written)
    finally:
        PyBuffer_Release(&s)
        bytes_free(&b)
        charls_jpegls_encoder_destroy(enc)


cdef charls_jpegls_decoder* _reader(const void* data, size_t size) except NULL:
    """A decoder that has read the header of `data`."""
    cdef charls_jpegls_errc e
    cdef charls_jpegls_decoder* dec = charls_jpegls_decoder_create()
    if dec == NULL:
        raise MemoryError("jpegls: cannot create a CharLS decoder")
    with nogil:
        e = charls_jpegls_decoder_set_source_buffer(dec, data, size)
        if e == 0:
            e = charls_jpegls_decoder_read_header(dec)
    if e != 0:
        charls_jpegls_decoder_destroy(dec)
        raise DecodeError(f"jpegls: {_message(e)}")
    return dec


def header(src):
    """(height, width, components, bits per sample, planar) of a JPEG-LS stream;
    `planar` when components are stored one after another (interleave none)."""
    cdef Py_buffer s
    cdef charls_frame_info info
    cdef charls_interleave_mode mode
    cdef charls_jpegls_errc e
    cdef charls_jpegls_decoder* dec
    get_input(src, &s)
    try:
        if s.len == 0:
            raise DecodeError("jpegls: empty input")
        dec = _reader(s.buf, <size_t>s.len)
        e = charls_jpegls_decoder_get_frame_info(dec, &info)
        if e == 0:
            e = charls_jpegls_decoder_get_interleave_mode(dec, &mode)
        charls_jpegls_decoder_destroy(dec)
        if e != 0:
            raise DecodeError(f"jpegls: {_message(e)}")
        return (info.height, info.width, info.component_count, info.bits_per_sample,
                mode == CHARLS_INTERLEAVE_MODE_NONE and info.component_count > 1)
    finally:
        PyBuffer_Release(&s)


cdef bint _has_end_marker(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """True if an EOI marker (FF D9) follows the header. Scan data never holds
    one: a 0xFF byte there is followed by a byte below 0x80."""
    cdef Py_ssize_t i
    for i in range(n - 2, 1, -1):
        if p[i] == 0xFF and p[i + 1] == 0xD9:
            return True
    return False


def decode(src, out):
    """Decode into `out`, which holds exactly the samples the header declares
    (planar for interleave mode none, else pixel-interleaved)."""
    cdef Py_buffer s, o
    cdef charls_jpegls_errc e
    cdef charls_jpegls_decoder* dec
    cdef bint complete
    get_input(src, &s)
    try:
        # CharLS 2.4 can spin for seconds on a scan that ends early (a Golomb
        # parameter loop, fixed in CharLS 3): refuse truncated streams first.
        with nogil:
            complete = _has_end_marker(<const unsigned char*>s.buf, s.len)
        if not complete:
            raise DecodeError("jpegls: truncated stream (no EOI marker)")
        get_output(out, &o)
        try:
            dec = _reader(s.buf, <size_t>s.len)
            with nogil:
                e = charls_jpegls_decoder_decode_to_buffer(dec, o.buf, <size_t>o.len, 0)
                charls_jpegls_decoder_destroy(dec)
            if e != 0:
                raise DecodeError(f"jpegls: {_message(e)}")
        finally:
            PyBuffer_Release(&o)
    finally:
        PyBuffer_Release(&s)
