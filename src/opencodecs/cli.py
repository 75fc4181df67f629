"""The `opencodecs` command: codecs, info, --version."""

import argparse
import os
import sys

from . import __version__, codec_for_bytes, codec_for_path, list_codecs
from .codecs.compression import Compressor
from .core.errors import OpencodecsError
from .core.io import read_head


def capability_table(builds: bool = False) -> str:
    """The codec table as Markdown, generated from the registry.

    `builds` adds what this installation links: each library's version and
    whether it is the system's or the upstream build (machine-specific, so
    not in the README's table).
    """
    build_head, build_rule = (" Build |", " --- |") if builds else ("", "")
    rows = [f"| Codec | Aliases | Encode | Decode | Native | Library |{build_head} Extensions |",
            f"| --- | --- | :-: | :-: | :-: | --- |{build_rule} --- |"]
    tick = {True: "✓", False: "—"}
    for c in list_codecs():
        build = f" {c.library_build or '—'} |" if builds else ""
        rows.append(f"| `{c.name}` | {', '.join(c.aliases) or '—'} | {tick[c.can_encode]} | "
                    f"{tick[c.can_decode]} | {tick[c.has_native]} | {c.library or 'Python'} |{build} "
                    f"{' '.join(c.file_extensions) or '—'} |")
    return "\n".join(rows)


def describe(path) -> str:
    """Which codec reads `path`, and what it decodes to."""
    codec = codec_for_path(path) or codec_for_bytes(read_head(path))
    if codec is None:
        return f"{path}: unknown format"
    if isinstance(codec, Compressor):
        size = os.path.getsize(path)
        n = len(codec.decode(path))
        ratio = f" (ratio {n / size:.2f})" if size else ""
        return f"{path}: {codec.name}, {size} bytes -> {n} bytes{ratio}"
    with codec.open(path) as reader:
        return (f"{path}: {codec.name}, {reader.n_frames} frame(s), shape {reader.shape}, "
                f"dtype {reader.dtype}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="opencodecs", description=__doc__)
    parser.add_argument("--version", action="version", version=f"opencodecs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("codecs", help="print the codec capability table")
    info = sub.add_parser("info", help="show the codec and contents of files")
    info.add_argument("files", nargs="+")
    args = parser.parse_args(argv)

    if args.command == "codecs":
        print(capability_table(builds=True))
        return 0
    status = 0
    for path in args.files:
        try:
            print(describe(path))
        except (OpencodecsError, OSError) as e:
            print(f"{path}: error: {e}", file=sys.stderr)
            status = 1
    return status
