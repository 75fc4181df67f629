import re
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


def test_codecs_table_reports_each_library_build():
    out = run("codecs")
    assert "| Build |" in out.stdout.splitlines()[0]
    built = [c for c in oc.list_codecs() if c.has_native and (c._native or c._binding)]
    assert built
    for codec in built:
        build = codec.library_build
        assert build == "built in" or re.fullmatch(
            r"\S+( [\w.+~-]+)? \((system|upstream|PyPI wheel|PyPI binding)\)", build), (codec.name, build)
        assert build in out.stdout
    # a library with a version (every pkg-config one) reports it
    assert re.fullmatch(r"libzstd \d+\.\d+\.\d+ \((system|upstream)\)", oc.get_codec("zstd").library_build)


def test_info(tmp_path):
    path = tmp_path / "x.zst"
    oc.write(path, b"abc" * 1000)
    out = run("info", str(path))
    assert out.returncode == 0
    assert "zstd" in out.stdout and "3000 bytes" in out.stdout
    bad = run("info", str(tmp_path / "missing.zst"))
    assert bad.returncode == 1 and "error" in bad.stderr
