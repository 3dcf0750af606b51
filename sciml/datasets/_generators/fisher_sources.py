r"""The Fisher data of MT-DeepONet: $u_t = D u_{xx} + R(u)$ with three source-term
families (Kumar et al., "Synergistic learning with multi-task DeepONet", 2024; spec
deeponet.md §5.1).

$a$ is drawn uniformly from `linspace(0.1, 1, 10)` and $\beta$ (F3) from
`linspace(0.5, 2, 10)` (the sheet gives these grids [C]; uniform draws from them [D]).
The sheet marks $D$, the domain, the boundary conditions, the initial conditions and
the solver [U]; its defaults [D], used here: $x \in [0, 1]$ with zero-flux ends,
$t \in [0, 1]$ with 20 frames including $t = 0$, $D = 0.01$, $u_0 = \mathrm{sigmoid}(g)$
with $g$ a unit-variance squared-exponential GRF of length scale 0.1, solved on 256
cells and saved on 64 (`sciml.solvers.FisherSources`: finite volumes and RK4 with a
fixed step, instead of the sheet's Tsit5 at rtol $10^{-8}$, same accuracy class).
Saved values are averages over groups of fine cells, i.e. the cell averages of the
coarse grid (whose centres are the saved `x-coordinate`).
"""

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
from .._hdf5 import T_COORD, X_COORD
from .._layouts import write_fields
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import check_common, frame_times

DEFAULT_SAMPLES = {"F1": 1000, "F2": 1000, "F3": 2000}
A_VALUES = np.linspace(0.1, 1.0, 10)
BETA_VALUES = np.linspace(0.5, 2.0, 10)
CHUNK_VALUES = 2**22


def fisher_sources_filename(family: str) -> str:
    """The file name of one family ([D]): `1D_Fisher_Sources_Form{1,2,3}.hdf5`.

    PDEBench-style, so `params_from_filename` reads `{"form": 1.0}` etc.
    """
    return f"1D_Fisher_Sources_Form{solvers.FAMILIES.index(family) + 1}.hdf5"


class FisherRecipe(Recipe):
    """Sigmoid of a GRF through `sciml.solvers.FisherSources` with drawn $(a, \\beta)$,
    saved as coarse cell averages with the source's MT-DeepONet encoding."""

    grid: solvers.Grid
    initial: solvers.SquaredExponentialGRF
    dt: Array
    d: Array
    family: str = eqx.field(static=True)
    n_frames: int = eqx.field(static=True)
    substeps: int = eqx.field(static=True)
    coarsen: int = eqx.field(static=True)

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        k_ic, k_a, k_b = jax.random.split(key, 3)
        u0 = jax.nn.sigmoid(self.initial(self.grid, key=k_ic))
        dtype = u0.dtype
        a_values = jnp.asarray(A_VALUES, dtype)
        a = a_values[jax.random.randint(k_a, (), 0, a_values.shape[0])]
        if self.family == "F3":
            beta_values = jnp.asarray(BETA_VALUES, dtype)
            beta = beta_values[jax.random.randint(k_b, (), 0, beta_values.shape[0])]
        else:
            beta = jnp.zeros((), dtype)
        stepper = solvers.FisherSources(
            self.grid, self.dt, self.d, self.family, a, beta
        )
        u = stepper.trajectory(u0, self.n_frames, self.substeps)[:, 0]
        coarse = u.reshape(self.n_frames, -1, self.coarsen).mean(axis=-1)
        coefficients = solvers.source_coefficients(self.family, a, beta)
        return {
            "tensor": coarse,
            "coefficients": coefficients,
            "params": jnp.stack([a, beta]),
        }

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        return {name: value.astype(np.float32) for name, value in block.items()}


def generate_fisher_sources(
    *,
    out: str | os.PathLike,
    family: Literal["F1", "F2", "F3"] = "F1",
    n_samples: int | None = None,
    seed: int = 0,
    d: float | int = 0.01,
    nx: int = 256,
    save_nx: int = 64,
    nt: int = 20,
    t_end: float | int = 1.0,
    length_scale: float | int = 0.1,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write one source-term family of the Fisher data of MT-DeepONet.

    $u_t = D u_{xx} + R(u)$ on $[0, 1]$, zero flux, $u_0 = \mathrm{sigmoid}(g)$; see
    `sciml.solvers.FisherSources` for the families and the scheme, and this module's
    docstring for the [U] choices. Sample $i$ of family $f$ is drawn from
    `fold_in(fold_in(key(seed), f), i)`, so the three families made with one seed
    have distinct initial conditions (the paper pools them and splits 80/20 at
    random).

    **Arguments:**

    - `out`: directory for the file.
    - `family`: `"F1"`, `"F2"` or `"F3"`.
    - `n_samples`: trajectories; default 1000 (F1), 1000 (F2), 2000 (F3), as in the
        paper.
    - `seed`: PRNG seed.
    - `d`: diffusivity $D > 0$ ([D] 0.01).
    - `nx`: solver cells.
    - `save_nx`: saved cells (divides `nx`; each is the average of `nx // save_nx`
        solver cells).
    - `nt`: saved frames, including $t = 0$.
    - `t_end`: final time.
    - `length_scale`: of the initial GRF.
    - `dtype`: the arithmetic (float64 by default); the file is float32 either way.
    - `chunk_size`: samples per compiled call.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Fisher_Sources_Form{1,2,3}.hdf5` with `tensor`
    `(N, nt, save_nx)`, `coefficients` `(N, 4)` (the MT-DeepONet encoding $c$),
    `params` `(N, 2)` $= [a, \beta]$ ($\beta = 0$ for F1, F2), `x-coordinate`,
    `t-coordinate`, root attrs `form` (1, 2, 3), `d`, `param_names` (`"a,beta"`).
    """
    owner = "generate_fisher_sources"
    family = _checks.choice("family", family, solvers.FAMILIES, owner=owner)
    n_samples = DEFAULT_SAMPLES[family] if n_samples is None else n_samples
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    nx = _checks.integer("nx", nx, minimum=2, owner=owner)
    save_nx = _checks.integer("save_nx", save_nx, minimum=1, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    if nx % save_nx:
        raise ValueError(
            f"{owner}: save_nx must divide nx={nx}, got {save_nx}; e.g. {nx // 4}."
        )
    d = _checks.real("d", d, above=0.0, owner=owner)
    t_end = _checks.real("t_end", t_end, above=0.0, owner=owner)
    length_scale = _checks.real("length_scale", length_scale, above=0.0, owner=owner)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (nx * nt))
    interval = t_end / (nt - 1)
    grid = solvers.Grid(nx)
    max_dt = solvers.FisherSources.max_dt(
        grid, d, float(A_VALUES.max()), float(BETA_VALUES.max())
    )
    n_sub = solvers.substeps(interval, max_dt, what=f"RK4 with d={d}, nx={nx}")
    family_index = solvers.FAMILIES.index(family)
    settings = {
        "family": family,
        "d": d,
        "n_samples": n_samples,
        "nx": nx,
        "save_nx": save_nx,
        "nt": nt,
        "t_end": t_end,
        "length_scale": length_scale,
        "dtype": dtype,
        "rk4_substeps_per_frame": n_sub,
        "a_values": A_VALUES.tolist(),
        "beta_values": BETA_VALUES.tolist(),
    }

    def make_recipe():
        return FisherRecipe(
            grid,
            solvers.SquaredExponentialGRF(length_scale),
            jnp.asarray(interval / n_sub),
            jnp.asarray(d),
            family=family,
            n_frames=nt,
            substeps=n_sub,
            coarsen=nx // save_nx,
        )

    chunks = chunk_source(
        make_recipe,
        key=jax.random.fold_in(jax.random.key(seed), family_index),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    x = solvers.Grid(save_nx).axes[0]
    return write_fields(
        Path(out) / fisher_sources_filename(family),
        chunks,
        coordinates={X_COORD: x, T_COORD: frame_times(t_end, nt)},
        params={"form": family_index + 1, "d": d, "param_names": "a,beta"},
        provenance={"generator": "fisher_sources", "seed": seed, "params": settings},
        resume=resume,
    )
