"""Single-image codecs, one module each; importing a module registers its codec."""

from . import png  # noqa: F401
from . import qoi  # noqa: F401
from . import bmp  # noqa: F401
from . import rgbe  # noqa: F401
