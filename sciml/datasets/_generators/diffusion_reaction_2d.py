r"""PDEBench's 2-D diffusion-reaction file: FitzHugh-Nagumo on $(-1, 1)^2$."""

import os
from pathlib import Path
from typing import Literal

import jax
from jax.sharding import Mesh

from ... import _checks, solvers
from .._layouts import write_groups
from .._pipeline import chunk_length, chunk_source
from ._common import SolveRecipe, check_common, frame_times

FILENAME = "2D_diff-react_NA_NA.h5"
CHUNK_SAMPLES = 64


def generate_diffusion_reaction_2d(
    *,
    out: str | os.PathLike,
    du: float | int = 1e-3,
    dv: float | int = 5e-3,
    k: float | int = 5e-3,
    n_samples: int = 10,
    seed: int = 0,
    nx: int = 128,
    ny: int = 128,
    nt: int = 101,
    t_end: float | int = 5.0,
    rtol: float | int = 1e-6,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 2-D diffusion-reaction file `2D_diff-react_NA_NA.h5`.

    FitzHugh-Nagumo on $(-1, 1)^2$ with no-flux boundaries
    (`sciml.solvers.DiffusionReaction2D`), from $u_0, v_0 \sim \mathcal N(0, 1)$ per
    cell (`sciml.solvers.StandardNormal`) drawn from `fold_in(key(seed), i)` for
    sample $i$; frames $t_k = k\,t_\mathrm{end}/(n_t - 1)$ (the first is the initial
    condition). Tsit5 + PID; a failed solve raises `RuntimeError`. The axes are
    `data[t, i, j, c]` for cell $(x_i, y_j)$ and $c$ = (u, v) [D]; PDEBench's
    simulator reshapes to `(t, y, x)`, which on its square grid with i.i.d. initial
    values and an isotropic equation has the same distribution.

    **Arguments:**

    - `out`: directory for the file.
    - `du`, `dv`: the diffusivities $D_u, D_v \ge 0$ (PDEBench: $10^{-3}$,
        $5\cdot10^{-3}$).
    - `k`: the reaction constant (PDEBench: $5\cdot10^{-3}$).
    - `n_samples`: trajectories (PDEBench: 1000, 13 MB each; the default writes
        130 MB).
    - `seed`: PRNG seed of the initial values.
    - `nx`, `ny`: cells per axis (PDEBench: 128, 128).
    - `nt`: saved frames, including $t = 0$ (PDEBench: 101).
    - `t_end`: final time (PDEBench: 5).
    - `rtol`: the controller's relative tolerance (`atol` is `rtol / 100`).
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `chunk_size`: samples per compiled call (default 64).
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_diff-react_NA_NA.h5`: groups `0000`, ... with `data`
    `(nt, nx, ny, 2)` (channels u, v), `grid/x`, `grid/y` (cell centres), `grid/t`;
    root attr `config` (JSON).
    """
    owner = "generate_diffusion_reaction_2d"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    values = {
        "du": _checks.real("du", du, minimum=0.0, owner=owner),
        "dv": _checks.real("dv", dv, minimum=0.0, owner=owner),
        "k": _checks.real("k", k, owner=owner),
        "t_end": _checks.real("t_end", t_end, above=0.0, owner=owner),
        "rtol": _checks.real("rtol", rtol, above=0.0, owner=owner),
    }
    nx = _checks.integer("nx", nx, minimum=2, owner=owner)
    ny = _checks.integer("ny", ny, minimum=2, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_SAMPLES)
    grid = solvers.Grid((nx, ny), -1.0, 1.0)
    t = frame_times(values["t_end"], nt)
    rtol, atol = values["rtol"], values["rtol"] / 100
    config = {
        **values,
        "n_samples": n_samples,
        "seed": seed,
        "nx": nx,
        "ny": ny,
        "nt": nt,
        "dtype": dtype,
        "u0": "u0, v0 ~ N(0, 1) per cell",
        "solver": f"diffrax Tsit5, PID rtol {rtol:g} atol {atol:g}",
    }

    def make_recipe():
        solver = solvers.DiffusionReaction2D(
            grid, values["du"], values["dv"], values["k"], rtol=rtol, atol=atol
        )
        return SolveRecipe(solver, solvers.StandardNormal(channels=2), t)

    chunks = chunk_source(
        make_recipe,
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    x, y = grid.axes
    return write_groups(
        Path(out) / FILENAME,
        chunks,
        x=x,
        y=y,
        t=t,
        config=config,
        provenance={"generator": "diffusion_reaction_2d", "seed": seed},
        resume=resume,
    )
