"""What every solver shares: the fixed-step stepper, the adaptive solver's result,
and the rule that splits a save interval into equal steps."""

import abc
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .. import _checks
from ._grid import Grid

MAX_SUBSTEPS = 10**8  # per save interval: more is refused as a likely mistake
UNROLL = 4  # substeps per loop iteration on accelerators (halves small-step GPU time)


def as_real(value: Any) -> Array:
    """A PDE parameter as a JAX array: JAX arrays (and tracers, so parameters can be
    traced, vmapped and differentiated) pass through; numbers become arrays of the
    default float type (float64 when x64 is on), weakly typed so that they follow
    the dtype of the field they multiply."""
    if isinstance(value, jax.Array):
        return value
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return jnp.asarray(float(value))
    return jnp.asarray(value, dtype=jnp.result_type(float))


class Solution(NamedTuple):
    """What an adaptive solve returns.

    **Arguments:**

    - `ys`: the states at the requested times, `(T, *state)`.
    - `successful`: whether the solver reached the last time (False after a
        step-size collapse or when it ran out of steps).
    """

    ys: Float[Array, "T ..."]
    successful: Bool[Array, ""]


class AbstractStepper(eqx.Module):
    r"""A fixed-step solver: `stepper(u)` advances one channel-first field `(C, *grid)`
    by the step $\Delta t$ (`dt`), like the steppers of Exponax.

    It is an equinox module: its PDE parameters and its step are array leaves, so a
    stepper jits (one compilation per grid, whatever the parameters), vmaps (over
    fields, or over steppers built from a batch of parameters) and differentiates
    (through `__call__` and `trajectory`, with respect to the field and the
    parameters). A neural operator rolls out against it with the same
    `sciml.operators.rollout`.
    """

    grid: eqx.AbstractVar[Grid]
    dt: eqx.AbstractVar[Float[Array, ""]]

    @abc.abstractmethod
    def __call__(self, u: Float[Array, " C *grid"]) -> Float[Array, " C *grid"]:
        """One step of size `dt` from the field `u`, shape `(C, *grid)`."""

    def trajectory(
        self, u0: Float[Array, " C *grid"], n_frames: int, substeps: int = 1
    ) -> Float[Array, " T C *grid"]:
        """The frames $u(t_0 + k\\,m\\,\\Delta t)$, $k = 0 .. n - 1$: `u0` first, then
        one frame every `substeps` ($m$) steps, as one `lax.scan` over frames of a
        `fori_loop` over steps (no data-dependent loop).

        **Arguments:**

        - `u0`: the initial field `(C, *grid)`.
        - `n_frames`: frames returned, including `u0` (static).
        - `substeps`: steps between two frames (static).

        **Returns:**

        The frames, shape `(n_frames, C, *grid)`.
        """
        self.grid.check_field(u0, type(self).__name__)
        return frames(self, u0, n_frames, substeps)


def frames(
    step: Callable[[Array], Array],
    u0: Array,
    n_frames: int,
    substeps: int,
    *,
    forward: Callable[[Array], Array] = lambda u: u,
    backward: Callable[[Array], Array] = lambda v: v,
    first: Array | None = None,
) -> Array:
    """`u0` and then `n_frames - 1` frames, one every `substeps` applications of
    `step`, taken in a transformed space (a spectral solver steps Fourier or sine
    coefficients): `v = forward(u0)`, frames `backward(v)`. One `lax.scan` over
    frames of a `fori_loop` over steps, unrolled on accelerators only (on a CPU,
    unrolling costs compile time)."""
    n_frames = _checks.integer("n_frames", n_frames, minimum=1, owner="trajectory")
    substeps = _checks.integer("substeps", substeps, minimum=1, owner="trajectory")
    unroll = 1 if jax.default_backend() == "cpu" else UNROLL

    def interval(v, _):
        v = jax.lax.fori_loop(0, substeps, lambda _, w: step(w), v, unroll=unroll)
        return v, backward(v)

    _, out = jax.lax.scan(interval, forward(u0), None, length=n_frames - 1)
    first = u0 if first is None else first
    return jnp.concatenate([first[None], out.astype(first.dtype)])


def substeps(
    interval: float | int, max_dt: float | int, *, what: str = "the stability limit"
) -> int:
    r"""Equal steps per save interval: $m = \lceil \Delta/\Delta t_{\max} \rceil \ge 1$,
    so that every save time is hit exactly and no step exceeds $\Delta t_{\max}$.

    PDEBench recomputes $\Delta t$ every step and clips the last one onto each save
    time; fixing $m$ before the solve instead keeps the whole solve one compiled
    loop with no data-dependent trip count [D].

    **Arguments:**

    - `interval`: the save interval $\Delta > 0$.
    - `max_dt`: the largest stable step (`inf` when nothing limits it).
    - `what`: which limit, for the error message.

    **Returns:**

    $m$. Raises `ValueError` when $m$ exceeds $10^8$ (the run would not end).
    """
    interval = _checks.real("interval", interval, above=0.0, owner="substeps")
    m = max(1, math.ceil(interval / max_dt * (1 - 1e-12)))  # 40.000000001 is 40 steps
    if m > MAX_SUBSTEPS:
        raise ValueError(
            f"The time step limit ({what}) needs {m} steps per save interval, more "
            f"than {MAX_SUBSTEPS}; use a coarser grid or another parameter, or save "
            "more often."
        )
    return m
