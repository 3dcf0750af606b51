r"""2-D incompressible Navier-Stokes in vorticity form on the unit torus, pseudo-spectral.

$\partial_t w + \mathbf u\cdot\nabla w = \nu \Delta w$, $\mathbf u = (\partial_y\psi,
-\partial_x\psi)$, $-\Delta\psi = w$, no forcing (the HC-MoE data, Chalapathi et al.,
ICLR 2024; spec pdebench.md §5; CAPE 2-D uses $\nu$ as the parameter).

Scheme [D] (the authors' solver is not released):

- Fourier collocation at $x_i = i/N$ (so striding by $s$ gives the $N/s$ grid
  exactly), real FFTs, 2/3-rule de-aliasing: the fields entering the product
  $\mathbf u\cdot\nabla w$ and the product itself keep $|k_d| < N/3$ only.
- Crank-Nicolson for $\nu\Delta$ with Heun (explicit trapezoidal predictor-corrector)
  for the advection, as in the FNO Navier-Stokes data (Li et al., ICLR 2021):
  $w^* = B(Aw^n + h N(w^n))$, $w^{n+1} = B(A w^n + \tfrac h2 (N(w^n) + N(w^*)))$,
  $A = 1 - \tfrac h2\nu k^2$, $B = 1/(1 + \tfrac h2 \nu k^2)$. Second order in time
  (the tests measure it); CN is unconditionally stable for the diffusion.
- Step size: each interval between saved frames is split into equal sub-steps
  $h \le$ `dt_max` ($10^{-3}$) with $h \max(|u|/\Delta x + |v|/\Delta y) \le$ `cfl`
  (0.5), with the velocity measured at the start of the interval (sub-stepping, so
  no viscosity or resolution is refused; `cfl` above 0.5 is refused because Heun's
  amplification on the imaginary axis, $\sqrt{1 + z^4/4}$, grows quickly beyond).
- The mean vorticity (the $k = 0$ mode) is untouched by both parts, so it is
  conserved to round-off.
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

from sciml.datasets._grf import periodic_grf_2d, periodic_kernel_spectrum
from sciml.datasets._hdf5 import write

_CHUNK_ELEMENTS = 2**24  # grid values per chunk at the solver resolution


def navier_stokes_filename(nu: float | int) -> str:
    """The file name for viscosity $\\nu$: `2D_NS_Vort_Nu{float(nu)}.hdf5`.

    Not truncated to 5 characters as PDEBench's names are: that would turn
    $10^{-4}$ into `0.000` ([D]; this file is ours, not PDEBench's).
    """
    return f"2D_NS_Vort_Nu{float(nu)}.hdf5"


class _Spectral:
    """Wavenumbers and the de-aliasing mask of an `n x n` real-FFT grid."""

    def __init__(self, n: int, dtype: Any):
        kx = np.fft.fftfreq(n, 1.0 / n)
        ky = np.fft.rfftfreq(n, 1.0 / n)
        self.kx = jnp.asarray(2 * np.pi * kx[:, None], dtype)
        self.ky = jnp.asarray(2 * np.pi * ky[None, :], dtype)
        k2 = self.kx**2 + self.ky**2
        self.k2 = k2
        self.inv_k2 = jnp.where(k2 > 0, 1.0 / jnp.where(k2 > 0, k2, 1.0), 0.0)
        keep = (np.abs(kx)[:, None] < n / 3) & (np.abs(ky)[None, :] < n / 3)
        self.mask = jnp.asarray(keep, dtype)
        self.n = n


def _velocity(w_hat: Array, sp: _Spectral, n: int) -> tuple[Array, Array]:
    psi = w_hat * sp.inv_k2
    u = jnp.fft.irfft2(1j * sp.ky * psi, s=(n, n))
    v = jnp.fft.irfft2(-1j * sp.kx * psi, s=(n, n))
    return u, v


def _advection(w_hat: Array, sp: _Spectral, n: int) -> Array:
    r"""$-\widehat{\mathbf u\cdot\nabla w}$, de-aliased (inputs and output)."""
    w_hat = w_hat * sp.mask
    u, v = _velocity(w_hat, sp, n)
    wx = jnp.fft.irfft2(1j * sp.kx * w_hat, s=(n, n))
    wy = jnp.fft.irfft2(1j * sp.ky * w_hat, s=(n, n))
    return -jnp.fft.rfft2(u * wx + v * wy) * sp.mask


def _cn_heun(w_hat: Array, h: Array, nu: Array, sp: _Spectral, n: int) -> Array:
    half = 0.5 * h * nu * sp.k2
    a = 1.0 - half
    b = 1.0 / (1.0 + half)
    n0 = _advection(w_hat, sp, n)
    w1 = b * (a * w_hat + h * n0)
    n1 = _advection(w1, sp, n)
    return b * (a * w_hat + 0.5 * h * (n0 + n1))


def solve_vorticity(
    w0: Float[Array, "N N"],
    nu: Float[Array, ""],
    interval: Float[Array, ""],
    n_frames: int,
    dt_max: float,
    cfl: float,
) -> tuple[Float[Array, "T N N"], Int[Array, " T1"]]:
    r"""Integrate one vorticity field and return it at `n_frames` equispaced times.

    **Arguments:**

    - `w0`: vorticity at $t = 0$ on the points $(i/N, j/N)$.
    - `nu`: viscosity $\nu$.
    - `interval`: time between saved frames.
    - `n_frames`: frames saved, the first being `w0`.
    - `dt_max`, `cfl`: the sub-step limits (module docstring).

    **Returns:**

    `(frames, substeps)`: `frames` `(n_frames, N, N)`; `substeps` `(n_frames - 1,)`,
    the sub-steps taken in each interval.
    """
    n = w0.shape[0]
    sp = _Spectral(n, w0.dtype)
    dx = 1.0 / n

    def interval_step(w_hat, _):
        u, v = _velocity(w_hat, sp, n)
        speed = jnp.max(jnp.abs(u) + jnp.abs(v)) / dx
        h_cfl = cfl / jnp.maximum(speed, jnp.finfo(w0.dtype).tiny)
        h_lim = jnp.minimum(h_cfl, dt_max)
        substeps = jnp.maximum(jnp.ceil(interval / h_lim - 1e-9), 1).astype(jnp.int32)
        h = interval / substeps
        w_hat = jax.lax.fori_loop(
            0, substeps, lambda _, w: _cn_heun(w, h, nu, sp, n), w_hat
        )
        return w_hat, (jnp.fft.irfft2(w_hat, s=(n, n)), substeps)

    w_hat0 = jnp.fft.rfft2(w0)
    _, (frames, substeps) = jax.lax.scan(
        interval_step, w_hat0, None, length=n_frames - 1
    )
    return jnp.concatenate([w0[None], frames], axis=0), substeps


@functools.partial(
    jax.jit, static_argnames=("n", "resolution", "stride", "n_frames", "dt_max", "cfl")
)
def _chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    spectrum: Float[Array, " M"],
    nu: Float[Array, ""],
    interval: Float[Array, ""],
    n: int,
    resolution: int,
    stride: int,
    n_frames: int,
    dt_max: float,
    cfl: float,
) -> Float[Array, "n T X Y"]:
    def one(i):
        w0 = periodic_grf_2d(jax.random.fold_in(key, start + i), spectrum, resolution)
        frames, _ = solve_vorticity(w0, nu, interval, n_frames, dt_max, cfl)
        return frames[:, ::stride, ::stride]

    return jax.vmap(one)(jnp.arange(n))


def _number(name: str, value: Any, *, integer: bool = False) -> None:
    if integer:
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}.")


def generate_navier_stokes_2d(
    *,
    out: str | os.PathLike,
    nu: float | int = 1e-4,
    n_samples: int = 4000,
    seed: int = 0,
    resolution: int = 256,
    save_resolution: int | None = None,
    nt: int = 64,
    t_end: float | int = 5.0,
    length_scale: float | int = 0.8,
    dt_max: float | int = 1e-3,
    cfl: float | int = 0.5,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write 2-D vorticity trajectories $w(t_k, x, y)$ on the unit torus (HC-MoE data).

    $w_0$ is a Gaussian random field with the periodic kernel $\prod_d \exp(-2\sin^2(
    \pi(x_d - x'_d))/\ell^2)$, $\ell = 0.8$, mean removed and scaled to unit spatial
    standard deviation ([D]: the kernel form and amplitude are [U] in the paper). It
    is sampled as a trigonometric polynomial ($|k_d| \le 15$) from
    `fold_in(key(seed), i)`, so sample $i$ has the same $w_0$ at every resolution
    ($\ge 32$) and every $\nu$. Frames $t_k = k\,t_\mathrm{end}/(n_t - 1)$ ([D]: $T =
    5$ with 64 frames). Scheme and step size: module docstring.

    **Arguments:**

    - `out`: directory for the file.
    - `nu`: viscosity $\nu > 0$ (HC-MoE: $10^{-4}$; CAPE 2-D: $10^{-3}$, $3\cdot
        10^{-4}$, $10^{-4}$, unseen $5\cdot10^{-4}$, $2\cdot10^{-4}$).
    - `n_samples`, `seed`: trajectories (HC-MoE: 4000 train at 64², 100 test at
        256²), PRNG seed.
    - `resolution`: solver grid per axis (even, $\ge 8$; default 256).
    - `save_resolution`: saved grid per axis, `resolution` divided by an integer
        (strided, e.g. 64); default `resolution`.
    - `nt`, `t_end`: saved frames (including $t = 0$) and final time.
    - `length_scale`: $\ell$ of the initial-condition kernel ($\ge 0.2$).
    - `dt_max`, `cfl`: sub-step limits ($0 < $ `cfl` $\le 0.5$).
    - `dtype`: solver precision; the file is float32 either way.
    - `chunk_size`: trajectories per jitted call.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_NS_Vort_Nu{float(nu)}.hdf5` (e.g. `Nu0.0001`) holding `tensor`
    `(N, nt, X, Y)`, `x-coordinate`, `y-coordinate` ($i/X$), `t-coordinate`, attr
    `nu`.
    """
    for name, value in (("nu", nu), ("t_end", t_end), ("dt_max", dt_max)):
        _number(name, value)
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}.")
    _number("cfl", cfl)
    if not 0 < cfl <= 0.5:
        raise ValueError(
            f"cfl must be in (0, 0.5], got {cfl!r}: Heun's explicit advection step "
            "is only weakly stable beyond; lower cfl (sub-steps are added for you)."
        )
    _number("length_scale", length_scale)
    if length_scale < 0.2:
        raise ValueError(
            f"length_scale must be >= 0.2, got {length_scale!r} (the field keeps "
            "Fourier modes |k| <= 15 only); the HC-MoE data use 0.8."
        )
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("seed", seed, 0),
        ("resolution", resolution, 8),
        ("nt", nt, 2),
    ):
        _number(name, value, integer=True)
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}.")
    if resolution % 2:
        raise ValueError(f"resolution must be even, got {resolution}; e.g. 256.")
    save = resolution if save_resolution is None else save_resolution
    _number("save_resolution", save, integer=True)
    if save < 1 or resolution % save:
        raise ValueError(
            f"save_resolution must divide resolution={resolution}, got {save}; "
            f"e.g. {resolution // 4}."
        )
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    if chunk_size is not None:
        _number("chunk_size", chunk_size, integer=True)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}.")
    stride = resolution // save
    chunk = chunk_size or max(1, _CHUNK_ELEMENTS // (resolution * resolution * nt))
    chunk = min(chunk, n_samples)
    interval = float(t_end) / (nt - 1)
    spectrum = periodic_kernel_spectrum(float(length_scale))
    x = np.arange(save) / save
    t = interval * np.arange(nt)
    path = Path(out) / navier_stokes_filename(nu)
    settings = {
        "nu": float(nu),
        "n_samples": n_samples,
        "resolution": resolution,
        "save_resolution": save,
        "nt": nt,
        "t_end": float(t_end),
        "length_scale": float(length_scale),
        "dt_max": float(dt_max),
        "cfl": float(cfl),
        "dtype": dtype,
        "scheme": "pseudo-spectral, 2/3 de-aliasing, Crank-Nicolson + Heun",
    }
    real = np.float64 if dtype == "float64" else np.float32

    def chunks(first: int = 0):
        key = jax.random.key(seed)
        for begin in range(first, n_samples, chunk):
            w = _chunk(
                key,
                jnp.asarray(begin),
                jnp.asarray(spectrum, real),
                jnp.asarray(nu, real),
                jnp.asarray(interval, real),
                n=chunk,
                resolution=resolution,
                stride=stride,
                n_frames=nt,
                dt_max=float(dt_max),
                cfl=float(cfl),
            )
            yield np.asarray(w, np.float32)[: n_samples - begin, ..., None]

    with jax.enable_x64(dtype == "float64"):
        return write(
            path,
            chunks,
            x=x,
            y=x,
            t=t,
            params={"nu": float(nu)},
            provenance={
                "generator": "navier_stokes_2d",
                "seed": seed,
                "params": settings,
            },
            resume=resume,
        )
