r"""PDEBench's 1-D Burgers file: $u_t + (u^2/2)_x = (\nu/\pi) u_{xx}$, periodic."""

import math
import os
from pathlib import Path
from typing import Any, Literal

from jax.sharding import Mesh

from ... import _checks, solvers
from ._common import check_common, pdebench_number
from ._sines_1d import SinesRecipe, check_sizes, spectral_grid, write_sines

SPECTRAL_CFL = 2.5
r"""The spectral scheme's default $c = \Delta t\,u_{\max} k_{\mathrm{cut}}$ with
$u_{\max} = 2$: below RK4's $2\sqrt2$ on the imaginary axis, where the frozen-
coefficient ETDRK4 amplification of $\hat u' = (-\nu k^2 - iuk)\hat u$ stays at
most 1 for every $\nu \ge 0$ (viscosity only widens the bound)."""


def burgers_filename(nu: float | int, scheme: Literal["fv", "spectral"] = "fv") -> str:
    """PDEBench's file name for `nu`: `1D_Burgers_Sols_Nu{str(float(nu))[:5]}.hdf5`;
    the spectral scheme gets `_spectral` before the suffix, so the two schemes never
    overwrite each other."""
    tail = "_spectral" if scheme == "spectral" else ""
    return f"1D_Burgers_Sols_Nu{pdebench_number(nu)}{tail}.hdf5"


def generate_burgers(
    *,
    out: str | os.PathLike,
    nu: float | int,
    n_samples: int = 100,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 201,
    t_end: float | int = 2.0,
    scheme: Literal["fv", "spectral"] = "fv",
    cfl: float | int | None = None,
    entropy_fix: bool = True,
    spectral_nx: int | None = None,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D Burgers file for the viscosity parameter $\nu$.

    Solves $u_t + (u^2/2)_x = (\nu/\pi) u_{xx}$ on $x \in (0, 1)$, periodic, from
    PDEBench's random sines (the same for every $\nu$: sample $i$ is drawn from
    `fold_in(key(seed), i)`). Grid: cell centres $x_i = (i + 1/2)/n_x$, frames
    $t_k = k\,t_\mathrm{end}/(n_t-1)$; each save interval takes a fixed number of
    equal steps. Two schemes:

    - `"fv"` (default): `sciml.solvers.Burgers`, PDEBench's corrected finite-volume
      flux, with Harten and Hyman's entropy fix unless `entropy_fix=False`. The step
      keeps $\Delta t \le 0.25\min(\Delta x/2, \Delta x^2/(2\nu/\pi))$ (PDEBench's
      rule, with the maximum principle's bound $|u| < 2$), or the combined bound
      when `cfl` is given (`sciml.solvers.Burgers.max_dt`).
    - `"spectral"`: `sciml.solvers.SpectralBurgers1D`, de-aliased Fourier
      collocation with ETDRK4, on `spectral_nx` cells (default `nx`): with fewer
      cells than the file's, $u_0$ on the file's cells is truncated to the solve's
      modes and the frames are interpolated back (`sciml.solvers.resample`; frame
      0 is the truncated series). The step keeps $\Delta t\,
      u_{\max} k_{\mathrm{cut}} \le c$ with $u_{\max} = 2$ (`cfl`, default
      `SPECTRAL_CFL` = 2.5, stable for the frozen-coefficient linearisation at any
      $\nu$; with viscosity the limit is larger,
      `sciml.solvers.SpectralBurgers1D.stable_dt` finds it: $c = 3.65$ at $\nu =
      0.01$ on 192 cells, so `cfl=3.3` takes 3 steps a frame where 2.5 takes 4;
      a stable step need not be an accurate one, and at larger $\nu$ the limit
      grows faster than the time error allows). Measured at $\nu = 0.01$
      (`benchmarks/datasets`): 192 cells reach
      $10^{-5}$ of PDEBench's 1024-cell solution at $t = 2$, and with viscosity
      larger steps stay stable (one step per PDEBench frame, $c \approx 8$, ran on
      the benchmark's samples): that is beyond the linear bound, so check such a
      file (a non-finite solution is refused when written).

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: $\nu \ge 0$ (PDEBench: 0.001 ... 4; $\nu = 0$ is inviscid).
    - `n_samples`: trajectories (PDEBench: 10 000, an 8 GB file; the default writes
        82 MB).
    - `seed`: PRNG seed of the initial conditions.
    - `nx`: cells (>= 5).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `scheme`: `"fv"` (PDEBench's finite-volume scheme) or `"spectral"`.
    - `cfl`: for `"fv"`, `None` for PDEBench's step, or the Courant number
        $c \in (0, 1)$ of the combined bound $c/(2/\Delta x + 2\kappa/\Delta x^2)$:
        2.8x fewer steps at $\nu = 0.01$ and, in float32, about 5x less error there
        (0.9 leaves a 10 % margin below the measured limit). For `"spectral"`, the
        $c > 0$ above (`None`: 2.5).
    - `entropy_fix`: Harten and Hyman's entropy fix of the flux (default); `False`
        is PDEBench's flux, whose sonic expansions stay expansion shocks (`"fv"`
        only).
    - `spectral_nx`: the cells the spectral scheme solves on, even, at most `nx`
        (default `nx`).
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `chunk_size`: samples per compiled call (default about 2**25 output values);
        the output does not depend on it.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Burgers_Sols_Nu{str(float(nu))[:5]}.hdf5` (`..._spectral.hdf5`
    for the spectral scheme): `tensor`
    `(N, nt, nx)`, `x-coordinate`, `t-coordinate`, root attr `Nu`.
    """
    owner = "generate_burgers"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    scheme = _checks.choice("scheme", scheme, ("fv", "spectral"), owner=owner)
    nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
    nx, nt, t_end = check_sizes(owner, nx, nt, t_end)
    entropy_fix = _checks.boolean("entropy_fix", entropy_fix, owner=owner)
    interval = t_end / (nt - 1)
    settings: dict[str, Any] = {"nu": nu, "n_samples": n_samples, "nx": nx, "nt": nt}
    settings |= {"t_end": t_end, "dtype": dtype, "scheme": scheme}
    if scheme == "spectral":
        grid = spectral_grid(owner, nx, spectral_nx)
        c = SPECTRAL_CFL if cfl is None else cfl
        max_dt = solvers.SpectralBurgers1D.max_dt(grid, 2.0, cfl=c)
        m = solvers.substeps(interval, max_dt, what=f"cfl={c}, n={grid.shape[0]}")
        settings |= {"dt": interval / m, "cfl": c, "spectral_nx": grid.shape[0]}

        def make_stepper(file_grid):
            return solvers.SpectralBurgers1D(grid, interval / m, nu / math.pi)

    else:
        max_dt = solvers.Burgers.max_dt(solvers.Grid(nx), nu, cfl=cfl)
        rule = "0.25 min(dx/2, dx^2/(2 nu/pi))" if cfl is None else f"cfl={cfl}"
        m = solvers.substeps(interval, max_dt, what=f"{rule} with nu={nu}, nx={nx}")
        settings |= {"dt": interval / m, "cfl": cfl, "entropy_fix": entropy_fix}

        def make_stepper(file_grid):
            dt = interval / m
            return solvers.Burgers(file_grid, dt, nu, entropy_fix=entropy_fix)

    def make_recipe(file_grid):
        return SinesRecipe(
            make_stepper(file_grid),
            solvers.PDEBenchSines(),
            n_frames=nt,
            substeps=m,
            file_grid=file_grid,
        )

    return write_sines(
        Path(out) / burgers_filename(nu, scheme),
        make_recipe,
        nx=nx,
        nt=nt,
        t_end=t_end,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        mesh=mesh,
        float64=dtype == "float64",
        params={"Nu": nu},
        provenance={"generator": "burgers", "seed": seed, "params": settings},
        resume=resume,
    )
