"""A convolutional encoder: conv and pooling stages, then an MLP, to a vector."""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import integer, integers, real
from ._activations import get_activation
from ._mlp import MLP


class CNN(eqx.Module):
    r"""Convolutions with average pooling, flattened into an MLP: an image-like input
    `(C, H, W)` (or `(C, X)`, `(C, X, Y, Z)`) to a vector, e.g. the branch of
    MT-DeepONet's Darcy model (conv 16-32-64-64, 5x5, average pooling, then an MLP
    128-128 with tanh and dropout 0.1; Kumar et al. 2024, spec deeponet.md §5.2).

    Stage $i$: $h \leftarrow \mathrm{pool}(\sigma_c(\mathrm{conv}_i(h)))$ with
    "same" padding and a $2 \times 2$ (`pool`) average pool that drops a leftover
    row. Then $h$ is flattened and goes through the MLP (hidden layers with
    $\sigma$, dropout after each when a `key` is given, a linear output).

    **Arguments:**

    - `in_shape`: the shape of one input, channels first, e.g. `(2, 100, 100)`.
    - `out_size`: the output length.
    - `channels`: the output channels of each conv stage.
    - `kernel_size`: the conv kernel size.
    - `pool`: the pooling window and stride (1: no pooling).
    - `mlp_width`, `mlp_depth`: the MLP's hidden width and number of hidden layers.
    - `activation`: of the MLP.
    - `conv_activation`: of the conv stages (the sheet does not say which; ReLU
        here, [D]).
    - `dropout`: the dropout rate in the MLP (applied only when `key` is passed).
    - `key`: PRNG key for the initialisation.
    """

    convs: tuple[eqx.nn.Conv, ...]
    pools: tuple[eqx.nn.AvgPool1d | eqx.nn.AvgPool2d | eqx.nn.AvgPool3d, ...]
    mlp: MLP
    dropout: eqx.nn.Dropout
    in_shape: tuple[int, ...] = eqx.field(static=True)
    conv_activation: str | Callable = eqx.field(static=True)

    def __init__(
        self,
        in_shape: Sequence[int],
        out_size: int,
        channels: Sequence[int] = (16, 32, 64, 64),
        kernel_size: int = 5,
        pool: int = 2,
        mlp_width: int = 128,
        mlp_depth: int = 2,
        activation: str | Callable = "tanh",
        conv_activation: str | Callable = "relu",
        dropout: float = 0.0,
        *,
        key: PRNGKeyArray,
    ):
        owner = "CNN"
        self.in_shape = integers("in_shape", in_shape, minimum=1, owner=owner)
        if not 2 <= len(self.in_shape) <= 4:
            raise ValueError(
                f"CNN takes a channels-first input with 1 to 3 spatial axes, got "
                f"in_shape={self.in_shape}."
            )
        channels = integers("channels", channels, minimum=1, owner=owner)
        kernel_size = integer("kernel_size", kernel_size, minimum=1, owner=owner)
        pool = integer("pool", pool, minimum=1, owner=owner)
        real("dropout", dropout, minimum=0.0, below=1.0, owner=owner)
        get_activation(conv_activation)
        self.conv_activation = conv_activation
        dims = len(self.in_shape) - 1
        keys = jax.random.split(key, len(channels) + 1)
        sizes = (self.in_shape[0], *channels)
        self.convs = tuple(
            eqx.nn.Conv(dims, a, b, kernel_size, padding="SAME", key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys[:-1], strict=True)
        )
        pooling = {1: eqx.nn.AvgPool1d, 2: eqx.nn.AvgPool2d, 3: eqx.nn.AvgPool3d}[dims]
        self.pools = tuple(pooling(pool, pool) for _ in channels)
        spatial = self.in_shape[1:]
        for _ in channels:
            spatial = tuple(s // pool for s in spatial)
        if min(spatial) < 1:
            raise ValueError(
                f"CNN: {len(channels)} pooling stages of {pool} shrink the input "
                f"{self.in_shape[1:]} to nothing. Fix: fewer stages or pool=1."
            )
        flat = channels[-1]
        for s in spatial:
            flat *= s
        self.mlp = MLP(flat, out_size, mlp_width, mlp_depth, activation, key=keys[-1])
        self.dropout = eqx.nn.Dropout(dropout)

    def __call__(
        self, x: Float[Array, " C *grid"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, " out_size"]:
        """One input `(C, *grid)`; `key` switches dropout on (training)."""
        if x.shape != self.in_shape:
            raise ValueError(
                f"CNN expected one input of shape {self.in_shape}, got {x.shape}. "
                f"Use jax.vmap for a batch."
            )
        act = get_activation(self.conv_activation)
        for conv, pool in zip(self.convs, self.pools, strict=True):
            x = pool(act(conv(x)))
        x = x.reshape(-1)
        mlp = self.mlp
        mlp_act = get_activation(mlp.activation)
        keys = [None] * mlp.depth if key is None else jax.random.split(key, mlp.depth)
        for layer, k in zip(mlp.layers[:-1], keys, strict=True):
            x = mlp_act(layer(x))
            x = self.dropout(x, key=k, inference=k is None)
        return mlp.layers[-1](x)
