"""Codec classes by family; importing a module registers its codecs."""

from . import arrays, compression  # noqa: F401
