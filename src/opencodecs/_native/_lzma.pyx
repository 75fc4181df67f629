# cython: language_level=3, boundscheck=False, wraparound=False
"""xz and legacy .lzma streams through liblzma, GIL released."""

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memset
from opencodecs._native._buffers cimport *
from opencodecs._native._sizing cimport first_guess, grown

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "lzma.h" nogil:
    ctypedef enum lzma_ret:
        LZMA_OK
        LZMA_STREAM_END
        LZMA_MEM_ERROR
        LZMA_MEMLIMIT_ERROR
        LZMA_FORMAT_ERROR
        LZMA_OPTIONS_ERROR
        LZMA_DATA_ERROR
        LZMA_BUF_ERROR
    ctypedef enum lzma_action:
        LZMA_FINISH
    ctypedef enum lzma_check:
        pass
    ctypedef struct lzma_stream:
        const uint8_t* next_in
        size_t avail_in
        uint8_t* next_out
        size_t avail_out
    ctypedef struct lzma_options_lzma:
        pass
    enum:
        LZMA_CONCATENATED
    lzma_ret lzma_easy_encoder(lzma_stream*, uint32_t, lzma_check)
    lzma_ret lzma_alone_encoder(lzma_stream*, const lzma_options_lzma*)
    bint lzma_lzma_preset(lzma_options_lzma*, uint32_t)
    lzma_ret lzma_auto_decoder(lzma_stream*, uint64_t, uint32_t)
    lzma_ret lzma_code(lzma_stream*, lzma_action)
    void lzma_end(lzma_stream*)
    uint64_t lzma_memusage(const lzma_stream*)
    uint64_t lzma_memlimit_get(const lzma_stream*)
    size_t lzma_stream_buffer_bound(size_t)


MIN_LEVEL, MAX_LEVEL = 0, 9
# Integrity checks by name, with liblzma's numbers.
CHECKS = {"none": 0, "crc32": 1, "crc64": 4, "sha256": 10}


cdef str _error(lzma_ret r):
    if r == LZMA_MEM_ERROR:
        return "out of memory"
    if r == LZMA_FORMAT_ERROR:
        return "not an xz or lzma stream"
    if r == LZMA_OPTIONS_ERROR:
        return "unsupported options"
    if r == LZMA_DATA_ERROR:
        return "corrupt data"
    if r == LZMA_BUF_ERROR:
        return "truncated data"
    return f"liblzma error {<int>r}"


def encode(src, int preset, int check, bint alone, out=None):
    """Compress `src` into one xz stream (or a legacy .lzma one when `alone`)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef lzma_stream strm
    cdef lzma_options_lzma options
    cdef lzma_ret r
    cdef size_t pos_out = 0, cap
    cdef uint8_t* base
    memset(&strm, 0, sizeof(strm))
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        with nogil:
            if alone:
                r = LZMA_OPTIONS_ERROR if lzma_lzma_preset(&options, preset) else lzma_alone_encoder(&strm, &options)
            else:
                r = lzma_easy_encoder(&strm, preset, <lzma_check>check)
        if r != LZMA_OK:
            raise EncodeError(f"lzma: cannot set up the encoder: {_error(r)}")
        if out is None:
            bytes_new(&b, <Py_ssize_t>lzma_stream_buffer_bound(<size_t>s.len))
        else:
            get_output(out, &o)
            has_out = True
        strm.next_in = <const uint8_t*>s.buf
        strm.avail_in = <size_t>s.len
        while True:
            if has_out:
                base = <uint8_t*>o.buf
                cap = <size_t>o.len
                if pos_out == cap:
                    raise EncodeError(f"lzma: output does not fit in {cap} bytes")
            else:
                if pos_out == <size_t>b.size:
                    bytes_resize(&b, b.size + b.size // 2)
                base = <uint8_t*>b.data
                cap = <size_t>b.size
            strm.next_out = base + pos_out
            strm.avail_out = cap - pos_out
            with nogil:
                r = lzma_code(&strm, LZMA_FINISH)
            pos_out = <size_t>(strm.next_out - base)
            if r == LZMA_STREAM_END:
                break
            if r != LZMA_OK:
                raise EncodeError(f"lzma: {_error(r)}")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>pos_out)
        return memoryview(out).cast("B")[:pos_out]
    finally:
        with nogil:
            lzma_end(&strm)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


cdef Py_ssize_t _decode(lzma_stream* strm, BytesOut* b, char* fixed, size_t fixed_size,
                        size_t limit) except -1:
    """Run the decoder over all its input into `b`, grown up to `limit`, or into `fixed`.

    Once the output is full and may not grow, a 1-byte spill buffer tells a
    complete stream (that writes nothing more) from one that decodes to more
    than allowed.
    """
    cdef size_t pos_out = 0, cap
    cdef char* base
    cdef uint8_t spill[1]
    cdef bint spilling
    cdef lzma_ret r
    while True:
        if fixed != NULL:
            base = fixed
            cap = fixed_size
        else:
            if pos_out == <size_t>b.size and <size_t>b.size < limit:
                bytes_resize(b, <Py_ssize_t>grown(<size_t>b.size, limit))
            base = b.data
            cap = <size_t>b.size
        spilling = pos_out == cap
        if spilling:
            strm.next_out = spill
            strm.avail_out = 1
        else:
            strm.next_out = <uint8_t*>base + pos_out
            strm.avail_out = cap - pos_out
        with nogil:
            r = lzma_code(strm, LZMA_FINISH)
        if r == LZMA_MEMLIMIT_ERROR:
            raise DecodeError(f"lzma: the stream's dictionary needs {lzma_memusage(strm) >> 20} MiB "
                              f"of decoder memory, more than its size can justify "
                              f"({lzma_memlimit_get(strm) >> 20} MiB)")
        if r != LZMA_OK and r != LZMA_STREAM_END:
            raise DecodeError(f"lzma: {_error(r)}")
        if spilling and strm.avail_out == 0:
            if fixed != NULL:
                raise DecodeError(f"lzma: data decodes to more than out's {fixed_size} bytes")
            raise DecodeError(f"lzma: data decodes to more than max_decoded_bytes={limit}")
        if not spilling:
            pos_out = <size_t>(<char*>strm.next_out - base)
        if r == LZMA_STREAM_END:
            return <Py_ssize_t>pos_out


def decode(src, out, Py_ssize_t max_size, uint64_t memlimit):
    """Decode xz (concatenated streams, padding) or .lzma data into bytes or `out`."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef lzma_stream strm
    cdef lzma_ret r
    cdef Py_ssize_t n
    memset(&strm, 0, sizeof(strm))
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is not None:
            get_output(out, &o)
            has_out = True
        if s.len == 0:
            raise DecodeError("lzma: empty input")
        with nogil:
            r = lzma_auto_decoder(&strm, memlimit, LZMA_CONCATENATED)
        if r != LZMA_OK:
            raise DecodeError(f"lzma: cannot set up the decoder: {_error(r)}")
        strm.next_in = <const uint8_t*>s.buf
        strm.avail_in = <size_t>s.len
        if has_out:
            n = _decode(&strm, NULL, <char*>o.buf, <size_t>o.len, <size_t>max_size)
            if n != o.len:
                raise DecodeError(f"lzma: decoded {n} bytes, out has {o.len}")
            return out
        # LZMA can expand by thousands to one: grow up to max_size.
        bytes_new(&b, <Py_ssize_t>first_guess(<size_t>s.len, <size_t>max_size))
        n = _decode(&strm, &b, NULL, 0, <size_t>max_size)
        return bytes_finish(&b, n)
    finally:
        with nogil:
            lzma_end(&strm)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
