"""Thin Cython wrappers over C libraries: buffer in, buffer out, GIL released."""
