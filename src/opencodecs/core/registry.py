"""The one codec registry, and dispatch by name, file extension and magic bytes.

Dispatch never depends on import order: an extension claimed by several codecs
goes to the longest matching suffix, then to the base format over its
refinements; a magic-byte match goes to the most refined format whose
signature matches (NDTiff over TIFF, say), ties broken by name.
"""

import os

from .errors import UnknownFormatError
from .io import HEAD_BYTES

_by_name: dict = {}      # canonical name -> codec
_by_alias: dict = {}     # lower-case name or alias -> codec
_by_extension: dict = {}  # lower-case ".ext" -> [codecs]


def register(cls):
    """Class decorator: instantiate the codec and make it findable."""
    codec = cls()
    for key in (codec.name, *codec.aliases):
        key = key.lower()
        if key in _by_alias:
            raise RuntimeError(f"codec name {key!r} registered twice "
                               f"({_by_alias[key].name} and {codec.name})")
        _by_alias[key] = codec
    _by_name[codec.name] = codec
    for ext in codec.file_extensions:
        _by_extension.setdefault(ext.lower(), []).append(codec)
    return cls


def list_codecs() -> list:
    return sorted(_by_name.values(), key=lambda c: c.name)


def has_codec(name: str) -> bool:
    """True if the codec is known and its native library was built in."""
    codec = _by_alias.get(str(name).lower())
    return codec is not None and codec.has_native


def get_codec(name: str):
    try:
        return _by_alias[name.lower()]
    except (KeyError, AttributeError):
        raise UnknownFormatError(
            f"no codec named {name!r}; known: {', '.join(sorted(_by_name))}") from None


def _refinement_depth(codec) -> int:
    depth = 0
    while codec.refines is not None:
        codec = _by_alias[codec.refines]
        depth += 1
    return depth


def codec_for_path(path):
    """The codec for a file name by its extension, or None."""
    name = os.path.basename(os.fspath(path)).lower()
    candidates = [(-len(ext), _refinement_depth(c), c.name, c)
                  for ext, codecs in _by_extension.items()
                  if name.endswith(ext) and len(name) > len(ext)
                  for c in codecs]
    return min(candidates, key=lambda t: t[:3])[3] if candidates else None


def codec_for_bytes(head):
    """The codec whose magic bytes match `head`, or None."""
    if not isinstance(head, bytes):
        head = bytes(memoryview(head).cast("B")[:HEAD_BYTES])
    matches = [c for c in _by_name.values() if c.signature(head)]
    if not matches:
        return None
    return min(matches, key=lambda c: (-_refinement_depth(c), c.name))
