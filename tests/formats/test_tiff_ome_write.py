"""write_ome_tiff: OME-XML that ome-types validates against the 2016-06 schema,
files tifffile reads as the right series (axes, shape, pixels, pyramid levels)
and libtiff walks without a warning."""

import os

import numpy as np
import pytest
import tifffile
from tiff_checks import assert_same, tiffinfo_clean

import opencodecs as oc
from opencodecs._ome_xml import Channel, write_ome_tiff
from opencodecs.formats.tiff import ome

ome_types = pytest.importorskip("ome_types")
pytest.importorskip("xmlschema")  # ome-types validates through it

rng = np.random.default_rng(13)


def image(shape, dtype="u2"):
    return rng.integers(0, 4000 if dtype == "u2" else 200, shape).astype(dtype)


def validated(path):
    """The file's OME model, after schema validation."""
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        xml = tif.ome_metadata
    return ome_types.from_xml(xml, validate=True)


def test_5d_with_channels_and_physical_sizes(tmp_path):
    arr = image((2, 2, 3, 64, 80))
    path = tmp_path / "scan.ome.tif"
    write_ome_tiff(path, arr, axes="TCZYX", physical_size_um=(0.108, 0.108, 0.5),
                   channels=[Channel(name="DAPI", emission_wavelength_nm=460),
                             Channel(name="GFP", emission_wavelength_nm=520, excitation_wavelength_nm=488)],
                   tile=(32, 32), compression="zstd")
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        assert series.axes == "TCZYX" and series.shape == arr.shape
        assert_same(series.asarray(), arr)
        assert len(tif.pages) == 12
    model = validated(path)
    pixels = model.images[0].pixels
    assert (pixels.size_t, pixels.size_c, pixels.size_z, pixels.size_y, pixels.size_x) == arr.shape
    assert pixels.dimension_order.value == "XYZCT"
    assert (pixels.physical_size_x, pixels.physical_size_y, pixels.physical_size_z) == (0.108, 0.108, 0.5)
    assert [c.name for c in pixels.channels] == ["DAPI", "GFP"]
    assert [c.emission_wavelength for c in pixels.channels] == [460, 520]
    assert pixels.channels[1].excitation_wavelength == 488
    assert len(pixels.tiff_data_blocks) == 12 and len(pixels.planes) == 12
    # Plane i of the file is (t, c, z) in DimensionOrder XYZCT: z fastest, then c, then t.
    third = pixels.tiff_data_blocks[3]
    assert (third.ifd, third.first_t, third.first_c, third.first_z) == (3, 0, 1, 0)
    tiffinfo_clean(path, decode=True)


@pytest.mark.parametrize("axes,shape,expected_axes", [
    ("YX", (40, 50), "YX"),
    ("ZYX", (5, 40, 50), "ZYX"),
    ("CYX", (3, 40, 50), "CYX"),
    ("TYX", (4, 40, 50), "TYX"),
    ("ZCYX", (4, 2, 40, 50), "CZYX"),
    ("XYZ", (50, 40, 3), "ZYX"),
])
def test_axes_orders(tmp_path, axes, shape, expected_axes):
    arr = image(shape)
    path = tmp_path / "a.ome.tif"
    write_ome_tiff(path, arr, axes=axes)
    expected = np.transpose(arr, [axes.index(a) for a in expected_axes])
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        assert series.axes == expected_axes
        assert_same(series.asarray(), expected)
    validated(path)


def test_rgb_samples(tmp_path):
    arr = image((2, 48, 64, 3), "u1")
    path = tmp_path / "rgb.ome.tif"
    write_ome_tiff(path, arr, axes="ZYXS", channels=[Channel(name="brightfield")], compression="zlib")
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        assert series.axes == "ZYXS" and series.shape == arr.shape
        assert_same(series.asarray(), arr)
        assert tif.pages[0].photometric == 2
    pixels = validated(path).images[0].pixels
    assert pixels.size_c == 3 and pixels.channels[0].samples_per_pixel == 3 and pixels.interleaved
    tiffinfo_clean(path)


def test_pyramid_by_halvings(tmp_path):
    arr = image((2, 128, 96))
    path = tmp_path / "pyr.ome.tif"
    write_ome_tiff(path, arr, axes="CYX", levels=2, tile=(32, 32), compression="zstd")
    with tifffile.TiffFile(path) as tif:
        levels = tif.series[0].levels
        assert [lv.shape for lv in levels] == [(2, 128, 96), (2, 64, 48), (2, 32, 24)]
        assert_same(levels[0].asarray(), arr)
        half = np.rint(arr.reshape(2, 64, 2, 48, 2).mean(axis=(2, 4))).astype("u2")
        assert_same(levels[1].asarray(), half)
        assert len(tif.pages) == 2 and len(tif.pages[0].subifds) == 2
    validated(path)
    tiffinfo_clean(path)


def test_pyramid_from_given_levels(tmp_path):
    arr = image((3, 64, 64))
    reduced = [arr[:, ::2, ::2].copy(), arr[:, ::4, ::4].copy()]
    path = tmp_path / "pyr.ome.tif"
    write_ome_tiff(path, arr, axes="ZYX", levels=reduced, tile=(16, 16))
    with tifffile.TiffFile(path) as tif:
        levels = tif.series[0].levels
        for got, want in zip(levels, [arr] + reduced):
            assert_same(got.asarray(), want)


def test_bigtiff_float_and_big_endian(tmp_path):
    arr = rng.normal(0, 1, (2, 30, 40)).astype("f4")
    path = tmp_path / "f.ome.tif"
    write_ome_tiff(path, arr, axes="TYX", bigtiff=True, byteorder=">", compression="zlib", predictor=3)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_bigtiff and tif.byteorder == ">"
        assert_same(tif.series[0].asarray(), arr)
    pixels = validated(path).images[0].pixels
    assert pixels.type.value == "float" and pixels.big_endian


def test_xml_escapes_channel_names(tmp_path):
    path = tmp_path / "esc.ome.tif"
    write_ome_tiff(path, image((1, 16, 16)), axes="CYX", channels=[Channel(name='a<b & "c"')])
    assert validated(path).images[0].pixels.channels[0].name == 'a<b & "c"'


def test_private_import_path_is_the_public_module():
    assert write_ome_tiff is ome.write_ome_tiff and Channel is ome.Channel
    from opencodecs._tiff_writer import TiffWriter
    assert TiffWriter is oc.formats.tiff.TiffWriter


@pytest.mark.parametrize("kwargs,error", [
    (dict(axes="TCZYX"), oc.EncodeError),                       # 3 dims, 5 axes
    (dict(axes="ZZX"), oc.EncodeError),
    (dict(axes="ZYQ"), oc.EncodeError),
    (dict(axes="CYX", channels=[Channel("one")]), oc.EncodeError),  # 3 channels
    (dict(axes="ZYX", physical_size_um=(1,)), oc.EncodeError),
    (dict(axes="ZYX", physical_size_um=(1, -1)), oc.EncodeError),
    (dict(axes="ZYX", levels=10), oc.EncodeError),
    (dict(axes="ZYX", levels=[np.zeros((2, 8, 8), "u2")]), oc.EncodeError),
    (dict(axes="ZYX", photometric="rgb"), TypeError),
    (dict(axes="ZYX", tilesize=16), TypeError),
])
def test_bad_arguments(tmp_path, kwargs, error):
    path = tmp_path / "bad.ome.tif"
    with pytest.raises(error):
        write_ome_tiff(path, image((3, 32, 32)), **kwargs)
    assert os.listdir(tmp_path) == []


def test_unsupported_pixel_type(tmp_path):
    with pytest.raises(oc.EncodeError, match="OME types"):
        write_ome_tiff(tmp_path / "h.ome.tif", np.zeros((8, 8), "f2"), axes="YX")
