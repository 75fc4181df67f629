"""The exceptions opencodecs raises. A leaf module: the native layer imports it too."""


class OpencodecsError(Exception):
    """Base of every error opencodecs raises on purpose."""


class DecodeError(OpencodecsError, ValueError):
    """The input is not valid data for the codec (corrupt, truncated, hostile)."""


class EncodeError(OpencodecsError, ValueError):
    """The data cannot be encoded with the codec and options given."""


class UnknownFormatError(OpencodecsError, ValueError):
    """No codec matches the name, file extension or magic bytes."""


class CodecUnavailableError(OpencodecsError, RuntimeError):
    """The codec is known but its native library was not built in."""
