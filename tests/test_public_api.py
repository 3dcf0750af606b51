"""The public surface: every public module declares `__all__`, documents each name
in it, leaks nothing else, and takes PRNG keys by keyword only."""

import ast
import importlib
import inspect
import json
import pathlib
import subprocess
import sys

import pytest

# Add a module here when it becomes public (e.g. "sciml.solvers").
PUBLIC_MODULES = [
    "sciml",
    "sciml.nn",
    "sciml.operators",
    "sciml.training",
    "sciml.metrics",
    "sciml.integrators",
    "sciml.convergence",
    "sciml.datasets",
    "sciml.solvers",
    "sciml.plotting",
    "sciml.interop",
    "sciml.pinns",
    "sciml.pinns.problems",
]


def _documented_assignments(module) -> set[str]:
    """Names assigned in the module's source files (all of a package's) and
    followed by a string: the attribute docstring of a constant."""
    path = pathlib.Path(module.__file__)
    files = sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]
    names = set()
    for file in files:
        body = ast.parse(file.read_text()).body
        for stmt, after in zip(body, body[1:], strict=False):
            documented = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            )
            if not documented:
                continue
            if isinstance(stmt, ast.Assign):
                names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names.add(stmt.target.id)
    return names


def _has_docstring(module, name: str) -> bool:
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
        return bool((obj.__doc__ or "").strip())
    return name in _documented_assignments(module)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_declared_and_documented(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"
    undocumented = [n for n in module.__all__ if not _has_docstring(module, n)]
    assert not undocumented, f"{name}: no docstring for {undocumented}"


_PUBLIC_DIR = """
import importlib, json, sys, types
out = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except Exception as e:
        out[name] = f"import failed: {type(e).__name__}: {e}"
        continue
    out[name] = {
        n: isinstance(v := getattr(module, n), types.ModuleType)
        and v.__name__.startswith("sciml.")
        and not any(p.startswith("_") for p in v.__name__.split("."))
        for n in dir(module)
        if not n.startswith("_")
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def public_names():
    """module -> {public attribute: is it a public submodule of sciml}, as a fresh
    interpreter sees them (the test run's jaxtyping import hook adds a `jaxtyping`
    attribute to every module it instruments)."""
    done = subprocess.run(
        [sys.executable, "-c", _PUBLIC_DIR, *PUBLIC_MODULES],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_no_leaked_names(name, public_names):
    names = public_names[name]
    assert isinstance(names, dict), f"{name}: {names}"
    exported = set(getattr(importlib.import_module(name), "__all__", ()))
    leaked = [
        n for n, submodule in names.items() if n not in exported and not submodule
    ]
    assert not leaked, f"{name} leaks public names not in __all__: {leaked}"


def _signatures(obj):
    if inspect.isclass(obj):
        yield f"{obj.__qualname__}.__init__", obj.__init__
        for attr, member in vars(obj).items():
            if inspect.isfunction(member) and not attr.startswith("_"):
                yield f"{obj.__qualname__}.{attr}", member
    elif inspect.isroutine(obj):
        yield obj.__qualname__, obj


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_prng_key_is_keyword_only(name):
    module = importlib.import_module(name)
    positional = []
    public = [n for n in dir(module) if not n.startswith("_")]
    for export in getattr(module, "__all__", public):
        for where, fn in _signatures(getattr(module, export, None)):
            try:
                params = inspect.signature(fn).parameters
            except (TypeError, ValueError):
                continue
            key = params.get("key")
            if key is not None and key.kind is not inspect.Parameter.KEYWORD_ONLY:
                positional.append(where)
    assert not positional, f"{name}: `key` is not keyword-only in {positional}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_methods_and_properties_are_documented(name):
    """Every method and property of a public class that the class itself defines
    (not inherited from equinox, numpy or diffrax) has a docstring."""
    module = importlib.import_module(name)
    missing = []
    for n in module.__all__:
        cls = getattr(module, n)
        if not inspect.isclass(cls):
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else value
            func = getattr(func, "__func__", func)
            ours = getattr(func, "__module__", "").startswith("sciml")
            if (
                ours
                and (callable(func) or isinstance(value, property))
                and not (getattr(func, "__doc__", None) or "").strip()
            ):
                missing.append(f"{n}.{attr}")
    assert not missing, f"{name}: no docstring for {missing}"
