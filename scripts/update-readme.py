"""Regenerate the codec table in README.md from the registry."""

import pathlib
import re

from opencodecs.cli import capability_table

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- codecs:start -->", "<!-- codecs:end -->"


def render(text: str) -> str:
    return re.sub(f"{START}.*?{END}", f"{START}\n{capability_table()}\n{END}", text, flags=re.S)


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
