import os
import subprocess
import sys

import pytest

import opencodecs as oc


def test_numthreads_from_environment():
    code = "import opencodecs as oc; print(oc.config.numthreads)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OPENCODECS_NUM_THREADS": "3"}, check=True)
    assert out.stdout.strip() == "3"


def test_bad_environment_value_is_a_clear_error():
    code = "import opencodecs"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OPENCODECS_NUM_THREADS": "many"})
    assert out.returncode != 0 and "OPENCODECS_NUM_THREADS" in out.stderr


def test_settings_validate():
    old = oc.config.numthreads
    try:
        oc.config.numthreads = 2
        assert oc.config.numthreads == 2
        oc.config.numthreads = None
        assert oc.config.numthreads == (os.cpu_count() or 1)
        with pytest.raises(ValueError):
            oc.config.numthreads = 0
        with pytest.raises(ValueError):
            oc.config.max_decoded_bytes = -1
    finally:
        oc.config.numthreads = old


def test_max_decoded_bytes_limits_decoding():
    blob = oc.get_codec("zstd").encode(bytes(1 << 20))
    old = oc.config.max_decoded_bytes
    try:
        oc.config.max_decoded_bytes = 1 << 19
        with pytest.raises(oc.DecodeError, match="max_decoded_bytes"):
            oc.read(blob)
    finally:
        oc.config.max_decoded_bytes = old
    assert oc.read(blob) == bytes(1 << 20)
