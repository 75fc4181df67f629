"""The import path the spec shows; the public module is opencodecs.formats.tiff.ome."""

from .formats.tiff.ome import Channel, write_ome_tiff  # noqa: F401
