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
