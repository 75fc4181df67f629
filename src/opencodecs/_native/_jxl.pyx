# cython: language_level=3, boundscheck=False, wraparound=False
"""JPEG XL (libjxl 0.7): still images and animations, Exif/XMP boxes, GIL released.

Decoders run libjxl's own threads through a per-thread resizable runner, so
repeated calls start no threads. Frames of an animation can be decoded by
independent decoders (`first` frame skipped to with JxlDecoderSkipFrames),
which is how the Python layer spreads them over the shared pool.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from opencodecs._native._buffers cimport *
from opencodecs._native._tls cimport ThreadLocal, tls_init, tls_get, tls_set

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "jxl/types.h" nogil:
    ctypedef int JXL_BOOL
    ctypedef enum JxlDataType:
        JXL_TYPE_FLOAT
        JXL_TYPE_UINT8
        JXL_TYPE_UINT16
        JXL_TYPE_FLOAT16
    ctypedef enum JxlEndianness:
        JXL_NATIVE_ENDIAN
    ctypedef struct JxlPixelFormat:
        uint32_t num_channels
        JxlDataType data_type
        JxlEndianness endianness
        size_t align
    ctypedef char JxlBoxType[4]


cdef extern from "jxl/codestream_header.h" nogil:
    ctypedef struct JxlAnimationHeader:
        uint32_t tps_numerator
        uint32_t tps_denominator
        uint32_t num_loops
        JXL_BOOL have_timecodes
    ctypedef struct JxlBasicInfo:
        JXL_BOOL have_container
        uint32_t xsize
        uint32_t ysize
        uint32_t bits_per_sample
        uint32_t exponent_bits_per_sample
        JXL_BOOL uses_original_profile
        JXL_BOOL have_animation
        uint32_t num_color_channels
        uint32_t num_extra_channels
        uint32_t alpha_bits
        uint32_t alpha_exponent_bits
        JxlAnimationHeader animation
    ctypedef struct JxlFrameHeader:
        uint32_t duration
        JXL_BOOL is_last


cdef extern from "jxl/color_encoding.h" nogil:
    ctypedef struct JxlColorEncoding:
        pass


cdef extern from "jxl/parallel_runner.h" nogil:
    ctypedef int (*JxlParallelRunner)(void*, void*, void*, void*, uint32_t, uint32_t)


cdef extern from "jxl/resizable_parallel_runner.h" nogil:
    int JxlResizableParallelRunner(void*, void*, void*, void*, uint32_t, uint32_t)
    void* JxlResizableParallelRunnerCreate(const void*)
    void JxlResizableParallelRunnerSetThreads(void*, size_t)
    void JxlResizableParallelRunnerDestroy(void*)


cdef extern from "jxl/decode.h" nogil:
    ctypedef enum JxlSignature:
        JXL_SIG_CODESTREAM
        JXL_SIG_CONTAINER
    ctypedef enum JxlDecoderStatus:
        JXL_DEC_SUCCESS
        JXL_DEC_ERROR
        JXL_DEC_NEED_MORE_INPUT
        JXL_DEC_NEED_IMAGE_OUT_BUFFER
        JXL_DEC_BOX_NEED_MORE_OUTPUT
        JXL_DEC_BASIC_INFO
        JXL_DEC_COLOR_ENCODING
        JXL_DEC_FRAME
        JXL_DEC_FULL_IMAGE
        JXL_DEC_BOX
    ctypedef struct JxlDecoder
    uint32_t JxlDecoderVersion()
    JxlSignature JxlSignatureCheck(const uint8_t*, size_t)
    JxlDecoder* JxlDecoderCreate(const void*)
    void JxlDecoderDestroy(JxlDecoder*)
    JxlDecoderStatus JxlDecoderSubscribeEvents(JxlDecoder*, int)
    JxlDecoderStatus JxlDecoderSetParallelRunner(JxlDecoder*, JxlParallelRunner, void*)
    JxlDecoderStatus JxlDecoderSetInput(JxlDecoder*, const uint8_t*, size_t)
    void JxlDecoderCloseInput(JxlDecoder*)
    JxlDecoderStatus JxlDecoderProcessInput(JxlDecoder*)
    JxlDecoderStatus JxlDecoderGetBasicInfo(const JxlDecoder*, JxlBasicInfo*)
    JxlDecoderStatus JxlDecoderGetFrameHeader(const JxlDecoder*, JxlFrameHeader*)
    void JxlDecoderSkipFrames(JxlDecoder*, size_t)
    JxlDecoderStatus JxlDecoderImageOutBufferSize(const JxlDecoder*, const JxlPixelFormat*, size_t*)
    JxlDecoderStatus JxlDecoderSetImageOutBuffer(JxlDecoder*, const JxlPixelFormat*, void*, size_t)
    JxlDecoderStatus JxlDecoderSetDecompressBoxes(JxlDecoder*, JXL_BOOL)
    JxlDecoderStatus JxlDecoderGetBoxType(JxlDecoder*, JxlBoxType, JXL_BOOL)
    JxlDecoderStatus JxlDecoderGetBoxSizeRaw(const JxlDecoder*, uint64_t*)
    JxlDecoderStatus JxlDecoderSetBoxBuffer(JxlDecoder*, uint8_t*, size_t)
    size_t JxlDecoderReleaseBoxBuffer(JxlDecoder*)


cdef extern from "jxl_compat.h" nogil:
    # the original colour profile, whichever libjxl signature this build has
    JxlDecoderStatus oc_jxl_color_encoding(const JxlDecoder*, JxlColorEncoding*)
    JxlDecoderStatus oc_jxl_icc_size(const JxlDecoder*, size_t*)
    JxlDecoderStatus oc_jxl_icc(const JxlDecoder*, uint8_t*, size_t)


cdef extern from "jxl/encode.h" nogil:
    ctypedef enum JxlEncoderStatus:
        JXL_ENC_SUCCESS
        JXL_ENC_ERROR
        JXL_ENC_NEED_MORE_OUTPUT
    ctypedef enum JxlEncoderFrameSettingId:
        JXL_ENC_FRAME_SETTING_EFFORT
    ctypedef struct JxlEncoder
    ctypedef struct JxlEncoderFrameSettings
    JxlEncoder* JxlEncoderCreate(const void*)
    void JxlEncoderDestroy(JxlEncoder*)
    int JxlEncoderGetError(JxlEncoder*)
    JxlEncoderStatus JxlEncoderSetParallelRunner(JxlEncoder*, JxlParallelRunner, void*)
    void JxlEncoderInitBasicInfo(JxlBasicInfo*)
    JxlEncoderStatus JxlEncoderSetBasicInfo(JxlEncoder*, const JxlBasicInfo*)
    void JxlColorEncodingSetToSRGB(JxlColorEncoding*, JXL_BOOL)
    void JxlColorEncodingSetToLinearSRGB(JxlColorEncoding*, JXL_BOOL)
    JxlEncoderStatus JxlEncoderSetColorEncoding(JxlEncoder*, const JxlColorEncoding*)
    JxlEncoderStatus JxlEncoderSetICCProfile(JxlEncoder*, const uint8_t*, size_t)
    JxlEncoderStatus JxlEncoderUseContainer(JxlEncoder*, JXL_BOOL)
    JxlEncoderStatus JxlEncoderUseBoxes(JxlEncoder*)
    JxlEncoderStatus JxlEncoderAddBox(JxlEncoder*, const JxlBoxType, const uint8_t*, size_t, JXL_BOOL)
    void JxlEncoderCloseBoxes(JxlEncoder*)
    JxlEncoderFrameSettings* JxlEncoderFrameSettingsCreate(JxlEncoder*, const JxlEncoderFrameSettings*)
    JxlEncoderStatus JxlEncoderFrameSettingsSetOption(JxlEncoderFrameSettings*, JxlEncoderFrameSettingId, int)
    JxlEncoderStatus JxlEncoderSetFrameLossless(JxlEncoderFrameSettings*, JXL_BOOL)
    JxlEncoderStatus JxlEncoderSetFrameDistance(JxlEncoderFrameSettings*, float)
    void JxlEncoderInitFrameHeader(JxlFrameHeader*)
    JxlEncoderStatus JxlEncoderSetFrameHeader(JxlEncoderFrameSettings*, const JxlFrameHeader*)
    JxlEncoderStatus JxlEncoderAddImageFrame(const JxlEncoderFrameSettings*, const JxlPixelFormat*,
                                             const void*, size_t)
    void JxlEncoderCloseInput(JxlEncoder*)
    JxlEncoderStatus JxlEncoderProcessOutput(JxlEncoder*, uint8_t**, size_t*)


_v = JxlDecoderVersion()
VERSION = f"{_v // 1000000}.{_v // 1000 % 1000}.{_v % 1000}"

# numpy dtype character -> libjxl sample type, and the bits a file declares for it.
_TYPES = {"B": JXL_TYPE_UINT8, "H": JXL_TYPE_UINT16, "e": JXL_TYPE_FLOAT16, "f": JXL_TYPE_FLOAT}
_BITS = {"B": (8, 0), "H": (16, 0), "e": (16, 5), "f": (32, 8)}


# One resizable runner per calling thread: its worker threads outlive the call.
cdef void _free_runner(void* p) noexcept nogil:
    JxlResizableParallelRunnerDestroy(p)

cdef ThreadLocal _runner_key
tls_init(&_runner_key, _free_runner)


cdef void* _runner(size_t numthreads) except NULL:
    cdef void* r = tls_get(&_runner_key)
    if r == NULL:
        r = JxlResizableParallelRunnerCreate(NULL)
        if r == NULL:
            raise MemoryError("jxl: cannot create a thread runner")
        tls_set(&_runner_key, r)
    JxlResizableParallelRunnerSetThreads(r, numthreads)
    return r


cdef class _Decoder:
    """A JxlDecoder over a whole in-memory input, destroyed with this object."""
    cdef JxlDecoder* dec
    cdef Py_buffer src
    cdef bint has_src

    def __cinit__(self, src, int events, int numthreads):
        get_input(src, &self.src)
        self.has_src = True
        self.dec = JxlDecoderCreate(NULL)
        if self.dec == NULL:
            raise MemoryError("jxl: cannot create a decoder")
        if self.src.len == 0:
            raise DecodeError("jxl: empty input")
        if numthreads > 1 and JxlDecoderSetParallelRunner(
                self.dec, <JxlParallelRunner>JxlResizableParallelRunner, _runner(numthreads)) != JXL_DEC_SUCCESS:
            raise DecodeError("jxl: cannot set the thread runner")
        if JxlDecoderSubscribeEvents(self.dec, events) != JXL_DEC_SUCCESS:
            raise DecodeError("jxl: cannot subscribe to decoder events")
        JxlDecoderSetInput(self.dec, <const uint8_t*>self.src.buf, <size_t>self.src.len)
        JxlDecoderCloseInput(self.dec)

    def __dealloc__(self):
        if self.dec != NULL:
            JxlDecoderDestroy(self.dec)
        if self.has_src:
            PyBuffer_Release(&self.src)

    cdef JxlDecoderStatus next(self) except? JXL_DEC_ERROR:
        """The next event; DecodeError on corrupt or truncated input."""
        cdef JxlDecoderStatus status
        with nogil:
            status = JxlDecoderProcessInput(self.dec)
        if status == JXL_DEC_ERROR:
            raise DecodeError("jxl: corrupt or unsupported data")
        if status == JXL_DEC_NEED_MORE_INPUT:
            raise DecodeError("jxl: truncated data")
        return status


cdef dict _header(const JxlBasicInfo* info):
    """The basic info Python needs, as a dict ("durations" filled in by probe)."""
    return {
        "width": info.xsize, "height": info.ysize, "color_channels": info.num_color_channels,
        "alpha_bits": info.alpha_bits, "bits_per_sample": info.bits_per_sample,
        "exponent_bits": info.exponent_bits_per_sample, "animation": bool(info.have_animation),
        "tps": (info.animation.tps_numerator, info.animation.tps_denominator), "durations": None,
    }


def probe(src):
    """The image header as a dict, with the durations (in ticks) of every frame of
    an animation (None for a still image); frame headers are read, pixels skipped."""
    cdef _Decoder d = _Decoder(src, JXL_DEC_BASIC_INFO | JXL_DEC_FRAME, 1)
    cdef JxlBasicInfo info
    cdef JxlFrameHeader header
    cdef JxlDecoderStatus status = d.next()
    if status != JXL_DEC_BASIC_INFO or JxlDecoderGetBasicInfo(d.dec, &info) != JXL_DEC_SUCCESS:
        raise DecodeError("jxl: no image header")
    result = _header(&info)
    if not info.have_animation:
        return result
    durations = []
    while True:
        status = d.next()
        if status == JXL_DEC_SUCCESS:
            break
        if status == JXL_DEC_FRAME:
            JxlDecoderGetFrameHeader(d.dec, &header)
            durations.append(header.duration)
            if header.is_last:
                break
    result["durations"] = durations
    return result


def decode(src, allocate, Py_ssize_t first, Py_ssize_t count, int numthreads):
    """Decode frames first .. first+count-1, one after the other, into the buffer
    `allocate(header)` gives as (buffer, channels, numpy dtype char) once the image
    header is read. If allocate gives None instead, stop there and return None."""
    cdef _Decoder d = _Decoder(src, JXL_DEC_BASIC_INFO | JXL_DEC_FULL_IMAGE, numthreads)
    cdef Py_buffer o
    cdef bint has_out = False
    cdef JxlBasicInfo info
    cdef JxlPixelFormat fmt
    cdef JxlDecoderStatus status
    cdef size_t frame_bytes = 0, needed
    cdef Py_ssize_t done = 0
    out = None
    fmt.endianness = JXL_NATIVE_ENDIAN
    fmt.align = 0
    if first > 0:
        JxlDecoderSkipFrames(d.dec, <size_t>first)
    try:
        while done < count:
            status = d.next()
            if status == JXL_DEC_BASIC_INFO:
                JxlDecoderGetBasicInfo(d.dec, &info)
                target = allocate(_header(&info))
                if target is None:
                    return None
                out, channels, dtype = target
                fmt.num_channels = channels
                fmt.data_type = _TYPES[dtype]
                get_output(out, &o)
                has_out = True
                frame_bytes = <size_t>info.xsize * info.ysize * channels * (_BITS[dtype][0] // 8)
                if frame_bytes * count != <size_t>o.len:
                    raise DecodeError("jxl: image size does not match the output buffer")
            elif status == JXL_DEC_NEED_IMAGE_OUT_BUFFER:
                if (not has_out or JxlDecoderImageOutBufferSize(d.dec, &fmt, &needed) != JXL_DEC_SUCCESS
                        or needed != frame_bytes):
                    raise DecodeError("jxl: frame size does not match the image header")
                if JxlDecoderSetImageOutBuffer(d.dec, &fmt, <char*>o.buf + done * frame_bytes,
                                               frame_bytes) != JXL_DEC_SUCCESS:
                    raise DecodeError("jxl: cannot set the output buffer")
            elif status == JXL_DEC_FULL_IMAGE:
                done += 1
            elif status == JXL_DEC_SUCCESS:
                raise DecodeError(f"jxl: the file has fewer than {first + count} frames")
        return out
    finally:
        if has_out:
            PyBuffer_Release(&o)


def icc(src):
    """The ICC profile the file carries, or None when its colour space is a named one."""
    cdef _Decoder d = _Decoder(src, JXL_DEC_COLOR_ENCODING, 1)
    cdef JxlColorEncoding named
    cdef size_t size
    cdef bytearray profile
    if d.next() != JXL_DEC_COLOR_ENCODING:
        raise DecodeError("jxl: no colour encoding")
    if oc_jxl_color_encoding(d.dec, &named) == JXL_DEC_SUCCESS:
        return None
    if oc_jxl_icc_size(d.dec, &size) != JXL_DEC_SUCCESS:
        raise DecodeError("jxl: unreadable ICC profile")
    profile = bytearray(size)
    if oc_jxl_icc(d.dec, <uint8_t*><char*>profile, size) != JXL_DEC_SUCCESS:
        raise DecodeError("jxl: unreadable ICC profile")
    return bytes(profile)


def boxes(src, Py_ssize_t max_size):
    """{box type: contents} of the first Exif and xml boxes (Brotli-compressed ones unpacked)."""
    cdef _Decoder d = _Decoder(src, JXL_DEC_BOX, 1)
    cdef JxlDecoderStatus status
    cdef char kind[4]
    cdef uint64_t raw_size
    cdef bytearray content = None
    cdef size_t used = 0
    cdef bytes current = None
    found = {}
    JxlDecoderSetDecompressBoxes(d.dec, 1)
    while True:
        status = d.next()
        if status == JXL_DEC_BOX or status == JXL_DEC_SUCCESS:
            if current is not None:  # the previous box is complete
                used = <size_t>len(content) - JxlDecoderReleaseBoxBuffer(d.dec)
                found[current] = bytes(content[:used])
                current = None
            if status == JXL_DEC_SUCCESS:
                return found
            JxlDecoderGetBoxType(d.dec, kind, 1)
            name = kind[:4]
            if name in (b"Exif", b"xml ") and name not in found:
                JxlDecoderGetBoxSizeRaw(d.dec, &raw_size)
                content = bytearray(min(<uint64_t>max(raw_size, 64), <uint64_t>d.src.len))
                current = name
                JxlDecoderSetBoxBuffer(d.dec, <uint8_t*><char*>content, len(content))
        elif status == JXL_DEC_BOX_NEED_MORE_OUTPUT:
            used = <size_t>len(content) - JxlDecoderReleaseBoxBuffer(d.dec)
            if len(content) >= max_size:
                raise DecodeError(f"jxl: {current.decode()} box exceeds max_decoded_bytes={max_size}")
            content.extend(bytes(min(len(content), max_size - len(content))))
            JxlDecoderSetBoxBuffer(d.dec, <uint8_t*><char*>content + used, len(content) - used)


cdef int _check(JxlEncoderStatus status, JxlEncoder* enc, what) except -1:
    if status != JXL_ENC_SUCCESS:
        raise EncodeError(f"jxl: {what} failed (libjxl error {JxlEncoderGetError(enc)})")
    return 0


cdef class _Encoder:
    """A JxlEncoder, destroyed with this object."""
    cdef JxlEncoder* enc

    def __cinit__(self):
        self.enc = JxlEncoderCreate(NULL)
        if self.enc == NULL:
            raise MemoryError("jxl: cannot create an encoder")

    def __dealloc__(self):
        if self.enc != NULL:
            JxlEncoderDestroy(self.enc)


def encode(src, Py_ssize_t frames, uint32_t height, uint32_t width, int channels, str dtype,
           bint lossless, float distance, int effort, int numthreads, durations, tps,
           const uint8_t[:] icc, exif, xmp):
    """A JPEG XL file of `frames` C-contiguous (height, width, channels) images;
    `durations` (ticks at `tps` ticks per second) makes an animation. `icc`,
    `exif` and `xmp` are stored unless None."""
    cdef _Encoder e = _Encoder()
    cdef JxlEncoder* enc = e.enc
    cdef JxlEncoderFrameSettings* settings
    cdef JxlBasicInfo info
    cdef JxlColorEncoding color
    cdef JxlPixelFormat fmt
    cdef JxlFrameHeader header
    cdef JxlEncoderStatus status
    cdef Py_buffer s
    cdef const uint8_t[:] box
    cdef bint grey = channels < 3
    cdef bint alpha = channels in (2, 4)
    cdef size_t frame_bytes = <size_t>height * width * channels * (_BITS[dtype][0] // 8)
    cdef Py_ssize_t i
    cdef BytesOut b
    cdef uint8_t* next_out
    cdef size_t avail, written
    b.obj = NULL
    if numthreads > 1:
        _check(JxlEncoderSetParallelRunner(enc, <JxlParallelRunner>JxlResizableParallelRunner,
                                           _runner(numthreads)), enc, "setting threads")
    JxlEncoderInitBasicInfo(&info)
    info.xsize = width
    info.ysize = height
    info.bits_per_sample, info.exponent_bits_per_sample = _BITS[dtype]
    info.num_color_channels = 1 if grey else 3
    info.num_extra_channels = alpha
    info.alpha_bits = info.bits_per_sample if alpha else 0
    info.alpha_exponent_bits = info.exponent_bits_per_sample if alpha else 0
    info.uses_original_profile = lossless  # lossless needs the original colour space
    if durations is not None:
        info.have_animation = 1
        info.animation.tps_numerator, info.animation.tps_denominator = tps
        info.animation.num_loops = 0
    _check(JxlEncoderSetBasicInfo(enc, &info), enc, "setting the image header")
    if icc is not None:
        _check(JxlEncoderSetICCProfile(enc, &icc[0], <size_t>icc.shape[0]), enc, "setting the ICC profile")
    else:  # 8-bit data is taken as sRGB, deeper data as linear light (as imagecodecs does)
        if dtype == "B":
            JxlColorEncodingSetToSRGB(&color, grey)
        else:
            JxlColorEncodingSetToLinearSRGB(&color, grey)
        _check(JxlEncoderSetColorEncoding(enc, &color), enc, "setting the colour encoding")
    if exif is not None or xmp is not None:
        _check(JxlEncoderUseContainer(enc, 1), enc, "using the container")
        _check(JxlEncoderUseBoxes(enc), enc, "using boxes")
        for kind, content in ((b"Exif", exif), (b"xml ", xmp)):
            if content is not None:
                box = content
                _check(JxlEncoderAddBox(enc, <char*>kind, &box[0] if len(content) else NULL,
                                        len(content), 0), enc, f"adding the {kind.decode()} box")
        JxlEncoderCloseBoxes(enc)
    settings = JxlEncoderFrameSettingsCreate(enc, NULL)
    if settings == NULL:
        raise MemoryError("jxl: cannot create frame settings")
    _check(JxlEncoderFrameSettingsSetOption(settings, JXL_ENC_FRAME_SETTING_EFFORT, effort), enc, "effort")
    if lossless:
        _check(JxlEncoderSetFrameLossless(settings, 1), enc, "lossless mode")
    else:
        _check(JxlEncoderSetFrameDistance(settings, distance), enc, "distance")
    fmt.num_channels = channels
    fmt.data_type = _TYPES[dtype]
    fmt.endianness = JXL_NATIVE_ENDIAN
    fmt.align = 0
    get_input(src, &s)
    try:
        for i in range(frames):
            if durations is not None:
                JxlEncoderInitFrameHeader(&header)
                header.duration = durations[i]
                _check(JxlEncoderSetFrameHeader(settings, &header), enc, "setting a frame header")
            with nogil:
                status = JxlEncoderAddImageFrame(settings, &fmt, <const char*>s.buf + i * frame_bytes,
                                                 frame_bytes)
            _check(status, enc, "adding a frame")
    finally:
        PyBuffer_Release(&s)
    JxlEncoderCloseInput(enc)
    try:
        bytes_new(&b, max(<Py_ssize_t>(frame_bytes * frames // (4 if lossless else 16)), 1 << 16))
        written = 0
        while True:
            next_out = <uint8_t*>b.data + written
            avail = <size_t>b.size - written
            with nogil:
                status = JxlEncoderProcessOutput(enc, &next_out, &avail)
            written = <size_t>b.size - avail
            if status != JXL_ENC_NEED_MORE_OUTPUT:
                break
            bytes_resize(&b, b.size * 2)
        _check(status, enc, "encoding")
        return bytes_finish(&b, <Py_ssize_t>written)
    finally:
        bytes_free(&b)
