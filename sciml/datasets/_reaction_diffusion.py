r"""1-D reaction-diffusion (Fisher-KPP) $u_t = \nu u_{xx} + \rho u(1 - u)$, periodic.

PDEBench's recipe (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §3) on
$x \in (0, 1)$, $t \in [0, 1]$ saved every 0.01 (101 frames). Each step of size
$\Delta t$ is a Lie splitting [C]:

1. the exact logistic step $u \leftarrow u e^{\rho\Delta t} / (1 - u + u e^{\rho\Delta t})$
   (the flow of $u_t = \rho u(1-u)$, so the reaction never limits $\Delta t$);
2. one predictor-corrector step of $u_t = \nu u_{xx}$ with the central diffusive flux
   of the shared finite-volume scheme (`sciml.datasets._fv1d`).

$\Delta t \le 0.25\,\Delta x^2/(2\nu)$ [C], reached by splitting each save interval
into the fixed number of equal substeps it needs (sub-stepping, never a refusal).
With that step the diffusion update is a positive combination of neighbours, so
$u$ stays in $[0, 1]$. The splitting is first order in $\Delta t$, but
$\Delta t \propto \Delta x^2$, so the scheme converges at second order in $\Delta x$.

Uncertain points of the spec, resolved [D]: the boundaries are taken periodic (the
sheet marks this [U]), and the initial condition of §2 is min-max normalised to
$[0, 1]$ per sample (over its grid values), which keeps $u_0$ of sample $i$
independent of $\nu$ and $\rho$.
"""

import math
import os
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from sciml.datasets import _fv1d
from sciml.datasets._hdf5 import write

CFL = 0.25  # PDEBench: dt = 0.25 dx^2 / (2 nu)


def reaction_diffusion_filename(nu: float | int, rho: float | int) -> str:
    """PDEBench's file name: `ReacDiff_Nu{str(float(nu))[:5]}_Rho{...}.hdf5`."""
    return f"ReacDiff_Nu{str(float(nu))[:5]}_Rho{str(float(rho))[:5]}.hdf5"


def reaction_diffusion_time_step(nu: float, dx: float) -> float:
    r"""PDEBench's step $0.25\,\Delta x^2/(2\nu)$ (`inf` for $\nu = 0$)."""
    return CFL * dx**2 / (2 * nu) if nu > 0 else math.inf


def normalise(u: Float[Array, " X"]) -> Float[Array, " X"]:
    r"""Min-max normalise one sample to $[0, 1]$ (a constant field becomes 1/2)."""
    low, high = jnp.min(u), jnp.max(u)
    span = high - low
    safe = jnp.where(span > 0, span, 1)
    return jnp.where(span > 0, (u - low) / safe, jnp.full_like(u, 0.5))


def logistic_step(
    u: Float[Array, " X"], growth: Float[Array, ""] | float
) -> Float[Array, " X"]:
    r"""Exact flow of $u_t = \rho u (1 - u)$ over $\Delta t$, given $e^{\rho\Delta t}$."""
    grown = u * growth
    return grown / (1 - u + grown)


def reaction_diffusion_fv(
    u0: Float[Array, " X"],
    nu: Float[Array, ""] | float,
    rho: Float[Array, ""] | float,
    dx: Float[Array, ""] | float,
    dt: Float[Array, ""] | float,
    n_frames: int,
    substeps: int,
) -> Float[Array, "T X"]:
    r"""Solve $u_t = \nu u_{xx} + \rho u(1-u)$ for one periodic sample by splitting.

    **Arguments:**

    - `u0`: cell values at $t = 0$, in $[0, 1]$.
    - `nu`, `rho`: diffusivity $\nu \ge 0$ and growth rate $\rho$.
    - `dx`, `dt`: cell width and time step (see `reaction_diffusion_time_step`).
    - `n_frames`, `substeps`: frames kept (with `u0`) and steps between frames.

    **Returns:**

    The frames, shape `(n_frames, X)`.
    """
    flux = _fv1d.diffusive_flux(nu, dx)
    growth = jnp.exp(rho * dt)

    def step(u: Float[Array, " X"]) -> Float[Array, " X"]:
        u = logistic_step(u, growth)
        return _fv1d.predictor_corrector_step(u, dt, flux, dx)

    return _fv1d.solve_frames(u0, step, n_frames, substeps)


def generate_reaction_diffusion(
    *,
    out: str | os.PathLike,
    nu: float | int,
    rho: float | int,
    n_samples: int = 10_000,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 101,
    t_end: float | int = 1.0,
    chunk_size: int | None = None,
    dtype: Literal["float32", "float64"] = "float32",
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D reaction-diffusion file for $(\nu, \rho)$.

    Solves $u_t = \nu u_{xx} + \rho u(1-u)$ on $x \in (0, 1)$, periodic, from the
    PDEBench initial conditions min-max normalised per sample (the same for every
    $(\nu, \rho)$: sample $i$ is drawn from `fold_in(key(seed), i)`), with the
    splitting of the module docstring. Grid: cell centres $x_i = (i + 1/2)/n_x$,
    frames $t_k = k\,t_\mathrm{end}/(n_t-1)$. Each save interval takes the fixed
    number of equal substeps that keeps $\Delta t \le 0.25\,\Delta x^2/(2\nu)$
    (sub-stepping; a run needing over $10^8$ steps per frame is refused as a
    mistake).

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: diffusivity $\nu \ge 0$, finite (PDEBench: 0.5, 1, 2, 5).
    - `rho`: growth rate $\rho \ge 0$, finite (PDEBench: 1, 2, 5, 10).
    - `n_samples`, `seed`, `nx` (>= 5), `nt`, `t_end`: sizes, PRNG seed, final time.
    - `chunk_size`: samples per jitted call (default: about 2**25 output values);
        the output does not depend on it.
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/ReacDiff_Nu{ν}_Rho{ρ}.hdf5` (root attrs `Nu`, `rho`), each
    parameter written as `str(float(p))[:5]`.
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    nu = _fv1d.check_real("nu", nu, minimum=0.0)
    rho = _fv1d.check_real("rho", rho, minimum=0.0)
    _fv1d.check_sizes(n_samples, seed, nx, nt, t_end, _fv1d.MIN_CELLS)
    chunk = _fv1d.chunk_length(chunk_size, n_samples, nx * nt)
    x = (np.arange(nx) + 0.5) / nx
    t = float(t_end) * np.arange(nt) / (nt - 1)
    interval = float(t_end) / (nt - 1)
    what = f"0.25 dx^2/(2 nu) with nu={nu}, nx={nx}"
    m = _fv1d.substeps(interval, reaction_diffusion_time_step(nu, 1.0 / nx), what)
    settings: dict[str, Any] = {"nu": nu, "rho": rho, "n_samples": n_samples}
    settings |= {"nx": nx, "nt": nt, "t_end": float(t_end), "dtype": dtype}
    settings["dt"] = interval / m
    compute = _fv1d.chunk_compute(
        reaction_diffusion_fv,
        jax.random.key(seed),
        x,
        (nu, rho),
        1.0 / nx,
        interval / m,
        dtype=dtype,
        n=chunk,
        n_frames=nt,
        substeps=m,
        prepare=normalise,
    )

    return write(
        Path(out) / reaction_diffusion_filename(nu, rho),
        _fv1d.chunk_source(compute, n_samples, chunk),
        x=x,
        t=t,
        params={"Nu": nu, "rho": rho},
        provenance={
            "generator": "reaction_diffusion",
            "seed": seed,
            "params": settings,
        },
        resume=resume,
    )
