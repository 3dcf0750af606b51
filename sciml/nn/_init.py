"""Weight initialisation schemes by name, applied to every affine layer of a model."""

import math
from collections.abc import Callable
from typing import TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._random import flat_draw

_Model = TypeVar("_Model")


def _glorot_normal(key, shape, fan_in, fan_out, dtype):
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return std * flat_draw(jax.random.normal, key, shape, dtype=dtype)


def _glorot_uniform(key, shape, fan_in, fan_out, dtype):
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return flat_draw(
        jax.random.uniform, key, shape, dtype=dtype, minval=-bound, maxval=bound
    )


def _he_normal(key, shape, fan_in, fan_out, dtype):
    return math.sqrt(2.0 / fan_in) * flat_draw(
        jax.random.normal, key, shape, dtype=dtype
    )


def _lecun_normal(key, shape, fan_in, fan_out, dtype):
    return math.sqrt(1.0 / fan_in) * flat_draw(
        jax.random.normal, key, shape, dtype=dtype
    )


INITIALISATIONS: dict[str, Callable] = {
    "glorot_normal": _glorot_normal,
    "glorot_uniform": _glorot_uniform,
    "he_normal": _he_normal,
    "lecun_normal": _lecun_normal,
}
"""Weight initialisations by name, for `initialise` and `MLP(init=...)`:
`glorot_normal` $\\mathcal N(0, 2/(n_\\text{in} + n_\\text{out}))$ (DeepXDE's
"Glorot normal", torch's `xavier_normal_`), `glorot_uniform`
$\\mathcal U(\\pm\\sqrt{6/(n_\\text{in} + n_\\text{out})})$, `he_normal`
$\\mathcal N(0, 2/n_\\text{in})$, `lecun_normal` $\\mathcal N(0, 1/n_\\text{in})$."""


def _is_affine(x) -> bool:
    return isinstance(x, eqx.nn.Linear | eqx.nn.Conv)


def _fans(weight: Array) -> tuple[int, int]:
    # Linear (out, in); Conv (out, in / groups, *kernel)
    receptive = math.prod(weight.shape[2:])
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def initialise(model: _Model, scheme: str, *, key: PRNGKeyArray) -> _Model:
    r"""Re-initialise every `equinox.nn.Linear` and `equinox.nn.Conv` in `model`
    with a named scheme: weights drawn from `INITIALISATIONS[scheme]` with their own
    fan-in $n_\text{in}$ (inputs times kernel size) and fan-out, biases zero (the
    convention of these schemes; DeepXDE's too). Other arrays (spectral weights,
    Fourier-feature matrices, `Constant`s) are left as they are.

    Equinox's own default, which every sciml model is built with, is
    $W, b \sim \mathcal U(\pm 1/\sqrt{n_\text{in}})$ (LeCun uniform, nonzero
    bias). Which suits a problem best is an empirical question: choose on held-out
    validation data, not on the test set.

    **Arguments:**

    - `model`: any PyTree of modules (an MLP, a DeepONet, ...).
    - `scheme`: a name from `INITIALISATIONS`.
    - `key`: PRNG key; each layer gets its own subkey.

    **Returns:**

    The model with new weights and biases, its structure unchanged.
    """
    if not isinstance(scheme, str) or scheme not in INITIALISATIONS:
        raise ValueError(
            f"initialise: unknown scheme {scheme!r}; choose one of "
            f"{sorted(INITIALISATIONS)}."
        )
    draw = INITIALISATIONS[scheme]
    layers = [x for x in jax.tree.leaves(model, is_leaf=_is_affine) if _is_affine(x)]
    if not layers:
        return model

    def fresh(layer, k):
        w = layer.weight
        layer = eqx.tree_at(
            lambda lay: lay.weight, layer, draw(k, w.shape, *_fans(w), w.dtype)
        )
        if layer.bias is not None:
            layer = eqx.tree_at(lambda lay: lay.bias, layer, jnp.zeros_like(layer.bias))
        return layer

    keys = iter(jax.random.split(key, len(layers)))
    return jax.tree.map(
        lambda x: fresh(x, next(keys)) if _is_affine(x) else x,
        model,
        is_leaf=_is_affine,
    )
