"""Single-image codecs, one module each; importing a module registers its codec."""

from . import png  # noqa: F401
from . import qoi  # noqa: F401
from . import bmp  # noqa: F401
from . import rgbe  # noqa: F401
from . import jpeg  # noqa: F401
from . import jpegls  # noqa: F401
from . import ultrahdr  # noqa: F401
from . import jpegxr
