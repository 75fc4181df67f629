# cython: language_level=3, boundscheck=False, wraparound=False
"""LERC (Esri's Limited Error Raster Compression) blobs over liblerc, GIL released.

The caller maps an array to LERC's (nBands, nRows, nCols, nDepth) and back;
this module only checks, encodes and decodes.
"""

from libc.stdint cimport int32_t, uint8_t, uint32_t
from libc.math cimport NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memcmp, memcpy
from opencodecs._native._buffers cimport *

from opencodecs.core.errors import DecodeError, EncodeError


cdef extern from "Lerc_c_api.h" nogil:
    ctypedef unsigned int lerc_status
    lerc_status lerc_computeCompressedSizeForVersion(
        const void* pData, int codecVersion, unsigned int dataType, int nDepth, int nCols,
        int nRows, int nBands, int nMasks, const unsigned char* pValidBytes, double maxZErr,
        unsigned int* numBytes)
    lerc_status lerc_encodeForVersion(
        const void* pData, int codecVersion, unsigned int dataType, int nDepth, int nCols,
        int nRows, int nBands, int nMasks, const unsigned char* pValidBytes, double maxZErr,
        unsigned char* pOutBuffer, unsigned int outBufferSize, unsigned int* nBytesWritten)
    lerc_status lerc_getBlobInfo(
        const unsigned char* pLercBlob, unsigned int blobSize, unsigned int* infoArray,
        double* dataRangeArray, int infoArraySize, int dataRangeArraySize)
    lerc_status lerc_decode_4D(
        const unsigned char* pLercBlob, unsigned int blobSize, int nMasks, unsigned char* pValidBytes,
        int nDepth, int nCols, int nRows, int nBands, unsigned int dataType, void* pData,
        unsigned char* pUsesNoData, double* noDataValues)


# lerc_status values (LercNS::ErrCode)
cdef enum:
    LERC_OK = 0
    LERC_BUFFER_TOO_SMALL = 3
_STATUS = {1: "failed (corrupt or unsupported data)", 2: "wrong parameter",
           3: "buffer too small", 4: "data contains NaN", 5: "noData values need the 4D API"}

# infoArray (LercNS::InfoArrOrder)
cdef enum:
    INFO_DATA_TYPE = 1
    INFO_DEPTH = 2
    INFO_COLS = 3
    INFO_ROWS = 4
    INFO_BANDS = 5
    INFO_VALID_PIXELS = 6
    INFO_MASKS = 8
    INFO_USES_NODATA = 10
    INFO_SIZE = 11

# Bytes per value of LERC's data types (char, uchar, short, ushort, int, uint, float, double).
ITEMSIZE = (1, 1, 2, 2, 4, 4, 4, 8)
cdef enum:
    DT_FLOAT = 6
    DT_DOUBLE = 7
    TRUSTED_EXPANSION = 4

# A Lerc2 blob starts with "Lerc2 ", the codec version (int32) and, from
# version 3 on, a Fletcher-32 checksum of everything after it up to blobSize.
cdef const char* LERC2_KEY = b"Lerc2 "
cdef enum:
    KEY_SIZE = 6
    CHECKSUM_START = 14


cdef str _status(lerc_status status):
    return _STATUS.get(status, f"error {status}")


cdef uint32_t _fletcher32(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Lerc2's checksum: Fletcher-32 over big-endian byte pairs."""
    cdef uint32_t sum1 = 0xFFFF, sum2 = 0xFFFF
    cdef Py_ssize_t words = n // 2, batch
    while words:
        batch = min(words, 359)
        words -= batch
        while batch:
            sum1 += (<uint32_t>p[0] << 8) | p[1]
            sum2 += sum1
            p += 2
            batch -= 1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    if n & 1:
        sum1 += <uint32_t>p[0] << 8
        sum2 += sum1
    sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
    sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    return sum2 << 16 | sum1


cdef int32_t _int32(const uint8_t* p) noexcept nogil:
    cdef int32_t v
    memcpy(&v, p, 4)  # little-endian, as LERC writes and as this machine reads
    return v


cdef int _check_lerc2(const uint8_t* p, Py_ssize_t n) except -1:
    """Refuse anything but Lerc2. Legacy Lerc1 is refused: its decoder writes
    to its input, and merely reading its header decodes the whole image."""
    if n < CHECKSUM_START + 4 * 7 or memcmp(p, LERC2_KEY, KEY_SIZE) != 0:
        raise DecodeError("lerc: not a Lerc2 blob")
    return 0


cdef int _check_checksum(const uint8_t* p, Py_ssize_t n) except -1:
    """Refuse a first blob whose checksum does not match, so that the sizes in
    its header are the ones the encoder wrote (LERC checks it only once it
    decodes, into memory sized by that header)."""
    cdef int32_t version = _int32(p + KEY_SIZE), blob_size
    cdef uint32_t checksum
    cdef bint ok
    if version < 3:
        return 0  # no checksum before version 3
    # nRows, nCols, nDepth (version 4 on), numValidPixel, microBlockSize, blobSize
    blob_size = _int32(p + CHECKSUM_START + 4 * (5 if version >= 4 else 4))
    if blob_size < CHECKSUM_START or blob_size > n:
        raise DecodeError(f"lerc: blob declares {blob_size} bytes, holds {n}")
    memcpy(&checksum, p + 10, 4)
    with nogil:
        ok = _fletcher32(p + CHECKSUM_START, blob_size - CHECKSUM_START) == checksum
    if not ok:
        raise DecodeError("lerc: checksum mismatch (corrupt blob)")
    return 0


cdef void _nan_invalid(void* data, unsigned int data_type, const unsigned char* valid, int masks,
                       int depth, Py_ssize_t pixels, int bands) noexcept nogil:
    """Set the values of pixels the masks mark invalid (which LERC zeroes) to NaN."""
    cdef Py_ssize_t band, pixel, i
    cdef const unsigned char* mask
    for band in range(bands):
        mask = valid + (band if masks > 1 else 0) * pixels
        for pixel in range(pixels):
            if not mask[pixel]:
                i = (band * pixels + pixel) * depth
                for i in range(i, i + depth):
                    if data_type == DT_FLOAT:
                        (<float*>data)[i] = NAN
                    else:
                        (<double*>data)[i] = NAN


def blob_info(src):
    """(data type, nDepth, nCols, nRows, nBands, nMasks, nValidPixels of band 1, uses noData).

    Raw and lightly compressed blobs decode to a few times their size, which
    the input itself justifies; a header declaring more must first prove
    itself by its checksum (cheap then, next to decoding that much).
    """
    cdef Py_buffer s
    cdef unsigned int info[INFO_SIZE]
    cdef lerc_status status
    get_input(src, &s)
    try:
        _check_lerc2(<const uint8_t*>s.buf, s.len)
        if s.len > 0xFFFFFFFF:
            raise DecodeError(f"lerc: {s.len} bytes is over LERC's 4 GiB limit")
        with nogil:
            status = lerc_getBlobInfo(<const unsigned char*>s.buf, <unsigned int>s.len, info, NULL,
                                      INFO_SIZE, 0)
        if status != LERC_OK:
            raise DecodeError(f"lerc: {_status(status)}")
        if info[INFO_DATA_TYPE] < 8:
            declared = ITEMSIZE[info[INFO_DATA_TYPE]]
            for i in (INFO_DEPTH, INFO_COLS, INFO_ROWS, INFO_BANDS):
                declared *= info[i]
            if declared > TRUSTED_EXPANSION * s.len + (1 << 20):
                _check_checksum(<const uint8_t*>s.buf, s.len)
        return (info[INFO_DATA_TYPE], info[INFO_DEPTH], info[INFO_COLS], info[INFO_ROWS],
                info[INFO_BANDS], info[INFO_MASKS], info[INFO_VALID_PIXELS], info[INFO_USES_NODATA])
    finally:
        PyBuffer_Release(&s)


def encode(src, unsigned int data_type, int depth, int cols, int rows, int bands,
           double max_z_error, int version, out=None):
    """Encode `src` (bands x rows x cols x depth values of `data_type`) into a Lerc2 blob
    of codec `version` (2 to 6 for Lerc2 v2.2 to v2.6)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef unsigned int written = 0, capacity
    cdef lerc_status status
    cdef unsigned char* dst
    get_input(src, &s)
    b.obj = NULL
    cdef bint has_out = False
    try:
        if out is None:
            # Usually enough (LERC falls back to storing values raw); if not,
            # ask LERC for the exact size, which costs a second encoding.
            capacity = <unsigned int>min(s.len + s.len // 4 + 4096 * bands, 0xFFFFFFFF)
            bytes_new(&b, capacity)
            dst = <unsigned char*>b.data
        else:
            get_output(out, &o)
            has_out = True
            capacity = <unsigned int>min(o.len, 0xFFFFFFFF)
            dst = <unsigned char*>o.buf
        with nogil:
            status = lerc_encodeForVersion(s.buf, version, data_type, depth, cols, rows, bands, 0,
                                           NULL, max_z_error, dst, capacity, &written)
        if status == LERC_BUFFER_TOO_SMALL and out is None:
            with nogil:
                status = lerc_computeCompressedSizeForVersion(
                    s.buf, version, data_type, depth, cols, rows, bands, 0, NULL, max_z_error,
                    &capacity)
            if status == LERC_OK:
                bytes_resize(&b, capacity)
                with nogil:
                    status = lerc_encodeForVersion(
                        s.buf, version, data_type, depth, cols, rows, bands, 0, NULL, max_z_error,
                        <unsigned char*>b.data, capacity, &written)
        if status == LERC_BUFFER_TOO_SMALL:
            raise EncodeError(f"lerc: the blob does not fit in out's {capacity} bytes")
        if status != LERC_OK:
            raise EncodeError(f"lerc: {_status(status)}")
        if out is None:
            return bytes_finish(&b, written)
        return memoryview(out).cast("B")[:written]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)


def decode(src, out, unsigned int data_type, int depth, int cols, int rows, int bands,
           int masks, bint uses_nodata):
    """Decode a blob checked by blob_info into `out`, sized by the caller.

    Pixels the blob's masks mark invalid, which LERC zeroes, decode as NaN in
    floating-point data (LERC moves NaN to the masks) and as 0 in integer
    data. The masks themselves, and noData values per band, are read
    and dropped; values equal to a band's noData value decode as stored.
    """
    cdef Py_buffer s, o
    cdef unsigned char* valid = NULL
    cdef unsigned char* uses_nodata_per_band = NULL
    cdef double* nodata_values = NULL
    cdef lerc_status status
    get_input(src, &s)
    cdef bint has_out = False
    try:
        get_output(out, &o)
        has_out = True
        if masks:
            valid = <unsigned char*>malloc(<size_t>masks * rows * cols)
            if valid == NULL:
                raise MemoryError("lerc: cannot allocate the masks")
        if uses_nodata:
            uses_nodata_per_band = <unsigned char*>malloc(bands)
            nodata_values = <double*>malloc(bands * sizeof(double))
            if uses_nodata_per_band == NULL or nodata_values == NULL:
                raise MemoryError("lerc: cannot allocate the noData values")
        with nogil:
            status = lerc_decode_4D(<const unsigned char*>s.buf, <unsigned int>s.len, masks, valid,
                                    depth, cols, rows, bands, data_type, o.buf,
                                    uses_nodata_per_band, nodata_values)
            if status == LERC_OK and masks and data_type in (DT_FLOAT, DT_DOUBLE):
                _nan_invalid(o.buf, data_type, valid, masks, depth, <Py_ssize_t>rows * cols, bands)
        if status != LERC_OK:
            raise DecodeError(f"lerc: {_status(status)}")
        return out
    finally:
        free(valid)
        free(uses_nodata_per_band)
        free(nodata_values)
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
