r"""PDEBench's 1-D reaction-diffusion file: $u_t = \nu u_{xx} + \rho u(1 - u)$, periodic."""

import os
from pathlib import Path
from typing import Any, Literal

from ... import _checks, solvers
from ._common import check_common, pdebench_number
from ._sines_1d import SinesRecipe, check_sizes, write_sines


def reaction_diffusion_filename(nu: float | int, rho: float | int) -> str:
    """PDEBench's file name: `ReacDiff_Nu{ν}_Rho{ρ}.hdf5`, each as `str(float(p))[:5]`."""
    return f"ReacDiff_Nu{pdebench_number(nu)}_Rho{pdebench_number(rho)}.hdf5"


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
    cfl: float | int = 0.25,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D reaction-diffusion file for $(\nu, \rho)$.

    Solves $u_t = \nu u_{xx} + \rho u(1-u)$ on $x \in (0, 1)$, periodic ([U] in the
    spec, [D]), with `sciml.solvers.ReactionDiffusion` (PDEBench's splitting), from
    PDEBench's random sines min-max normalised to $[0, 1]$ per sample ([D]; the same
    for every $(\nu, \rho)$: sample $i$ is drawn from `fold_in(key(seed), i)`).
    Grid: cell centres $x_i = (i + 1/2)/n_x$, frames $t_k = k\,t_\mathrm{end}/(n_t -
    1)$. Each save interval takes the fixed number of equal steps that keeps
    $\Delta t \le c\,\Delta x^2/(2\nu)$.

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: diffusivity $\nu \ge 0$ (PDEBench: 0.5, 1, 2, 5).
    - `rho`: growth rate $\rho \ge 0$ (PDEBench: 1, 2, 5, 10).
    - `n_samples`: trajectories (PDEBench: 10 000; the default writes 41 MB).
    - `seed`: PRNG seed of the initial conditions.
    - `nx`: cells (>= 5).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `cfl`: the Courant number $c = 2\nu\Delta t/\Delta x^2$ in $(0, 1)$
        (PDEBench: 0.25).
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `chunk_size`: samples per compiled call (default about 2**25 output values);
        the output does not depend on it.
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
    nx, nt, t_end = check_sizes(owner, nx, nt, t_end)
    interval = t_end / (nt - 1)
    max_dt = solvers.ReactionDiffusion.max_dt(solvers.Grid(nx), nu, cfl=cfl)
    m = solvers.substeps(interval, max_dt, what=f"cfl={cfl} with nu={nu}, nx={nx}")
    settings: dict[str, Any] = {"nu": nu, "rho": rho, "n_samples": n_samples}
    settings |= {"nx": nx, "nt": nt, "t_end": t_end, "dtype": dtype}
    settings |= {"cfl": cfl, "dt": interval / m}

    def make_recipe(grid):
        stepper = solvers.ReactionDiffusion(grid, interval / m, nu, rho)
        return SinesRecipe(
            stepper, solvers.PDEBenchSines(), n_frames=nt, substeps=m, normalised=True
        )

    return write_sines(
        Path(out) / reaction_diffusion_filename(nu, rho),
        make_recipe,
        nx=nx,
        nt=nt,
        t_end=t_end,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        float64=dtype == "float64",
        params={"Nu": nu, "rho": rho},
        provenance={
            "generator": "reaction_diffusion",
            "seed": seed,
            "params": settings,
        },
        resume=resume,
    )
