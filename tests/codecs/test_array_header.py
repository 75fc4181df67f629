"""The versioned header that makes raw array streams self-describing."""

import numpy as np
import pytest

import opencodecs as oc
from opencodecs.codecs.arrays import MAGIC, as_array, has_header, pack_header, unpack_header

TAG = b"tst\0"


@pytest.mark.parametrize("dtype", ["u1", "<u2", "<i4", "<f4", "<f8", ">i8"])
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4, 5)])
def test_header_round_trip(dtype, shape):
    blob = pack_header(TAG, dtype, shape) + b"payload"
    assert has_header(blob, TAG) and not has_header(blob, b"xxx\0")
    got_dtype, got_shape, payload = unpack_header("tst", blob, TAG)
    assert got_dtype == np.dtype(dtype) and got_shape == shape and bytes(payload) == b"payload"


def test_header_layout_is_documented():
    blob = pack_header(TAG, np.uint16, (5, 6))
    assert blob[:4] == MAGIC and blob[4] == 1 and blob[5:9] == TAG
    assert blob[9:13] == b"<u2\0" and blob[13] == 2 and len(blob) == 16 + 16
    assert int.from_bytes(blob[16:24], "little") == 5


@pytest.mark.parametrize("mutate,match", [
    (lambda b: b[:10], "too short"),
    (lambda b: b[:20], "truncated"),
    (lambda b: b"XXXX" + b[4:], "no opencodecs array header"),
    (lambda b: b[:4] + b"\x09" + b[5:], "version"),
    (lambda b: b[:9] + b"zz\0\0" + b[13:], "dtype"),
    (lambda b: b[:13] + b"\x40" + b[14:], "corrupt"),
    (lambda b: b[:16] + (2**62).to_bytes(8, "little") + b[24:], "max_decoded_bytes"),
])
def test_bad_headers_raise(mutate, match):
    blob = pack_header(TAG, np.uint16, (5, 6)) + b"data"
    with pytest.raises(oc.DecodeError, match=match):
        unpack_header("tst", mutate(blob), TAG)


def test_as_array_names_supported_dtypes():
    with pytest.raises(oc.EncodeError, match="tst: cannot encode int16.*float32"):
        as_array("tst", np.zeros(3, np.int16), (np.dtype("f4"),))
    arr = as_array("tst", np.zeros((4, 4), np.float32)[:, ::2], (np.dtype("f4"),))
    assert arr.flags.c_contiguous
