"""Single-image codecs, one module each; importing a module registers its codec."""

from . import jpeg2k  # noqa: F401
from . import htj2k  # noqa: F401
from . import bcdec  # noqa: F401
