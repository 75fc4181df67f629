# Buffer plumbing shared by the native modules (inline, so no module of its own).
#
# Input: any C-contiguous buffer (bytes, bytearray, memoryview, mmap, ndarray)
# is read in place through the buffer protocol; nothing is copied.
# Output: either a new bytes object written in place and shrunk at the end
# (no copy of the result), or the caller's writable buffer (`out=`).

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_XDECREF

cdef extern from "Python.h":
    PyObject* _bytes_new "PyBytes_FromStringAndSize"(const char*, Py_ssize_t) except NULL
    char* _bytes_data "PyBytes_AS_STRING"(PyObject*) nogil
    int _bytes_resize "_PyBytes_Resize"(PyObject**, Py_ssize_t) except -1


cdef inline int get_input(object src, Py_buffer* view) except -1:
    """Read-only view of `src`; the caller releases it."""
    PyObject_GetBuffer(src, view, PyBUF_SIMPLE)
    return 0


cdef inline int get_output(object out, Py_buffer* view) except -1:
    """Writable view of the caller's `out`; the caller releases it."""
    PyObject_GetBuffer(out, view, PyBUF_SIMPLE | PyBUF_WRITABLE)
    return 0


cdef struct BytesOut:
    # A bytes object under construction: fill `data` up to `size`, grow, finish.
    PyObject* obj
    char* data
    Py_ssize_t size


cdef inline int bytes_new(BytesOut* b, Py_ssize_t size) except -1:
    b.obj = _bytes_new(NULL, size)
    b.data = _bytes_data(b.obj)
    b.size = size
    return 0


cdef inline int bytes_resize(BytesOut* b, Py_ssize_t size) except -1:
    b.data = NULL
    _bytes_resize(&b.obj, size)  # on failure frees and NULLs b.obj
    b.data = _bytes_data(b.obj)
    b.size = size
    return 0


cdef inline object bytes_finish(BytesOut* b, Py_ssize_t used):
    """Shrink to `used` bytes and hand the bytes object over."""
    if used != b.size:
        bytes_resize(b, used)
    cdef object result = <object>b.obj
    Py_DECREF(result)
    b.obj = NULL
    return result


cdef inline void bytes_free(BytesOut* b) noexcept:
    """Release an unfinished bytes object (safe after finish)."""
    Py_XDECREF(b.obj)
    b.obj = NULL


ctypedef ptrdiff_t (*bounded_encoder)(const unsigned char*, size_t, unsigned char*, size_t) noexcept nogil
ctypedef size_t (*encode_bound)(size_t) noexcept nogil


cdef inline object encode_bounded(bounded_encoder encode, encode_bound bound, object src,
                                  object out, str name):
    """Run one of our own C encoders (bytes written, or < 0 when the output is too
    small) into new bytes of the worst-case size, or into the caller's `out`
    (the written part, as a memoryview)."""
    cdef Py_buffer s, o
    cdef BytesOut b
    cdef ptrdiff_t r
    cdef unsigned char* dst
    cdef size_t cap
    cdef bint has_out = False
    get_input(src, &s)
    b.obj = NULL
    try:
        if out is None:
            cap = bound(<size_t>s.len)
            bytes_new(&b, <Py_ssize_t>cap)
            dst = <unsigned char*>b.data
        else:
            get_output(out, &o)
            has_out = True
            dst = <unsigned char*>o.buf
            cap = <size_t>o.len
        with nogil:
            r = encode(<const unsigned char*>s.buf, <size_t>s.len, dst, cap)
        if r < 0:
            from opencodecs.core.errors import EncodeError
            raise EncodeError(f"{name}: output does not fit in {cap} bytes")
        if out is None:
            return bytes_finish(&b, <Py_ssize_t>r)
        return memoryview(out).cast("B")[:r]
    finally:
        PyBuffer_Release(&s)
        if has_out:
            PyBuffer_Release(&o)
        bytes_free(&b)
