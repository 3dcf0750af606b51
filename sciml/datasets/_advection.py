r"""1-D linear advection $u_t + \beta u_x = 0$ on the periodic unit interval.

Two schemes (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §3):

- `"fv"` (default): PDEBench's finite-volume recipe, the shared MUSCL-MC
  predictor-corrector scheme of `sciml.datasets._fv1d` with the Rusanov flux
  $F = \tfrac12\beta(u^R_i + u^L_{i+1}) - \tfrac12|\beta|(u^L_{i+1} - u^R_i)$, i.e. with
  the factor $\tfrac12$ whose absence made the pre-Aug-2023 files advect at $2\beta$
  (issue #46), and $\Delta t \le 0.4\,\Delta x/|\beta|$.
- `"exact"`: $u(x, t) = u_0((x - \beta t) \bmod 1)$. The PDEBench initial condition is
  an analytic formula, so it is evaluated at the shifted points (no interpolation,
  no time stepping) in float64 and rounded once to float32. This is the check of
  the finite-volume files.
"""

import functools
import math
import os
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciml.datasets import _fv1d
from sciml.datasets._hdf5 import write
from sciml.datasets._initial import (
    evaluate_initial_condition,
    sample_initial_condition_params,
)

CFL = 0.4  # PDEBench: dt = 0.4 dx / |beta|


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


def advection_flux(beta: Float[Array, ""] | float) -> _fv1d.NumericalFlux:
    r"""The corrected Rusanov flux of $f(u) = \beta u$ (upwind: $F = \beta u^R_i$ for
    $\beta > 0$)."""
    return _fv1d.rusanov_flux(lambda u: beta * u, lambda a, b: jnp.abs(beta))


def advection_fv(
    u0: Float[Array, " X"],
    beta: Float[Array, ""] | float,
    dx: Float[Array, ""] | float,
    dt: Float[Array, ""] | float,
    n_frames: int,
    substeps: int,
) -> Float[Array, "T X"]:
    r"""Solve $u_t + \beta u_x = 0$ for one sample with the finite-volume scheme.

    **Arguments:**

    - `u0`: cell values at $t = 0$.
    - `beta`: the speed $\beta$.
    - `dx`, `dt`: cell width and time step ($|\beta|\,\Delta t/\Delta x \le 1/2$ is
        stable; PDEBench uses 0.4).
    - `n_frames`, `substeps`: frames kept (with `u0`) and steps between frames.

    **Returns:**

    The frames, shape `(n_frames, X)`.
    """
    flux = advection_flux(beta)
    return _fv1d.solve_frames(
        u0,
        lambda u: _fv1d.predictor_corrector_step(u, dt, flux, dx),
        n_frames,
        substeps,
    )


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
    scheme: Literal["fv", "exact"] = "fv",
    dtype: Literal["float32", "float64"] = "float32",
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D advection file for speed $\beta$.

    Grid: cell centres $x_i = (i + 1/2)/n_x$ on $(0, 1)$, frames
    $t_k = k\, t_\mathrm{end}/(n_t - 1)$. Sample $i$'s initial condition is drawn
    from `fold_in(key(seed), i)`, so every $\beta$ shares the same initial conditions.
    With `scheme="fv"` each save interval $\Delta$ takes
    $m = \lceil \Delta |\beta| / (0.4\,\Delta x) \rceil$ equal steps, so every save
    time is hit exactly and the Courant number stays $\le 0.4$ for any $\beta$
    (sub-stepping, never a refusal; $\beta = 0$ takes one step per frame).

    **Arguments:**

    - `out`: directory for the file.
    - `beta`: advection speed (finite).
    - `n_samples`, `seed`, `nx`, `nt`, `t_end`: sizes, PRNG seed and final time
        (`nx >= 5` for `"fv"`: the scheme's stencil spans five cells).
    - `chunk_size`: samples computed per jitted call (default: about 2**25 output
        values); the output does not depend on it.
    - `scheme`: `"fv"` (PDEBench's finite-volume recipe) or `"exact"`.
    - `dtype`: the arithmetic of `"fv"` (float32 for speed, float64 for
        validation); the file is float32 either way. `"exact"` always uses float64.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Advection_Sols_beta{str(float(beta))[:5]}.hdf5`.
    """
    if scheme not in ("fv", "exact"):
        raise ValueError(f"scheme must be 'fv' or 'exact', got {scheme!r}.")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    beta = _fv1d.check_real("beta", beta)
    min_nx = _fv1d.MIN_CELLS if scheme == "fv" else 2
    _fv1d.check_sizes(n_samples, seed, nx, nt, t_end, min_nx)
    chunk = _fv1d.chunk_length(chunk_size, n_samples, nx * nt)
    x = (np.arange(nx) + 0.5) / nx
    t = float(t_end) * np.arange(nt) / (nt - 1)
    path = Path(out) / advection_filename(beta)
    settings: dict[str, Any] = {"beta": beta, "n_samples": n_samples, "nx": nx}
    settings |= {"nt": nt, "t_end": float(t_end), "scheme": scheme}
    key = jax.random.key(seed)

    if scheme == "exact":

        def compute(start: int) -> Array:
            with jax.enable_x64(True):
                return _solution_chunk(
                    key,
                    jnp.asarray(start),
                    jnp.asarray(x),
                    jnp.asarray(t),
                    beta,
                    n=chunk,
                )

    else:
        interval = float(t_end) / (nt - 1)
        dt_max = CFL * (1.0 / nx) / abs(beta) if beta != 0 else math.inf
        m = _fv1d.substeps(interval, dt_max, f"0.4 dx/|beta| with beta={beta}")
        settings |= {"dtype": dtype, "dt": interval / m}
        compute = _fv1d.chunk_compute(
            advection_fv,
            key,
            x,
            (beta,),
            1.0 / nx,
            interval / m,
            dtype=dtype,
            n=chunk,
            n_frames=nt,
            substeps=m,
        )

    return write(
        path,
        _fv1d.chunk_source(compute, n_samples, chunk),
        x=x,
        t=t,
        params={"beta": beta},
        provenance={"generator": "advection", "seed": seed, "params": settings},
        resume=resume,
    )
