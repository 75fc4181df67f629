"""Codec classes by family; importing a module registers its codecs."""

from . import compression  # noqa: F401
