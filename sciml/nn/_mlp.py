"""Multi-layer perceptron."""

from collections.abc import Callable

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, integer
from ._activations import get_activation
from ._init import initialise


class MLP(eqx.Module):
    r"""A fully connected network $x \mapsto W_{L}\sigma(\dots\sigma(W_1 x + b_1)\dots)
    + b_L$, optionally with LayerNorm after each hidden affine map.

    **Arguments:**

    - `in_size`: input dimension.
    - `out_size`: output dimension.
    - `width`: hidden width.
    - `depth`: number of hidden layers (0 gives an affine map).
    - `activation`: a name from `sciml.nn.ACTIVATIONS` or a callable.
    - `layer_norm`: apply LayerNorm before each hidden activation.
    - `final_activation`: applied to the output (default: none).
    - `init`: a weight initialisation from `sciml.nn.INITIALISATIONS` (e.g.
      `"glorot_normal"`, DeepXDE's; biases zero), or None for equinox's default
      ($W, b \sim \mathcal U(\pm 1/\sqrt{n_\text{in}})$). See
      `sciml.nn.initialise`.
    - `key`: PRNG key for the initialisation.

    Input `(in_size,)`, output `(out_size,)`; `jax.vmap` for batches.
    """

    layers: tuple[eqx.nn.Linear, ...]
    norms: tuple[eqx.nn.LayerNorm, ...]
    in_size: int = eqx.field(static=True)
    out_size: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    activation: str | Callable = eqx.field(static=True)
    layer_norm: bool = eqx.field(static=True)
    final_activation: str | Callable | None = eqx.field(static=True)
    init: str | None = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        out_size: int,
        width: int = 64,
        depth: int = 3,
        activation: str | Callable = "tanh",
        layer_norm: bool = False,
        final_activation: str | Callable | None = None,
        init: str | None = None,
        *,
        key: PRNGKeyArray,
    ):
        self.in_size = integer("in_size", in_size, minimum=1, owner="MLP")
        self.out_size = integer("out_size", out_size, minimum=1, owner="MLP")
        self.width = integer("width", width, minimum=1, owner="MLP")
        self.depth = integer("depth", depth, minimum=0, owner="MLP")
        get_activation(activation)  # fail early on an unknown name
        if final_activation is not None:
            get_activation(final_activation)
        self.activation = activation
        self.final_activation = final_activation
        self.layer_norm = boolean("layer_norm", layer_norm, owner="MLP")
        sizes = [self.in_size] + [self.width] * self.depth + [self.out_size]
        keys = jax.random.split(key, self.depth + 1)
        layers = tuple(
            eqx.nn.Linear(a, b, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )
        if init is not None:
            layers = initialise(layers, init, key=jax.random.fold_in(key, 1))
        self.layers = layers
        self.init = init
        self.norms = tuple(
            eqx.nn.LayerNorm(self.width) for _ in range(self.depth if layer_norm else 0)
        )

    def __call__(self, x: Float[Array, " in_size"]) -> Float[Array, " out_size"]:
        if x.shape != (self.in_size,):
            raise ValueError(
                f"MLP expected one unbatched input of shape ({self.in_size},), got "
                f"{x.shape}. Use jax.vmap(mlp) for a batch."
            )
        act = get_activation(self.activation)
        for i, layer in enumerate(self.layers[:-1]):
            x = layer(x)
            if self.layer_norm:
                x = self.norms[i](x)
            x = act(x)
        x = self.layers[-1](x)
        if self.final_activation is not None:
            x = get_activation(self.final_activation)(x)
        return x
