r"""The Burgers data of PI-DeepONet: $u_t + u u_x = \nu u_{xx}$, $\nu = 0.01$, periodic
on $[0, 1)$, $t \in [0, 1]$, $u_0 \sim N(0, \sigma^2(-\Delta + \tau^2 I)^{-\gamma})$
(Wang, Wang & Perdikaris, Sci. Adv. 7, 2021; spec deeponet.md §4).

$u_0$ is `sciml.solvers.PeriodicMaternGRF` with $\tau = 5$, $\gamma = 4$ and, [D],
$\sigma = 625$, the scale of the generator behind the notebook's data (the sheet's
$25^2$ read as the multiplier of the square roots of the eigenvalues; see
`PeriodicMaternGRF`), zero mean, 128 modes. Solved by
`sciml.solvers.SpectralBurgers1D` (de-aliased Fourier collocation on
$(n_x - 1)\cdot r$ nodes, ETDRK4, float64) with the step of `max_dt` at
$u_{\max} = 8$ standard deviations of $u_0$ (a sample above it stops the
generation; the maximum principle keeps $|u| \le \max|u_0|$ for all time).

Saved [D] as the notebook's data: $x_i = i/(n_x - 1)$ with both ends ($x = 1$
repeats $x = 0$), $t_k = k/(n_t - 1)$, $101 \times 101$. Measured (6 samples,
against 1600 nodes at half the step): with the default
$r = 4$ (400 nodes, 15 steps a frame) the grid and the time errors are each below
$3\cdot10^{-12}$ of $\max|u|$.
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
from ._common import check_common, frame_times, pdebench_number

CHUNK_VALUES = 2**22  # solver values (nodes x frames) per compiled call
U_MAX_STDS = 8.0  # the step holds for |u0| up to this many standard deviations


def burgers_grf_filename(nu: float | int) -> str:
    """The file name ([D], PDEBench-style): `1D_Burgers_GRF_Nu{ν}.hdf5`, e.g.
    `1D_Burgers_GRF_Nu0.01.hdf5`."""
    return f"1D_Burgers_GRF_Nu{pdebench_number(nu)}.hdf5"


class BurgersGRFRecipe(Recipe):
    """A `PeriodicMaternGRF` draw through `SpectralBurgers1D`, saved at every
    `refine`-th node plus the periodic copy at $x = 1$."""

    stepper: solvers.SpectralBurgers1D
    initial: solvers.PeriodicMaternGRF
    u_max: Array
    n_frames: int = eqx.field(static=True)
    substeps: int = eqx.field(static=True)
    refine: int = eqx.field(static=True)

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        u0 = self.initial(self.stepper.grid, key=key)
        frames = self.stepper.trajectory(u0, self.n_frames, self.substeps)[:, 0]
        saved = frames[:, :: self.refine]
        saved = jnp.concatenate([saved, saved[:, :1]], axis=-1)
        ok = jnp.isfinite(frames).all() & (jnp.max(jnp.abs(u0)) <= self.u_max)
        return {"tensor": saved, "ok": ok}

    def check(self, block: Block, start: int) -> None:
        failed = np.flatnonzero(~block["ok"])
        if failed.size:
            raise RuntimeError(
                f"Sample {start + int(failed[0])}: max|u0| exceeds the bound the step "
                "was chosen for, or the solve is not finite; lower cfl."
            )

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        return {"tensor": block["tensor"].astype(np.float32)}


def generate_burgers_grf(
    *,
    out: str | os.PathLike,
    n_samples: int = 1000,
    seed: int = 0,
    nu: float | int = 0.01,
    sigma: float | int = 625.0,
    tau: float | int = 5.0,
    gamma: float | int = 4.0,
    n_modes: int = 128,
    nx: int = 101,
    nt: int = 101,
    t_end: float | int = 1.0,
    refine: int = 4,
    cfl: float | int = 1.0,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write the Burgers data of PI-DeepONet: $u_t + u u_x = \nu u_{xx}$, periodic on
    $[0, 1)$, from Gaussian random initial states.

    Sample $i$'s $u_0$ is `sciml.solvers.PeriodicMaternGRF(sigma, tau, gamma,
    n_modes)` drawn from `fold_in(key(seed), i)`; the solve is
    `sciml.solvers.SpectralBurgers1D` on $(n_x - 1)\cdot$ `refine` nodes (module
    docstring for the [D] choices and the accuracy).

    **Arguments:**

    - `out`: directory for the file.
    - `n_samples`: trajectories (41 kB each).
    - `seed`: PRNG seed.
    - `nu`: the viscosity $\nu \ge 0$ (0.01; the diffusivity itself).
    - `sigma`, `tau`, `gamma`: the covariance $\sigma^2(-\Delta + \tau^2 I)^{-\gamma}$
        of $u_0$ ([D] 625, 5, 4).
    - `n_modes`: Fourier modes of $u_0$ (at most a third of the solver's nodes).
    - `nx`: saved points $x_i = i/(n_x - 1)$, both ends included ($x = 1$ is the
        periodic copy of $x = 0$).
    - `nt`: saved frames $t_k = k\,t_\mathrm{end}/(n_t - 1)$, including $t = 0$.
    - `t_end`: final time.
    - `refine`: solver nodes per saved interval (4: 400 nodes).
    - `cfl`: $c$ of the step $c/(u_{\max} k_{\mathrm{cut}})$
        (`SpectralBurgers1D.max_dt`).
    - `dtype`: the arithmetic (float64 by default); the file is float32 either way.
    - `chunk_size`: samples per compiled call; the output does not depend on it.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Burgers_GRF_Nu{ν}.hdf5` with `tensor` `(N, nt, nx)` (frame 0 is
    $u_0$), `x-coordinate`, `t-coordinate`, root attrs `Nu`, `sigma`, `tau`,
    `gamma`.
    """
    owner = "generate_burgers_grf"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    nu = _checks.real("nu", nu, minimum=0.0, owner=owner)
    nx = _checks.integer("nx", nx, minimum=2, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    t_end = _checks.real("t_end", t_end, above=0.0, owner=owner)
    refine = _checks.integer("refine", refine, minimum=1, owner=owner)
    cfl = _checks.real("cfl", cfl, above=0.0, owner=owner)
    initial = solvers.PeriodicMaternGRF(sigma, tau, gamma, n_modes)
    n_nodes = (nx - 1) * refine
    if n_nodes % 2 or n_nodes // 3 < initial.n_modes:
        raise ValueError(
            f"{owner}: the solver's {n_nodes} = (nx - 1) * refine nodes must be even "
            f"and resolve the {initial.n_modes} modes of u0 without aliasing (at "
            f"least {3 * initial.n_modes}); raise refine or lower n_modes."
        )
    grid = solvers.Grid(n_nodes, points="nodes")
    u_max = U_MAX_STDS * initial.variance() ** 0.5
    interval = t_end / (nt - 1)
    max_dt = solvers.SpectralBurgers1D.max_dt(grid, u_max, cfl=cfl)
    m = solvers.substeps(interval, max_dt, what=f"cfl={cfl} with nx={n_nodes}")
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (n_nodes * nt))
    settings = {
        "nu": nu,
        "sigma": sigma,
        "tau": tau,
        "gamma": gamma,
        "n_modes": n_modes,
        "n_samples": n_samples,
        "nx": nx,
        "nt": nt,
        "t_end": t_end,
        "refine": refine,
        "solver_nodes": n_nodes,
        "cfl": cfl,
        "u_max": u_max,
        "substeps": m,
        "dt": interval / m,
        "dtype": dtype,
    }

    def make_recipe():
        stepper = solvers.SpectralBurgers1D(grid, interval / m, nu)
        return BurgersGRFRecipe(
            stepper,
            initial,
            jnp.asarray(u_max),
            n_frames=nt,
            substeps=m,
            refine=refine,
        )

    chunks = chunk_source(
        make_recipe,
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=dtype == "float64",
        mesh=mesh,
    )
    return write_fields(
        Path(out) / burgers_grf_filename(nu),
        chunks,
        coordinates={
            X_COORD: np.arange(nx) / (nx - 1),
            T_COORD: frame_times(t_end, nt),
        },
        params={
            "Nu": nu,
            "sigma": initial.sigma,
            "tau": initial.tau,
            "gamma": initial.gamma,
        },
        provenance={"generator": "burgers_grf", "seed": seed, "params": settings},
        resume=resume,
    )
