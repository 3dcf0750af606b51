r"""2-D vorticity trajectories on the unit torus (the HC-MoE Navier-Stokes data)."""

import os
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._hdf5 import write
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import check_common, frame_times

CHUNK_VALUES = 2**24  # grid values per compiled call at the solver resolution


def navier_stokes_filename(nu: float | int) -> str:
    """The file name for viscosity $\\nu$: `2D_NS_Vort_Nu{float(nu)}.hdf5`.

    Not truncated to 5 characters as PDEBench's names are: that would turn
    $10^{-4}$ into `0.000` ([D]; this file is ours, not PDEBench's).
    """
    return f"2D_NS_Vort_Nu{float(nu)}.hdf5"


class VorticityRecipe(Recipe):
    """A periodic GRF through `sciml.solvers.NavierStokes2D`, saved strided."""

    solver: solvers.NavierStokes2D
    initial: solvers.PeriodicGRF
    t: np.ndarray
    stride: int = eqx.field(static=True)

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        w0 = self.initial(self.solver.grid, key=key)
        ys, _ = self.solver.solve(w0, self.t)
        return {"u": ys[..., :: self.stride, :: self.stride]}

    def finish(self, block: Block) -> np.ndarray:
        return np.moveaxis(block["u"], 2, -1).astype(np.float32)


def generate_navier_stokes_2d(
    *,
    out: str | os.PathLike,
    nu: float | int = 1e-4,
    n_samples: int = 10,
    seed: int = 0,
    nx: int = 256,
    save_nx: int | None = None,
    nt: int = 64,
    t_end: float | int = 5.0,
    length_scale: float | int = 0.8,
    dt_max: float | int = 1e-3,
    cfl: float | int = 0.5,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write 2-D vorticity trajectories $w(t_k, x, y)$ on the unit torus (HC-MoE data).

    $w_0$ is a Gaussian random field with the periodic kernel
    $\prod_d \exp(-2\sin^2(\pi(x_d - x'_d))/\ell^2)$, $\ell = 0.8$, mean removed and
    scaled to unit spatial standard deviation (`sciml.solvers.PeriodicGRF`; [D]: the
    kernel form and amplitude are [U] in the paper). It is a trigonometric polynomial
    ($|k_d| \le 15$) drawn from `fold_in(key(seed), i)`, so sample $i$ has the same
    $w_0$ at every resolution ($\ge 32$) and every $\nu$. Frames
    $t_k = k\,t_\mathrm{end}/(n_t - 1)$ ([D]: $T = 5$ with 64 frames). Scheme and
    step size: `sciml.solvers.NavierStokes2D`.

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: viscosity $\nu > 0$ (HC-MoE: $10^{-4}$; CAPE 2-D: $10^{-3}$,
        $3\cdot 10^{-4}$, $10^{-4}$, unseen $5\cdot10^{-4}$, $2\cdot10^{-4}$).
    - `n_samples`: trajectories (HC-MoE: 4000 train at 64², 100 test at 256²; the
        default, 10 at 256², writes 170 MB).
    - `seed`: PRNG seed of the initial vorticity.
    - `nx`: solver grid points per axis (even, >= 8).
    - `save_nx`: saved points per axis, `nx` divided by an integer (strided, e.g.
        64); default `nx`.
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `length_scale`: $\ell$ of the initial-condition kernel (>= 0.2).
    - `dt_max`: the largest sub-step.
    - `cfl`: the largest Courant number $h\max(|u|/\Delta x + |v|/\Delta y)$ of a
        sub-step, in $(0, 0.5]$.
    - `dtype`: the solver's arithmetic; the file is float32 either way.
    - `chunk_size`: trajectories per compiled call.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_NS_Vort_Nu{float(nu)}.hdf5` (e.g. `Nu0.0001`) holding `tensor`
    `(N, nt, save_nx, save_nx)`, `x-coordinate`, `y-coordinate` ($i/n$),
    `t-coordinate`, root attr `nu`.
    """
    owner = "generate_navier_stokes_2d"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    nu = _checks.real("nu", nu, above=0.0, owner=owner)
    t_end = _checks.real("t_end", t_end, above=0.0, owner=owner)
    dt_max = _checks.real("dt_max", dt_max, above=0.0, owner=owner)
    cfl = _checks.real("cfl", cfl, above=0.0, maximum=0.5, owner=owner)
    length_scale = _checks.real("length_scale", length_scale, minimum=0.2, owner=owner)
    nx = _checks.integer("nx", nx, minimum=8, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    if nx % 2:
        raise ValueError(f"{owner}: nx must be even, got {nx}; e.g. nx=256.")
    save = (
        nx
        if save_nx is None
        else _checks.integer("save_nx", save_nx, minimum=1, owner=owner)
    )
    if nx % save:
        raise ValueError(
            f"{owner}: save_nx must divide nx={nx}, got {save}; e.g. {nx // 4}."
        )
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (nx * nx * nt))
    grid = solvers.Grid((nx, nx), points="nodes")
    t = frame_times(t_end, nt)
    settings = {
        "nu": nu,
        "n_samples": n_samples,
        "nx": nx,
        "save_nx": save,
        "nt": nt,
        "t_end": t_end,
        "length_scale": length_scale,
        "dt_max": dt_max,
        "cfl": cfl,
        "dtype": dtype,
        "scheme": "pseudo-spectral, 2/3 de-aliasing, Crank-Nicolson + Heun",
    }

    def make_recipe():
        solver = solvers.NavierStokes2D(grid, nu, dt_max, cfl=cfl)
        return VorticityRecipe(solver, solvers.PeriodicGRF(length_scale), t, nx // save)

    chunks = chunk_source(
        make_recipe,
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    x = solvers.Grid((save, save), points="nodes").axes[0]
    return write(
        Path(out) / navier_stokes_filename(nu),
        chunks,
        x=x,
        y=x,
        t=t,
        params={"nu": nu},
        provenance={"generator": "navier_stokes_2d", "seed": seed, "params": settings},
        resume=resume,
    )
