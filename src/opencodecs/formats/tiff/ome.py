# --- OME-TIFF writing ---

import uuid as _uuid
import xml.etree.ElementTree as _ET
from dataclasses import dataclass as _dataclass

import numpy as _np

from ...core.errors import EncodeError as _EncodeError
from .writer import TiffWriter as _TiffWriter

_OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_OME_PIXEL_TYPES = {"u1": "uint8", "u2": "uint16", "u4": "uint32", "i1": "int8", "i2": "int16",
                    "i4": "int32", "f4": "float", "f8": "double"}


@_dataclass
class Channel:
    """One OME channel: what the C axis holds at one index."""

    name: str | None = None
    emission_wavelength_nm: float | None = None
    excitation_wavelength_nm: float | None = None


def _canonical(arr, axes):
    """`arr` as (T, C, Z, Y, X[, S]) and whether it has samples (RGB) on S."""
    axes = axes.upper()
    if len(axes) != arr.ndim or len(set(axes)) != len(axes) or set(axes) - set("TCZYXS"):
        raise _EncodeError(f"ome: axes {axes!r} must name each of the {arr.ndim} dimensions once, "
                           "from T, C, Z, Y, X, S")
    if "Y" not in axes or "X" not in axes:
        raise _EncodeError(f"ome: axes {axes!r} need Y and X")
    order = [a for a in "TCZYXS" if a in axes]
    arr = arr.transpose([axes.index(a) for a in order])
    for i, a in enumerate("TCZ"):
        if a not in axes:
            arr = _np.expand_dims(arr, i)
    return arr, "S" in axes


def _ome_xml(shape, dtype, samples, physical_size_um, channels, byteorder):
    """The OME-XML for planes written in T, C, Z order (DimensionOrder XYZCT)."""
    size_t, size_c, size_z, size_y, size_x = shape[:5]
    ome = _ET.Element("OME", {
        "xmlns": _OME_NS, "xmlns:xsi": _XSI_NS,
        "xsi:schemaLocation": f"{_OME_NS} {_OME_NS}/ome.xsd",
        "UUID": f"urn:uuid:{_uuid.uuid4()}", "Creator": "opencodecs"})
    image = _ET.SubElement(ome, "Image", {"ID": "Image:0", "Name": "Image0"})
    pixels = {"ID": "Pixels:0", "DimensionOrder": "XYZCT", "Type": _OME_PIXEL_TYPES[dtype.str[1:]],
              "SizeX": str(size_x), "SizeY": str(size_y), "SizeZ": str(size_z),
              "SizeC": str(size_c * samples), "SizeT": str(size_t),
              "BigEndian": "true" if byteorder == ">" else "false"}
    if samples > 1:
        pixels["Interleaved"] = "true"
    if physical_size_um is not None:
        if len(physical_size_um) not in (2, 3) or not all(v > 0 for v in physical_size_um):
            raise _EncodeError(f"ome: physical_size_um must be positive (x, y) or (x, y, z), "
                               f"got {physical_size_um!r}")
        for axis, value in zip("XYZ", physical_size_um):
            pixels[f"PhysicalSize{axis}"] = repr(float(value))  # the schema's default unit: µm
    pixels = _ET.SubElement(image, "Pixels", pixels)
    channels = [Channel() for _ in range(size_c)] if channels is None else list(channels)
    if len(channels) != size_c:
        raise _EncodeError(f"ome: {len(channels)} channels given for an image with {size_c}")
    for c, channel in enumerate(channels):
        attrs = {"ID": f"Channel:0:{c}", "SamplesPerPixel": str(samples)}
        if channel.name is not None:
            attrs["Name"] = str(channel.name)
        if channel.excitation_wavelength_nm is not None:
            attrs["ExcitationWavelength"] = repr(float(channel.excitation_wavelength_nm))  # nm: the default
        if channel.emission_wavelength_nm is not None:
            attrs["EmissionWavelength"] = repr(float(channel.emission_wavelength_nm))
        _ET.SubElement(pixels, "Channel", attrs)
    planes = [(t, c, z) for t in range(size_t) for c in range(size_c) for z in range(size_z)]
    for ifd, (t, c, z) in enumerate(planes):
        _ET.SubElement(pixels, "TiffData", {"IFD": str(ifd), "FirstT": str(t), "FirstC": str(c),
                                            "FirstZ": str(z), "PlaneCount": "1"})
    for t, c, z in planes:
        _ET.SubElement(pixels, "Plane", {"TheT": str(t), "TheC": str(c), "TheZ": str(z)})
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _ET.tostring(ome, encoding="unicode")


def _halvings(arr, n):
    """n pyramid levels below `arr` (T, C, Z, Y, X[, S]), each the 2x2 mean of the one above."""
    reduced, level = [], arr
    for _ in range(n):
        h, w = level.shape[3] // 2, level.shape[4] // 2
        if h == 0 or w == 0:
            raise _EncodeError(f"ome: {n} pyramid levels halve a {arr.shape[3]}x{arr.shape[4]} "
                               "image to nothing")
        blocks = level[:, :, :, :2 * h, :2 * w].reshape(level.shape[:3] + (h, 2, w, 2) + level.shape[5:])
        mean = blocks.mean(axis=(4, 6), dtype=_np.float64)
        level = (_np.rint(mean) if arr.dtype.kind in "iu" else mean).astype(arr.dtype)
        reduced.append(level)
    return reduced


def write_ome_tiff(path, arr, axes="TCZYX", *, physical_size_um=None, channels=None, levels=None,
                   bigtiff=False, byteorder="<", numthreads=None, **page_options):
    """Write `arr` as an OME-TIFF: one page per (T, C, Z) plane, OME-XML in the first.

    axes: the order of `arr`'s dimensions, from T, C, Z, Y, X and S (RGB
    samples, last); missing T, C, Z have size 1. physical_size_um: (x, y) or
    (x, y, z) in micrometres. channels: one `Channel` per index of C. levels:
    a pyramid stored as each plane's SubIFDs, either the reduced arrays (same
    axes as `arr`, smaller Y and X) or a number of 2x2 halvings. The other
    options (tile, compression, predictor, level, ...) are
    TiffWriter.write_page's.
    """
    arr = _np.asarray(arr)
    dtype = arr.dtype.newbyteorder("=")
    if dtype.str[1:] not in _OME_PIXEL_TYPES:
        raise _EncodeError(f"ome: cannot write {arr.dtype} pixels; OME types are "
                           f"{', '.join(_OME_PIXEL_TYPES.values())}")
    canonical, has_samples = _canonical(arr, axes)
    samples = canonical.shape[5] if has_samples else 1
    if levels is None:
        reduced = []
    elif isinstance(levels, int) and not isinstance(levels, bool):
        reduced = _halvings(canonical, levels)
    else:
        reduced = [_canonical(_np.asarray(level), axes)[0] for level in levels]
    for level in reduced:
        if level.shape[:3] != canonical.shape[:3] or level.shape[5:] != canonical.shape[5:]:
            raise _EncodeError(f"ome: pyramid level of shape {level.shape} does not match the image "
                               f"{canonical.shape} outside Y and X")
    if byteorder == "=":
        byteorder = "<" if _np.little_endian else ">"
    xml = _ome_xml(canonical.shape, dtype, samples, physical_size_um, channels, byteorder)
    photometric = "rgb" if samples in (3, 4) else "minisblack"
    if "photometric" in page_options:
        raise TypeError("ome: the photometric interpretation follows from axes (S for RGB)")
    with _TiffWriter(path, bigtiff=bigtiff, byteorder=byteorder, numthreads=numthreads) as writer:
        first = True
        for t in range(canonical.shape[0]):
            for c in range(canonical.shape[1]):
                for z in range(canonical.shape[2]):
                    writer.write_page(canonical[t, c, z], photometric=photometric,
                                      metadata=xml if first else None,
                                      subifds=[level[t, c, z] for level in reduced], **page_options)
                    first = False
