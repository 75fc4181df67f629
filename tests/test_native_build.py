"""How the native modules are built: private symbols, a recorded library build."""

import importlib
import os
import shutil
import subprocess

import pytest

from opencodecs._native._build_info import LIBRARIES


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils' nm")
def test_modules_export_only_their_init_function():
    # Static upstream libraries linked in must stay private: a public ZSTD_* or
    # tj* symbol could be bound by another library in the process, or bind to it.
    for name in LIBRARIES:
        path = importlib.import_module(f"opencodecs._native.{name}").__file__
        out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True, check=True)
        exported = [line.split()[-1] for line in out.stdout.splitlines()
                    if line.split()[-2] in ("T", "D", "B", "R", "W", "V", "i", "u")]
        assert exported and all(sym.startswith("PyInit_") for sym in exported), (os.path.basename(path), exported[:5])


def test_build_info_names_each_module_library_and_origin():
    assert {"_zstd", "_jxl", "_jpeg"} <= set(LIBRARIES)
    for module, (library, version, origin) in LIBRARIES.items():
        assert library and origin in ("system", "upstream", "built in", "PyPI wheel"), module
        if origin == "upstream":
            assert version, module
