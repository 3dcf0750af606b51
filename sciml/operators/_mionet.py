r"""MIONet: a DeepONet of several input functions (Jin, Meng & Lu, SIAM J. Sci.
Comput. 2022; spec deeponet.md §3)."""

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._checks import boolean, choice, integer
from ..nn import MLP
from ._deeponet import (
    STRATEGIES,
    AbstractDeepONet,
    as_shape,
    branch_mlps,
    check_array_input,
    check_size,
    out_size_of,
    output_layout,
    split_sizes,
    trunk_mlps,
)

MERGES = ("product", "sum", "concat")


class MIONet(AbstractDeepONet):
    r"""$G(u^1, \dots, u^n)(y) = \sum_q \Big(\prod_{i=1}^{n} b^i_q(\bar u^i)\Big)
    t_q(y) + b_0$: one branch per input function, merged by their elementwise
    product (`merge="product"`, the paper's form), their sum (`"sum"`), or a
    linear merger of their concatenation (`"concat"`, DeepXDE's options).
    Multiple outputs and the trunk are as in [`sciml.operators.DeepONet`][].

    The input `u` is a tuple of the $n$ inputs (for a batch, a tuple of batches).

    **Arguments:**

    - `n_sensors`: one sensor count (or input shape, with `branches=`) per input.
    - `n_coords`, `latent`, `width`, `depth`, `activation`, `n_outputs`,
        `strategy`, `bias`, `trunk_final_activation`: as for `DeepONet`.
    - `merge`: one of `MERGES`.
    - `branches`: a network per input instead of the MLPs.
    - `key`: PRNG key for the initialisation.
    """

    branches: tuple[Callable, ...]
    merger: Callable | None
    trunk: Callable
    bias: Array | None
    branch_shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    n_coords: int = eqx.field(static=True)
    n_outputs: int = eqx.field(static=True)
    strategy: str = eqx.field(static=True)
    merge: str = eqx.field(static=True)
    groups: tuple[int, int] = eqx.field(static=True)

    def __init__(
        self,
        n_sensors: Sequence[int | tuple[int, ...]],
        n_coords: int,
        latent: int = 100,
        width: int = 100,
        depth: int = 3,
        activation: str | Callable = "tanh",
        *,
        merge: str = "product",
        n_outputs: int = 1,
        strategy: str = "split_both",
        bias: bool = True,
        trunk_final_activation: bool = True,
        branches: Sequence[Callable] | None = None,
        key: PRNGKeyArray,
    ):
        owner = "MIONet"
        if not isinstance(n_sensors, Sequence) or len(n_sensors) < 2:
            raise ValueError(
                f"{owner} takes two or more input functions: n_sensors must list one "
                f"sensor count per input, got {n_sensors!r}. For one input use "
                f"DeepONet."
            )
        self.branch_shapes = tuple(as_shape("n_sensors", n, owner) for n in n_sensors)
        self.n_coords = integer("n_coords", n_coords, minimum=1, owner=owner)
        self.n_outputs = integer("n_outputs", n_outputs, minimum=1, owner=owner)
        self.strategy = choice("strategy", strategy, STRATEGIES, owner=owner)
        if self.strategy == "independent" and self.n_outputs > 1:
            raise ValueError(
                f"{owner}: strategy='independent' would build {self.n_outputs} "
                f"separate MIONets; use split_both, split_branch or split_trunk, or "
                f"one MIONet per output."
            )
        self.merge = choice("merge", merge, MERGES, owner=owner)
        latent = integer("latent", latent, minimum=1, owner=owner)
        self.groups = output_layout(self.strategy, self.n_outputs)
        n_b, n_t, _ = split_sizes(self.strategy, self.n_outputs, latent, owner)
        keys = jax.random.split(key, len(self.branch_shapes) + 2)
        if branches is None:
            branches = [
                branch_mlps(owner, s, n_b, 1, width, depth, activation, key=k)[0]
                for s, k in zip(self.branch_shapes, keys, strict=False)
            ]
        if len(branches) != len(self.branch_shapes):
            raise ValueError(
                f"{owner}: {len(self.branch_shapes)} inputs but {len(branches)} "
                f"branch networks."
            )
        self.branches = tuple(branches)
        dtype = jnp.result_type(float)
        sizes = [
            out_size_of(net, jax.ShapeDtypeStruct(shape, dtype))
            for net, shape in zip(self.branches, self.branch_shapes, strict=True)
        ]
        if self.merge == "concat":
            self.merger = MLP(sum(sizes), n_b, width, 0, activation, key=keys[-2])
        else:
            self.merger = None
            for size in sizes:
                check_size(owner, "branch", size, n_b, latent, self)
        (self.trunk,) = trunk_mlps(
            self.n_coords,
            n_t,
            1,
            width=width,
            depth=depth,
            activation=activation,
            final_activation=boolean(
                "trunk_final_activation", trunk_final_activation, owner=owner
            ),
            fourier_features=None,
            fourier_scale=1.0,
            fourier_trainable=False,
            key=keys[-1],
        )
        self.bias = jnp.zeros(self.n_outputs) if bias else None

    def check_input(self, u: Any) -> None:
        """Raise a ValueError unless `u` is one branch input of this model."""
        n = len(self.branch_shapes)
        if not isinstance(u, tuple | list) or len(u) != n:
            raise ValueError(
                f"MIONet expected a tuple of {n} inputs, one per input function, "
                f"got {type(u).__name__}"
                f"{f' of length {len(u)}' if isinstance(u, tuple | list) else ''}."
            )
        for i, (ui, shape) in enumerate(zip(u, self.branch_shapes, strict=True)):
            check_array_input(f"MIONet (input {i})", ui, shape)

    def features(self, u, y, *, key=None):
        """Branch and trunk features of `u` at the points `y` (see
        `AbstractDeepONet.features`)."""
        outs = [net(ui) for net, ui in zip(self.branches, u, strict=True)]
        if self.merge == "product":
            b = outs[0]
            for o in outs[1:]:
                b = b * o
        elif self.merge == "sum":
            b = sum(outs[1:], outs[0])
        else:
            b = self.merger(jnp.concatenate(outs))
        kb, kt = self.groups
        t = jax.vmap(self.trunk)(y).reshape(y.shape[0], kt, -1)
        return b.reshape(kb, -1), t, None
