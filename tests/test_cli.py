import subprocess
import sys

import opencodecs as oc


def run(*args):
    return subprocess.run([sys.executable, "-m", "opencodecs", *args], capture_output=True, text=True)


def test_version():
    out = run("--version")
    assert out.returncode == 0 and oc.__version__ in out.stdout


def test_codecs_table_lists_every_codec():
    out = run("codecs")
    assert out.returncode == 0
    for codec in oc.list_codecs():
        assert f"`{codec.name}`" in out.stdout


def test_info(tmp_path):
    path = tmp_path / "x.zst"
    oc.write(path, b"abc" * 1000)
    out = run("info", str(path))
    assert out.returncode == 0
    assert "zstd" in out.stdout and "3000 bytes" in out.stdout
    bad = run("info", str(tmp_path / "missing.zst"))
    assert bad.returncode == 1 and "error" in bad.stderr
