"""The Flax Linen bridge: an equinox model as a `linen.Module` whose params are the
model's arrays, and params back into the equinox model."""

import functools
from collections.abc import Mapping
from typing import Any

from ._core import Layout, merge, require, split


class _Held:
    """What a Linen bridge module carries: the layout, the initial parameters and
    the buffers of one model. Compared and hashed by identity, so that a Linen
    dataclass field can hold arrays."""

    __slots__ = ("buffers", "layout", "name", "params")

    def __init__(self, layout: Layout, params: dict, buffers: dict, name: str):
        self.layout = layout
        self.params = params
        self.buffers = buffers
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _constant(value: Any):
    """A Linen initialiser that ignores its key and returns `value`."""
    return lambda key: value


@functools.cache
def _linen_model_type() -> type:
    """The bridge class, defined on first use so that Flax is imported only then."""
    from flax import linen

    class EquinoxLinen(linen.Module):
        """An equinox model as a Linen module; made by `sciml.interop.to_linen`.

        `init(key, *args)` returns `{"params": ...}`, the model's floating arrays
        in nested dicts named by their path in the model, initialised to the
        model's values (the key is unused); `apply(variables, *args)` calls the
        model with those parameters.
        """

        held: _Held

        @linen.compact
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            held = self.held
            params = {
                name: self.param(name, _constant(value))
                for name, value in held.params.items()
            }
            model = merge(held.layout, params, held.buffers, "to_linen")
            return model(*args, **kwargs)

    EquinoxLinen.__module__ = "sciml.interop"
    EquinoxLinen.__qualname__ = "EquinoxLinen"
    return EquinoxLinen


def to_linen(model: Any) -> Any:
    """Wrap an equinox model (any sciml model) as a Flax Linen module.

    `module.init(key, *args)` returns the variables `{"params": params}`, where
    `params` holds the model's floating arrays (the leaves `eqx.is_inexact_array`
    selects) in nested dicts named by their path in the model (for an MLP,
    `params["layers"]["0"]["weight"]`), initialised to the model's own values: the
    key is unused, and `args` is one example input, as the model takes it (one
    unbatched sample). `module.apply(variables, *args)` calls the model with
    those parameters; other arrays (integer, boolean) and static fields stay
    constants of the module. `jax.value_and_grad` over `params` with optax then
    takes the step of an equinox loop with the same optimizer.

    **Arguments:**

    - `model`: the equinox model, e.g. `sciml.nn.MLP(...)`.

    **Returns:**

    A `linen.Module`. Turn (trained) params back into the equinox model with
    [`sciml.interop.from_linen`][].

    Raises `ImportError` if Flax is not installed (`pip install 'sciml-jax[flax]'`).
    """
    require("flax.linen", "to_linen")
    layout, params, buffers = split(model, "to_linen")
    return _linen_model_type()(_Held(layout, params, buffers, type(model).__name__))


def from_linen(module: Any, variables: Mapping) -> Any:
    """The equinox model of a module made by [`sciml.interop.to_linen`][], with the
    parameters in `variables`.

    **Arguments:**

    - `module`: the Linen module `to_linen` returned.
    - `variables`: the variables dict `{"params": params}`, as `module.init`
      returns it, with `params` as trained (e.g. updated by optax).

    **Returns:**

    An equinox model of the class and structure given to `to_linen`, which
    `sciml.training.save_model` saves and every sciml function takes.
    """
    require("flax.linen", "from_linen")
    if not isinstance(module, _linen_model_type()):
        raise TypeError(
            f"from_linen expected a module made by sciml.interop.to_linen, got "
            f"{type(module).__name__}. Fix: pass the module to_linen(model) returned."
        )
    if not isinstance(variables, Mapping):
        raise TypeError(
            f"from_linen expected the variables dict {{'params': params}}, got "
            f"{type(variables).__name__}. Fix: from_linen(module, {{'params': params}})."
        )
    held = module.held
    if held.params and "params" not in variables:
        raise ValueError(
            f"from_linen expected the variables dict {{'params': params}}, got one "
            f"with keys {sorted(map(str, variables))}. Fix: pass "
            f"{{'params': params}}, as module.init returns it."
        )
    return merge(held.layout, variables.get("params", {}), held.buffers, "from_linen")
