"""The examples run, at tiny size, and `own_loop.py` is the README's code block (so
the test that runs the README's blocks, tests/test_readme.py, runs it too, once)."""

import ast
import pathlib
import re
import runpy
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# own_loop.py is the README's block, which tests/test_readme.py already runs
RUN = [path for path in EXAMPLES if path.name != "own_loop.py"]
SWITCH = 'TINY = "--tiny" in sys.argv'


def _code(source: str) -> str:
    """The source without its module docstring, as the AST sees it (comments and
    layout aside, so formatting may differ)."""
    module = ast.parse(source)
    body = module.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def test_own_loop_example_is_the_readme_block():
    readme = (ROOT / "README.md").read_text()
    block = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    example = (ROOT / "examples" / "own_loop.py").read_text()
    assert _code(example) == _code(block)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_a_docstring_and_the_size_switch(path):
    """Each example says what it shows, and (but the README's block) can run tiny."""
    source = path.read_text()
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and len(docstring.split()) >= 8, f"{path.name}: no docstring"
    if path in RUN:
        assert SWITCH in source, f"{path.name} lacks the switch `{SWITCH}`"


@pytest.mark.parametrize("path", RUN, ids=lambda p: p.name)
def test_example_runs_tiny(path, tmp_path, monkeypatch, capsys):
    """Run in this process (JAX is imported once for all), from an empty folder, as
    `python examples/NAME.py --tiny`; it must print what it found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path), "--tiny"])
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
