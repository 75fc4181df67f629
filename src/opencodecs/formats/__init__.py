"""Containers: one package per file format; importing a package registers its codec."""
from . import tiff  # noqa: F401
