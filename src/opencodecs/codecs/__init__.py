"""Codec classes by family; importing a module registers its codecs."""

from . import arrays, compression, images  # noqa: F401
