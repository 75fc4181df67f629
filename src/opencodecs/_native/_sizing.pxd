# Output sizing for streams that do not declare their decoded size: start from
# a guess and grow geometrically, never past `limit` (max_decoded_bytes or
# what the input can expand to). Inline, so no module of its own.

# A deflate stream spends at least 2 bits on a 258-byte match (1-bit length
# and distance codes), so n input bytes decode to at most 1032 * n bytes.
cdef enum:
    DEFLATE_MAX_RATIO = 1032


cdef inline size_t expansion_limit(size_t n_in, size_t ratio, size_t max_size) noexcept nogil:
    """min(max_size, n_in * ratio) without overflow."""
    if n_in > max_size // ratio:
        return max_size
    return n_in * ratio


cdef inline size_t first_guess(size_t n_in, size_t limit) noexcept nogil:
    """Initial capacity: 4x the input, at least 64 KiB, at most `limit`."""
    cdef size_t guess = n_in * 4 if n_in < (<size_t>1 << 60) else n_in
    return min(limit, max(guess, <size_t>1 << 16))


cdef inline size_t grown(size_t size, size_t limit) noexcept nogil:
    """Next capacity: double, at least 64 KiB, at most `limit`."""
    return min(limit, max(size * 2, <size_t>1 << 16))


cdef inline size_t gzip_isize_hint(const unsigned char* src, size_t n) noexcept nogil:
    """The decoded size a gzip member's trailer records (mod 2**32), read from
    the end of the input: exact for the last (or only) member."""
    if n < 18:  # smaller than any gzip member
        return 0
    src += n - 4
    return src[0] | (<size_t>src[1] << 8) | (<size_t>src[2] << 16) | (<size_t>src[3] << 24)
