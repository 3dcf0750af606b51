r"""PDEBench's 1-D reaction-diffusion file: $u_t = \nu u_{xx} + \rho u(1 - u)$, periodic."""

import os
from pathlib import Path
from typing import Any, Literal

from jax.sharding import Mesh

from ... import _checks, solvers
from ._common import check_common, pdebench_number
from ._sines_1d import SinesRecipe, check_sizes, spectral_grid, write_sines


def reaction_diffusion_filename(
    nu: float | int, rho: float | int, scheme: Literal["fv", "spectral"] = "fv"
) -> str:
    """PDEBench's file name: `ReacDiff_Nu{ν}_Rho{ρ}.hdf5`, each as `str(float(p))[:5]`;
    the spectral scheme gets `_spectral` before the suffix."""
    tail = "_spectral" if scheme == "spectral" else ""
    return f"ReacDiff_Nu{pdebench_number(nu)}_Rho{pdebench_number(rho)}{tail}.hdf5"


def generate_reaction_diffusion(
    *,
    out: str | os.PathLike,
    nu: float | int,
    rho: float | int,
    n_samples: int = 100,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 101,
    t_end: float | int = 1.0,
    scheme: Literal["fv", "spectral"] = "fv",
    cfl: float | int | None = None,
    spectral_nx: int | None = None,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D reaction-diffusion file for $(\nu, \rho)$.

    Solves $u_t = \nu u_{xx} + \rho u(1-u)$ on $x \in (0, 1)$, periodic ([U] in the
    spec, [D]), from PDEBench's random sines min-max normalised to $[0, 1]$ per
    sample ([D]; the same for every $(\nu, \rho)$: sample $i$ is drawn from
    `fold_in(key(seed), i)`). Grid: cell centres $x_i = (i + 1/2)/n_x$, frames
    $t_k = k\,t_\mathrm{end}/(n_t - 1)$; each save interval takes a fixed number of
    equal steps. Two schemes:

    - `"fv"` (default): `sciml.solvers.ReactionDiffusion` (PDEBench's splitting),
      $\Delta t \le c\,\Delta x^2/(2\nu)$; $u$ stays in $[0, 1]$.
    - `"spectral"`: `sciml.solvers.SpectralReactionDiffusion1D` (de-aliased Fourier
      collocation, ETDRK4) on `spectral_nx` cells (default `nx`; with fewer, $u_0$
      is drawn and normalised on the file's cells, truncated to the solve's modes,
      and the frames interpolated back, `sciml.solvers.resample`), $\Delta t \le
      c/(2\rho)$. No maximum
      principle: an initial field the cells do not resolve (PDEBench's window)
      leaves $[0, 1]$ by its Gibbs oscillations.

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: diffusivity $\nu \ge 0$ (PDEBench: 0.5, 1, 2, 5).
    - `rho`: growth rate $\rho \ge 0$ (PDEBench: 1, 2, 5, 10).
    - `n_samples`: trajectories (PDEBench: 10 000; the default writes 41 MB).
    - `seed`: PRNG seed of the initial conditions.
    - `nx`: cells (>= 5).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `scheme`: `"fv"` (PDEBench's splitting) or `"spectral"`.
    - `cfl`: for `"fv"` the Courant number $c = 2\nu\Delta t/\Delta x^2$ in
        $(0, 1)$ (`None`: PDEBench's 0.25); for `"spectral"` the $c > 0$ of
        $2\rho\Delta t \le c$ (`None`: 0.2, one step per frame at PDEBench's
        $\rho \le 10$ and 101 frames to $t = 1$; measured against $c = 0.02$ at
        $\nu = 0.05$, $\rho = 2$ on 64 cells: 2e-5 on the smooth samples, 8e-4 on
        a windowed one, 4e-3 at $c = 1$).
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

    The path `out/ReacDiff_Nu{ν}_Rho{ρ}.hdf5`: `tensor` `(N, nt, nx)`,
    `x-coordinate`, `t-coordinate`, root attrs `Nu`, `rho`.
    """
    owner = "generate_reaction_diffusion"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
    rho = _checks.real("rho", rho, minimum=0.0, owner=owner)
    scheme = _checks.choice("scheme", scheme, ("fv", "spectral"), owner=owner)
    nx, nt, t_end = check_sizes(owner, nx, nt, t_end)
    interval = t_end / (nt - 1)
    settings: dict[str, Any] = {"nu": nu, "rho": rho, "n_samples": n_samples}
    settings |= {"nx": nx, "nt": nt, "t_end": t_end, "dtype": dtype}
    if scheme == "spectral":
        grid = spectral_grid(owner, nx, spectral_nx)
        c = 0.2 if cfl is None else cfl
        max_dt = solvers.SpectralReactionDiffusion1D.max_dt(rho, cfl=c)
        m = solvers.substeps(interval, max_dt, what=f"cfl={c} with rho={rho}")
        settings |= {"scheme": scheme, "cfl": c, "dt": interval / m}
        settings["spectral_nx"] = grid.shape[0]

        def make_stepper(file_grid):
            return solvers.SpectralReactionDiffusion1D(grid, interval / m, nu, rho)

    else:
        c = 0.25 if cfl is None else cfl
        max_dt = solvers.ReactionDiffusion.max_dt(solvers.Grid(nx), nu, cfl=c)
        m = solvers.substeps(interval, max_dt, what=f"cfl={c} with nu={nu}, nx={nx}")
        settings |= {"scheme": scheme, "cfl": c, "dt": interval / m}

        def make_stepper(file_grid):
            return solvers.ReactionDiffusion(file_grid, interval / m, nu, rho)

    def make_recipe(file_grid):
        return SinesRecipe(
            make_stepper(file_grid),
            solvers.PDEBenchSines(),
            n_frames=nt,
            substeps=m,
            normalised=True,
            file_grid=file_grid,
        )

    return write_sines(
        Path(out) / reaction_diffusion_filename(nu, rho, scheme),
        make_recipe,
        nx=nx,
        nt=nt,
        t_end=t_end,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        mesh=mesh,
        float64=dtype == "float64",
        params={"Nu": nu, "rho": rho},
        provenance={
            "generator": "reaction_diffusion",
            "seed": seed,
            "params": settings,
        },
        resume=resume,
    )
