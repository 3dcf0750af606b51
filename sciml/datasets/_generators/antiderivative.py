r"""The antiderivative data of DeepONet: $s'(x) = u(x)$, $s(0) = 0$ on $[0, 1]$ (Lu et
al., Nat. Mach. Intell. 3, 2021; PI-DeepONet, Wang, Wang & Perdikaris, Sci. Adv. 7,
2021; spec deeponet.md §4).

$u$ is a zero-mean squared-exponential Gaussian random function of length scale
$\ell$ (0.2; 0.01 for the high-frequency variant) and unit variance [D],
`sciml.solvers.SquaredExponentialSeries`: a random trigonometric series whose law is
the squared-exponential one on $[0, 1]$ to $10^{-17}$ relative in covariance, and
whose antiderivative is summed in closed form. So $s = \int_0^x u$ carries no
integration error at all (the tests check the closed form against composite
Simpson rules on refined grids, which converge to it at fourth order). The
reference codes instead interpolate $u$ from a grid and integrate the interpolant
with an ODE solver.

$u$ and $s$ are saved at the $m$ sensors $x_i = i/(m-1)$, both ends included (the
sheet's $m = 100$).
"""

import os
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._hdf5 import X_COORD
from .._layouts import write_fields
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import check_common, pdebench_number

CHUNK_VALUES = 2**22  # values of (u, s) per compiled call


def antiderivative_filename(length_scale: float | int) -> str:
    """The file name ([D], PDEBench-style): `1D_Antiderivative_l{ℓ}.hdf5`, e.g.
    `1D_Antiderivative_l0.2.hdf5` (`params_from_filename` reads `{"l": 0.2}`)."""
    return f"1D_Antiderivative_l{pdebench_number(length_scale)}.hdf5"


def sensors(m: int) -> np.ndarray:
    """The $m$ sensors $x_i = i/(m-1)$, $i = 0 .. m-1$, on $[0, 1]$ (float64)."""
    return np.arange(m) / (m - 1)


class AntiderivativeRecipe(Recipe):
    """One draw of `SquaredExponentialSeries` and its exact antiderivative at the
    sensors."""

    family: solvers.SquaredExponentialSeries
    x: Array

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        params = self.family.params(key=key)
        u = self.family.evaluate(params, self.x)
        s = self.family.antiderivative(params, self.x)
        return {"tensor": s[None], "u": u}

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        return {name: value.astype(np.float32) for name, value in block.items()}


def generate_antiderivative(
    *,
    out: str | os.PathLike,
    n_samples: int = 10000,
    seed: int = 0,
    length_scale: float | int = 0.2,
    sigma: float | int = 1.0,
    m: int = 100,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write the antiderivative data of DeepONet: $u$ and $s = \int_0^x u$ at $m$
    sensors.

    $u$ is `sciml.solvers.SquaredExponentialSeries(length_scale, sigma)` on
    $[0, 1]$, sample $i$ drawn from `fold_in(key(seed), i)`; $s$ is its exact
    antiderivative (module docstring). The file holds $s$ as PDEBench's steady
    `tensor` (one frame, like Darcy's), so `sciml.datasets.load` opens it: `ds.u`
    is then $s$ `(N, 1, m, 1)` and `ds.fields["u"]` the input $u$ `(N, m)`.

    **Arguments:**

    - `out`: directory for the file.
    - `n_samples`: input functions (DeepXDE's antiderivative training set: 10 000;
        the file is 8 MB).
    - `seed`: PRNG seed.
    - `length_scale`: $\ell$ of the squared-exponential kernel (0.2; 0.01 for the
        high-frequency variant).
    - `sigma`: the standard deviation of $u$ ([D] 1).
    - `m`: sensors $x_i = i/(m-1)$, both ends included; $s$ is saved at the same
        points.
    - `dtype`: the arithmetic (float64 by default); the file is float32 either way.
    - `chunk_size`: samples per compiled call; the output does not depend on it.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Antiderivative_l{ℓ}.hdf5` with `tensor` $s$ `(N, 1, m)`, `u`
    `(N, m)`, `x-coordinate` `(m,)`, root attrs `l` ($\ell$) and `sigma`.
    """
    owner = "generate_antiderivative"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    length_scale = _checks.real("length_scale", length_scale, above=0.0, owner=owner)
    sigma = _checks.real("sigma", sigma, above=0.0, owner=owner)
    m = _checks.integer("m", m, minimum=2, owner=owner)
    family = solvers.SquaredExponentialSeries(length_scale, sigma)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (2 * m))
    x = sensors(m)
    settings = {
        "n_samples": n_samples,
        "length_scale": length_scale,
        "sigma": sigma,
        "m": m,
        "dtype": dtype,
        "series_modes": family.n_modes,
        "series_period": family.period,
    }

    def make_recipe():
        return AntiderivativeRecipe(family, jnp.asarray(x))

    chunks = chunk_source(
        make_recipe,
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    return write_fields(
        Path(out) / antiderivative_filename(length_scale),
        chunks,
        coordinates={X_COORD: x},
        params={"l": length_scale, "sigma": sigma},
        provenance={"generator": "antiderivative", "seed": seed, "params": settings},
        resume=resume,
    )
