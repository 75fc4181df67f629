import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_readme_starts_with_the_newcomer_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:8]
    assert any("make demo" in line for line in head)
    assert any("make test" in line for line in head)


def test_readme_codec_table_matches_the_registry():
    update = runpy.run_path(str(ROOT / "scripts" / "update-readme.py"))
    text = (ROOT / "README.md").read_text()
    assert update["render"](text) == text, "run: python scripts/update-readme.py"
