"""Checks the TIFF writer tests share: tifffile reads a file back, libtiff's
tiffinfo walks (and with decode=True, decodes) it without a warning."""

import io
import shutil
import subprocess

import numpy as np
import pytest
import tifffile


def tiffinfo_clean(path, decode=False):
    """Run libtiff's tiffinfo; fail on any warning or error it prints."""
    if shutil.which("tiffinfo") is None:
        pytest.skip("tiffinfo (libtiff-tools) is not installed")
    args = ["tiffinfo", "-D"] if decode else ["tiffinfo"]
    r = subprocess.run(args + [str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", f"tiffinfo: {r.stderr}"
    return r.stdout


def read_back(blob_or_path):
    """tifffile.imread of a path or of bytes."""
    if isinstance(blob_or_path, (bytes, bytearray, memoryview)):
        return tifffile.imread(io.BytesIO(bytes(blob_or_path)))
    return tifffile.imread(blob_or_path)


def assert_same(got, expected):
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert np.array_equal(got, expected, equal_nan=expected.dtype.kind == "f")
