r"""1-D linear advection $u_t + \beta u_x = 0$ on the periodic unit interval, exactly.

The solution is $u(x, t) = u_0((x - \beta t) \bmod 1)$; since the PDEBench initial
condition is an analytic formula, it is evaluated at the shifted points (no
interpolation, no time stepping). Evaluation runs in float64 (switched on locally
with `jax.enable_x64`) and is rounded once to float32 for the file, so each stored
value is the float32 nearest the exact solution at the float32 parameters drawn.
This is the corrected physics of PDEBench issue #46 (speed $\beta$, not $2\beta$).
"""

import functools
import math
import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciml.datasets._hdf5 import write
from sciml.datasets._initial import (
    evaluate_initial_condition,
    sample_initial_condition_params,
)

_CHUNK_ELEMENTS = 2**23  # float64 values per generated chunk (64 MiB)


def advection_filename(beta: float | int) -> str:
    """PDEBench's file name for advection speed `beta`: `str(float(beta))[:5]`."""
    return f"1D_Advection_Sols_beta{str(float(beta))[:5]}.hdf5"


@functools.partial(jax.jit, static_argnames="n")
def _solution_chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    x: Float[Array, " X"],
    t: Float[Array, " T"],
    beta: Float[Array, ""],
    n: int,
) -> Float[Array, "n T X"]:
    params = sample_initial_condition_params(key, n, start=start)

    def trajectory(p):
        def frame(time):
            return evaluate_initial_condition(p, jnp.mod(x - beta * time, 1.0))

        return jax.vmap(frame)(t)

    return jax.vmap(trajectory)(params)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check(beta: Any, n_samples: Any, seed: Any, nx: Any, nt: Any, t_end: Any) -> None:
    """Raise TypeError for a wrong type, ValueError for a bad value, with a fix."""
    for name, value in (("beta", beta), ("t_end", t_end)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(f"{name} must be a real number, got {value!r}.")
    for name, value in (("n_samples", n_samples), ("seed", seed), ("nx", nx)):
        if not _is_int(value):
            raise TypeError(f"{name} must be an integer, got {value!r}.")
    if not _is_int(nt):
        raise TypeError(f"nt must be an integer, got {nt!r}.")
    if not math.isfinite(float(beta)):
        raise ValueError(f"beta must be finite, got {beta!r}; pass e.g. beta=0.4.")
    for name, value, low in (("n_samples", n_samples, 1), ("nx", nx, 2), ("nt", nt, 2)):
        if value < low:
            fix = f"e.g. {name}={low}"
            raise ValueError(f"{name} must be >= {low}, got {value}; {fix}.")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}; e.g. seed=0.")
    if not (math.isfinite(float(t_end)) and t_end > 0):
        raise ValueError(f"t_end must be finite and > 0, got {t_end!r}; e.g. 2.0.")


def generate_advection(
    *,
    out: str | os.PathLike,
    beta: float | int,
    n_samples: int = 10_000,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 201,
    t_end: float | int = 2.0,
    chunk_size: int | None = None,
) -> Path:
    r"""Write PDEBench's 1-D advection file for speed $\beta$ with the exact solution.

    Grid: cell centres $x_i = (i + 1/2)/n_x$ on $(0, 1)$, frames
    $t_k = k\, t_\mathrm{end}/(n_t - 1)$. Sample $i$'s initial condition is drawn
    from `fold_in(key(seed), i)`, so every $\beta$ shares the same initial conditions.

    **Arguments:**

    - `out`: directory for the file.
    - `beta`: advection speed (finite).
    - `n_samples`, `seed`, `nx`, `nt`, `t_end`: sizes, PRNG seed and final time.
    - `chunk_size`: samples computed per jitted call (default: about 64 MiB of
        float64); the output does not depend on it.

    **Returns:**

    The path `out/1D_Advection_Sols_beta{str(float(beta))[:5]}.hdf5`.
    """
    _check(beta, n_samples, seed, nx, nt, t_end)
    if chunk_size is not None and (not _is_int(chunk_size) or chunk_size < 1):
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")
    beta = float(beta)
    chunk = chunk_size or max(1, _CHUNK_ELEMENTS // (nx * nt))
    chunk = min(chunk, n_samples)
    x = (np.arange(nx) + 0.5) / nx
    t = float(t_end) * np.arange(nt) / (nt - 1)
    path = Path(out) / advection_filename(beta)
    settings = {"beta": beta, "n_samples": n_samples, "nx": nx, "nt": nt}
    settings["t_end"] = float(t_end)

    def chunks(first: int = 0):
        key = jax.random.key(seed)
        for start in range(first, n_samples, chunk):
            u = _solution_chunk(
                key, jnp.asarray(start), jnp.asarray(x), jnp.asarray(t), beta, n=chunk
            )
            yield np.asarray(u, dtype=np.float32)[: n_samples - start, :, :, None]

    with jax.enable_x64(True):
        return write(
            path,
            chunks,
            x=x,
            t=t,
            params={"beta": beta},
            provenance={"generator": "advection", "seed": seed, "params": settings},
        )
