"""The docs site's promises: every recipe runs, every page is reachable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "docs" / "recipes").glob("*.md"))
INCLUDE = re.compile(r'--8<-- "((?:examples|tests)/[^"]+)"')


@pytest.mark.parametrize("page", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_is_backed_by_a_script_ci_runs(page):
    included = INCLUDE.findall(page.read_text())
    assert included, f"{page.name} includes no script from examples/"
    for relative in included:
        path = ROOT / relative
        assert path.is_file(), f"{page.name} includes missing {relative}"
        assert path.suffix in (".py", ".ipynb")


def test_every_recipe_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [p.name for p in RECIPES if f"recipes/{p.name}" not in nav]
    assert not missing, f"recipe pages missing from mkdocs.yml nav: {missing}"


def test_readme_opens_with_the_two_setup_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:25]
    commands = [line.split("#")[0].strip() for line in head if line.strip().startswith("make ")]
    assert commands[:2] == ["make demo", "make test"]


def test_the_home_page_shows_before_it_tells_and_its_code_fits_its_box():
    """The home page opens with the live plot, the live comparison and the run report (each
    picture there), and no line of its quickstart or of the README's Python overflows a code box
    (80 columns: the box is about 80 wide on a laptop screen)."""
    home = (ROOT / "docs" / "index.md").read_text()
    pictures = re.findall(r"!\[[^\]]+\]\((images/[^)]+)\)", home.split("## Install")[0])
    assert pictures == ["images/live-plot-jupyter.png", "images/sweep_live.png", "images/run-report.png"]
    assert all((ROOT / "docs" / picture).is_file() for picture in pictures)
    readme_python = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    code = [(path, (ROOT / path).read_text()) for path in INCLUDE.findall(home)]
    code += [("README.md", block) for block in readme_python]
    assert len(code) >= 2
    long = [(path, line) for path, text in code for line in text.splitlines() if len(line) > 80]
    assert not long, f"lines that run out of their code box: {long}"
