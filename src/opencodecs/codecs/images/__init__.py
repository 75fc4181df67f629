"""Single-image codecs, one module each; importing a module registers its codec."""

from . import png  # noqa: F401
from . import qoi  # noqa: F401
from . import bmp  # noqa: F401
from . import rgbe  # noqa: F401
from . import jpeg  # noqa: F401
from . import jpegls  # noqa: F401
from . import ultrahdr  # noqa: F401
from . import jpegxr
from . import webp  # noqa: F401
from . import avif  # noqa: F401
from . import heif  # noqa: F401
from . import jxl  # noqa: F401
from . import jpeg2k  # noqa: F401
from . import htj2k  # noqa: F401
from . import bcdec  # noqa: F401
