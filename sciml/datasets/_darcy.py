r"""2-D steady Darcy flow $-\nabla\cdot(a \nabla u) = \beta$ on $(0,1)^2$, $u = 0$ on
the boundary, solved directly (PDEBench, Takamoto et al., NeurIPS 2022; spec
pdebench.md §3).

Discretisation: cell-centred finite volumes on an $n \times n$ grid ($h = 1/n$), the
5-point flux form with face diffusivity the arithmetic mean of the two neighbouring
cells. The boundary condition ([D], `boundary`):

- `"dirichlet"` (default): $u = 0$ *on the boundary faces*: the boundary flux is
  $a_b (u_b - 0)/(h/2)$ (ghost value $-u_b$). Second-order accurate (the manufactured
  test measures the order).
- `"ghost_zero"`: PDEBench's pseudo-time code, a ghost value 0 one cell outside
  (flux $a_b u_b / h$), i.e. $u = 0$ half a cell beyond the boundary; first order.
  Which diffusivity PDEBench gives the boundary face is [U]; the boundary cell's
  own $a_b$ is used in both modes.

PDEBench reaches the steady state by running pseudo-time to $t = 2$, where a few
percent of the slowest transient may remain ([U] in the spec); here the linear
system is solved with preconditioned conjugate gradients (it is symmetric positive
definite) to relative residual $10^{-10}$ in float64, then cast to float32. The
preconditioner is the exact inverse of the constant-coefficient operator, applied
through the eigendecomposition of the 1-D second-difference matrix (two dense
$n \times n$ products each way): with $a \in [a_{\min}, a_{\max}]$ the
preconditioned condition number is at most $a_{\max}/a_{\min}$ (10 for the binary
permeability), so CG needs a few dozen iterations instead of thousands.
"""

import functools
import math
import os
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciml.datasets._grf import se_factor, se_grf_2d
from sciml.datasets._hdf5 import X_COORD, Y_COORD
from sciml.datasets._layouts import write_fields

_N_BUMPS = 5
_RTOL = 1e-10
_CHUNK_ELEMENTS = 2**21  # float64 values of u per chunk (about 16 MiB)


def darcy_filename(beta: float | int) -> str:
    """PDEBench's file name for source $\\beta$: `2D_DarcyFlow_beta{β}_Train.hdf5`."""
    return f"2D_DarcyFlow_beta{str(float(beta))[:5]}_Train.hdf5"


def _boundary_weight(boundary: str) -> float:
    return {"dirichlet": 2.0, "ghost_zero": 1.0}[boundary]


def _face_weights(a: Float[Array, "X Y"], weight: float) -> tuple[Array, Array]:
    """Face diffusivities (arithmetic means; boundary faces get `weight * a_b`)."""
    inner_x = 0.5 * (a[1:, :] + a[:-1, :])
    ax = jnp.concatenate([weight * a[:1, :], inner_x, weight * a[-1:, :]], axis=0)
    inner_y = 0.5 * (a[:, 1:] + a[:, :-1])
    ay = jnp.concatenate([weight * a[:, :1], inner_y, weight * a[:, -1:]], axis=1)
    return ax, ay


def _apply(
    u: Float[Array, "X Y"], ax: Float[Array, "X1 Y"], ay: Float[Array, "X Y1"], h: float
) -> Float[Array, "X Y"]:
    r"""$-\nabla\cdot(a\nabla u)$ on cell centres (ghost values 0)."""
    up = jnp.pad(u, 1)
    fx = ax * (up[1:, 1:-1] - up[:-1, 1:-1])
    fy = ay * (up[1:-1, 1:] - up[1:-1, :-1])
    return -((fx[1:, :] - fx[:-1, :]) + (fy[:, 1:] - fy[:, :-1])) / h**2


def laplacian_eigen(n: int, boundary: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of the 1-D matrix $-d^2/dx^2$ of this scheme."""
    h = 1.0 / n
    weight = _boundary_weight(boundary)
    matrix = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    matrix[0, 0] = matrix[-1, -1] = 1.0 + weight
    values, vectors = np.linalg.eigh(matrix / h**2)
    return values, vectors


def solve_darcy(
    a: Float[Array, "X X"],
    f: Float[Array, "X X"],
    eig_values: Float[Array, " X"],
    eig_vectors: Float[Array, "X X"],
    boundary: str = "dirichlet",
    maxiter: int = 5000,
) -> tuple[Float[Array, "X X"], Float[Array, ""]]:
    r"""Solve $-\nabla\cdot(a\nabla u) = f$ on one $n \times n$ cell-centred grid.

    **Arguments:**

    - `a`: diffusivity at the cell centres (positive).
    - `f`: source at the cell centres.
    - `eig_values`, `eig_vectors`: `laplacian_eigen(n, boundary)` (preconditioner).
    - `boundary`: `"dirichlet"` or `"ghost_zero"` (module docstring).
    - `maxiter`: CG iteration cap.

    **Returns:**

    `(u, relative_residual)` with $\|f - A u\|_2 / \|f\|_2$ recomputed from `u`.
    """
    n = a.shape[0]
    h = 1.0 / n
    ax, ay = _face_weights(a, _boundary_weight(boundary))
    scale = jnp.mean(a)
    denom = eig_values[:, None] + eig_values[None, :]

    def operator(u):
        return _apply(u, ax, ay, h)

    def preconditioner(r):
        spectral = eig_vectors.T @ r @ eig_vectors
        return eig_vectors @ (spectral / denom) @ eig_vectors.T / scale

    u, _ = jax.scipy.sparse.linalg.cg(
        operator, f, tol=_RTOL, atol=0.0, maxiter=maxiter, M=preconditioner
    )
    residual = jnp.linalg.norm(f - operator(u)) / jnp.linalg.norm(f)
    return u, residual


def _bump_field(key: PRNGKeyArray, centres: Float[Array, " X"]) -> Float[Array, "X X"]:
    """PDEBench's $g(x) = \\sum_i \\exp(-|x - m_i|^2 / s_i)$ with 5 random bumps."""
    k_m, k_s = jax.random.split(key)
    dtype = centres.dtype
    m = jax.random.uniform(k_m, (_N_BUMPS, 2), dtype)
    s = 0.5 * jax.random.uniform(k_s, (_N_BUMPS,), dtype, minval=1e-12)
    dx2 = (centres[None, :] - m[:, :1]) ** 2  # (bumps, X)
    dy2 = (centres[None, :] - m[:, 1:]) ** 2
    d2 = dx2[:, :, None] + dy2[:, None, :]
    return jnp.sum(jnp.exp(-d2 / s[:, None, None]), axis=0)


@functools.partial(jax.jit, static_argnames=("n_block",))
def _block_means(
    key: PRNGKeyArray, start: Int[Array, ""], centres: Float[Array, " X"], n_block: int
) -> Float[Array, ""]:
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(start + jnp.arange(n_block))
    return jnp.mean(jax.vmap(lambda k: _bump_field(k, centres))(keys))


@functools.partial(
    jax.jit, static_argnames=("n", "permeability", "boundary", "maxiter")
)
def _chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    thresholds: Float[Array, " n"],
    centres: Float[Array, " X"],
    factor: Float[Array, "X X"],
    eig_values: Float[Array, " X"],
    eig_vectors: Float[Array, "X X"],
    beta: Float[Array, ""],
    sigma: Float[Array, ""],
    n: int,
    permeability: str,
    boundary: str,
    maxiter: int,
) -> tuple[Float[Array, "n X X"], Float[Array, "n X X"], Float[Array, " n"]]:
    def one(i, threshold):
        k = jax.random.fold_in(key, start + i)
        if permeability == "bumps":
            g = _bump_field(k, centres)
            cut = jnp.where(jnp.isnan(threshold), jnp.mean(g), threshold)
            a = jnp.where(g > cut, 1.0, 0.1).astype(centres.dtype)
        else:
            a = jnp.exp(sigma * se_grf_2d(k, factor, factor))
        f = jnp.full_like(a, beta)
        u, res = solve_darcy(a, f, eig_values, eig_vectors, boundary, maxiter)
        return u, a, res

    return jax.vmap(one)(jnp.arange(n), thresholds)


def _check(
    name: str, value: Any, *, low: float | int | None = None, integer=False
) -> None:
    if integer:
        ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"{name} must be an integer, got {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}; e.g. {name}={low}.")


def generate_darcy(
    *,
    out: str | os.PathLike,
    beta: float | int = 1.0,
    n_samples: int = 10_000,
    seed: int = 0,
    n: int = 128,
    permeability: Literal["bumps", "lognormal"] = "bumps",
    batch_mean: bool = False,
    batch_size: int = 200,
    length_scale: float | int = 0.1,
    sigma: float | int = 1.0,
    boundary: Literal["dirichlet", "ghost_zero"] = "dirichlet",
    maxiter: int = 5000,
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 2-D Darcy file: $-\nabla\cdot(a\nabla u) = \beta$, $u|_{\partial
    \Omega} = 0$ on $(0,1)^2$.

    Permeability (`permeability="bumps"`, PDEBench): $g(x) = \sum_{i=1}^{5}
    \exp(-|x - m_i|^2/s_i)$, $m_i \sim U((0,1)^2)$, $s_i \sim 0.5\,U(0,1)$, and $a = 1$
    where $g >$ mean$(g)$, else $0.1$. The mean is per sample [D]; `batch_mean=True`
    takes it over consecutive blocks of `batch_size` samples (PDEBench's quirk: its
    batches of 200). `permeability="lognormal"` [D]: $a = \exp(\sigma g)$ with $g$ a
    unit-variance squared-exponential GRF of length scale `length_scale`. Sample $i$'s
    coefficient comes from `fold_in(key(seed), i)`, so every $\beta$ shares the same
    permeabilities (PDEBench instead used keys 2020-2069, 200 samples each).

    Solved by preconditioned CG to relative residual $10^{-10}$ in float64 (module
    docstring); a solve that misses $10^{-9}$ raises `RuntimeError`.

    **Arguments:**

    - `out`: directory for the file.
    - `beta`: the constant source $\beta > 0$ (PDEBench: 0.01, 0.1, 1, 10, 100).
    - `n_samples`, `seed`: how many samples, PRNG seed.
    - `n`: cells per axis (PDEBench: 128).
    - `permeability`, `batch_mean`, `batch_size`, `length_scale`, `sigma`: above.
    - `boundary`: `"dirichlet"` (second order, default) or `"ghost_zero"` (PDEBench's
        ghost value 0 one cell outside).
    - `maxiter`: CG iteration cap.
    - `chunk_size`: samples per jitted call (default about 16 MiB of float64).
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_DarcyFlow_beta{str(float(beta))[:5]}_Train.hdf5` with `tensor`
    `(N, 1, n, n)` $= u$, `nu` `(N, n, n)` $= a$, `x-coordinate`, `y-coordinate`
    (cell centres), root attr `beta`.
    """
    _check("beta", beta)
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta!r}; PDEBench uses 0.01 to 100.")
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("seed", seed, 0),
        ("n", n, 4),
        ("batch_size", batch_size, 1),
        ("maxiter", maxiter, 1),
    ):
        _check(name, value, low=low, integer=True)
    _check("length_scale", length_scale)
    _check("sigma", sigma, low=0.0)
    if length_scale <= 0:
        raise ValueError(f"length_scale must be > 0, got {length_scale!r}; e.g. 0.1.")
    if permeability not in ("bumps", "lognormal"):
        raise ValueError(
            f"permeability must be 'bumps' or 'lognormal', got {permeability!r}."
        )
    if boundary not in ("dirichlet", "ghost_zero"):
        raise ValueError(
            f"boundary must be 'dirichlet' or 'ghost_zero', got {boundary!r}."
        )
    if batch_mean and permeability != "bumps":
        raise ValueError("batch_mean=True applies to permeability='bumps' only.")
    if chunk_size is not None:
        _check("chunk_size", chunk_size, low=1, integer=True)
    chunk = min(chunk_size or max(1, _CHUNK_ELEMENTS // (n * n)), n_samples)
    centres = (np.arange(n) + 0.5) / n
    values, vectors = laplacian_eigen(n, boundary)
    factor = se_factor(centres, length_scale) if permeability == "lognormal" else None
    path = Path(out) / darcy_filename(beta)
    settings = {
        "beta": float(beta),
        "n_samples": n_samples,
        "n": n,
        "permeability": permeability,
        "batch_mean": bool(batch_mean),
        "batch_size": batch_size,
        "length_scale": float(length_scale),
        "sigma": float(sigma),
        "boundary": boundary,
        "rtol": _RTOL,
    }

    def chunks(first: int = 0):
        key = jax.random.key(seed)
        x = jnp.asarray(centres)
        fac = jnp.asarray(factor if factor is not None else np.eye(n))
        means: dict[int, float] = {}
        for start in range(first, n_samples, chunk):
            thresholds = np.full(chunk, np.nan)
            if batch_mean:
                for j in range(chunk):
                    b = (start + j) // batch_size
                    if b not in means:
                        size = min(batch_size, n_samples - b * batch_size)
                        means[b] = float(
                            _block_means(key, jnp.asarray(b * batch_size), x, size)
                        )
                    thresholds[j] = means[b]
            u, a, res = _chunk(
                key,
                jnp.asarray(start),
                jnp.asarray(thresholds),
                x,
                fac,
                jnp.asarray(values),
                jnp.asarray(vectors),
                jnp.asarray(float(beta)),
                jnp.asarray(float(sigma)),
                n=chunk,
                permeability=permeability,
                boundary=boundary,
                maxiter=maxiter,
            )
            keep = min(chunk, n_samples - start)
            worst = float(jnp.max(res[:keep]))
            if not worst <= 1e-9:
                raise RuntimeError(
                    f"CG reached relative residual {worst:.2e} > 1e-9 within "
                    f"{maxiter} iterations (samples {start}..{start + keep - 1}); "
                    "raise maxiter."
                )
            yield {
                "tensor": np.asarray(u, np.float32)[:keep, None],
                "nu": np.asarray(a, np.float32)[:keep],
            }

    with jax.enable_x64(True):
        return write_fields(
            path,
            chunks,
            coordinates={X_COORD: centres, Y_COORD: centres},
            params={"beta": float(beta)},
            provenance={"generator": "darcy", "seed": seed, "params": settings},
            resume=resume,
        )
