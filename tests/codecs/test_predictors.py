"""TIFF predictors 2 and 3 against tiles that tifffile (the reference) wrote."""

import io
import zlib

import numpy as np
import pytest
import tifffile

from opencodecs import EncodeError
from opencodecs.codecs.predictors import predictor_decode, predictor_encode

rng = np.random.default_rng(3)


def _smooth(shape, dtype):
    base = np.cumsum(rng.normal(0, 5, shape), axis=1) + 1000
    return base.astype(dtype)


def _tifffile_tile(arr, predictor):
    """The first tile's bytes as tifffile writes them (predicted, then zlib)."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, tile=(16, 32), compression="zlib", predictor=predictor,
                     photometric="rgb" if arr.ndim == 3 and arr.shape[2] == 3 else "minisblack")
    with tifffile.TiffFile(io.BytesIO(buf.getvalue())) as tif:
        page = tif.pages[0]
        raw = buf.getvalue()[page.dataoffsets[0]:page.dataoffsets[0] + page.databytecounts[0]]
    return zlib.decompress(raw)


CASES = [(np.uint8, 2, 1), (np.uint16, 2, 1), (np.int16, 2, 3), (np.uint32, 2, 1),
         (np.int64, 2, 1), (np.float32, 3, 1), (np.float64, 3, 1), (np.float16, 3, 1),
         (np.float32, 3, 3), (np.uint16, 2, 3)]


@pytest.mark.parametrize("dtype,predictor,spp", CASES)
def test_decode_and_encode_match_tifffile(dtype, predictor, spp):
    shape = (16, 32) if spp == 1 else (16, 32, spp)
    arr = _smooth(shape, dtype)
    predicted = _tifffile_tile(arr, predictor)
    tile = np.frombuffer(predicted, dtype).reshape(shape).copy()
    np.testing.assert_array_equal(predictor_decode(tile, predictor), arr)
    ours = predictor_encode(arr.copy(), predictor)
    assert ours.tobytes() == predicted


@pytest.mark.parametrize("dtype,predictor", [(np.uint16, 2), (np.float32, 3), (np.float64, 3), (np.int8, 2)])
def test_round_trip_many_shapes(dtype, predictor):
    for shape in [(1, 1), (1, 7), (5, 1), (37, 53, 2), (3, 1000, 4)]:
        arr = (rng.normal(0, 100, shape)).astype(dtype)
        back = predictor_decode(predictor_encode(arr.copy(), predictor), predictor)
        np.testing.assert_array_equal(back, arr)


def test_predictor_1_is_identity_and_bad_inputs_raise():
    arr = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert predictor_encode(arr, 1) is arr
    with pytest.raises(EncodeError):
        predictor_encode(np.zeros((2, 2), np.float32), 2)
    with pytest.raises(EncodeError):
        predictor_encode(np.zeros((2, 2), np.uint16), 3)
    with pytest.raises(EncodeError):
        predictor_encode(np.zeros((2, 2), np.uint16), 7)
    with pytest.raises(ValueError):
        predictor_encode(np.zeros((4, 4), np.uint16)[:, ::2], 2)
