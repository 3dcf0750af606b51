"""The step-size sweep: one compiled, vmapped solve per solver."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def check_dts(dts, t1: float) -> np.ndarray:
    """Check a step-size sweep: at least three positive sizes, each dividing `t1`."""
    dts = np.asarray(dts, dtype=np.float64).reshape(-1)
    if dts.size < 3:
        raise ValueError(
            f"A convergence test needs at least 3 step sizes to fit an order, got "
            f"{dts.size}. Pass e.g. dts=dt_train * 2.0 ** np.arange(-6, 3)."
        )
    if not (np.all(np.isfinite(dts)) and np.all(dts > 0)):
        raise ValueError(f"Expected positive finite step sizes, got {dts.tolist()}.")
    if not (np.isfinite(t1) and t1 > 0):
        raise ValueError(f"Expected a positive finite horizon t1, got {t1!r}.")
    n = t1 / dts
    bad = dts[np.abs(n - np.round(n)) > 1e-8 * n]
    if bad.size:
        raise ValueError(
            f"Every step size must divide the horizon t1={t1}; these do not: "
            f"{bad.tolist()}. Choose t1 as a multiple of the coarsest dt and a "
            "geometric sweep dt_train * 2**j."
        )
    return np.sort(dts)[::-1].copy()


def sweep(
    vector_field: Callable,
    solver: diffrax.AbstractSolver,
    y0s: jax.Array,
    t1: float,
    dts: np.ndarray,
    args=None,
) -> np.ndarray:
    """Integrate every initial condition to `t1` with every step size.

    All step sizes and initial conditions run in one `vmap`ped, jit-compiled call,
    so a solver compiles once whatever the sweep. Runs in the dtype of `y0s`.

    **Returns:** an array `(len(dts), n_ic, *state)` of the states at `t1`.
    """
    max_steps = int(np.ceil(t1 / np.min(dts) * (1 + 1e-9))) + 1
    term = diffrax.ODETerm(vector_field)

    def solve(y0, dt):
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t0=0.0,
            t1=t1,
            dt0=dt,
            y0=y0,
            args=args,
            stepsize_controller=diffrax.ConstantStepSize(),
            saveat=diffrax.SaveAt(t1=True),
            max_steps=max_steps,
            throw=False,
        )
        ok = sol.result == diffrax.RESULTS.successful
        return jnp.where(ok, sol.ys[0], jnp.nan)

    over_ics = jax.vmap(solve, in_axes=(0, None))
    over_dts = jax.vmap(over_ics, in_axes=(None, 0))
    ys = eqx.filter_jit(over_dts)(y0s, jnp.asarray(dts, dtype=y0s.dtype))
    return np.asarray(ys)
