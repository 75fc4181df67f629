"""The install scripts' decisions: which upstream libraries to build, which Python to use."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, **env):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **env))


def test_upstream_plan_follows_the_mode():
    never = run(sys.executable, "scripts/build-upstream", "--mode", "never", "--list")
    always = run(sys.executable, "scripts/build-upstream", "--mode", "always", "--list")
    assert never.returncode == always.returncode == 0
    names = [line.split()[0] for line in always.stdout.splitlines()]
    assert {"zstd", "brotli", "jxl", "avif", "mozjpeg", "zfp"} <= set(names)
    assert all(" system " in line for line in never.stdout.splitlines())
    assert all(" upstream" in line for line in always.stdout.splitlines())
    # meson is told of no upstream library under never, and builds none
    lines = run(sys.executable, "scripts/build-upstream", "--mode", "never", "--meson")
    assert lines.returncode == 0 and lines.stdout == ""


def test_auto_builds_what_is_older_or_measured_slower():
    auto = run(sys.executable, "scripts/build-upstream", "--mode", "auto", "--list")
    assert auto.returncode == 0
    for line in auto.stdout.splitlines():
        name, _version, where, *why = line.split(maxsplit=3)
        reason = " ".join(why)
        if where.startswith("upstream"):
            assert "older than" in reason or "measured slower" in reason or "not on this system" in reason, line
        else:
            assert "is current" in reason, line


def test_python_choice_honours_PYTHON_else_the_newest_that_runs():
    assert run("scripts/python", PYTHON="/opt/python9").stdout.strip() == "/opt/python9"
    chosen = run("scripts/python", PYTHON="").stdout.strip()
    assert chosen.startswith("python3.1")
    assert run(chosen, "-c", "import sys; assert sys.version_info >= (3, 10)").returncode == 0
