r"""The modified DeepONet: branch and trunk are modified MLPs gated by input
encodings (Wang, Wang & Perdikaris, "Improved architectures and training
algorithms for deep operator networks", J. Sci. Comput. 2022; spec deeponet.md
§3)."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._checks import choice, integer
from ..nn import ModifiedMLP, get_activation
from ._deeponet import (
    STRATEGIES,
    AbstractDeepONet,
    as_shape,
    check_array_input,
    output_layout,
    split_sizes,
)

MIXINGS = ("cross", "per_network")


class ModifiedDeepONet(AbstractDeepONet):
    r"""A DeepONet whose branch and trunk are [`sciml.nn.ModifiedMLP`][]s.

    With `mixing="cross"` (the paper's form) both networks are gated by the same
    two encodings, $U = \sigma(W_u \bar u + c_u)$ of the input function and
    $V = \sigma(W_v y + c_v)$ of the query point:
    $H^{l+1} = (1 - Z^l) \odot U + Z^l \odot V$ in both, so the branch features
    depend on $y$ too and are computed per point ($P$ times the branch's gated
    layers per input; the cartesian product then no longer factorises into
    $B T^\top$). With `mixing="per_network"` (the PI-DeepONet notebook's and
    jaxpi's form) each network has its own $U$, $V$ from its own input, and the
    model factorises as a plain DeepONet. The last layers are linear to $p$; all
    hidden widths are equal. Multiple outputs: `split_both`, `split_branch`,
    `split_trunk` as in [`sciml.operators.DeepONet`][].

    **Arguments:**

    - `n_sensors`, `n_coords`, `latent`, `width`, `depth` (gated layers),
        `activation`, `n_outputs`, `strategy`, `bias`: as for `DeepONet`.
    - `mixing`: one of `MIXINGS`.
    - `key`: PRNG key for the initialisation.
    """

    branch: ModifiedMLP
    trunk: ModifiedMLP
    encoder_u: eqx.nn.Linear | None
    encoder_v: eqx.nn.Linear | None
    bias: Array | None
    branch_shape: tuple[int, ...] = eqx.field(static=True)
    n_coords: int = eqx.field(static=True)
    n_outputs: int = eqx.field(static=True)
    strategy: str = eqx.field(static=True)
    mixing: str = eqx.field(static=True)
    groups: tuple[int, int] = eqx.field(static=True)
    activation: str | Callable = eqx.field(static=True)

    def __init__(
        self,
        n_sensors: int,
        n_coords: int,
        latent: int = 100,
        width: int = 100,
        depth: int = 3,
        activation: str | Callable = "tanh",
        *,
        mixing: str = "cross",
        n_outputs: int = 1,
        strategy: str = "split_both",
        bias: bool = True,
        key: PRNGKeyArray,
    ):
        owner = "ModifiedDeepONet"
        self.branch_shape = as_shape("n_sensors", n_sensors, owner)
        if len(self.branch_shape) != 1:
            raise ValueError(f"{owner} takes sensor values (m,), got {n_sensors!r}.")
        self.n_coords = integer("n_coords", n_coords, minimum=1, owner=owner)
        self.n_outputs = integer("n_outputs", n_outputs, minimum=1, owner=owner)
        self.strategy = choice("strategy", strategy, STRATEGIES, owner=owner)
        if self.strategy == "independent" and self.n_outputs > 1:
            raise ValueError(
                f"{owner}: strategy='independent' is not offered here; use "
                f"split_both, split_branch or split_trunk."
            )
        self.mixing = choice("mixing", mixing, MIXINGS, owner=owner)
        latent = integer("latent", latent, minimum=1, owner=owner)
        get_activation(activation)
        self.activation = activation
        self.groups = output_layout(self.strategy, self.n_outputs)
        n_b, n_t, _ = split_sizes(self.strategy, self.n_outputs, latent, owner)
        kb, kt, ku, kv = jax.random.split(key, 4)
        own = self.mixing == "per_network"
        m = self.branch_shape[0]
        self.branch = ModifiedMLP(m, n_b, width, depth, activation, own, key=kb)
        self.trunk = ModifiedMLP(
            self.n_coords, n_t, width, depth, activation, own, key=kt
        )
        self.encoder_u = None if own else eqx.nn.Linear(m, width, key=ku)
        self.encoder_v = None if own else eqx.nn.Linear(self.n_coords, width, key=kv)
        self.bias = jnp.zeros(self.n_outputs) if bias else None

    def check_input(self, u: Any) -> None:
        """Raise a ValueError unless `u` is one branch input of this model."""
        check_array_input(type(self).__name__, u, self.branch_shape)

    def features(self, u, y, *, key=None):
        """Branch and trunk features of `u` at the points `y` (see
        `AbstractDeepONet.features`)."""
        kb, kt = self.groups
        if self.mixing == "per_network":
            b = self.branch(u)
            t = jax.vmap(self.trunk)(y)
        else:
            act = get_activation(self.activation)
            enc_u = act(self.encoder_u(u))  # (h,)
            enc_v = act(jax.vmap(self.encoder_v)(y))  # (P, h)
            b = self.branch.hidden(u, enc_u, enc_v)  # (P, n_b), or (n_b,) at depth 0
            t = self.trunk.hidden(y, enc_u, enc_v)  # (P, n_t)
        return b.reshape(*b.shape[:-1], kb, -1), t.reshape(y.shape[0], kt, -1), None
