r"""The diffusion-reaction data of PI-DeepONet: $s_t = D s_{xx} + k s^2 + u(x)$ on
$(x, t) \in [0, 1]^2$, $s = 0$ at $t = 0$ and at $x = 0, 1$, $D = k = 0.01$ (Wang,
Wang & Perdikaris, Sci. Adv. 7, 2021; spec deeponet.md §4).

The source $u$ is a zero-mean squared-exponential Gaussian random function,
$\ell = 0.2$, unit variance [D] (`sciml.solvers.SquaredExponentialSeries`: one
function whatever grid it is evaluated on). Solved by
`sciml.solvers.SourceDiffusionReaction1D` (second-order finite differences on
$99 r$ intervals, ETDRK4 in the sine basis, float64) and saved, as in the
PI-DeepONet notebook's data [D], on the uniform $100 \times 100$ grid
$x_i = i/99$, $t_k = k/99$ with both ends (every $r$-th node, and $s(1) = 0$).
Measured (6 sources, against $r = 80$ and 16 steps a frame): with the default
$r = 20$ (1980 intervals) and 2 ETDRK4 steps a frame, the error is below
$9\cdot10^{-7}$ of $\max|s|$ (order 2 in space: $3.7\cdot10^{-6}$ at $r = 10$),
of which the time error is below $10^{-12}$.
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


def source_diffusion_reaction_filename(
    d: float | int, k: float | int, length_scale: float | int
) -> str:
    """The file name ([D], PDEBench-style):
    `1D_SourceDiffReact_D{D}_K{k}_l{ℓ}.hdf5`, e.g.
    `1D_SourceDiffReact_D0.01_K0.01_l0.2.hdf5`."""
    numbers = (pdebench_number(v) for v in (d, k, length_scale))
    return "1D_SourceDiffReact_D{}_K{}_l{}.hdf5".format(*numbers)


class SourceDiffusionReactionRecipe(Recipe):
    """A random source through `SourceDiffusionReaction1D` from $s = 0$, saved at
    every `refine`-th node plus the right end."""

    grid: solvers.Grid
    family: solvers.SquaredExponentialSeries
    x_saved: Array
    dt: Array
    d: Array
    k: Array
    n_frames: int = eqx.field(static=True)
    substeps: int = eqx.field(static=True)
    refine: int = eqx.field(static=True)

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        params = self.family.params(key=key)
        x = jnp.asarray(self.grid.axes[0], self.x_saved.dtype)
        source = self.family.evaluate(params, x)[None]
        stepper = solvers.SourceDiffusionReaction1D(
            self.grid, self.dt, source, self.d, self.k
        )
        s0 = jnp.zeros_like(source)
        frames = stepper.trajectory(s0, self.n_frames, self.substeps)[:, 0]
        saved = frames[:, :: self.refine]
        saved = jnp.concatenate([saved, jnp.zeros_like(saved[:, :1])], axis=-1)
        return {
            "tensor": saved,
            "u": self.family.evaluate(params, self.x_saved),
            "ok": jnp.isfinite(frames).all(),
        }

    def check(self, block: Block, start: int) -> None:
        failed = np.flatnonzero(~block["ok"])
        if failed.size:
            raise RuntimeError(
                f"The solve of sample {start + int(failed[0])} is not finite; use more "
                "substeps or check d and k."
            )

    def finish(self, block: Block) -> dict[str, np.ndarray]:
        return {
            name: value.astype(np.float32)
            for name, value in block.items()
            if name != "ok"
        }


def generate_source_diffusion_reaction(
    *,
    out: str | os.PathLike,
    n_samples: int = 1000,
    seed: int = 0,
    d: float | int = 0.01,
    k: float | int = 0.01,
    length_scale: float | int = 0.2,
    sigma: float | int = 1.0,
    nx: int = 100,
    nt: int = 100,
    t_end: float | int = 1.0,
    refine: int = 20,
    substeps: int = 2,
    dtype: Literal["float32", "float64"] = "float64",
    chunk_size: int | None = None,
    mesh: Mesh | None = None,
    resume: bool = False,
) -> Path:
    r"""Write the diffusion-reaction data of PI-DeepONet: a source $u(x)$ and the
    solution $s(x, t)$ of $s_t = D s_{xx} + k s^2 + u$, zero initial and boundary
    values.

    Sample $i$'s source is `sciml.solvers.SquaredExponentialSeries(length_scale,
    sigma)` drawn from `fold_in(key(seed), i)`; the solve is
    `sciml.solvers.SourceDiffusionReaction1D` on $(n_x - 1) \cdot$ `refine`
    intervals, `substeps` ETDRK4 steps a frame (module docstring for the accuracy).

    **Arguments:**

    - `out`: directory for the file.
    - `n_samples`: source functions (40 kB each).
    - `seed`: PRNG seed.
    - `d`: the diffusivity $D \ge 0$ (0.01).
    - `k`: the reaction rate $k$ (0.01).
    - `length_scale`: $\ell$ of the source's squared-exponential kernel (0.2).
    - `sigma`: the source's standard deviation ([D] 1).
    - `nx`: saved points $x_i = i/(n_x - 1)$, both ends included; the source $u$ is
        saved at the same points (the DeepONet sensors).
    - `nt`: saved frames $t_k = k\,t_\mathrm{end}/(n_t - 1)$, including $t = 0$.
    - `t_end`: final time.
    - `refine`: solver intervals per saved interval (20: 1980 intervals).
    - `substeps`: ETDRK4 steps per frame.
    - `dtype`: the arithmetic (float64 by default); the file is float32 either way.
    - `chunk_size`: samples per compiled call; the output does not depend on it.
    - `mesh`: the devices each chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices); default all local
        devices. The file does not depend on it.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_SourceDiffReact_D{D}_K{k}_l{ℓ}.hdf5` with `tensor` $s$
    `(N, nt, nx)` (PDEBench's `(samples, t, x)`; frame 0 and the columns $x = 0, 1$
    are zero), `u` the source `(N, nx)`, `x-coordinate`, `t-coordinate`, root attrs
    `d`, `k`, `l`, `sigma`.
    """
    owner = "generate_source_diffusion_reaction"
    n_samples, seed, chunk_size = check_common(
        owner,
        n_samples=n_samples,
        seed=seed,
        chunk_size=chunk_size,
        dtype=dtype,
        resume=resume,
    )
    d = _checks.real("d", d, minimum=0.0, owner=owner)
    k = _checks.real("k", k, owner=owner)
    length_scale = _checks.real("length_scale", length_scale, above=0.0, owner=owner)
    sigma = _checks.real("sigma", sigma, above=0.0, owner=owner)
    nx = _checks.integer("nx", nx, minimum=2, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    t_end = _checks.real("t_end", t_end, above=0.0, owner=owner)
    refine = _checks.integer("refine", refine, minimum=1, owner=owner)
    substeps = _checks.integer("substeps", substeps, minimum=1, owner=owner)
    n_nodes = (nx - 1) * refine
    if n_nodes < 3:
        raise ValueError(
            f"{owner}: the solver needs at least 3 intervals, got (nx - 1) * refine = "
            f"{n_nodes}; raise nx or refine."
        )
    grid = solvers.Grid(n_nodes, points="nodes")
    family = solvers.SquaredExponentialSeries(length_scale, sigma)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (n_nodes * nt))
    interval = t_end / (nt - 1)
    x = np.arange(nx) / (nx - 1)
    settings = {
        "d": d,
        "k": k,
        "length_scale": length_scale,
        "sigma": sigma,
        "n_samples": n_samples,
        "nx": nx,
        "nt": nt,
        "t_end": t_end,
        "refine": refine,
        "solver_intervals": n_nodes,
        "substeps": substeps,
        "dt": interval / substeps,
        "dtype": dtype,
        "series_modes": family.n_modes,
    }

    def make_recipe():
        return SourceDiffusionReactionRecipe(
            grid,
            family,
            jnp.asarray(x),
            jnp.asarray(interval / substeps),
            jnp.asarray(d),
            jnp.asarray(k),
            n_frames=nt,
            substeps=substeps,
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
        Path(out) / source_diffusion_reaction_filename(d, k, length_scale),
        chunks,
        coordinates={X_COORD: x, T_COORD: frame_times(t_end, nt)},
        params={"d": d, "k": k, "l": length_scale, "sigma": sigma},
        provenance={
            "generator": "source_diffusion_reaction",
            "seed": seed,
            "params": settings,
        },
        resume=resume,
    )
