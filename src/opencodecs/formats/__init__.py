"""Containers: one package per file format; importing a package registers its codec."""

from . import czi, ndtiff, tiff  # noqa: F401
