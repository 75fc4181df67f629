"""OME-TIFF metadata: OME-XML (schema 2016-06 and earlier) in the first page's
ImageDescription.

Reading: `parse_ome_xml(text) -> OmeMetadata`, the images with their axes,
sizes, physical pixel sizes, channels, and which IFD holds each plane.
Writing: `write_ome_tiff(path, arr, axes=..., physical_size_um=..., channels=[Channel(...)])`.
"""

import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

import numpy as np

from ...core.errors import DecodeError, EncodeError
from .writer import TiffWriter

# Length units of OME-XML (UnitsLength) in micrometres.
_MICROMETRES = {
    "pm": 1e-6, "Å": 1e-4, "nm": 1e-3, "µm": 1.0, "um": 1.0, "mm": 1e3, "cm": 1e4,
    "dm": 1e5, "m": 1e6,
}
# Wavelength units in nanometres.
_NANOMETRES = {"pm": 1e-3, "Å": 0.1, "nm": 1.0, "µm": 1e3, "um": 1e3, "mm": 1e6, "m": 1e9}
_PIXEL_TYPES = {
    "int8": "i1", "int16": "i2", "int32": "i4", "uint8": "u1", "uint16": "u2", "uint32": "u4",
    "float": "f4", "double": "f8", "complex": "c8", "double-complex": "c16", "bit": "bool",
}


@dataclass(frozen=True)
class OmeChannel:
    name: str | None
    samples_per_pixel: int = 1
    emission_wavelength_nm: float | None = None
    excitation_wavelength_nm: float | None = None


@dataclass(frozen=True)
class TiffData:
    """Planes stored in IFDs: `plane_count` IFDs from `ifd` on hold the planes
    from plane number `first_plane` on (in the image's plane order)."""
    ifd: int
    first_plane: int
    plane_count: int  # 0: every IFD of the file from `ifd` on
    uuid: str | None = None  # the file holding the IFDs; None for this one


@dataclass(frozen=True)
class OmeImage:
    """One OME Image: its Pixels element.

    `axes` is the DimensionOrder reversed, slowest axis first ("TCZYX" for
    XYZCT), as tifffile gives it; `plane_shape` the sizes of its leading
    (non-YX) axes, with C counting planes (SizeC / SamplesPerPixel).
    """
    name: str | None
    dimension_order: str
    sizes: dict  # "X", "Y", "Z", "C", "T" -> size
    dtype: np.dtype
    physical_size_um: dict  # "X", "Y", "Z" -> micrometres, where the XML gives them
    channels: tuple
    tiff_data: tuple
    interleaved: bool = False

    @property
    def axes(self) -> str:
        return self.dimension_order[::-1]

    @property
    def samples_per_pixel(self) -> int:
        return self.channels[0].samples_per_pixel if self.channels else 1

    @property
    def plane_shape(self) -> tuple:
        spp = self.samples_per_pixel
        return tuple(self.sizes[a] // spp if a == "C" else self.sizes[a] for a in self.axes[:-2])

    def plane_ifds(self, n_ifds: int, root_uuid: str | None = None) -> np.ndarray:
        """The IFD number of every plane, shaped `plane_shape`; -1 where none is given.

        `n_ifds` is the number of IFDs in the file. DecodeError for planes
        stored in another file (multi-file OME-TIFF).
        """
        n_planes = int(np.prod(self.plane_shape))
        ifds = np.full(n_planes, -1, np.int64)
        for data in self.tiff_data:
            if data.uuid is not None and data.uuid != root_uuid:
                raise DecodeError(f"tiff: OME image {self.name!r} has planes in another file "
                                  f"(UUID {data.uuid}); multi-file OME-TIFF is not supported")
            count = data.plane_count or n_ifds - data.ifd
            count = max(0, min(count, n_planes - data.first_plane, n_ifds - data.ifd))
            ifds[data.first_plane:data.first_plane + count] = np.arange(data.ifd, data.ifd + count)
        return ifds.reshape(self.plane_shape)


@dataclass(frozen=True)
class OmeMetadata:
    """Parsed OME-XML. `axes`, `sizes`, `physical_size_um` and `channels` are
    those of the first image; `xml` is the text it was parsed from."""
    images: tuple
    uuid: str | None
    creator: str | None
    xml: str

    @property
    def axes(self) -> str:
        return self.images[0].axes

    @property
    def sizes(self) -> dict:
        return self.images[0].sizes

    @property
    def physical_size_um(self) -> dict:
        return self.images[0].physical_size_um

    @property
    def channels(self) -> tuple:
        return self.images[0].channels


def is_ome_xml(text) -> bool:
    """True if an ImageDescription looks like OME-XML."""
    return isinstance(text, str) and text.lstrip()[:1] == "<" and "<OME" in text[:1000] \
        and text.rstrip().endswith(">")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _number(attrib, key, kind=float):
    value = attrib.get(key)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise DecodeError(f"tiff: OME-XML attribute {key}={value!r} is not a number") from None


def _scaled(attrib, key, unit_key, units, default_unit):
    value = _number(attrib, key)
    unit = attrib.get(unit_key, default_unit)
    if value is None or unit not in units:
        return None
    return value * units[unit]


def parse_ome_xml(text: str) -> OmeMetadata:
    """Parse OME-XML; DecodeError if it is not well-formed or lacks what an
    image needs (DimensionOrder, sizes)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as e:
        raise DecodeError(f"tiff: OME-XML is not well-formed: {e}") from None
    if _local(root.tag) != "OME":
        raise DecodeError(f"tiff: OME-XML root element is {_local(root.tag)!r}, not 'OME'")
    images = tuple(_parse_image(image, pixels)
                   for image in _children(root, "Image") for pixels in _children(image, "Pixels"))
    return OmeMetadata(images, root.attrib.get("UUID"), root.attrib.get("Creator"), text)


def _parse_image(image, pixels) -> OmeImage:
    attrib = pixels.attrib
    order = attrib.get("DimensionOrder", "")
    if sorted(order) != sorted("XYZCT") or order[:2] != "XY":
        raise DecodeError(f"tiff: OME-XML DimensionOrder {order!r} is not valid")
    sizes = {axis: _number(attrib, "Size" + axis, int) for axis in "XYZCT"}
    if any(size is None or size < 1 for size in sizes.values()):
        raise DecodeError(f"tiff: OME-XML image sizes {sizes} are missing or invalid")
    physical = {axis: _scaled(attrib, f"PhysicalSize{axis}", f"PhysicalSize{axis}Unit",
                              _MICROMETRES, "µm") for axis in "XYZ"}
    channels = tuple(
        OmeChannel(name=c.attrib.get("Name"),
                   samples_per_pixel=_number(c.attrib, "SamplesPerPixel", int) or 1,
                   emission_wavelength_nm=_scaled(c.attrib, "EmissionWavelength",
                                                  "EmissionWavelengthUnit", _NANOMETRES, "nm"),
                   excitation_wavelength_nm=_scaled(c.attrib, "ExcitationWavelength",
                                                    "ExcitationWavelengthUnit", _NANOMETRES, "nm"))
        for c in _children(pixels, "Channel"))
    if any(c.samples_per_pixel != (channels[0].samples_per_pixel) for c in channels):
        raise DecodeError("tiff: OME-XML channels differ in SamplesPerPixel")
    if channels and sizes["C"] % channels[0].samples_per_pixel:
        raise DecodeError(f"tiff: OME-XML SizeC={sizes['C']} is not a multiple of "
                          f"SamplesPerPixel={channels[0].samples_per_pixel}")
    spp = channels[0].samples_per_pixel if channels else 1
    plane_axes = order[:1:-1]
    plane_shape = tuple(sizes[a] // spp if a == "C" else sizes[a] for a in plane_axes)
    tiff_data = tuple(_parse_tiff_data(data, plane_axes, plane_shape)
                      for data in _children(pixels, "TiffData"))
    dtype = attrib.get("Type") or attrib.get("PixelType")
    return OmeImage(name=image.attrib.get("Name"), dimension_order=order, sizes=sizes,
                    dtype=np.dtype(_PIXEL_TYPES[dtype]) if dtype in _PIXEL_TYPES else None,
                    physical_size_um={k: v for k, v in physical.items() if v is not None},
                    channels=channels, tiff_data=tiff_data,
                    interleaved=attrib.get("Interleaved", "false").lower() == "true")


def _parse_tiff_data(data, plane_axes: str, plane_shape: tuple) -> TiffData:
    attrib = data.attrib
    ifd = _number(attrib, "IFD", int) or 0
    count = _number(attrib, "PlaneCount", int)
    if count is None:
        count = _number(attrib, "NumPlanes", int)
    if count is None:
        count = 1 if "IFD" in attrib else 0
    first = [_number(attrib, "First" + axis, int) or 0 for axis in plane_axes]
    if ifd < 0 or count < 0 or not all(0 <= f < n for f, n in zip(first, plane_shape)):
        raise DecodeError(f"tiff: OME-XML TiffData {dict(attrib)} is outside the image "
                          f"of plane shape {plane_shape}")
    uuid = next((u.text for u in _children(data, "UUID")), None)
    return TiffData(ifd, int(np.ravel_multi_index(first, plane_shape)), count, uuid)


# --- OME-TIFF writing ---

_OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_OME_PIXEL_TYPES = {"u1": "uint8", "u2": "uint16", "u4": "uint32", "i1": "int8", "i2": "int16",
                    "i4": "int32", "f4": "float", "f8": "double"}


@dataclass
class Channel:
    """One OME channel: what the C axis holds at one index."""

    name: str | None = None
    emission_wavelength_nm: float | None = None
    excitation_wavelength_nm: float | None = None


def _canonical(arr, axes):
    """`arr` as (T, C, Z, Y, X[, S]) and whether it has samples (RGB) on S."""
    axes = axes.upper()
    if len(axes) != arr.ndim or len(set(axes)) != len(axes) or set(axes) - set("TCZYXS"):
        raise EncodeError(f"ome: axes {axes!r} must name each of the {arr.ndim} dimensions once, "
                           "from T, C, Z, Y, X, S")
    if "Y" not in axes or "X" not in axes:
        raise EncodeError(f"ome: axes {axes!r} need Y and X")
    order = [a for a in "TCZYXS" if a in axes]
    arr = arr.transpose([axes.index(a) for a in order])
    for i, a in enumerate("TCZ"):
        if a not in axes:
            arr = np.expand_dims(arr, i)
    return arr, "S" in axes


def _ome_xml(shape, dtype, samples, physical_size_um, channels, byteorder):
    """The OME-XML for planes written in T, C, Z order (DimensionOrder XYZCT)."""
    size_t, size_c, size_z, size_y, size_x = shape[:5]
    ome = ElementTree.Element("OME", {
        "xmlns": _OME_NS, "xmlns:xsi": _XSI_NS,
        "xsi:schemaLocation": f"{_OME_NS} {_OME_NS}/ome.xsd",
        "UUID": f"urn:uuid:{uuid.uuid4()}", "Creator": "opencodecs"})
    image = ElementTree.SubElement(ome, "Image", {"ID": "Image:0", "Name": "Image0"})
    pixels = {"ID": "Pixels:0", "DimensionOrder": "XYZCT", "Type": _OME_PIXEL_TYPES[dtype.str[1:]],
              "SizeX": str(size_x), "SizeY": str(size_y), "SizeZ": str(size_z),
              "SizeC": str(size_c * samples), "SizeT": str(size_t),
              "BigEndian": "true" if byteorder == ">" else "false"}
    if samples > 1:
        pixels["Interleaved"] = "true"
    if physical_size_um is not None:
        if len(physical_size_um) not in (2, 3) or not all(v > 0 for v in physical_size_um):
            raise EncodeError(f"ome: physical_size_um must be positive (x, y) or (x, y, z), "
                               f"got {physical_size_um!r}")
        for axis, value in zip("XYZ", physical_size_um):
            pixels[f"PhysicalSize{axis}"] = repr(float(value))  # the schema's default unit: µm
    pixels = ElementTree.SubElement(image, "Pixels", pixels)
    channels = [Channel() for _ in range(size_c)] if channels is None else list(channels)
    if len(channels) != size_c:
        raise EncodeError(f"ome: {len(channels)} channels given for an image with {size_c}")
    for c, channel in enumerate(channels):
        attrs = {"ID": f"Channel:0:{c}", "SamplesPerPixel": str(samples)}
        if channel.name is not None:
            attrs["Name"] = str(channel.name)
        if channel.excitation_wavelength_nm is not None:
            attrs["ExcitationWavelength"] = repr(float(channel.excitation_wavelength_nm))  # nm: the default
        if channel.emission_wavelength_nm is not None:
            attrs["EmissionWavelength"] = repr(float(channel.emission_wavelength_nm))
        ElementTree.SubElement(pixels, "Channel", attrs)
    planes = [(t, c, z) for t in range(size_t) for c in range(size_c) for z in range(size_z)]
    for ifd, (t, c, z) in enumerate(planes):
        ElementTree.SubElement(pixels, "TiffData", {"IFD": str(ifd), "FirstT": str(t), "FirstC": str(c),
                                            "FirstZ": str(z), "PlaneCount": "1"})
    for t, c, z in planes:
        ElementTree.SubElement(pixels, "Plane", {"TheT": str(t), "TheC": str(c), "TheZ": str(z)})
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(ome, encoding="unicode")


def _halvings(arr, n):
    """n pyramid levels below `arr` (T, C, Z, Y, X[, S]), each the 2x2 mean of the one above."""
    reduced, level = [], arr
    for _ in range(n):
        h, w = level.shape[3] // 2, level.shape[4] // 2
        if h == 0 or w == 0:
            raise EncodeError(f"ome: {n} pyramid levels halve a {arr.shape[3]}x{arr.shape[4]} "
                               "image to nothing")
        blocks = level[:, :, :, :2 * h, :2 * w].reshape(level.shape[:3] + (h, 2, w, 2) + level.shape[5:])
        mean = blocks.mean(axis=(4, 6), dtype=np.float64)
        level = (np.rint(mean) if arr.dtype.kind in "iu" else mean).astype(arr.dtype)
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
    arr = np.asarray(arr)
    dtype = arr.dtype.newbyteorder("=")
    if dtype.str[1:] not in _OME_PIXEL_TYPES:
        raise EncodeError(f"ome: cannot write {arr.dtype} pixels; OME types are "
                           f"{', '.join(_OME_PIXEL_TYPES.values())}")
    canonical, has_samples = _canonical(arr, axes)
    samples = canonical.shape[5] if has_samples else 1
    if levels is None:
        reduced = []
    elif isinstance(levels, int) and not isinstance(levels, bool):
        reduced = _halvings(canonical, levels)
    else:
        reduced = [_canonical(np.asarray(level), axes)[0] for level in levels]
    for level in reduced:
        if level.shape[:3] != canonical.shape[:3] or level.shape[5:] != canonical.shape[5:]:
            raise EncodeError(f"ome: pyramid level of shape {level.shape} does not match the image "
                               f"{canonical.shape} outside Y and X")
    if byteorder == "=":
        byteorder = "<" if np.little_endian else ">"
    xml = _ome_xml(canonical.shape, dtype, samples, physical_size_um, channels, byteorder)
    photometric = "rgb" if samples in (3, 4) else "minisblack"
    if "photometric" in page_options:
        raise TypeError("ome: the photometric interpretation follows from axes (S for RGB)")
    with TiffWriter(path, bigtiff=bigtiff, byteorder=byteorder, numthreads=numthreads) as writer:
        first = True
        for t in range(canonical.shape[0]):
            for c in range(canonical.shape[1]):
                for z in range(canonical.shape[2]):
                    writer.write_page(canonical[t, c, z], photometric=photometric,
                                      metadata=xml if first else None,
                                      subifds=[level[t, c, z] for level in reduced], **page_options)
                    first = False
