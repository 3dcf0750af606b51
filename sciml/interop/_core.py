"""What both Flax bridges share, with no Flax in it: an equinox model taken apart
into named trainable arrays, other arrays and static structure, and put back.

A leaf of the model's pytree is one of three kinds, by equinox's own rule
(`eqx.is_inexact_array`, the filter of `eqx.filter_grad`):

- a floating (or complex) array: a trainable parameter;
- any other array (integers, booleans, PRNG keys): a non-trainable buffer;
- anything else (Python numbers, functions, ...): static.

Parameters and buffers are nested dicts of arrays named by their path in the
model, e.g. `{"layers": {"0": {"weight": ..., "bias": ...}}}` for an `MLP`; the
static leaves and the pytree structure are kept in a hashable `Layout`.
"""

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax

INSTALL = "pip install 'sciml-jax[flax]'"

PARAM = "param"
BUFFER = "buffer"
STATIC = "static"


def require(module: str, owner: str) -> Any:
    """Import `module` (e.g. `"flax.nnx"`), or raise an `ImportError` that says how
    to install Flax."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"sciml.interop.{owner} needs Flax, an optional extra of sciml "
            f"({module} could not be imported: {e}). Fix: {INSTALL}"
        ) from e


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """How to rebuild a model from its parameters and buffers: the pytree
    structure, each leaf's kind and name (a path of strings, `None` for a static
    leaf), and the static leaves (`None` where an array goes).

    Hashable, and equal to a layout of the same structure, so that a jit that
    keys its cache on it (`nnx.jit`) does not recompile for an equal model."""

    treedef: Any
    kinds: tuple[str, ...]
    names: tuple[tuple[str, ...] | None, ...]
    statics: tuple[Any, ...]

    def __hash__(self) -> int:
        return hash((self.treedef, self.kinds, self.names))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layout):
            return NotImplemented
        return (
            self.treedef == other.treedef
            and self.kinds == other.kinds
            and self.names == other.names
            and all(
                _same(a, b) for a, b in zip(self.statics, other.statics, strict=True)
            )
        )


def _key_name(key: Any) -> str:
    if isinstance(key, jax.tree_util.GetAttrKey):
        return key.name
    if isinstance(key, jax.tree_util.SequenceKey):
        return str(key.idx)
    if isinstance(key, jax.tree_util.DictKey | jax.tree_util.FlattenedIndexKey):
        return str(key.key)
    return str(key)


def _insert(tree: dict, name: tuple[str, ...], leaf: Any, owner: str) -> None:
    node = tree
    for i, part in enumerate(name):
        last = i == len(name) - 1
        if part in node and (last or not isinstance(node[part], dict)):
            raise ValueError(
                f"{owner}: two leaves of the model are both named "
                f"{'/'.join(name[: i + 1])!r} (paths are joined from attribute "
                "names, sequence indices and dict keys, as strings). Fix: give the "
                "model's fields and dict keys distinct string names."
            )
        if last:
            node[part] = leaf
        else:
            node = node.setdefault(part, {})


def split(model: Any, owner: str) -> tuple[Layout, dict, dict]:
    """Take `model` apart.

    **Arguments:**

    - `model`: an equinox model (any callable pytree).
    - `owner`: the public function's name, for error messages.

    **Returns:**

    `(layout, params, buffers)`: params and buffers as nested dicts of arrays.
    """
    if not callable(model):
        raise TypeError(
            f"{owner} expected an equinox model (a callable eqx.Module), got "
            f"{type(model).__name__}. Fix: pass the model, e.g. "
            f"{owner}(sciml.nn.MLP(2, 1, key=jax.random.key(0)))."
        )
    flat, treedef = jax.tree_util.tree_flatten_with_path(model)
    params: dict = {}
    buffers: dict = {}
    kinds, names, statics = [], [], []
    for path, leaf in flat:
        if eqx.is_inexact_array(leaf):
            kind, tree = PARAM, params
        elif eqx.is_array(leaf):
            kind, tree = BUFFER, buffers
        else:
            kinds.append(STATIC)
            names.append(None)
            statics.append(leaf)
            continue
        name = tuple(_key_name(k) for k in path)
        if not name:
            raise TypeError(
                f"{owner} expected an equinox model whose arrays are fields, got a "
                f"bare {type(model).__name__}. Fix: wrap it in an eqx.Module."
            )
        _insert(tree, name, leaf, owner)
        kinds.append(kind)
        names.append(name)
        statics.append(None)
    layout = Layout(treedef, tuple(kinds), tuple(names), tuple(statics))
    return layout, params, buffers


def _lookup(tree: Mapping, name: tuple[str, ...], what: str, owner: str) -> Any:
    node = tree
    for part in name:
        try:
            node = node[part]
        except (KeyError, TypeError, IndexError):
            raise ValueError(
                f"{owner}: the {what} have no entry {'/'.join(name)!r}, which the "
                "model needs. Fix: pass parameters of this same model (as the "
                "bridge made them, updated by an optimizer), not of another one."
            ) from None
    return node


def merge(layout: Layout, params: Mapping, buffers: Mapping, owner: str) -> Any:
    """Put a model back together: the inverse of `split`.

    **Arguments:**

    - `layout`: from `split`.
    - `params`, `buffers`: nested mappings of arrays with the names `split` gave.
    - `owner`: the public function's name, for error messages.

    **Returns:**

    The equinox model.
    """
    leaves = []
    for kind, name, static in zip(
        layout.kinds, layout.names, layout.statics, strict=True
    ):
        if kind == STATIC:
            leaves.append(static)
        elif kind == PARAM:
            leaves.append(_lookup(params, name, "parameters", owner))
        else:
            leaves.append(_lookup(buffers, name, "buffers", owner))
    return jax.tree_util.tree_unflatten(layout.treedef, leaves)
