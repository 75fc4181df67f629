"""python -m bench [--fast] [--only SUBSTRING]: Markdown table + JSON in bench/results/."""

import argparse
import os
import sys
import time

from . import compression, czi, ndtiff, tiff_read
from .harness import markdown, run, save

SUITES = {"compression": compression.workloads, "czi": czi.workloads, "ndtiff": ndtiff.workloads,
          "tiff_read": tiff_read.workloads}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--fast", action="store_true", help="smaller data, fewer repeats")
    parser.add_argument("--only", default="", help="run workloads whose name contains this")
    parser.add_argument("--suite", choices=sorted(SUITES), action="append")
    args = parser.parse_args()
    results = []
    for suite in args.suite or sorted(SUITES):
        for w in SUITES[suite](fast=args.fast, only=args.only):
            if args.only in w.name:
                print(f"... {w.name}", file=sys.stderr, flush=True)
                results.append(run(w, repeats=3 if args.fast else 7))
    table = markdown(results)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(os.path.dirname(__file__), "results", f"bench-{stamp}.json")
    save(results, out)
    with open(out[:-5] + ".md", "w") as f:
        f.write(table + "\n")
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
