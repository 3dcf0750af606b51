r"""A base solver conditioned on PDE parameters: bare, by constant channels, or by
CAPE."""

from collections.abc import Callable, Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._checks import choice, integer
from ..nn import Constant
from ._cape import CAPE, PARAM_TRANSFORMS, transform_params
from ._rollout import rollout

CONDITIONING_MODES = ("none", "channels", "cape")
"""The `mode=` choices of `Conditioned`."""


class ConditionedStep(NamedTuple):
    """One step of a `Conditioned` solver.

    - `next`: the predicted next state `(out_channels, *grid)`.
    - `cape`: CAPE's guess $u_\\mathrm{CAPE}$ `(channels * frames_out, *grid)`
        (mode `"cape"`), else `None`.
    - `out_of_range`: a boolean scalar, true when a parameter lies outside the
        range seen in training (`train_range`; always false without one). The
        prediction is still made: extrapolation is allowed, but flagged.
    """

    next: Array
    cape: Array | None
    out_of_range: Bool[Array, ""]


class Conditioned(eqx.Module):
    r"""A one-step solver $u^{k} \mapsto u^{k+1}$ told the PDE parameters $\lambda$,
    wrapped around any base solver (`FNO`, `UNet`, or a user's module mapping
    `(C_in, *grid)` to `(C_out, *grid)`).

    - `mode="none"`: the bare base, $\hat u^{k+1} = f(u^k)$; $\lambda$ is ignored.
    - `mode="channels"`: the plain conditional baseline, $\hat u^{k+1} =
      f([u^k, \tilde\lambda \mathbf{1}])$, the (transformed) parameters appended as
      $p$ constant channels.
    - `mode="cape"`: CAPE (Takamoto et al., ICML 2023): $u_\mathrm{CAPE} =
      \mathrm{CAPE}(u^k, \lambda)$, $\hat u^{k+1} = W\,f([u^k, u_\mathrm{CAPE}])$
      with a final pointwise map $W$ from the base's $c(1+\ell)$ output channels to
      $c$; `ConditionedStep.cape` returns $u_\mathrm{CAPE}$ for the auxiliary loss.

    Build the base with the channels `Conditioned.base_channels` gives. The
    parameters' transform $\tilde\lambda$ is `CAPE`'s (`param_transform`); the
    `"channels"` baseline uses the same one ([D] of the method sheet).

    **Arguments:**

    - `base`: the base solver.
    - `mode`: one of `CONDITIONING_MODES`.
    - `channels`: the channels $c$ of the state.
    - `n_params`: the number $p$ of PDE parameters.
    - `grid`: the spatial grid (used by mode `"cape"`; CAPE is tied to it).
    - `out_channels`: the channels of the predicted state (default `channels`).
    - `train_range`: `(low, high)`, each a scalar or a `(p,)` vector: the parameter
      range seen in training, for `ConditionedStep.out_of_range`; `None` flags nothing.
    - `param_transform`: one of `PARAM_TRANSFORMS` (`None`: `"identity"` in 1-D,
      `"sigmoid_log"` in 2-D).
    - `cape_options`: further keyword arguments of `CAPE` (`width`, `frames_out`,
      `pool`, `modes`, `n_blocks`, `kernel_size`).
    - `key`: PRNG key (for CAPE and the final map; the base has its own).

    Call with one state `(channels, *grid)` and parameters `(n_params,)`; returns a
    `ConditionedStep`. `jax.vmap` for a batch.
    """

    base: Callable
    cape: CAPE | None
    head: eqx.nn.Conv | None
    low: Constant | None
    high: Constant | None
    mode: str = eqx.field(static=True)
    channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    n_params: int = eqx.field(static=True)
    n_dims: int = eqx.field(static=True)
    param_transform: str = eqx.field(static=True)

    def __init__(
        self,
        base: Callable,
        mode: str,
        channels: int,
        n_params: int,
        grid: int | Sequence[int],
        out_channels: int | None = None,
        train_range: tuple | None = None,
        param_transform: str | None = None,
        cape_options: dict | None = None,
        *,
        key: PRNGKeyArray,
    ):
        owner = "Conditioned"
        self.base = base
        self.mode = choice("mode", mode, CONDITIONING_MODES, owner=owner)
        self.channels = integer("channels", channels, minimum=1, owner=owner)
        self.out_channels = integer(
            "out_channels",
            self.channels if out_channels is None else out_channels,
            minimum=1,
            owner=owner,
        )
        self.n_params = integer("n_params", n_params, minimum=1, owner=owner)
        grid = (grid,) if isinstance(grid, int) else tuple(grid)
        self.n_dims = len(grid)
        if param_transform is None:
            param_transform = "identity" if self.n_dims == 1 else "sigmoid_log"
        self.param_transform = choice(
            "param_transform", param_transform, PARAM_TRANSFORMS, owner=owner
        )
        if cape_options and self.mode != "cape":
            raise ValueError(f"{owner}: cape_options given for mode={mode!r}.")
        k_cape, k_head = jax.random.split(key)
        if self.mode == "cape":
            self.cape = CAPE(
                self.channels,
                self.n_params,
                grid,
                param_transform=self.param_transform,
                key=k_cape,
                **(cape_options or {}),
            )
            wide = self.channels * (1 + self.cape.frames_out)
            self.head = eqx.nn.Conv(
                self.n_dims, wide, self.out_channels, kernel_size=1, key=k_head
            )
        else:
            self.cape, self.head = None, None
        if train_range is None:
            self.low = self.high = None
        else:
            low, high = (
                jnp.broadcast_to(jnp.asarray(v, jnp.float32), (self.n_params,))
                for v in train_range
            )
            if not bool(np.all(np.asarray(low) <= np.asarray(high))):
                raise ValueError(
                    f"{owner}: train_range needs low <= high; got {train_range}."
                )
            self.low, self.high = Constant(low), Constant(high)

    @staticmethod
    def base_channels(
        mode: str,
        channels: int,
        n_params: int,
        out_channels: int | None = None,
        frames_out: int = 1,
    ) -> tuple[int, int]:
        """The `(in, out)` channels the base solver of a `Conditioned` must have:
        `(c, c_out)` bare, `(c + p, c_out)` with channels, `(c(1+ℓ), c(1+ℓ))` with
        CAPE (a final pointwise map then gives `c_out`)."""
        choice("mode", mode, CONDITIONING_MODES, owner="Conditioned.base_channels")
        out = channels if out_channels is None else out_channels
        if mode == "none":
            return channels, out
        if mode == "channels":
            return channels + n_params, out
        wide = channels * (1 + frames_out)
        return wide, wide

    def __call__(
        self, u: Float[Array, " C *grid"], params: Float[Array, " p"]
    ) -> ConditionedStep:
        if u.ndim != self.n_dims + 1 or u.shape[0] != self.channels:
            raise ValueError(
                f"Conditioned expected one state of shape (C={self.channels}, "
                f"{self.n_dims} spatial axes), got {u.shape}; use jax.vmap for a batch."
            )
        params = jnp.asarray(params)
        if params.shape != (self.n_params,):
            raise ValueError(
                f"Conditioned expected a parameter vector of shape ({self.n_params},), "
                f"got {params.shape}: one value per PDE parameter."
            )
        if self.low is None:
            flag = jnp.zeros((), bool)
        else:
            flag = jnp.any((params < self.low.value) | (params > self.high.value))
        cape = None
        if self.mode == "none":
            x = u
        elif self.mode == "channels":
            lam = transform_params(params.astype(u.dtype), self.param_transform)
            x = jnp.concatenate(
                [
                    u,
                    jnp.broadcast_to(
                        lam.reshape(-1, *(1,) * self.n_dims),
                        (self.n_params, *u.shape[1:]),
                    ),
                ]
            )
        else:
            cape = self.cape(u, params)
            x = jnp.concatenate([u, cape])
        y = self.base(x)
        expected = self.base_channels(
            self.mode,
            self.channels,
            self.n_params,
            self.out_channels,
            1 if self.cape is None else self.cape.frames_out,
        )
        if y.shape != (expected[1], *u.shape[1:]):
            raise ValueError(
                f"Conditioned(mode={self.mode!r}): the base maps {x.shape} to "
                f"{y.shape}; it must give ({expected[1]}, *grid). Build it with "
                f"Conditioned.base_channels(...) = {expected}."
            )
        if self.head is not None:  # the pointwise map as a matrix product over C
            w = self.head.weight.reshape(self.head.weight.shape[:2])
            bias = self.head.bias.reshape(-1, *(1,) * self.n_dims)
            y = jnp.tensordot(w, y, axes=1) + bias
        return ConditionedStep(y, cape, flag)

    def rollout(
        self,
        u0: Float[Array, " C *grid"],
        params: Float[Array, " p"],
        n_steps: int,
        *,
        unroll: int | bool = 1,
    ) -> tuple[Array, Bool[Array, ""]]:
        """The autoregressive rollout $u^1 \\dots u^n$ from `u0` at fixed
        parameters (`sciml.operators.rollout`): the states stacked on a new leading
        axis, and the out-of-range flag of `params`."""
        flag = self(u0, params).out_of_range
        states = rollout(lambda u: self(u, params).next, u0, n_steps, unroll=unroll)
        return states, flag
