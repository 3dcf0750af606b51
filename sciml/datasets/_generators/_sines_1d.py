"""The recipe PDEBench's 1-D advection, Burgers and reaction-diffusion files share:
PDEBench's random sines on a periodic grid of cells, one stepper (finite-volume, or
a Fourier scheme that may solve on fewer cells than the file holds), frames every
`substeps` steps, one channel."""

from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._hdf5 import write
from .._pipeline import Block, Recipe, chunk_length, chunk_source
from ._common import frame_times

CHUNK_VALUES = 2**25  # output values per compiled call (128 MiB of float32): on an
# H100 the 1-D solvers need about 1000 samples of 1024 cells per call to fill it


def normalise(u: Array) -> Array:
    r"""Min-max normalise one sample to $[0, 1]$ (a constant field becomes 1/2)."""
    low, high = jnp.min(u), jnp.max(u)
    span = high - low
    safe = jnp.where(span > 0, span, 1)
    return jnp.where(span > 0, (u - low) / safe, jnp.full_like(u, 0.5))


def channel_last(block: Block) -> np.ndarray:
    """Frames `(n, T, C, X)` as the file stores them: `(n, T, X, C)` float32."""
    return np.moveaxis(block["u"], 2, -1).astype(np.float32)


class SinesRecipe(Recipe):
    """PDEBench's sines (optionally min-max normalised) through a stepper, on the
    stepper's grid.

    When `file_grid` (the file's cells; default the stepper's) has more cells than
    the stepper (a Fourier stepper, `AbstractSpectralStepper1D`), $u_0$ is drawn
    and normalised on the file's cells, truncated to the stepper's modes
    (`sciml.solvers.resample`), and the frames are interpolated back onto the
    file's cells."""

    stepper: solvers.AbstractStepper
    initial: solvers.PDEBenchSines
    n_frames: int = eqx.field(static=True)
    substeps: int = eqx.field(static=True)
    normalised: bool = eqx.field(static=True, default=False)
    file_grid: solvers.Grid | None = None

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        grid = self.stepper.grid if self.file_grid is None else self.file_grid
        u0 = self.initial(grid, key=key)
        if self.normalised:
            u0 = normalise(u0)
        n, points = self.stepper.grid.shape[0], grid.shape[0]
        if points == n:
            return {"u": self.stepper.trajectory(u0, self.n_frames, self.substeps)}
        u0 = solvers.resample(jnp.fft.rfft(u0, axis=-1), grid, n)
        frames = self.stepper.trajectory(
            u0, self.n_frames, self.substeps, output_points=points
        )
        return {"u": frames}

    def finish(self, block: Block) -> np.ndarray:
        return channel_last(block)


def check_sizes(
    owner: str, nx: Any, nt: Any, t_end: Any, min_nx: int = 5
) -> tuple[int, int, float]:
    """`nx` (>= `min_nx`: 5 for the finite-volume stencil), `nt` (>= 2) and `t_end`
    (> 0) of a 1-D file."""
    nx = _checks.integer("nx", nx, minimum=min_nx, owner=owner)
    nt = _checks.integer("nt", nt, minimum=2, owner=owner)
    t_end = _checks.real("t_end", t_end, above=0.0, owner=owner)
    return nx, nt, t_end


def spectral_grid(owner: str, nx: int, spectral_nx: Any) -> solvers.Grid:
    """The cells a Fourier scheme solves on: `spectral_nx` of them (default `nx`),
    an even number in [4, nx]; its frames are interpolated onto the file's `nx`."""
    if spectral_nx is None:
        spectral_nx = nx
    spectral_nx = _checks.integer(
        "spectral_nx", spectral_nx, minimum=4, maximum=nx, owner=owner
    )
    if spectral_nx % 2:
        raise ValueError(
            f"{owner}: spectral_nx must be even (the real FFT's Nyquist mode), got "
            f"{spectral_nx}."
        )
    return solvers.Grid(spectral_nx)


def write_sines(
    path: Path,
    make_recipe: Any,
    *,
    nx: int,
    nt: int,
    t_end: float | int,
    n_samples: int,
    seed: int,
    chunk_size: int | None,
    mesh: Mesh | None,
    float64: bool,
    params: dict[str, float],
    provenance: dict[str, Any],
    resume: bool,
) -> Path:
    """Run a 1-D recipe through the pipeline into a PDEBench `tensor` file."""
    grid = solvers.Grid(nx)
    chunk = chunk_length(chunk_size, n_samples, CHUNK_VALUES // (nx * nt))
    chunks = chunk_source(
        lambda: make_recipe(grid),
        key=jax.random.key(seed),
        n_samples=n_samples,
        chunk=chunk,
        float64=float64,
        mesh=mesh,
    )
    return write(
        path,
        chunks,
        x=grid.axes[0],
        t=frame_times(t_end, nt),
        params=params,
        provenance=provenance,
        resume=resume,
    )
