"""Single-image codecs, one module each; importing a module registers its codec."""

from . import webp  # noqa: F401
from . import avif  # noqa: F401
from . import heif  # noqa: F401
from . import jxl  # noqa: F401
