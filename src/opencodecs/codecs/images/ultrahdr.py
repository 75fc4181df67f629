"""Ultra HDR: gain-map JPEGs (Android Ultra HDR 1.0, Adobe gain maps, ISO 21496-1).

A file is an 8-bit SDR JPEG (the base) followed by a second JPEG, the gain
map, that the base's MPF (multi-picture) index points to. The map's
metadata sits in the gain map's XMP (hdrgm namespace) and/or its ISO 21496-1
APP2 box (preferred when both are there). Written here on top of the jpeg
codec (libjpeg-turbo) and our own C for applying the map; libultrahdr
itself is not used.

Decode: `dtype="float16"` (default, as imagecodecs) gives the HDR rendition
as linear-light RGBA float16, 1.0 = SDR white (203 nits), clamped to
[0, 10000/203]; `dtype="uint16"` the same as BT.2100 HLG 10-bit code values
(RGBA, alpha 3, as libultrahdr's unpacked RGBA1010102); `dtype="uint8"` the
SDR base as RGBA uint8.

HDR output is in the alternate image's primaries, which the gain map's ICC
profile names (its colorant tags), else in the base's (its ICC profile, else
sRGB/BT.709); the map applies in the base's primaries or the alternate's, as
ISO 21496-1's use_base_colour_space flag says (XMP: the base's). That is
libultrahdr's behaviour. The profiles' transfer curves are not read: the
base is taken to be sRGB-encoded. `boost=` the display's headroom (HDR peak
over SDR white, linear) scales the map down between the metadata's
HDRCapacityMin and HDRCapacityMax, as ISO 21496-1 describes; default: the
full HDR rendition. `numthreads` threads apply the map. The map is sampled
bilinearly, map pixel (i, j) on image pixel (i * H / h, j * W / w) as
libultrahdr places it (libultrahdr interpolates with inverse distance
weights).

Encode: `data` is the HDR image, linear float16 or float32 (H, W, 3) or
(H, W, 4) (alpha ignored) with 1.0 = SDR white, clipped to [0, 10000/203];
`sdr=` the SDR rendition (uint8 RGB or RGBA, same size). Without `sdr`, the
HDR image is tone-mapped here: every pixel scaled by R(m) / m, m its
largest channel, R the extended Reinhard curve R(m) = m (1 + m / peak**2) /
(1 + m) with peak the image's maximum (at least 1), then sRGB-encoded; hues
are kept, highlights roll off.
The gain map is log2((HDR + k) / (SDR + k)) per RGB channel
(`gainmap_channels=3`, the default, k = 1/64) or on BT.709 luminance
(`gainmap_channels=1`, k = 1/1024: one boost for all three channels tints
colours unless k is small), measured against the base as it decodes (so the
map also corrects the base's JPEG error), averaged over `gainmap_scale` x
`gainmap_scale` blocks (default 1, full resolution; Android cameras use 4),
normalised to [GainMapMin, GainMapMax] with gamma 1, and stored as a JPEG at
`gainmap_quality` (default 95); the base is stored 4:4:4 at `quality`
(default 95). Those defaults are libultrahdr 1.4's. Both XMP and ISO 21496-1
metadata are written, with HDRCapacityMin 0 and HDRCapacityMax GainMapMax;
per-channel XMP values are rdf:Seq lists (the Adobe spec's form), which
libultrahdr 1.4 cannot read: it reads the ISO box.

Magic-byte dispatch picks ultrahdr over jpeg only for JPEGs whose first
64 KiB hold an MPF index and gain-map metadata; the .jpg extension always
goes to jpeg (which decodes the SDR base).
"""

import math
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...core.codec import import_native
from ...core.errors import DecodeError, EncodeError
from ...core.io import copy_into
from ...core.parallel import parallel_for
from ...core.registry import get_codec, register
from ..compression import check_int
from .base import ImageCodec, check_quality, image_array, image_target
from .jpeg import app_segment, icc_profile, insert_segments, insertion_point, jpeg_segments

_XMP_TAG = b"http://ns.adobe.com/xap/1.0/\0"
_ISO_TAG = b"urn:iso:std:iso:ts:21496:-1\0"
_MPF_TAG = b"MPF\0"
_HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_OFFSET = 1 / 64  # OffsetSDR and OffsetHDR when metadata omits them (Adobe's suggestion)
# Offsets written: 1/64 for RGB maps; a grey map applies one boost to all of
# (R + offset, G + offset, B + offset), which tints colours unless it is small.
_OFFSETS = {1: 1 / 1024, 3: 1 / 64}
_DENOMINATOR = 1 << 20  # ISO 21496-1 rationals written with this common denominator
_BAND_ROWS = 64  # rows per parallel task when applying the map
_MAX_LINEAR = 10000 / 203  # PQ's peak over SDR white: HDR input is clipped to [0, this]


@dataclass
class GainMapMetadata:
    """Gain map parameters, per RGB channel (log2 for gains and capacities)."""

    gain_min: tuple = (0.0, 0.0, 0.0)
    gain_max: tuple = (1.0, 1.0, 1.0)
    gamma: tuple = (1.0, 1.0, 1.0)
    offset_sdr: tuple = (_OFFSET,) * 3
    offset_hdr: tuple = (_OFFSET,) * 3
    hdr_capacity_min: float = 0.0
    hdr_capacity_max: float = 1.0
    use_base_colour_space: bool = True  # the map applies in the base's primaries

    def check(self):
        values = (*self.gain_min, *self.gain_max, *self.gamma, *self.offset_sdr,
                  *self.offset_hdr, self.hdr_capacity_min, self.hdr_capacity_max)
        if not all(math.isfinite(v) and abs(v) < 1e6 for v in values):
            raise DecodeError("ultrahdr: gain map metadata holds non-finite or absurd values")
        if any(g <= 0 for g in self.gamma):
            raise DecodeError("ultrahdr: gain map gamma must be positive")
        if any(hi < lo for lo, hi in zip(self.gain_min, self.gain_max)):
            raise DecodeError("ultrahdr: GainMapMax is below GainMapMin")
        return self

    def weight(self, boost) -> float:
        """Share of the map to apply on a display of headroom `boost` (linear)."""
        if boost is None:
            return 1.0
        if not boost > 0:
            raise DecodeError(f"ultrahdr: boost must be positive, got {boost!r}")
        headroom = math.log2(boost)
        lo, hi = self.hdr_capacity_min, self.hdr_capacity_max
        if hi <= lo:
            return 1.0 if headroom >= hi else 0.0
        return min(1.0, max(0.0, (headroom - lo) / (hi - lo)))


@register
class UltraHdr(ImageCodec):
    name = "ultrahdr"
    aliases = ("uhdr", "jpegr")
    file_extensions = (".jpg",)  # a refinement: the extension stays with jpeg
    refines = "jpeg"
    description = "Ultra HDR / ISO 21496-1 gain-map JPEG (HDR float16 + SDR base)"
    library = "libjpeg-turbo"
    _native = "_gainmap"
    supported_dtypes = (np.dtype(np.float16), np.dtype(np.float32))
    channels = (3, 4)

    @cached_property
    def native(self):
        self.jpeg.native  # the base and the map are JPEGs: libjpeg-turbo is needed too
        return import_native(self.name, self._native, "(built in) gain-map code")

    @cached_property
    def jpeg(self):
        return get_codec("jpeg")

    def signature(self, head):
        if head[:3] != b"\xff\xd8\xff":
            return False
        mpf = hdr = False
        for marker, _, payload in jpeg_segments(head):
            if marker == 0xE2:
                mpf = mpf or payload[:4] == _MPF_TAG
                hdr = hdr or payload[:len(_ISO_TAG)] == _ISO_TAG
            elif marker == 0xE1 and payload[:len(_XMP_TAG)] == _XMP_TAG:
                hdr = hdr or _HDRGM.encode() in bytes(payload)
        return mpf and hdr

    def _decode(self, buf, out, *, dtype="float16", boost=None, numthreads=None):
        native = self.native
        dtype = np.dtype(dtype)
        if dtype not in (np.uint8, np.uint16, np.float16):
            raise DecodeError(f"ultrahdr: dtype must be float16, uint16 or uint8, got {dtype}")
        base, gain_map = _images(buf)
        if dtype == np.uint8:
            sdr = self.jpeg.decode_pixels(base, out, rgba=True)
            if sdr.ndim != 3:
                raise DecodeError("ultrahdr: the base image is not colour")
            return sdr
        metadata = _metadata(gain_map)
        weight = metadata.weight(boost)
        sdr = self.jpeg.decode_pixels(base)
        gmap = self.jpeg.decode_pixels(gain_map)
        if sdr.ndim != 3 or sdr.shape[2] != 3 or (gmap.ndim == 3 and gmap.shape[2] != 3):
            raise DecodeError("ultrahdr: the base must be RGB, the gain map grey or RGB")
        h, w = sdr.shape[:2]
        mh, mw = gmap.shape[:2]
        if mh > h or mw > w:
            raise DecodeError(f"ultrahdr: {mh}x{mw} gain map is larger than its {h}x{w} image")
        target = image_target(self.name, out, h, w, 4, dtype)
        mode = native.LINEAR_HALF if dtype == np.float16 else native.HLG_U16
        channels = 1 if gmap.ndim == 2 else 3
        convert = _conversion(icc_profile(self.name, base), icc_profile(self.name, gain_map))
        before, after = (None, convert) if metadata.use_base_colour_space else (convert, None)

        def band(i):
            rows = i * _BAND_ROWS, min(h, (i + 1) * _BAND_ROWS)
            native.apply(sdr, w, h, gmap, mw, mh, channels, metadata.gain_min,
                         metadata.gain_max, metadata.gamma, metadata.offset_sdr,
                         metadata.offset_hdr, weight, before, after, mode, target, *rows)

        parallel_for(band, -(-h // _BAND_ROWS), numthreads)
        return target if out is None else out

    def _encode(self, data, out, *, sdr=None, quality=95, gainmap_quality=95, gainmap_scale=1,
                gainmap_channels=3):
        hdr, h, w, _ = image_array(self, data)
        hdr = np.nan_to_num(hdr[..., :3].astype(np.float32), nan=0, posinf=_MAX_LINEAR, neginf=0)
        hdr = np.clip(hdr, 0, _MAX_LINEAR)
        quality = check_quality(self.name, quality)
        gainmap_quality = check_quality(self.name, gainmap_quality)
        scale = check_int(self.name, "gainmap_scale", gainmap_scale, 1, 128)
        if gainmap_channels not in (1, 3):
            raise EncodeError(f"ultrahdr: gainmap_channels must be 1 or 3, got {gainmap_channels!r}")
        if sdr is None:
            sdr = _tone_map(hdr)
        else:
            sdr, sh, sw, _ = image_array(self, sdr, dtypes=(np.dtype(np.uint8),))
            if (sh, sw) != (h, w):
                raise EncodeError(f"ultrahdr: sdr is {sh}x{sw}, the HDR image {h}x{w}")
            sdr = np.ascontiguousarray(sdr[..., :3])
        base = self.jpeg.encode(sdr, quality=quality, subsampling="444")
        sdr_linear = _SRGB_LINEAR[self.jpeg.decode(base)]
        offset = _OFFSETS[gainmap_channels]
        log_gain = _log_gain(hdr, sdr_linear, gainmap_channels, offset)
        gain_map, metadata = _quantize(_downscale(log_gain, scale), offset)
        gm = self.jpeg.encode(gain_map, quality=gainmap_quality,
                              subsampling="gray" if gain_map.ndim == 2 else "444")
        gm = insert_segments(gm, app_segment(0xE1, _XMP_TAG + _gain_map_xmp(metadata))
                             + app_segment(0xE2, _ISO_TAG + _iso_metadata(metadata)))
        blob = _with_gain_map(base, gm)
        return blob if out is None else copy_into(out, blob)


# ---- container: MPF index and metadata ------------------------------------

def _images(buf):
    """(base, gain map) views of an Ultra HDR file, found through its MPF index."""
    view = memoryview(buf).cast("B")
    for marker, offset, payload in jpeg_segments(view):
        if marker == 0xE2 and payload[:4] == _MPF_TAG:
            entries = _mp_entries(payload[4:])
            if len(entries) < 2:
                raise DecodeError("ultrahdr: MPF index lists no gain map image")
            (_, base_size, _), (_, size, rel) = entries[:2]
            start = offset + 8 + rel  # offsets count from the MPF TIFF header
            if not (0 < base_size <= len(view) and rel > 0 and size > 0
                    and start + size <= len(view)):
                raise DecodeError("ultrahdr: MPF index points outside the file")
            return view[:base_size], view[start:start + size]
    raise DecodeError("ultrahdr: no MPF index (not a gain-map JPEG)")


def _mp_entries(tiff) -> list:
    """(attribute, size, offset) of each MP Entry in an MPF TIFF structure."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None or len(tiff) < 8:
        raise DecodeError("ultrahdr: bad MPF header")
    ifd = struct.unpack_from(order + "I", tiff, 4)[0]
    if ifd + 2 > len(tiff):
        raise DecodeError("ultrahdr: MPF index out of bounds")
    count = struct.unpack_from(order + "H", tiff, ifd)[0]
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(tiff):
            raise DecodeError("ultrahdr: MPF index out of bounds")
        tag, _, n, value = struct.unpack_from(order + "HHII", tiff, at)
        if tag == 0xB002:  # MP Entry: 16 bytes per image
            if value + n > len(tiff) or n % 16:
                raise DecodeError("ultrahdr: MPF entries out of bounds")
            return [struct.unpack_from(order + "III", tiff, value + k) for k in range(0, n, 16)]
    raise DecodeError("ultrahdr: MPF index has no MP Entry tag")


# RGB -> XYZ (D50) of sRGB / BT.709, what a base without an ICC profile is taken to be.
_SRGB_TO_XYZ = np.array([[0.4360747, 0.3850649, 0.1430804],
                         [0.2225045, 0.7168786, 0.0606169],
                         [0.0139322, 0.0971045, 0.7141733]])


def _conversion(base_icc, gain_map_icc):
    """Row-major 3x3 matrix from the base's primaries to the alternate (HDR)
    image's, which the gain map's ICC profile names; None if they are the same."""
    base = _rgb_to_xyz(base_icc)
    base = _SRGB_TO_XYZ if base is None else base
    alternate = _rgb_to_xyz(gain_map_icc)
    if alternate is None:
        return None
    convert = np.linalg.solve(alternate, base)
    return None if np.allclose(convert, np.eye(3), atol=1e-4) else convert.ravel().tolist()


def _rgb_to_xyz(icc):
    """RGB -> XYZ matrix of a matrix/TRC ICC profile (its rXYZ, gXYZ and bXYZ
    colorant tags), or None if it has none."""
    if icc is None or len(icc) < 132:
        return None
    count = min(int.from_bytes(icc[128:132], "big"), (len(icc) - 132) // 12)
    columns = {}
    for i in range(count):
        tag, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if (tag in (b"rXYZ", b"gXYZ", b"bXYZ") and size >= 20 and offset + 20 <= len(icc)
                and icc[offset:offset + 4] == b"XYZ "):
            columns[tag] = [v / 65536 for v in struct.unpack_from(">3i", icc, offset + 8)]
    if len(columns) != 3:
        return None
    matrix = np.array([columns[b"rXYZ"], columns[b"gXYZ"], columns[b"bXYZ"]]).T
    return matrix if abs(np.linalg.det(matrix)) > 1e-6 else None


def _metadata(gain_map) -> GainMapMetadata:
    """The gain map's metadata: its ISO 21496-1 box if present, else its XMP."""
    xmp = None
    for marker, _, payload in jpeg_segments(gain_map):
        if marker == 0xE2 and payload[:len(_ISO_TAG)] == _ISO_TAG:
            return _parse_iso(bytes(payload[len(_ISO_TAG):])).check()
        if marker == 0xE1 and payload[:len(_XMP_TAG)] == _XMP_TAG:
            xmp = bytes(payload[len(_XMP_TAG):])
    if xmp is None:
        raise DecodeError("ultrahdr: the gain map carries no metadata (ISO 21496-1 or XMP)")
    return _parse_xmp(xmp).check()


def _parse_iso(box: bytes) -> GainMapMetadata:
    """ISO 21496-1 gain map metadata: versions, flags, then rationals (big-endian)."""
    try:
        min_version, _, flags = struct.unpack_from(">HHB", box)
        if min_version != 0:
            raise DecodeError(f"ultrahdr: ISO 21496-1 metadata version {min_version} is not supported")
        if flags & 4:
            raise DecodeError("ultrahdr: gain maps applied to an HDR base are not supported")
        channels = 3 if flags & 0x80 else 1
        pos = 5
        if flags & 8:  # one common denominator
            d, base_n, alt_n = struct.unpack_from(">III", box, pos)
            pos += 12
            headroom = (base_n, d, alt_n, d)
            per_channel = []
            for _ in range(channels):
                gmin, gmax, gamma, osdr, ohdr = struct.unpack_from(">iiIii", box, pos)
                pos += 20
                per_channel.append((gmin, d, gmax, d, gamma, d, osdr, d, ohdr, d))
        else:
            headroom = struct.unpack_from(">IIII", box, pos)
            pos += 16
            per_channel = []
            for _ in range(channels):
                per_channel.append(struct.unpack_from(">iIiIIIiIiI", box, pos))
                pos += 40
    except struct.error:
        raise DecodeError("ultrahdr: truncated ISO 21496-1 metadata") from None
    if 0 in headroom[1::2] or any(0 in c[1::2] for c in per_channel):
        raise DecodeError("ultrahdr: zero denominator in ISO 21496-1 metadata")
    values = [[c[i] / c[i + 1] for c in per_channel] for i in range(0, 10, 2)]
    values = [tuple(v * (3 // channels)) for v in values]
    return GainMapMetadata(*values, headroom[0] / headroom[1], headroom[2] / headroom[3],
                           bool(flags & 0x40))


def _parse_xmp(xmp: bytes) -> GainMapMetadata:
    """hdrgm values from XMP: attributes, elements, or rdf:Seq lists per channel."""
    try:
        root = ET.fromstring(xmp.rstrip(b"\0 \n\r\t"))
    except ET.ParseError as e:
        raise DecodeError(f"ultrahdr: gain map XMP does not parse: {e}") from None
    found = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith("{" + _HDRGM + "}"):
                found[key[len(_HDRGM) + 2:]] = [value]
        if element.tag.startswith("{" + _HDRGM + "}"):
            items = [li.text for li in element.iter("{" + _RDF + "}li")]
            found[element.tag[len(_HDRGM) + 2:]] = items or [element.text]
    if found.get("BaseRenditionIsHDR", ["False"])[0].strip().lower() == "true":
        raise DecodeError("ultrahdr: gain maps applied to an HDR base are not supported")
    if "GainMapMax" not in found or "HDRCapacityMax" not in found:
        raise DecodeError("ultrahdr: gain map XMP lacks hdrgm:GainMapMax or HDRCapacityMax")

    def channels(key, default):
        values = found.get(key, [default])
        try:
            values = [float(v) for v in values]
        except (TypeError, ValueError):
            raise DecodeError(f"ultrahdr: hdrgm:{key} is not a number: {values!r}") from None
        if len(values) not in (1, 3):
            raise DecodeError(f"ultrahdr: hdrgm:{key} has {len(values)} values")
        return tuple(values * (3 // len(values)))

    return GainMapMetadata(channels("GainMapMin", 0.0), channels("GainMapMax", None),
                           channels("Gamma", 1.0), channels("OffsetSDR", _OFFSET),
                           channels("OffsetHDR", _OFFSET), channels("HDRCapacityMin", 0.0)[0],
                           channels("HDRCapacityMax", None)[0])


# ---- encoding ---------------------------------------------------------------

_SRGB_LINEAR = np.array([v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
                         for v in np.arange(256) / 255], np.float32)
_BT709 = np.array([0.2126, 0.7152, 0.0722], np.float32)


def _tone_map(hdr):
    """uint8 sRGB SDR rendition: extended Reinhard on each pixel's largest channel."""
    peak = max(float(hdr.max()), 1.0)
    m = hdr.max(axis=-1, keepdims=True)
    scale = np.where(m > 0, (1 + m / peak ** 2) / (1 + m), 0)
    linear = np.clip(hdr * scale, 0, 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255).astype(np.uint8)


def _log_gain(hdr, sdr, channels, offset):
    """log2 HDR/SDR ratio with the offsets: (H, W) on luminance, or (H, W, 3)."""
    if channels == 1:
        hdr, sdr = hdr @ _BT709, sdr @ _BT709
    return np.log2((hdr + offset) / (sdr + offset))


def _downscale(log_gain, scale):
    """Box means over scale x scale blocks centred on every scale-th pixel."""
    if scale == 1:
        return log_gain
    h, w = log_gain.shape[:2]
    mh, mw = -(-h // scale), -(-w // scale)
    lead = scale // 2
    pad = [(lead, mh * scale - h - lead + scale), (lead, mw * scale - w - lead + scale)]
    padded = np.pad(log_gain, pad + [(0, 0)] * (log_gain.ndim - 2), mode="edge")
    padded = padded[:mh * scale, :mw * scale]
    return padded.reshape(mh, scale, mw, scale, *log_gain.shape[2:]).mean(axis=(1, 3))


def _quantize(log_gain, offset):
    """(uint8 map, metadata): gains normalised to [GainMapMin, GainMapMax], gamma 1."""
    axes = (0, 1)
    lo = np.floor(log_gain.min(axis=axes) * _DENOMINATOR) / _DENOMINATOR
    hi = np.ceil(log_gain.max(axis=axes) * _DENOMINATOR) / _DENOMINATOR
    span = np.where(hi > lo, hi - lo, 1)
    gain_map = np.round((log_gain - lo) / span * 255).astype(np.uint8)
    lo, hi = np.broadcast_to(lo, 3), np.broadcast_to(hi, 3)
    capacity = max(float(hi.max()), 1 / _DENOMINATOR)  # above HDRCapacityMin = 0
    metadata = GainMapMetadata(tuple(map(float, lo)), tuple(map(float, hi)),
                               offset_sdr=(offset,) * 3, offset_hdr=(offset,) * 3,
                               hdr_capacity_max=capacity)
    return np.ascontiguousarray(gain_map), metadata


def _gain_map_xmp(m: GainMapMetadata) -> bytes:
    def value(name, values):
        if len(set(values)) == 1:
            return f' hdrgm:{name}="{values[0]!r}"', ""
        items = "".join(f"<rdf:li>{v!r}</rdf:li>" for v in values)
        return "", f"<hdrgm:{name}><rdf:Seq>{items}</rdf:Seq></hdrgm:{name}>"

    fields = [value(name, values) for name, values in (
        ("GainMapMin", m.gain_min), ("GainMapMax", m.gain_max), ("Gamma", m.gamma),
        ("OffsetSDR", m.offset_sdr), ("OffsetHDR", m.offset_hdr),
        ("HDRCapacityMin", (m.hdr_capacity_min,)), ("HDRCapacityMax", (m.hdr_capacity_max,)))]
    return _xmp(f'hdrgm:Version="1.0"{"".join(a for a, _ in fields)} '
                f'hdrgm:BaseRenditionIsHDR="False"', "".join(e for _, e in fields))


def _primary_xmp(gain_map_length: int) -> bytes:
    items = ('<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" '
             'Item:Mime="image/jpeg"/></rdf:li>'
             '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" '
             f'Item:Mime="image/jpeg" Item:Length="{gain_map_length}"/></rdf:li>')
    return _xmp('hdrgm:Version="1.0"',
                f"<Container:Directory><rdf:Seq>{items}</rdf:Seq></Container:Directory>")


def _xmp(attributes: str, elements: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="' + _RDF + '">'
            '<rdf:Description rdf:about="" xmlns:hdrgm="' + _HDRGM + '" '
            'xmlns:Container="http://ns.google.com/photos/1.0/container/" '
            'xmlns:Item="http://ns.google.com/photos/1.0/container/item/" '
            f'{attributes}>{elements}</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def _iso_metadata(m: GainMapMetadata) -> bytes:
    """ISO 21496-1 metadata: version 0, base colour space, one common denominator."""
    d = _DENOMINATOR
    channels = 1 if len({(*c,) for c in zip(m.gain_min, m.gain_max)}) == 1 else 3
    flags = 0x40 | 0x08 | (0x80 if channels == 3 else 0)
    out = struct.pack(">HHBIII", 0, 0, flags, d, round(m.hdr_capacity_min * d),
                      round(m.hdr_capacity_max * d))
    for c in range(channels):
        out += struct.pack(">iiIii", round(m.gain_min[c] * d), round(m.gain_max[c] * d),
                           round(m.gamma[c] * d), round(m.offset_sdr[c] * d),
                           round(m.offset_hdr[c] * d))
    return out


def _mpf(base_size: int, gain_map_size: int, gain_map_offset: int) -> bytes:
    """An MPF APP2 payload (big-endian) listing the base and the gain map."""
    entries_at = 8 + 2 + 3 * 12 + 4
    ifd = struct.pack(">2sHIH", b"MM", 42, 8, 3)
    ifd += struct.pack(">HHI4s", 0xB000, 7, 4, b"0100")  # MPF version
    ifd += struct.pack(">HHII", 0xB001, 4, 1, 2)  # number of images
    ifd += struct.pack(">HHII", 0xB002, 7, 32, entries_at)  # MP Entries
    ifd += struct.pack(">I", 0)  # no next IFD
    ifd += struct.pack(">IIIHH", 0x030000, base_size, 0, 0, 0)  # baseline primary image
    ifd += struct.pack(">IIIHH", 0, gain_map_size, gain_map_offset, 0, 0)
    return _MPF_TAG + ifd


def _with_gain_map(base: bytes, gain_map: bytes) -> bytes:
    """The base with XMP, ISO version and MPF segments, followed by the gain map."""
    head = (app_segment(0xE1, _XMP_TAG + _primary_xmp(len(gain_map)))
            + app_segment(0xE2, _ISO_TAG + bytes(4)))
    mpf_length = len(app_segment(0xE2, _mpf(0, 0, 0)))
    base_size = len(base) + len(head) + mpf_length
    mpf_at = insertion_point(base) + len(head)
    mpf = app_segment(0xE2, _mpf(base_size, len(gain_map), base_size - (mpf_at + 8)))
    return insert_segments(base, head + mpf) + gain_map
