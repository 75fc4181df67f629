"""Single-image codecs, one module each; importing a module registers its codec."""
from . import jpegxr
