"""The documentation site: every name a page mentions exists, every capability page
has its maths, a runnable example and a benchmark table, and every public module
has an API page. (Every public name having a docstring: tests/test_public_api.py.)"""

import importlib
import pathlib
import re

import pytest
import yaml
from test_public_api import PUBLIC_MODULES

ROOT = pathlib.Path(__file__).parent.parent
DOCS = ROOT / "docs"
# the pages (vendored assets, e.g. MathJax under javascripts/, are not)
PAGES = sorted(p for p in DOCS.glob("**/*.md") if "javascripts" not in p.parts)
CAPABILITIES = [
    "solvers",
    "datasets",
    "operators",
    "cape",
    "deeponet",
    "odenets",
    "training",
    "convergence",
    "hard-constraints",
]

# `sciml.x.y` in backticks, a cross-reference [`sciml.x.y`][] or [text][sciml.x.y],
# and a mkdocstrings directive `::: sciml.x`
NAME = re.compile(r"(?:`|\]\[|::: )(sciml(?:\.\w+)+)")


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_name_a_page_mentions_exists(page):
    text = page.read_text()
    missing = []
    for name in sorted(set(NAME.findall(text))):
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"{page.name} names what does not exist: {missing}"


def _nav_files(nav) -> list[str]:
    out = []
    for entry in nav:
        for value in entry.values():
            out += _nav_files(value) if isinstance(value, list) else [value]
    return out


def test_every_page_is_in_the_nav_and_every_public_module_has_an_api_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = set(_nav_files(config["nav"]))
    pages = {str(p.relative_to(DOCS)) for p in PAGES}
    assert nav == pages
    documented = {
        m[len("::: ") :].strip()
        for p in DOCS.glob("api/*.md")
        for m in re.findall(r"::: [\w.]+", p.read_text())
    }
    assert set(PUBLIC_MODULES) - {"sciml"} <= documented


@pytest.mark.parametrize("name", CAPABILITIES)
def test_capability_pages_have_maths_an_example_and_a_table(name):
    text = (DOCS / f"{name}.md").read_text()
    assert "$$" in text, f"{name}.md has no displayed maths"
    examples = re.findall(r'--8<-- "(examples/[\w.]+)"', text)
    assert examples and all((ROOT / e).is_file() for e in examples)
    assert "<!-- bench: " in text, f"{name}.md shows no benchmark table"
