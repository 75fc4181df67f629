# Per-thread storage for costly codec contexts (zstd, lz4, ...), freed when
# the thread exits. Inline, so no module of its own.

cdef extern from "<pthread.h>" nogil:
    ctypedef unsigned int pthread_key_t
    int pthread_key_create(pthread_key_t*, void (*)(void*) noexcept nogil)
    void* pthread_getspecific(pthread_key_t)
    int pthread_setspecific(pthread_key_t, const void*)

ctypedef pthread_key_t ThreadLocal


cdef inline int tls_init(ThreadLocal* key, void (*destructor)(void*) noexcept nogil) except -1:
    if pthread_key_create(key, destructor) != 0:
        raise MemoryError("cannot create a thread-local key")
    return 0


cdef inline void* tls_get(ThreadLocal* key) noexcept nogil:
    return pthread_getspecific(key[0])


cdef inline int tls_set(ThreadLocal* key, void* value) except -1:
    if pthread_setspecific(key[0], value) != 0:
        raise MemoryError("cannot set a thread-local value")
    return 0
