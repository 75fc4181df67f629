# cython: language_level=3, boundscheck=False, wraparound=False
"""JPEG through libjpeg-turbo's TurboJPEG v2 API: encode, header, decode, GIL released."""

CODEC = "jpeg"

include "_turbojpeg.pxi"
