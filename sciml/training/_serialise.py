"""Save a model with its constructor arguments, and rebuild it without user code.

The convention every sciml model follows: a model is an `eqx.Module` whose
`__init__` parameters, other than `key`, are each stored as an attribute of the
same name. Their values are JSON-representable (`int`, `float`, `str`, `bool`,
`None`, lists/tuples and `str`-keyed dicts of these) or nested `eqx.Module`s that
follow the same convention.
"""

import importlib
import inspect
import json
import os
import pathlib
import tempfile
from typing import Any

import equinox as eqx
import jax
import numpy as np

import sciml

FORMAT = "sciml-model"
FORMAT_VERSION = 1
_CLASS = "__class__"
_HEADER_LIMIT = 64 * 1024 * 1024


def _class_path(cls: type, where: str) -> str:
    if "<locals>" in cls.__qualname__:
        raise ValueError(
            f"Cannot save {where}: its class {cls.__qualname__} is defined inside a "
            f"function, so it cannot be imported when loading. Fix: define the "
            f"class at module level."
        )
    return f"{_public_module(cls)}:{cls.__qualname__}"


def _public_module(cls: type) -> str:
    """The shortest parent package that exports `cls` under its own name (e.g.
    `sciml.operators` rather than `sciml.operators._odenet`), so that a saved model
    survives moves between private modules; else the defining module."""
    parts = cls.__module__.split(".")
    for i in range(1, len(parts)):
        name = ".".join(parts[:i])
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, cls.__qualname__, None) is cls:
            return name
    return cls.__module__


def _import_class(path: str) -> type:
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(
            f"Expected a class path 'module.path:QualName', got {path!r}. The file "
            f"header is damaged or was not written by `sciml.training.save_model`."
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(
            f"Cannot import the model class {path!r} ({e}). Fix: install or put on "
            f"`sys.path` the package that defines it, at a version that still has "
            f"this class."
        ) from e
    if not isinstance(obj, type):
        raise ValueError(f"Expected {path!r} to name a class, got {type(obj)}.")
    return obj


def _init_parameters(cls: type) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())
    return params[1:]  # drop `self`


def _encode_module(module: eqx.Module, where: str) -> dict[str, Any]:
    cls = type(module)
    args = {}
    for p in _init_parameters(cls):
        if p.name == "key":
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise ValueError(
                f"Cannot save {where}: {cls.__qualname__}.__init__ has the "
                f"{p.kind.description} parameter {p.name!r}, so its arguments cannot "
                f"be recorded by name. Fix: give __init__ ordinary named parameters, "
                f"each stored as an attribute of the same name."
            )
        if not hasattr(module, p.name):
            raise ValueError(
                f"Cannot save {where}: {cls.__qualname__}.__init__ takes {p.name!r} "
                f"but the module has no attribute {p.name!r}. The sciml convention "
                f"is that every __init__ parameter except `key` is stored as an "
                f"attribute with the same name. Fix: add the field, e.g. "
                f"`{p.name}: ... = eqx.field(static=True)` and set it in __init__."
            )
        args[p.name] = _encode_value(getattr(module, p.name), f"{where}.{p.name}")
    return {_CLASS: _class_path(cls, where), "args": args}


def _encode_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic) and not isinstance(value, np.ndarray):
        return _encode_value(value.item(), where)
    if isinstance(value, list | tuple):
        return [_encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or k == _CLASS:
                raise ValueError(
                    f"Cannot save constructor argument {where!r}: dict key {k!r} "
                    f"is not allowed (keys must be strings other than {_CLASS!r}). "
                    f"Fix: use string keys."
                )
            out[k] = _encode_value(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, eqx.Module):
        return _encode_module(value, where)
    if callable(value):
        fix = (
            "pass functions by name (e.g. activation='tanh') and look them up "
            "inside __init__"
        )
    elif eqx.is_array(value):
        fix = (
            "pass array data as (nested) lists or as a size/shape, or make the "
            "array a trained weight built inside __init__"
        )
    else:
        fix = "pass a JSON value (number, string, bool, None, list, dict) instead"
    raise ValueError(
        f"Cannot save constructor argument {where!r}: its value has type "
        f"{type(value).__module__}.{type(value).__qualname__}, which is neither "
        f"JSON-representable nor an eqx.Module following the sciml convention. "
        f"Fix: {fix}."
    )


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if _CLASS in value:
            return _build(value)
        return {k: _decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def _build(spec: dict[str, Any]) -> Any:
    cls = _import_class(spec[_CLASS])
    kwargs = {k: _decode_value(v) for k, v in spec["args"].items()}
    if any(p.name == "key" for p in _init_parameters(cls)):
        kwargs["key"] = jax.random.key(0)
    try:
        return cls(**kwargs)
    except Exception as e:
        raise ValueError(
            f"Rebuilding {spec[_CLASS]} from its saved arguments {spec['args']} "
            f"failed: {type(e).__name__}: {e}. Note that JSON turns tuples into "
            f"lists. Fix: make the constructor accept lists where it accepts tuples."
        ) from e


def model_spec(model: eqx.Module) -> dict[str, Any]:
    """Return the JSON description `{"__class__": ..., "args": ...}` of a model.

    **Arguments:**

    - `model`: an `eqx.Module` following the sciml convention (see
        [`sciml.training.save_model`][]).

    **Returns:**

    A JSON-representable dict; nested modules appear as the same kind of dict.
    """
    if not isinstance(model, eqx.Module):
        raise TypeError(
            f"Expected an eqx.Module, got {type(model).__name__}. Fix: save an "
            f"equinox model."
        )
    return _encode_module(model, type(model).__qualname__)


def save_model(path: str | os.PathLike, model: eqx.Module) -> pathlib.Path:
    """Save a model with its constructor arguments, so it loads without user code.

    Convention (all sciml models follow it): the model is an `eqx.Module` whose
    `__init__` parameters other than `key` are each stored as an attribute with the
    same name. Their values must be JSON-representable (`int`, `float`, `str`,
    `bool`, `None`, lists/tuples and `str`-keyed dicts of these) or nested
    `eqx.Module`s following the same convention (e.g. an MLP or a
    `diffrax.Tsit5()`), stored recursively as
    `{"__class__": "module.path:QualName", "args": {...}}`. JSON turns tuples into
    lists, so constructors must accept lists wherever they accept tuples. Functions
    such as activations are passed by name (`activation="tanh"`).

    File format: one JSON header line `{"format": "sciml-model", "format_version":
    1, "class": ..., "args": ..., "sciml_version": ...}` followed by the bytes of
    `eqx.tree_serialise_leaves`. The file is written to a temporary name in the
    same folder and renamed into place, so an interrupted save never leaves a
    partial file under `path`.

    **Arguments:**

    - `path`: the file to write (parent folders are created).
    - `model`: the model to save.

    **Returns:**

    The path written, as a `pathlib.Path`.
    """
    path = pathlib.Path(path)
    spec = model_spec(model)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": spec[_CLASS],
        "args": spec["args"],
        "sciml_version": sciml.__version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(header).encode() + b"\n")
            eqx.tree_serialise_leaves(f, model)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def load_model(path: str | os.PathLike) -> Any:
    """Load a model written by [`sciml.training.save_model`][].

    Imports the model's class, rebuilds it from the saved constructor arguments
    (passing `key=jax.random.key(0)` if its `__init__` takes `key`), then loads
    the weights with `eqx.tree_deserialise_leaves`.

    **Arguments:**

    - `path`: the model file.

    **Returns:**

    The rebuilt model with its saved weights.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No model file at {path}. Fix: pass the path given to `save_model` "
            f"(or `<run_dir>/model.eqx` written by `fit`)."
        )
    with path.open("rb") as f:
        first = f.readline(_HEADER_LIMIT)
        try:
            header = json.loads(first)
        except (ValueError, UnicodeDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(
                f"{path} is not a sciml model file: expected a first line with a "
                f"JSON header whose 'format' is {FORMAT!r}. Fix: load a file written "
                f"by `sciml.training.save_model`; for bare equinox weights use "
                f"`eqx.tree_deserialise_leaves` with a model you build yourself."
            )
        version = header.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{path} has format_version {version!r}; this sciml "
                f"({sciml.__version__}) reads version {FORMAT_VERSION}. Fix: load it "
                f"with the sciml version that wrote it "
                f"({header.get('sciml_version')!r})."
            )
        if "class" not in header or "args" not in header:
            raise ValueError(
                f"{path} has a damaged header: expected 'class' and 'args' keys, got "
                f"{sorted(header)}."
            )
        model = _build({_CLASS: header["class"], "args": header["args"]})
        try:
            return eqx.tree_deserialise_leaves(f, model)
        except Exception as e:
            raise ValueError(
                f"The weights in {path} do not fit {header['class']} built from "
                f"{header['args']}: {type(e).__name__}: {e}. The file may be "
                f"truncated, or the class changed since it was saved."
            ) from e
