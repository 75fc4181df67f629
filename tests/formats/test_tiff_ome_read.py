"""Reading OME-TIFF: OME-XML parsed into axes, sizes, physical sizes and
channels; pages mapped to planes; series shaped as tifffile shapes them."""

import io

import numpy as np
import pytest
import tifffile
from tiff_helpers import image

import opencodecs as oc
from opencodecs.formats.tiff.ome import parse_ome_xml
from opencodecs.formats.tiff.reader import TiffReader

NS = 'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"'


def ome_bytes(data, axes, **options) -> bytes:
    buf = io.BytesIO()
    metadata = {"axes": axes, **options.pop("metadata", {})}
    tifffile.imwrite(buf, data, ome=True, metadata=metadata, **options)
    return buf.getvalue()


def assert_series_like_tifffile(blob):
    with TiffReader(blob) as reader, tifffile.TiffFile(io.BytesIO(blob)) as tif:
        assert reader.is_ome
        assert [(s.shape, s.axes) for s in reader.series] == [(s.shape, s.axes) for s in tif.series]
        for ours, theirs in zip(reader.series, tif.series):
            np.testing.assert_array_equal(ours.asarray(), theirs.asarray())
        return reader.ome_metadata


@pytest.mark.parametrize("shape,axes", [
    ((2, 3, 4, 32, 40), "TCZYX"),
    ((1, 1, 1, 32, 40), "TCZYX"),
    ((2, 1, 5, 16, 24), "TCZYX"),
    ((3, 2, 16, 24), "ZCYX"),
    ((4, 16, 24), "TYX"),
])
def test_axes_and_shapes_match_tifffile(shape, axes):
    data = image((int(np.prod(shape[:-1])), shape[-1]), "u2").reshape(shape)
    blob = ome_bytes(data, axes, compression="zstd", tile=(16, 16))
    assert_series_like_tifffile(blob)
    np.testing.assert_array_equal(oc.read(blob), data.squeeze() if data.ndim > 2 else data)


def test_rgb_planes():
    data = image((3 * 20, 30, 3), "u1").reshape(3, 20, 30, 3)
    meta = assert_series_like_tifffile(ome_bytes(data, "ZYXS", photometric="rgb"))
    assert meta.images[0].samples_per_pixel == 3 and meta.sizes["C"] == 3


def test_metadata_physical_sizes_and_channels():
    data = image((2 * 3 * 16, 20), "u2").reshape(2, 3, 16, 20)
    blob = ome_bytes(data, "CZYX", metadata={
        "PhysicalSizeX": 0.108, "PhysicalSizeY": 0.108, "PhysicalSizeZ": 0.5,
        "PhysicalSizeZUnit": "nm",
        "Channel": {"Name": ["DAPI", "GFP"], "EmissionWavelength": [460, 520]}})
    meta = assert_series_like_tifffile(blob)
    assert meta.axes == "TCZYX" and meta.images[0].dimension_order == "XYZCT"
    assert meta.sizes == {"X": 20, "Y": 16, "Z": 3, "C": 2, "T": 1}
    assert meta.physical_size_um == pytest.approx({"X": 0.108, "Y": 0.108, "Z": 0.5e-3})
    assert [c.name for c in meta.channels] == ["DAPI", "GFP"]
    assert [c.emission_wavelength_nm for c in meta.channels] == [460, 520]
    assert meta.images[0].dtype == np.uint16
    assert meta.creator.startswith("tifffile")


def test_several_images_in_one_file():
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf, ome=True) as tif:
        tif.write(image((3 * 32, 32), "u1").reshape(3, 32, 32), metadata={"axes": "ZYX"})
        tif.write(image((2 * 16, 16, 3), "u1").reshape(2, 16, 16, 3), photometric="rgb",
                  metadata={"axes": "TYXS"})
    meta = assert_series_like_tifffile(buf.getvalue())
    assert len(meta.images) == 2 and meta.images[1].axes == "TZCYX"


def test_pyramid_levels():
    data = image((2 * 128, 96), "u2").reshape(2, 128, 96)
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf, ome=True) as tif:
        tif.write(data, subifds=2, tile=(32, 32), metadata={"axes": "ZYX"})
        for k in (1, 2):
            tif.write(data[:, ::2 ** k, ::2 ** k], subfiletype=1, tile=(32, 32))
    with TiffReader(buf.getvalue()) as reader, tifffile.TiffFile(io.BytesIO(buf.getvalue())) as tif:
        assert [lv.shape for lv in reader.levels] == [lv.shape for lv in tif.series[0].levels]
        for ours, theirs in zip(reader.levels, tif.series[0].levels):
            np.testing.assert_array_equal(ours.asarray(), theirs.asarray())
        np.testing.assert_array_equal(reader.read_region(1, 3, 4, 20, 30), data[0, ::2, ::2][3:23, 4:34])


def test_not_ome():
    buf = io.BytesIO()
    tifffile.imwrite(buf, image((8, 8), "u1"))
    with TiffReader(buf.getvalue()) as reader:
        assert not reader.is_ome and reader.ome_metadata is None


# -- parse_ome_xml ------------------------------------------------------------------

def ome_xml(pixels_attrs, inner, root_attrs=""):
    return (f'<?xml version="1.0"?><OME {NS} {root_attrs}><Image ID="Image:0" Name="scan">'
            f'<Pixels ID="Pixels:0" {pixels_attrs}>{inner}</Pixels></Image></OME>')


def test_tiff_data_maps_planes_to_ifds():
    text = ome_xml('DimensionOrder="XYCZT" Type="uint8" SizeX="4" SizeY="4" SizeC="2" SizeZ="3" SizeT="1"',
                   '<Channel ID="Channel:0:0"/><Channel ID="Channel:0:1"/>'
                   '<TiffData IFD="0" FirstC="0" FirstZ="0" PlaneCount="2"/>'
                   '<TiffData IFD="5" FirstZ="2"/>')
    image0 = parse_ome_xml(text).images[0]
    assert image0.axes == "TZCYX" and image0.plane_shape == (1, 3, 2)
    ifds = image0.plane_ifds(n_ifds=6)
    np.testing.assert_array_equal(ifds, [[[0, 1], [-1, -1], [5, -1]]])


def test_tiff_data_without_attributes_covers_every_ifd():
    text = ome_xml('DimensionOrder="XYZCT" Type="float" SizeX="4" SizeY="4" SizeC="1" SizeZ="4" SizeT="2"',
                   '<TiffData/>')
    image0 = parse_ome_xml(text).images[0]
    assert image0.dtype == np.float32
    np.testing.assert_array_equal(image0.plane_ifds(8).ravel(), np.arange(8))


def test_units_convert_to_micrometres_and_nanometres():
    text = ome_xml('DimensionOrder="XYZCT" Type="uint16" SizeX="4" SizeY="4" SizeC="1" SizeZ="1" '
                   'SizeT="1" PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.001" '
                   'PhysicalSizeYUnit="mm"',
                   '<Channel ID="Channel:0:0" Name="x" EmissionWavelength="0.52" '
                   'EmissionWavelengthUnit="µm"/>')
    meta = parse_ome_xml(text)
    assert meta.physical_size_um == pytest.approx({"X": 0.25, "Y": 1.0})
    assert meta.channels[0].emission_wavelength_nm == pytest.approx(520)


def test_multi_file_planes_are_refused():
    text = ome_xml('DimensionOrder="XYZCT" Type="uint8" SizeX="4" SizeY="4" SizeC="1" SizeZ="2" SizeT="1"',
                   '<TiffData IFD="0" PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:a</UUID></TiffData>'
                   '<TiffData IFD="0" FirstZ="1" PlaneCount="1"><UUID FileName="b.ome.tif">urn:uuid:b'
                   '</UUID></TiffData>', root_attrs='UUID="urn:uuid:a"')
    image0 = parse_ome_xml(text).images[0]
    with pytest.raises(oc.DecodeError, match="another file"):
        image0.plane_ifds(1, "urn:uuid:a")


@pytest.mark.parametrize("text,words", [
    ("<OME><Image>", "well-formed"),
    (f"<Other {NS}/>", "root element"),
    (ome_xml('DimensionOrder="XYZQT" SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"', ""),
     "DimensionOrder"),
    (ome_xml('DimensionOrder="XYZCT" SizeX="1" SizeY="0" SizeZ="1" SizeC="1" SizeT="1"', ""), "sizes"),
    (ome_xml('DimensionOrder="XYZCT" SizeX="1" SizeY="1" SizeZ="2" SizeC="1" SizeT="1"',
             '<TiffData FirstZ="2"/>'), "outside"),
    (ome_xml('DimensionOrder="XYZCT" SizeX="a" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"', ""),
     "not a number"),
])
def test_bad_ome_xml(text, words):
    with pytest.raises(oc.DecodeError, match=words):
        parse_ome_xml(text)


def test_unusable_ome_xml_falls_back_to_pages():
    """A file whose OME-XML does not fit its pages still reads, as plain pages."""
    data = image((3 * 8, 8), "u1").reshape(3, 8, 8)
    blob = ome_bytes(data, "ZYX")
    text = tifffile.TiffFile(io.BytesIO(blob)).pages[0].description
    broken = text.replace('SizeX="8"', 'SizeX="9"')
    assert len(broken) == len(text)
    blob = blob.replace(text.encode(), broken.encode())
    with TiffReader(blob) as reader:
        assert reader.is_ome and reader.series[0].kind != "ome"
        np.testing.assert_array_equal(reader.asarray(), data)


def test_parsed_like_ome_types():
    """Our parse of tifffile's OME-XML agrees with ome-types' (an independent parser)."""
    ome_types = pytest.importorskip("ome_types")
    data = image((2 * 3 * 16, 20), "u2").reshape(2, 3, 16, 20)
    blob = ome_bytes(data, "CZYX", metadata={
        "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.3, "PhysicalSizeZ": 1.5,
        "Channel": {"Name": ["a", "b"], "EmissionWavelength": [500, 600]}})
    with TiffReader(blob) as reader:
        ours = reader.ome_metadata
    theirs = ome_types.from_xml(ours.xml).images[0].pixels
    assert ours.images[0].dimension_order == theirs.dimension_order.value
    assert ours.sizes == {a: getattr(theirs, f"size_{a.lower()}") for a in "XYZCT"}
    assert ours.physical_size_um == pytest.approx(
        {a: getattr(theirs, f"physical_size_{a.lower()}") for a in "XYZ"})
    assert [c.name for c in ours.channels] == [c.name for c in theirs.channels]
    assert [c.emission_wavelength_nm for c in ours.channels] == \
        [c.emission_wavelength for c in theirs.channels]
    assert [(d.ifd, d.plane_count) for d in ours.images[0].tiff_data] == \
        [(d.ifd, d.plane_count) for d in theirs.tiff_data_blocks]
