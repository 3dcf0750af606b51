"""The Flax NNX bridge: an equinox model as an `nnx.Module`, and back."""

import functools
from typing import Any

import jax

from ._core import merge, require, split


@functools.cache
def _nnx_model_type() -> type:
    """The wrapper class, defined on first use so that Flax is imported only then."""
    from flax import nnx

    data = getattr(nnx, "data", lambda value: value)  # flax < 0.11 has no nnx.data
    static = getattr(nnx, "static", lambda value: value)

    def values(tree):
        return jax.tree.map(
            lambda v: v[...], tree, is_leaf=lambda x: isinstance(x, nnx.Variable)
        )

    class EquinoxNNX(nnx.Module):
        """An equinox model inside Flax NNX; made by `sciml.interop.to_nnx`.

        Attributes: `params` (the model's floating arrays as `nnx.Param`, in
        nested dicts named by their path in the model), `buffers` (its other
        arrays as plain `nnx.Variable`, which `nnx.grad` and
        `nnx.Optimizer(..., wrt=nnx.Param)` leave alone) and `layout` (static:
        the pytree structure and the non-array leaves).
        """

        def __init__(self, model: Any):
            layout, params, buffers = split(model, "to_nnx")
            self.params = data(jax.tree.map(nnx.Param, params))
            self.buffers = data(jax.tree.map(nnx.Variable, buffers))
            self.layout = static(layout)

        def to_equinox(self) -> Any:
            """The equinox model with the current values of the variables."""
            return merge(
                self.layout, values(self.params), values(self.buffers), "from_nnx"
            )

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self.to_equinox()(*args, **kwargs)

    EquinoxNNX.__module__ = "sciml.interop"
    EquinoxNNX.__qualname__ = "EquinoxNNX"
    return EquinoxNNX


def to_nnx(model: Any) -> Any:
    """Wrap an equinox model (any sciml model) as a Flax NNX module.

    The wrapper holds the model's floating arrays (the leaves
    `eqx.is_inexact_array` selects, as `eqx.filter_grad` trains them) as
    `nnx.Param`, its other arrays (integer, boolean, key) as non-trainable
    `nnx.Variable`, and the rest (pytree structure, static fields, Python
    numbers, functions) as static data. Calling it rebuilds the equinox model from
    the current variables and calls that, with the same arguments: it takes one
    unbatched sample, as the model does (`jax.vmap(wrapper)` for a batch). So
    `nnx.Optimizer(wrapper, tx, wrt=nnx.Param)`, `nnx.value_and_grad` and
    `nnx.jit` work on it, and one optax step there is the step of an equinox loop
    (`eqx.filter_value_and_grad` + optax) with the same `tx`.

    **Arguments:**

    - `model`: the equinox model, e.g. `sciml.operators.FNO(...)`.

    **Returns:**

    An `nnx.Module`; its parameters are `wrapper.params`, nested dicts of
    `nnx.Param` named by path in the model (for an MLP,
    `wrapper.params["layers"]["0"]["weight"]`). Get the trained equinox model
    back with [`sciml.interop.from_nnx`][].

    Raises `ImportError` if Flax is not installed (`pip install 'sciml-jax[flax]'`).
    """
    require("flax.nnx", "to_nnx")
    return _nnx_model_type()(model)


def from_nnx(module: Any) -> Any:
    """The equinox model inside a wrapper made by [`sciml.interop.to_nnx`][], with
    the wrapper's current (e.g. trained) parameters.

    **Arguments:**

    - `module`: the wrapper.

    **Returns:**

    An equinox model of the class and structure given to `to_nnx`, which
    `sciml.training.save_model` saves and every sciml function takes.
    """
    require("flax.nnx", "from_nnx")
    wrapper = _nnx_model_type()
    if not isinstance(module, wrapper):
        raise TypeError(
            f"from_nnx expected a module made by sciml.interop.to_nnx, got "
            f"{type(module).__name__}. Fix: wrap the equinox model with "
            f"to_nnx(model) before training it in NNX."
        )
    return module.to_equinox()
