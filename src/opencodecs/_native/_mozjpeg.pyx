# cython: language_level=3, boundscheck=False, wraparound=False
"""JPEG through MozJPEG's TurboJPEG v2 API (the same API as libjpeg-turbo's)."""

CODEC = "mozjpeg"

include "_turbojpeg.pxi"
