"""The import path the spec shows; the public module is opencodecs.formats.tiff.writer."""

from .formats.tiff.writer import TiffWriter  # noqa: F401
