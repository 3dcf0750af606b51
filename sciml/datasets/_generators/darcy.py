r"""PDEBench's 2-D Darcy file: $-\nabla\cdot(a\nabla u) = \beta$ on $(0,1)^2$, $u = 0$ on
the boundary."""

import functools
import os
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ... import _checks, solvers
from .._hdf5 import X_COORD, Y_COORD
from .._layouts import write_fields
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import check_common, pdebench_number

CHUNK_VALUES = 2**21  # float64 values of u per compiled call (about 16 MiB)
RTOL_CHECK = 10.0  # a solve is refused above this many times its CG tolerance


def darcy_filename(beta: float | int) -> str:
    """PDEBench's file name for source $\\beta$: `2D_DarcyFlow_beta{β}_Train.hdf5`."""
    return f"2D_DarcyFlow_beta{pdebench_number(beta)}_Train.hdf5"


@functools.partial(jax.jit, static_argnames=("bumps", "grid", "n_block"))
def _block_mean(
    bumps: solvers.BinaryBumps,
    grid: solvers.Grid,
    key: PRNGKeyArray,
    start: Int[Array, ""],
    n_block: int,
) -> Float[Array, ""]:
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(start + jnp.arange(n_block))
    return jnp.mean(jax.vmap(lambda k: bumps.bumps(grid, key=k))(keys))


def check_residuals(block: Block, start: int, tolerance: float, maxiter: int) -> None:
    """Stop the run if a CG solve of the chunk starting at sample `start` ended
    above `tolerance` (its relative residual, in `block["residual"]`)."""
    worst = float(np.max(block["residual"]))
    if not worst <= tolerance:
        last = start + len(block["residual"]) - 1
        raise RuntimeError(
            f"CG reached relative residual {worst:.2e} > {tolerance:.0e} within "
            f"{maxiter} iterations (samples {start}..{last}); raise maxiter."
        )


class DarcyRecipe(Recipe):
    """A random permeability field through `sciml.solvers.Darcy`."""

    solver: solvers.Darcy
    sigma: Array
    key: PRNGKeyArray
    permeability: Literal["bumps", "lognormal"] = eqx.field(static=True)
    length_scale: float | int = eqx.field(static=True)
    batch_size: int | None = eqx.field(static=True)
    n_samples: int = eqx.field(static=True)
    tolerance: float | int = eqx.field(static=True)

    def inputs(self, start: int, n: int) -> np.ndarray:
        """Each sample's threshold: the mean of its block of `batch_size` samples
        (PDEBench's quirk), or NaN for the sample's own mean."""
        thresholds = np.full(n, np.nan)
        if self.batch_size is None:
            return thresholds
        grid, bumps, size = self.solver.grid, solvers.BinaryBumps(), self.batch_size
        blocks = (start + np.arange(n)) // size
        for b in np.unique(blocks):
            count = min(size, self.n_samples - int(b) * size)
            if count > 0:
                first = jnp.asarray(int(b) * size)
                mean = _block_mean(bumps, grid, self.key, first, count)
                thresholds[blocks == b] = float(mean)
        return thresholds

    def __call__(self, key: PRNGKeyArray, threshold: Any) -> dict[str, Array]:
        grid = self.solver.grid
        if self.permeability == "bumps":
            bumps = solvers.BinaryBumps()
            g = bumps.bumps(grid, key=key)
            cut = jnp.where(jnp.isnan(threshold), jnp.mean(g), threshold)
            a = bumps.binarise(g, cut)
        else:
            g = solvers.SquaredExponentialGRF(self.length_scale)(grid, key=key)
            a = jnp.exp(self.sigma * g)
        u, residual = self.solver.solve(a)
        return {"tensor": u, "nu": a[0], "residual": residual}

    def check(self, block: Block, start: int) -> None:
        check_residuals(block, start, self.tolerance, self.solver.maxiter)

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        return {
            "tensor": block["tensor"].astype(np.float32),
            "nu": block["nu"].astype(np.float32),
        }


def generate_darcy(
    *,
    out: str | os.PathLike,
    beta: float | int = 1.0,
    n_samples: int = 1000,
    seed: int = 0,
    nx: int = 128,
    permeability: Literal["bumps", "lognormal"] = "bumps",
    batch_mean: bool = False,
    batch_size: int = 200,
    length_scale: float | int = 0.1,
    sigma: float | int = 1.0,
    boundary: Literal["face", "pdebench"] = "face",
    maxiter: int = 5000,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 2-D Darcy file, $-\nabla\cdot(a\nabla u) = \beta$ on $(0,1)^2$.

    The pressure vanishes on the boundary, $u|_{\partial\Omega} = 0$.

    Permeability (`permeability="bumps"`, PDEBench; `sciml.solvers.BinaryBumps`):
    $g(x) = \sum_{i=1}^{5} \exp(-|x - m_i|^2/s_i)$, $m_i \sim U((0,1)^2)$,
    $s_i \sim 0.5\,U(0,1)$, and $a = 1$ where $g >$ mean$(g)$, else $0.1$. The mean
    is per sample [D]; `batch_mean=True` takes it over consecutive blocks of
    `batch_size` samples (PDEBench's quirk: its batches of 200).
    `permeability="lognormal"` [D]: $a = \exp(\sigma g)$ with $g$ a unit-variance
    squared-exponential GRF of length scale `length_scale`. Sample $i$'s coefficient
    comes from `fold_in(key(seed), i)`, so every $\beta$ shares the same
    permeabilities (PDEBench instead used keys 2020-2069, 200 samples each).

    Solved by `sciml.solvers.Darcy` (preconditioned CG to relative residual
    $10^{-10}$ in float64, $10^{-5}$ in float32); a solve that misses 10x its
    tolerance raises `RuntimeError`.

    **Arguments:**

    - `out`: directory for the file.
    - `beta`: the constant source $\beta > 0$ (PDEBench: 0.01, 0.1, 1, 10, 100).
    - `n_samples`: samples (PDEBench: 10 000; the default writes 130 MB).
    - `seed`: PRNG seed of the permeabilities.
    - `nx`: cells per axis of the square grid (PDEBench: 128).
    - `permeability`: `"bumps"` (PDEBench's binary field) or `"lognormal"`.
    - `batch_mean`: threshold the bumps at the mean of blocks of `batch_size`
        samples instead of each sample's own mean.
    - `batch_size`: the block of `batch_mean` (PDEBench: 200).
    - `length_scale`: of the lognormal field's GRF.
    - `sigma`: the lognormal field's $\sigma$.
    - `boundary`: `"face"` ($u = 0$ on the boundary faces, second order, default) or
        `"pdebench"` (PDEBench's ghost value 0 one cell outside, first order).
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

    The path `out/2D_DarcyFlow_beta{str(float(beta))[:5]}_Train.hdf5` with `tensor`
    `(N, 1, nx, nx)` $= u$, `nu` `(N, nx, nx)` $= a$, `x-coordinate`,
    `y-coordinate` (cell centres), root attr `beta`.
    """
    owner = "generate_darcy"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    beta = _checks.real("beta", beta, above=0.0, owner=owner)
    nx = _checks.integer("nx", nx, minimum=4, owner=owner)
    permeability = _checks.choice(
        "permeability", permeability, ("bumps", "lognormal"), owner=owner
    )
    batch_mean = _checks.boolean("batch_mean", batch_mean, owner=owner)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1, owner=owner)
    length_scale = _checks.real("length_scale", length_scale, above=0.0, owner=owner)
    sigma = _checks.real("sigma", sigma, minimum=0.0, owner=owner)
    boundary = _checks.choice("boundary", boundary, ("face", "pdebench"), owner=owner)
    maxiter = _checks.integer("maxiter", maxiter, minimum=1, owner=owner)
    if batch_mean and permeability != "bumps":
        raise ValueError(f"{owner}: batch_mean=True applies to permeability='bumps'.")
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (nx * nx))
    grid = solvers.Grid((nx, nx))
    rtol = solvers.Darcy.RTOL[np.dtype(dtype)]
    settings = {
        "beta": beta,
        "n_samples": n_samples,
        "nx": nx,
        "permeability": permeability,
        "batch_mean": batch_mean,
        "batch_size": batch_size,
        "length_scale": length_scale,
        "sigma": sigma,
        "boundary": boundary,
        "dtype": dtype,
        "rtol": rtol,
    }
    key = jax.random.key(seed)

    def make_recipe():
        solver = solvers.Darcy(grid, beta, boundary=boundary, maxiter=maxiter)
        return DarcyRecipe(
            solver,
            sigma=jnp.asarray(sigma),
            key=key,
            permeability=permeability,
            length_scale=length_scale,
            batch_size=batch_size if batch_mean else None,
            n_samples=n_samples,
            tolerance=RTOL_CHECK * rtol,
        )

    chunks = chunk_source(
        make_recipe,
        key=key,
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    x, y = grid.axes
    return write_fields(
        Path(out) / darcy_filename(beta),
        chunks,
        coordinates={X_COORD: x, Y_COORD: y},
        params={"beta": beta},
        provenance={"generator": "darcy", "seed": seed, "params": settings},
        resume=resume,
    )
