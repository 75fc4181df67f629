"""Single-image codecs, one module each; importing a module registers its codec."""

from . import jpeg  # noqa: F401
from . import jpegls  # noqa: F401
from . import ultrahdr  # noqa: F401
