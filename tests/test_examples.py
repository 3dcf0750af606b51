"""The examples run, at tiny size, and `own_loop.py` is the README's code block (so
the test that runs the README's blocks, tests/test_readme.py, runs it too, once).

The tiny runs of the examples that compile for more than about 8 s (each one's
library code has its own tests) are behind `slow`; in `make test` every example
still has its sciml names checked (`test_example_names_exist`), which is how an
example most often rots: a renamed or moved function."""

import ast
import importlib
import pathlib
import re
import runpy
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# own_loop.py is the README's block, which tests/test_readme.py already runs
RUN = [path for path in EXAMPLES if path.name != "own_loop.py"]
SWITCH = 'TINY = "--tiny" in sys.argv'
# tiny runs of 9 to 38 s of compilation each on a 2-core CPU (`make test-all`)
SLOW = {"cape.py", "deeponet.py", "flax_interop.py", "fno_rollout.py",
        "hard_constraints.py", "pinns.py", "solvers.py"}  # fmt: skip


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


def _sciml_references(tree: ast.Module) -> list[str]:
    """Each dotted sciml name an example uses: what it imports from sciml, and the
    attribute chains it reads from those names (`sciml.pinns.PIG`, `operators.FNO`)."""
    bound, refs = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sciml":
                    refs.append(a.name)  # `import sciml.x` binds `sciml`
                    bound[a.asname or "sciml"] = a.name if a.asname else "sciml"
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "sciml":
                for a in node.names:
                    bound[a.asname or a.name] = f"{node.module}.{a.name}"
                    refs.append(bound[a.asname or a.name])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, inner = [], node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in bound:
                refs.append(".".join([bound[inner.id], *reversed(chain)]))
    return refs


def _exists(dotted: str) -> bool:
    """Whether `dotted` (`sciml.a.b`) resolves, importing submodules on the way;
    past a function or a value, attributes are that object's business."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        if isinstance(obj, types.ModuleType) and not hasattr(obj, part):
            try:  # a submodule its package's __init__ does not import
                importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                return False
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
        if not isinstance(obj, (types.ModuleType, type)):
            return True
    return True


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_names_exist(path):
    """Every name an example takes from sciml exists (fast: nothing runs)."""
    refs = _sciml_references(ast.parse(path.read_text()))
    assert refs, f"{path.name} uses nothing from sciml"
    missing = [name for name in refs if not _exists(name)]
    assert not missing, f"{path.name}: {missing} are gone"


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] * (p.name in SLOW)) for p in RUN],
    ids=lambda p: p.name,
)
def test_example_runs_tiny(path, tmp_path, monkeypatch, capsys):
    """Run in this process (JAX is imported once for all), from an empty folder, as
    `python examples/NAME.py --tiny`; it must print what it found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path), "--tiny"])
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
