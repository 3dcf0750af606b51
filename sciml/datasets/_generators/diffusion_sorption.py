r"""PDEBench's diffusion-sorption file: $u_t = D/R(u)\,u_{xx}$ on $(0, 1)$."""

import os
from pathlib import Path
from typing import Literal

import jax
from jax.sharding import Mesh

from ... import _checks, solvers
from .._layouts import write_groups
from .._pipeline import chunk_length, chunk_source
from ._common import SolveRecipe, check_common, frame_times

FILENAME = "1D_diff-sorp_NA_NA.h5"
CHUNK_SAMPLES = 64


def generate_diffusion_sorption(
    *,
    out: str | os.PathLike,
    d: float | int = 5e-4,
    phi: float | int = 0.29,
    rho_s: float | int = 2880.0,
    k_f: float | int = 3.5e-4,
    n_f: float | int = 0.874,
    n_samples: int = 100,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 101,
    t_end: float | int = 500.0,
    boundary: Literal["face", "pdebench"] = "face",
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's diffusion-sorption file `1D_diff-sorp_NA_NA.h5`.

    $u_t = D/R(u)\,u_{xx}$ on $(0,1)$ with $u(0,t) = 1$, $u(1,t) = -D u_x(1,t)$ (see
    `sciml.solvers.DiffusionSorption` for the sign), from a constant
    $u_0 \sim U(0, 0.2)$ (`sciml.solvers.RandomConstant`) drawn from
    `fold_in(key(seed), i)` for sample $i$; frames $t_k = k\,t_\mathrm{end}/(n_t-1)$
    (the first is $u_0$). Kvaerno5 + PID (`rtol` $10^{-6}$, `atol` $10^{-9}$); a
    failed solve raises `RuntimeError`.

    **Arguments:**

    - `out`: directory for the file.
    - `d`: $D > 0$ (PDEBench: $5\cdot10^{-4}$).
    - `phi`: porosity $\phi \in (0, 1)$ (PDEBench: 0.29).
    - `rho_s`: bulk density $\rho_s \ge 0$ (PDEBench: 2880).
    - `k_f`: Freundlich constant $k_f \ge 0$ (PDEBench: $3.5\cdot10^{-4}$).
    - `n_f`: Freundlich exponent $n_f > 0$ (PDEBench: 0.874).
    - `n_samples`: trajectories (PDEBench: 10 000; the default writes 41 MB).
    - `seed`: PRNG seed of the initial values.
    - `nx`: cells (>= 3).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time (PDEBench: 500).
    - `boundary`: `"face"` (the conditions on the boundary faces, second order,
        default) or `"pdebench"` (PDEBench's ghost values, first order).
    - `dtype`: the arithmetic of the stiff solve (float64 by default, which the
        tolerances assume); the file is float32 either way.
    - `chunk_size`: samples per compiled call (default 64).
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_diff-sorp_NA_NA.h5`: groups `0000`, ... with `data`
    `(nt, nx, 1)`, `grid/x` (cell centres), `grid/t`; root attr `config` (JSON).
    """
    owner = "generate_diffusion_sorption"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    values = {
        "d": _checks.real("d", d, above=0.0, owner=owner),
        "phi": _checks.real("phi", phi, above=0.0, below=1.0, owner=owner),
        "rho_s": _checks.real("rho_s", rho_s, minimum=0.0, owner=owner),
        "k_f": _checks.real("k_f", k_f, minimum=0.0, owner=owner),
        "n_f": _checks.real("n_f", n_f, above=0.0, owner=owner),
        "t_end": _checks.real("t_end", t_end, above=0.0, owner=owner),
    }
    nx = _checks.integer("nx", nx, minimum=3, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    boundary = _checks.choice("boundary", boundary, ("face", "pdebench"), owner=owner)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_SAMPLES)
    grid = solvers.Grid(nx)
    t = frame_times(values["t_end"], nt)
    config = {
        **values,
        "n_samples": n_samples,
        "seed": seed,
        "nx": nx,
        "nt": nt,
        "boundary": boundary,
        "dtype": dtype,
        "u0": "constant ~ U(0, 0.2)",
        "solver": f"diffrax Kvaerno5, PID rtol 1e-6 atol 1e-9, {dtype}",
    }
    parameters = {k: values[k] for k in ("d", "phi", "rho_s", "k_f", "n_f")}

    def make_recipe():
        solver = solvers.DiffusionSorption(grid, **parameters, boundary=boundary)
        return SolveRecipe(solver, solvers.RandomConstant(0.0, 0.2), t)

    chunks = chunk_source(
        make_recipe,
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    return write_groups(
        Path(out) / FILENAME,
        chunks,
        x=grid.axes[0],
        t=t,
        config=config,
        provenance={"generator": "diffusion_sorption", "seed": seed},
        resume=resume,
    )
