"""The modified MLP: hidden layers gated between two input encodings."""

from collections.abc import Callable

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, integer
from ._activations import get_activation


def _affine(layer: eqx.nn.Linear, h: Array) -> Array:
    """`layer` on the last axis of `h` (one vector or a stack of them)."""
    return h @ layer.weight.T + layer.bias


class ModifiedMLP(eqx.Module):
    r"""The modified MLP of Wang, Teng & Perdikaris (SIAM J. Sci. Comput. 2021),
    used by the modified DeepONet (Wang, Wang & Perdikaris, J. Sci. Comput. 2022):

    $$U = \sigma(W_u x + c_u), \quad V = \sigma(W_v x + c_v), \quad
    H^1 = \sigma(W^1 x + c^1),$$
    $$Z^l = \sigma(W^{l+1} H^l + c^{l+1}), \quad
    H^{l+1} = (1 - Z^l) \odot U + Z^l \odot V \quad (l = 1 \dots L),$$

    and the output $W^{L+2} H^{L+1} + c^{L+2}$ (linear). `__call__(x)` uses its
    own encoders; `hidden(x, u, v)` takes the encodings from outside (the
    modified DeepONet's `mixing="cross"`, where both networks share $U$ from the
    input function and $V$ from the query point), and broadcasts: $U$, $V$ or
    $x$ may carry a leading stack of points.

    **Arguments:**

    - `in_size`, `out_size`: input and output dimension.
    - `width`: the hidden width (the encoders' too).
    - `depth`: the number $L$ of gated layers.
    - `activation`: $\sigma$, a name or a callable.
    - `encoders`: build the two encoders (False: the encodings always come from
        outside, through `hidden`).
    - `key`: PRNG key for the initialisation.
    """

    encoder_u: eqx.nn.Linear | None
    encoder_v: eqx.nn.Linear | None
    layers: tuple[eqx.nn.Linear, ...]
    in_size: int = eqx.field(static=True)
    out_size: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    activation: str | Callable = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        out_size: int,
        width: int = 100,
        depth: int = 3,
        activation: str | Callable = "tanh",
        encoders: bool = True,
        *,
        key: PRNGKeyArray,
    ):
        owner = "ModifiedMLP"
        self.in_size = integer("in_size", in_size, minimum=1, owner=owner)
        self.out_size = integer("out_size", out_size, minimum=1, owner=owner)
        self.width = integer("width", width, minimum=1, owner=owner)
        self.depth = integer("depth", depth, minimum=0, owner=owner)
        get_activation(activation)
        self.activation = activation
        ku, kv, *keys = jax.random.split(key, self.depth + 4)
        encoders = boolean("encoders", encoders, owner=owner)
        self.encoder_u = (
            eqx.nn.Linear(self.in_size, self.width, key=ku) if encoders else None
        )
        self.encoder_v = (
            eqx.nn.Linear(self.in_size, self.width, key=kv) if encoders else None
        )
        sizes = [self.in_size] + [self.width] * (self.depth + 1) + [self.out_size]
        self.layers = tuple(
            eqx.nn.Linear(a, b, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )

    def encode(self, x: Float[Array, "*P in_size"]) -> tuple[Array, Array]:
        """The encodings $(U, V)$ of `x`."""
        if self.encoder_u is None:
            raise ValueError(
                "This ModifiedMLP was built with encoders=False; pass its encodings "
                "to hidden(x, u, v)."
            )
        act = get_activation(self.activation)
        return act(_affine(self.encoder_u, x)), act(_affine(self.encoder_v, x))

    def hidden(self, x: Array, u: Array, v: Array) -> Array:
        """The output for input `x` with the encodings `u`, `v` (broadcast)."""
        act = get_activation(self.activation)
        h = act(_affine(self.layers[0], x))
        for layer in self.layers[1:-1]:
            z = act(_affine(layer, h))
            h = (1.0 - z) * u + z * v
        return _affine(self.layers[-1], h)

    def __call__(self, x: Float[Array, " in_size"]) -> Float[Array, " out_size"]:
        if x.shape != (self.in_size,):
            raise ValueError(
                f"ModifiedMLP expected one input of shape ({self.in_size},), got "
                f"{x.shape}. Use jax.vmap for a batch."
            )
        return self.hidden(x, *self.encode(x))
