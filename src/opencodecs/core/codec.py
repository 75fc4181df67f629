"""The Codec, Reader and Writer base classes every format builds on."""

import importlib
import importlib.metadata
from functools import cached_property

import numpy as np

from .config import config
from .errors import CodecUnavailableError, DecodeError, EncodeError
from .io import as_buffer, is_path, is_writable_buffer, write_file


class Codec:
    """One format: its names, capabilities and encode/decode entry points.

    Subclasses set the class attributes and implement `_encode(data, out, **opts)`
    and `_decode(buf, out, **opts)`; their keyword arguments are the options, so an
    unknown option raises TypeError. `_native` names the module under
    `opencodecs._native` that wraps `library`; a codec served by a third-party
    Python binding names that module (and PyPI package) in `_binding` instead.
    """

    name: str = ""
    aliases: tuple = ()
    file_extensions: tuple = ()
    description: str = ""
    library: str = ""
    _native: str | None = None
    _binding: str | None = None
    # A more specific variant of another format (its name): wins magic-byte
    # matches over that format, never its file extensions.
    refines: str | None = None

    can_encode = True
    can_decode = True
    multi_frame = False
    chunked = False
    streaming_decode = False
    parallel_decode = False
    supported_dtypes: tuple = ()
    supports_color = False

    @cached_property
    def native(self):
        """The native module (or binding); CodecUnavailableError if it is missing."""
        if self._binding is not None:
            return import_binding(self.name, self._binding)
        if self._native is None:
            return None
        return import_native(self.name, self._native, self.library)

    @property
    def library_build(self) -> str:
        """The library this build links, its version and whose build it is.

        e.g. "libzstd 1.5.7 (upstream)": a pinned release built by
        `make install` where the system's copy is older or slower; "(system)"
        for the distro's, "(PyPI wheel)" or "(PyPI binding)" for what a PyPI
        package provides; "built in" for our own C; "" for pure-Python codecs
        and modules that were not built.
        """
        if self._binding is not None:
            if not self.has_native:
                return ""
            try:
                version = importlib.metadata.version(self._binding)
            except importlib.metadata.PackageNotFoundError:
                version = ""
            library, origin = self._binding, "PyPI binding"
        elif self._native is None:
            return ""
        else:
            from opencodecs._native._build_info import LIBRARIES
            library, version, origin = LIBRARIES.get(self._native, ("", "", ""))
            if origin in ("", "built in"):
                return origin
        return " ".join(part for part in (library, version, f"({origin})") if part)

    @property
    def has_native(self) -> bool:
        try:
            self.native
        except CodecUnavailableError:
            return False
        return True

    def signature(self, head) -> bool:
        """True if `head` (the first bytes of a blob or file) looks like this format."""
        return False

    def encode(self, data, *, dest=None, **opts):
        """Encode `data`; bytes, or None when written to `dest` (path, file, buffer)."""
        if isinstance(data, np.ndarray) and not data.flags.c_contiguous:
            data = np.ascontiguousarray(data)
        if dest is None:
            return self._encode(data, None, **opts)
        if is_writable_buffer(dest):
            return self._encode(data, dest, **opts)
        blob = self._encode(data, None, **opts)
        if is_path(dest):
            write_file(dest, blob)
        elif hasattr(dest, "write"):
            dest.write(blob)
        else:
            raise TypeError(f"cannot write to {type(dest).__name__}")
        return None

    def decode(self, src, *, out=None, **opts):
        """Decode `src` (path, buffer or file-like), into `out` if given."""
        return self._decode(as_buffer(src), out, **opts)

    def open(self, src, **opts) -> "Reader":
        """A Reader over `src`; single-image formats give a one-frame reader."""
        return BlobReader(self, src, opts)

    def _encode(self, data, out, **opts):
        raise EncodeError(f"{self.name}: this format is decode-only")

    def _decode(self, buf, out, **opts):
        raise DecodeError(f"{self.name}: this format is encode-only")

    def __repr__(self):
        return f"<opencodecs codec {self.name!r}>"


def import_native(codec: str, module: str, library: str):
    """opencodecs._native.<module>; CodecUnavailableError naming `library` if not built."""
    try:
        return importlib.import_module(f"opencodecs._native.{module}")
    except ImportError as e:
        raise CodecUnavailableError(
            f"{codec}: opencodecs was built without {library} "
            f"(native module {module} missing: {e})") from None


def check_decoded_size(codec: str, dtype, shape) -> int:
    """Bytes an array of `shape` and `dtype` takes; DecodeError past max_decoded_bytes.

    Decoders call this with the sizes a header declares, before allocating.
    """
    nbytes = np.dtype(dtype).itemsize
    for n in shape:
        nbytes *= int(n)  # Python ints: no overflow on lying shapes
    if nbytes > config.max_decoded_bytes:
        raise DecodeError(f"{codec}: array of shape {tuple(shape)} and dtype {dtype} needs "
                          f"{nbytes} bytes, over max_decoded_bytes={config.max_decoded_bytes}")
    return nbytes
def import_binding(codec: str, module: str):
    """The Python binding `module`; CodecUnavailableError naming its PyPI package if missing."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise CodecUnavailableError(
            f"{codec}: needs the Python package {module!r} (pip install {module}): {e}") from None


def decode_target(codec: str, out, dtype, shape) -> np.ndarray:
    """Where to decode: a new array, or the caller's `out` (of exactly that many bytes),
    itself if it is already such an array, else viewed as one. Sizes are checked
    against max_decoded_bytes first."""
    nbytes = check_decoded_size(codec, dtype, shape)
    if out is None:
        return np.empty(shape, dtype)
    if (isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == tuple(shape)
            and out.flags.c_contiguous and out.flags.writeable):
        return out
    try:
        view = memoryview(out).cast("B")
    except TypeError:
        raise DecodeError(f"{codec}: out must be a C-contiguous buffer") from None
    if view.readonly or view.nbytes != nbytes:
        raise DecodeError(f"{codec}: data decodes to {nbytes} bytes, out is "
                          f"{'read-only' if view.readonly else f'{view.nbytes} bytes'}")
    return np.frombuffer(view, dtype).reshape(shape)


def numthreads_or_default(numthreads) -> int:
    return config.numthreads if numthreads is None else max(1, int(numthreads))


class Reader:
    """A sequence of frames: `shape == (n_frames, *frame_shape)`."""

    shape: tuple = ()
    dtype = None
    n_frames: int = 0
    is_chunked: bool = False

    def _frame(self, index: int):
        raise NotImplementedError

    def __len__(self):
        return self.n_frames

    def __getitem__(self, index):
        if isinstance(index, slice):
            return np.stack([self._frame(i) for i in range(*index.indices(self.n_frames))])
        index = int(index)
        if index < 0:
            index += self.n_frames
        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} out of range for {self.n_frames} frames")
        return self._frame(index)

    def iter_frames(self):
        for i in range(self.n_frames):
            yield self._frame(i)

    def __iter__(self):
        return self.iter_frames()

    def read(self):
        """Every frame, decoded eagerly."""
        return self[:]

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BlobReader(Reader):
    """The one-frame Reader of a codec whose blobs hold a single image or byte string."""

    n_frames = 1
    is_chunked = False

    def __init__(self, codec, src, opts):
        self._codec = codec
        self._src = src
        self._opts = opts

    @cached_property
    def _value(self):
        return self._codec.decode(self._src, **self._opts)

    @property
    def shape(self):
        value = self._value
        return (1,) + (np.shape(value) if isinstance(value, np.ndarray) else (len(value),))

    @property
    def dtype(self):
        value = self._value
        return value.dtype if isinstance(value, np.ndarray) else np.dtype(np.uint8)

    def _frame(self, index):
        return self._value

    def read(self):
        return self._value

    def close(self):
        self.__dict__.pop("_value", None)
        self._src = None


class Writer:
    """Writes frames one by one; `close()` finalises, `__exit__` always releases.

    On an exception inside the `with` block `abort()` runs instead of `close()`,
    so no half-written file is left claiming to be valid.
    """

    def write_frame(self, data, **opts):
        raise NotImplementedError

    def close(self):
        pass

    def abort(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
