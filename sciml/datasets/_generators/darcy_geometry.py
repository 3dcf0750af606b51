r"""MT-DeepONet's Darcy flow on several geometries (spec deeponet.md §5.2):
$-\nabla\cdot(K\nabla h) = f$ on $\Omega_g \subset [-1, 1]^2$, $h = 0$ on
$\partial\Omega_g$, one file per geometry."""

import os
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._hdf5 import X_COORD, Y_COORD
from .._layouts import write_fields
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import check_common
from .darcy import check_residuals

CHUNK_VALUES = 2**21  # float64 values of h per compiled call (about 16 MiB)
RTOL_CHECK = 10.0  # a solve is refused above this many times its CG tolerance


def darcy_geometry_filename(geometry: str) -> str:
    """The file name of one geometry ([D], PDEBench-style):
    `2D_DarcyFlow_Geometry_{geometry}.hdf5`, e.g.
    `2D_DarcyFlow_Geometry_square_cross.hdf5`."""
    geometry = _checks.choice(
        "geometry", geometry, solvers.GEOMETRIES, owner="darcy_geometry_filename"
    )
    return f"2D_DarcyFlow_Geometry_{geometry}.hdf5"


class DarcyGeometryRecipe(Recipe):
    """A lognormal permeability through `sciml.solvers.Darcy` on one geometry."""

    solver: solvers.Darcy
    sigma: Array
    length_scale: float | int = eqx.field(static=True)
    tolerance: float | int = eqx.field(static=True)

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        del inputs
        g = solvers.SquaredExponentialGRF(self.length_scale)(self.solver.grid, key=key)
        log_k = self.sigma * g
        k = jnp.exp(log_k)
        h, residual = self.solver.solve(k)
        return {"tensor": h, "nu": k[0], "log_nu": log_k[0], "residual": residual}

    def check(self, block: Block, start: int) -> None:
        check_residuals(block, start, self.tolerance, self.solver.maxiter)

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        n = len(block["tensor"])
        mask = np.asarray(self.solver.mask, dtype=np.float32)
        return {
            "tensor": block["tensor"].astype(np.float32),
            "nu": block["nu"].astype(np.float32),
            "log_nu": block["log_nu"].astype(np.float32),
            "mask": np.broadcast_to(mask, (n, *mask.shape)),
        }


def generate_darcy_geometry(
    *,
    out: str | os.PathLike,
    geometry: Literal["square", "circle", "triangle", "square_cross"] = "square",
    n_samples: int = 1000,
    seed: int = 0,
    nx: int = 100,
    beta: float | int = 1.0,
    length_scale: float | int = 0.2,
    sigma: float | int = 1.0,
    boundary: Literal["face", "pdebench"] = "face",
    maxiter: int = 5000,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write MT-DeepONet's Darcy flow on one geometry, for random permeabilities.

    $-\nabla\cdot(K\nabla h) = \beta$ on $\Omega_g \subset [-1, 1]^2$, $h = 0$ on
    $\partial\Omega_g$ (Kumar et al. 2024; spec deeponet.md §5.2).

    The sheet leaves the boundary condition and the source [U]; here [D]: $h = 0$ on
    the boundary and $f = \beta = 1$. The permeability is lognormal [D], $K =
    \exp(\sigma g)$ with $g$ the unit-variance squared-exponential GRF of length
    scale $\ell = 0.2$ on the whole $100 \times 100$ box (`sigma` $= 1$: unit
    variance of $\log K$). The geometry is `sciml.solvers.geometry_mask` (a cell is
    inside when its centre is; every shape has area 1.2) and the pressure comes from
    `sciml.solvers.Darcy` with that `mask` (finite volumes on the box with the
    outside cells removed, a face to a removed cell a boundary face, preconditioned
    CG to relative residual $10^{-10}$ in float64; a solve that misses 10x its
    tolerance raises `RuntimeError`); $h = 0$ outside. Sample $i$ of geometry
    number $g$ (its index in `GEOMETRIES`) is drawn from `fold_in(fold_in(key(seed),
    g), i)`, so the files of one seed have distinct permeabilities.

    The raw $\log K$ is stored; the network's branch input, a standardised $\log K$
    and the mask, is made from it at training time.

    **Arguments:**

    - `out`: directory for the file.
    - `geometry`: `"square"`, `"circle"`, `"triangle"` (the source tasks) or
        `"square_cross"` (the target task; see `sciml.solvers.geometry_mask`).
    - `n_samples`: samples (the paper: 1800 per source geometry, 700 for the target;
        the default 1000 writes 160 MB).
    - `seed`: PRNG seed of the permeabilities.
    - `nx`: cells per axis of the box $[-1, 1]^2$ (the paper: 100).
    - `beta`: the constant source $f = \beta > 0$.
    - `length_scale`: $\ell$ of the GRF of $\log K$, in the box's units.
    - `sigma`: the standard deviation $\sigma \ge 0$ of $\log K$.
    - `boundary`: `"face"` ($h = 0$ on the boundary faces, second order where the
        faces follow the boundary, default) or `"pdebench"` (a ghost value 0 one cell
        out, first order).
    - `maxiter`: CG's iteration cap.
    - `dtype`: the arithmetic of the solve (float64 by default); the file is
        float32 either way.
    - `chunk_size`: samples per compiled call (default about 16 MiB of float64).
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_DarcyFlow_Geometry_{geometry}.hdf5` with `tensor`
    `(N, 1, nx, nx)` $= h$ (0 outside the mask), `nu` `(N, nx, nx)` $= K$, `log_nu`
    `(N, nx, nx)` $= \log K$, `mask` `(N, nx, nx)` (1 inside $\Omega_g$, 0 outside;
    the same for every sample, stored per sample [D] so that the files of several
    geometries concatenate sample by sample and the branch input is read in one
    slice), `x-coordinate`, `y-coordinate` (the cell centres in $[-1, 1]$), root
    attrs `beta` and `geometry`.
    """
    owner = "generate_darcy_geometry"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    geometry = _checks.choice("geometry", geometry, solvers.GEOMETRIES, owner=owner)
    nx = _checks.integer("nx", nx, minimum=4, owner=owner)
    beta = _checks.real("beta", beta, above=0.0, owner=owner)
    length_scale = _checks.real("length_scale", length_scale, above=0.0, owner=owner)
    sigma = _checks.real("sigma", sigma, minimum=0.0, owner=owner)
    boundary = _checks.choice("boundary", boundary, ("face", "pdebench"), owner=owner)
    maxiter = _checks.integer("maxiter", maxiter, minimum=1, owner=owner)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (nx * nx))
    grid = solvers.Grid((nx, nx), -1.0, 1.0)
    mask = solvers.geometry_mask(geometry, nx)
    rtol = solvers.Darcy.RTOL[np.dtype(dtype)]
    settings = {
        "geometry": geometry,
        "beta": beta,
        "n_samples": n_samples,
        "nx": nx,
        "length_scale": length_scale,
        "sigma": sigma,
        "boundary": boundary,
        "dtype": dtype,
        "rtol": rtol,
        "inside_cells": int(mask.sum()),
    }

    def make_recipe():
        solver = solvers.Darcy(
            grid, beta, boundary=boundary, maxiter=maxiter, mask=mask
        )
        return DarcyGeometryRecipe(
            solver,
            sigma=jnp.asarray(sigma),
            length_scale=length_scale,
            tolerance=RTOL_CHECK * rtol,
        )

    chunks = chunk_source(
        make_recipe,
        key=jax.random.fold_in(
            jax.random.key(seed), solvers.GEOMETRIES.index(geometry)
        ),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    x, y = grid.axes
    return write_fields(
        Path(out) / darcy_geometry_filename(geometry),
        chunks,
        coordinates={X_COORD: x, Y_COORD: y},
        params={"beta": beta, "geometry": geometry},
        provenance={"generator": "darcy_geometry", "seed": seed, "params": settings},
        resume=resume,
    )
