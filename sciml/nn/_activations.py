"""Activation functions known by name, so models can be saved and rebuilt."""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "leaky_relu": jax.nn.leaky_relu,
    # the exact form x Phi(x), as PyTorch's default and the reference FNO, PDEBench
    # and neuraloperator use; "gelu_tanh" is the tanh approximation (jax's default)
    "gelu": functools.partial(jax.nn.gelu, approximate=False),
    "gelu_tanh": functools.partial(jax.nn.gelu, approximate=True),
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "elu": jax.nn.elu,
    "softplus": jax.nn.softplus,
    "sigmoid": jax.nn.sigmoid,
    "sin": jnp.sin,
    "identity": lambda x: x,
}
"""Activation functions by name (lower case), for `get_activation` and every model
that takes `activation=`."""


def get_activation(activation: str | Callable) -> Callable:
    """Return the activation function for a name in `ACTIVATIONS`, or a callable as is.

    Pass activations by name where you can: a model built with a named activation
    can be saved with `sciml.training.save_model` and rebuilt without your code.

    **Arguments:**

    - `activation`: a name from `ACTIVATIONS` (case-insensitive) or a callable.

    **Returns:**

    The activation function.
    """
    if callable(activation):
        return activation
    if not isinstance(activation, str):
        raise TypeError(
            f"Expected the activation to be a name or a callable, got "
            f"{type(activation).__name__} {activation!r}, e.g. activation='gelu'."
        )
    if activation.lower() not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {activation!r}. Expected one of {sorted(ACTIVATIONS)} "
            "or a callable, e.g. activation='gelu'."
        )
    return ACTIVATIONS[activation.lower()]
