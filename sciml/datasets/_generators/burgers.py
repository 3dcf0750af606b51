r"""PDEBench's 1-D Burgers file: $u_t + (u^2/2)_x = (\nu/\pi) u_{xx}$, periodic."""

import os
from pathlib import Path
from typing import Any, Literal

from ... import _checks, solvers
from ._common import check_common, pdebench_number
from ._sines_1d import SinesRecipe, check_sizes, write_sines


def burgers_filename(nu: float | int) -> str:
    """PDEBench's file name for `nu`: `1D_Burgers_Sols_Nu{str(float(nu))[:5]}.hdf5`."""
    return f"1D_Burgers_Sols_Nu{pdebench_number(nu)}.hdf5"


def generate_burgers(
    *,
    out: str | os.PathLike,
    nu: float | int,
    n_samples: int = 100,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 201,
    t_end: float | int = 2.0,
    cfl: float | int | None = None,
    entropy_fix: bool = True,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 1-D Burgers file for the viscosity parameter $\nu$.

    Solves $u_t + (u^2/2)_x = (\nu/\pi) u_{xx}$ on $x \in (0, 1)$, periodic, from
    PDEBench's random sines (the same for every $\nu$: sample $i$ is drawn from
    `fold_in(key(seed), i)`) with `sciml.solvers.Burgers`: PDEBench's corrected
    finite-volume flux, with Harten and Hyman's entropy fix unless
    `entropy_fix=False`. Grid: cell centres $x_i = (i + 1/2)/n_x$, frames
    $t_k = k\,t_\mathrm{end}/(n_t-1)$. Each save interval takes the fixed number of
    equal steps that keeps $\Delta t \le 0.25\min(\Delta x/2, \Delta x^2/(2\nu/\pi))$
    (PDEBench's rule, with the maximum principle's bound $|u| < 2$), or the combined
    bound when `cfl` is given (`sciml.solvers.Burgers.max_dt`).

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: $\nu \ge 0$ (PDEBench: 0.001 ... 4; $\nu = 0$ is inviscid).
    - `n_samples`: trajectories (PDEBench: 10 000, an 8 GB file; the default writes
        82 MB).
    - `seed`: PRNG seed of the initial conditions.
    - `nx`: cells (>= 5).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `cfl`: `None` for PDEBench's step, or the Courant number $c \in (0, 1)$ of the
        combined bound $c/(2/\Delta x + 2\kappa/\Delta x^2)$: 2.8x fewer steps at
        $\nu = 0.01$ and, in float32, about 5x less error there (0.9 leaves a 10 %
        margin below the measured limit).
    - `entropy_fix`: Harten and Hyman's entropy fix of the flux (default); `False`
        is PDEBench's flux, whose sonic expansions stay expansion shocks.
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `chunk_size`: samples per compiled call (default about 2**25 output values);
        the output does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Burgers_Sols_Nu{str(float(nu))[:5]}.hdf5`: `tensor`
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
    nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
    nx, nt, t_end = check_sizes(owner, nx, nt, t_end)
    entropy_fix = _checks.boolean("entropy_fix", entropy_fix, owner=owner)
    interval = t_end / (nt - 1)
    max_dt = solvers.Burgers.max_dt(solvers.Grid(nx), nu, cfl=cfl)
    rule = "0.25 min(dx/2, dx^2/(2 nu/pi))" if cfl is None else f"cfl={cfl}"
    m = solvers.substeps(interval, max_dt, what=f"{rule} with nu={nu}, nx={nx}")
    settings: dict[str, Any] = {"nu": nu, "n_samples": n_samples, "nx": nx, "nt": nt}
    settings |= {"t_end": t_end, "dtype": dtype, "dt": interval / m, "cfl": cfl}
    settings["entropy_fix"] = entropy_fix

    def make_recipe(grid):
        stepper = solvers.Burgers(grid, interval / m, nu, entropy_fix=entropy_fix)
        return SinesRecipe(stepper, solvers.PDEBenchSines(), n_frames=nt, substeps=m)

    return write_sines(
        Path(out) / burgers_filename(nu),
        make_recipe,
        nx=nx,
        nt=nt,
        t_end=t_end,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        float64=dtype == "float64",
        params={"Nu": nu},
        provenance={"generator": "burgers", "seed": seed, "params": settings},
        resume=resume,
    )
