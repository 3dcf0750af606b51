r"""PDEBench's 1-D advection file: $u_t + \beta u_x = 0$ on the periodic unit interval."""

import os
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._pipeline import Recipe
from ._common import check_common, frame_times, pdebench_number
from ._sines_1d import (
    SinesRecipe,
    channel_last,
    check_sizes,
    spectral_grid,
    write_sines,
)

Scheme = Literal["fv", "exact", "spectral"]


def advection_filename(beta: float | int, scheme: Scheme = "fv") -> str:
    """PDEBench's file name for speed `beta`, `1D_Advection_Sols_beta{β}.hdf5` with
    $\\beta$ as `str(float(beta))[:5]`; the exact and spectral schemes get `_exact`
    or `_spectral` before the suffix, so the schemes never overwrite each other."""
    tail = "" if scheme == "fv" else f"_{scheme}"
    return f"1D_Advection_Sols_beta{pdebench_number(beta)}{tail}.hdf5"


class ExactAdvectionRecipe(Recipe):
    r"""$u(x, t) = u_0((x - \beta t) \bmod 1)$, PDEBench's analytic initial condition
    evaluated at the shifted points (no interpolation, no time stepping)."""

    grid: solvers.Grid
    initial: solvers.PDEBenchSines
    beta: Array
    t: np.ndarray

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        params = self.initial.params(key=key)
        x = jnp.asarray(self.grid.axes[0], jnp.result_type(float))
        length = self.grid.lengths[0]

        def frame(time):
            return self.initial.evaluate(params, jnp.mod(x - self.beta * time, length))

        return {"u": jax.vmap(frame)(self.t)[:, None, :]}

    def finish(self, block):
        return channel_last(block)


def generate_advection(
    *,
    out: str | os.PathLike,
    beta: float | int,
    n_samples: int = 100,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 201,
    t_end: float | int = 2.0,
    scheme: Scheme = "fv",
    cfl: float | int = 0.4,
    spectral_nx: int | None = None,
    dtype: Literal["float32", "float64"] | None = None,
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D advection file for speed $\beta$.

    $u_t + \beta u_x = 0$ on the periodic unit interval from PDEBench's random sines
    (`sciml.solvers.PDEBenchSines`); sample $i$ is drawn from
    `fold_in(key(seed), i)`, so every $\beta$ shares the same initial conditions.
    Grid: cell centres $x_i = (i + 1/2)/n_x$, frames $t_k = k\,t_\mathrm{end}/(n_t -
    1)$. Three schemes (Takamoto et al., PDEBench, NeurIPS 2022 D&B; spec §3):

    - `"fv"`: PDEBench's finite-volume recipe, `sciml.solvers.Advection` with the
      corrected flux; each save interval $\Delta$ takes the equal steps
      $m = \lceil \Delta |\beta| / (c\,\Delta x) \rceil$ at Courant number
      $c \le$ `cfl`, so every save time is hit exactly (sub-stepping, never a
      refusal; $\beta = 0$ takes one step per frame).
    - `"exact"`: $u(x, t) = u_0((x - \beta t) \bmod 1)$ evaluated at the shifted
      points, the check of the finite-volume files (written under its own name).
    - `"spectral"`: `sciml.solvers.SpectralAdvection1D`, Fourier collocation on
      `spectral_nx` cells (default `nx`), one exact phase-shift step per frame
      (with fewer cells than the file's, $u_0$ on the file's cells truncated to
      the solve's modes and the frames interpolated back, `sciml.solvers.resample`):
      exact in time, and in space for a field its modes resolve (written under its
      own name).

    **Arguments:**

    - `out`: directory for the file.
    - `beta`: the advection speed $\beta$ (PDEBench: 0.1, 0.2, 0.4, 0.7, 1, 2, 4, 7).
    - `n_samples`: trajectories (PDEBench: 10 000, an 8 GB file; the default writes
        82 MB).
    - `seed`: PRNG seed of the initial conditions.
    - `nx`: cells (>= 5 for `"fv"`, whose stencil spans five; >= 2 for `"exact"`;
        >= 4 for `"spectral"`).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `scheme`: `"fv"` (PDEBench's finite-volume recipe), `"exact"` or `"spectral"`.
    - `cfl`: the Courant number $|\beta|\Delta t/\Delta x$ of `"fv"` (PDEBench: 0.4).
    - `spectral_nx`: the cells the spectral scheme solves on, even, at most `nx`
        (default `nx`).
    - `dtype`: the arithmetic, `"float32"` or `"float64"`; default float32 for
        `"fv"` and `"spectral"`, float64 for `"exact"` (evaluated once, rounded). The file is
        float32 either way.
    - `chunk_size`: samples per compiled call (default about 2**25 output values);
        the output does not depend on it.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output); see
        `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Advection_Sols_beta{β}.hdf5` (`..._exact.hdf5`,
    `..._spectral.hdf5` for the other schemes): `tensor` `(N, nt, nx)`, `x-coordinate`, `t-coordinate`, root attr `beta`.
    """
    owner = "generate_advection"
    scheme = _checks.choice("scheme", scheme, ("fv", "exact", "spectral"), owner=owner)
    dtype = dtype or ("float64" if scheme == "exact" else "float32")
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    beta = _checks.real("beta", beta, owner=owner)
    min_nx = {"fv": 5, "exact": 2, "spectral": 4}[scheme]
    nx, nt, t_end = check_sizes(owner, nx, nt, t_end, min_nx)
    settings: dict[str, Any] = {"beta": beta, "n_samples": n_samples, "nx": nx}
    settings |= {"nt": nt, "t_end": t_end, "scheme": scheme, "dtype": dtype}
    initial = solvers.PDEBenchSines()

    if scheme == "exact":

        def make_recipe(grid):
            t = frame_times(t_end, nt)
            return ExactAdvectionRecipe(grid, initial, jnp.asarray(beta), t)

    elif scheme == "spectral":
        grid = spectral_grid(owner, nx, spectral_nx)
        interval = t_end / (nt - 1)
        settings |= {"dt": interval, "spectral_nx": grid.shape[0]}

        def make_recipe(file_grid):
            stepper = solvers.SpectralAdvection1D(grid, interval, beta)
            return SinesRecipe(
                stepper,
                initial,
                n_frames=nt,
                substeps=1,
                file_grid=file_grid,
            )

    else:
        cfl = _checks.real("cfl", cfl, above=0.0, below=1.0, owner=owner)
        interval = t_end / (nt - 1)
        max_dt = solvers.Advection.max_dt(solvers.Grid(nx), beta, cfl=cfl)
        m = solvers.substeps(interval, max_dt, what=f"cfl={cfl}, beta={beta}")
        settings |= {"cfl": cfl, "dt": interval / m}

        def make_recipe(grid):
            stepper = solvers.Advection(grid, interval / m, beta)
            return SinesRecipe(stepper, initial, n_frames=nt, substeps=m)

    return write_sines(
        Path(out) / advection_filename(beta, scheme),
        make_recipe,
        nx=nx,
        nt=nt,
        t_end=t_end,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        mesh=mesh,
        float64=dtype == "float64",
        params={"beta": beta},
        provenance={"generator": "advection", "seed": seed, "params": settings},
        resume=resume,
    )
