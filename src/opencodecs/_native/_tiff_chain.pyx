# cython: language_level=3, boundscheck=False, wraparound=False
"""Walking a TIFF file's chain of IFDs: hop from IFD to IFD through a window of
the file, reading only each IFD's entry count and next-IFD pointer, so page
5000 of a file is found without parsing pages 1-4999 (and without a Python
call per hop). Loops are caught on the way with Brent's algorithm, which needs
three numbers of state instead of a set of every offset seen.
"""

from libc.stdint cimport uint8_t, uint64_t

# walk() stops with one of these.
cdef enum:
    _END         # the last IFD of the chain was reached (next pointer 0)
    _MORE        # `found` is full; call again to go on
    _NEED_WINDOW # the IFD at `offset` is not wholly inside the window
    _LOOP        # a next pointer leads back into the chain
    _BAD_OFFSET  # a next pointer points into the header or past the end of the file

END, MORE, NEED_WINDOW, LOOP, BAD_OFFSET = _END, _MORE, _NEED_WINDOW, _LOOP, _BAD_OFFSET


cdef inline uint64_t _load(const uint8_t* p, int n, bint big_endian) noexcept nogil:
    cdef uint64_t v = 0
    cdef int i
    if big_endian:
        for i in range(n):
            v = (v << 8) | p[i]
    else:
        for i in range(n - 1, -1, -1):
            v = (v << 8) | p[i]
    return v


def walk(const uint8_t[::1] window, uint64_t base, uint64_t offset, uint64_t[::1] found,
         uint64_t file_size, bint bigtiff, bint big_endian, uint64_t[::1] brent):
    """Follow next-IFD pointers from the IFD at file offset `offset`.

    `window` holds the file's bytes from offset `base`. The offsets of the IFDs
    after `offset` are written to `found`, in chain order. `brent` is the loop
    detector's state (saved offset, power, steps), kept by the caller across
    calls and windows. Returns (count written, offset of the last IFD reached,
    whose next pointer is still unread, stop reason).
    """
    cdef Py_ssize_t n = 0, capacity = found.shape[0]
    cdef uint64_t wlen = <uint64_t>window.shape[0]
    cdef uint64_t count_size = 8 if bigtiff else 2
    cdef uint64_t entry_size = 20 if bigtiff else 12
    cdef int pointer_size = 8 if bigtiff else 4
    cdef uint64_t header_size = 16 if bigtiff else 8
    cdef uint64_t p, count, nxt
    cdef int status = _MORE
    cdef const uint8_t* w = &window[0] if wlen else NULL
    with nogil:
        while n < capacity:
            if offset < base or offset - base > wlen or wlen - (offset - base) < count_size:
                status = _NEED_WINDOW
                break
            p = offset - base
            count = _load(w + p, <int>count_size, big_endian)
            if count > (wlen - p - count_size) // entry_size:
                status = _NEED_WINDOW
                break
            p += count_size + count * entry_size
            if wlen - p < <uint64_t>pointer_size:
                status = _NEED_WINDOW
                break
            nxt = _load(w + p, pointer_size, big_endian)
            if nxt == 0:
                status = _END
                break
            if nxt < header_size or nxt >= file_size:
                status = _BAD_OFFSET
                offset = nxt
                break
            if nxt == brent[0]:
                status = _LOOP
                offset = nxt
                break
            brent[2] += 1
            if brent[2] == brent[1]:
                brent[0] = nxt
                brent[1] *= 2
                brent[2] = 0
            found[n] = nxt
            n += 1
            offset = nxt
    return n, offset, status
