r"""The Fisher equation with three source-term families, for MT-DeepONet (Kumar et al.,
"Synergistic learning with multi-task DeepONet", 2024; spec deeponet.md §5.1).

$u_t = D u_{xx} + R(u)$ with one of

| family | $R(u)$ | coefficients $c$ of $(u, u^2, u^3, u^4)$ |
|---|---|---|
| `F1` (Fisher-KPP) | $a(u - u^2)$ | $a[1, -1, 0, 0]$ |
| `F2` | $a(u - u^3)$ | $a[1, 0, -1, 0]$ |
| `F3` | $a u(1-u) e^{\beta(u-1)}$ | $a e^{-\beta}[1, \beta-1, \beta(\beta/2-1), -\beta^2/2]$ |

$a$ is drawn uniformly from `linspace(0.1, 1, 10)` and $\beta$ (F3) from
`linspace(0.5, 2, 10)` (the sheet gives these grids [C]; uniform draws from them [D]).
F3 is generated with the full exponential and encoded with its quartic (2nd-order
Taylor) coefficients, as the paper's code does ([U] in the sheet; [D]).

The sheet marks $D$, the domain, the boundary conditions, the initial conditions and
the solver [U]; its defaults [D], used here: $x \in [0, 1]$ with zero-flux ends,
$t \in [0, 1]$ with 20 frames including $t = 0$, $D = 0.01$, $u_0 = \mathrm{sigmoid}(g)$
with $g$ a unit-variance squared-exponential GRF of length scale 0.1, solved on 256
cells and saved on 64.

Scheme [D] (instead of the sheet's Tsit5 at rtol $10^{-8}$, same accuracy class):
cell-centred finite volumes (mirror ghost cells give the zero flux; second order in
space) and classical RK4 with a fixed sub-step per frame interval,
$h \le 2/\lambda_{\max}$, $\lambda_{\max} = 4D/\Delta x^2 + 3a(1+\beta)$, inside RK4's
real-axis stability interval $[-2.78, 0]$ (sub-stepping, so no $D$ is refused).
The smooth modes then carry a time error $O(h^4) \approx 10^{-13}$, far below the
spatial error. Saved values are averages over groups of fine cells, i.e. the cell
averages of the coarse grid (whose centres are the saved `x-coordinate`).
"""

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from sciml.datasets._checks import integer
from sciml.datasets._grf import se_factor, se_grf_1d
from sciml.datasets._hdf5 import T_COORD, X_COORD
from sciml.datasets._layouts import write_fields

FAMILIES = ("F1", "F2", "F3")
DEFAULT_SAMPLES = {"F1": 1000, "F2": 1000, "F3": 2000}
A_VALUES = np.linspace(0.1, 1.0, 10)
BETA_VALUES = np.linspace(0.5, 2.0, 10)
_RK4_REAL_LIMIT = 2.0  # h * lambda_max; RK4 is stable up to 2.785
_Real = float | Float[Array, ""]


def fisher_sources_filename(family: str) -> str:
    """The file name of one family ([D]): `1D_Fisher_Sources_Form{1,2,3}.hdf5`.

    PDEBench-style, so `params_from_filename` reads `{"form": 1.0}` etc.
    """
    return f"1D_Fisher_Sources_Form{FAMILIES.index(family) + 1}.hdf5"


def reaction(u: Array, family: str, a: _Real, beta: _Real) -> Array:
    """$R(u)$ of `family` (`"F1"`, `"F2"`, `"F3"`; F3 with the full exponential)."""
    if family == "F1":
        return a * (u - u**2)
    if family == "F2":
        return a * (u - u**3)
    return a * u * (1.0 - u) * jnp.exp(beta * (u - 1.0))


def coefficients(family: str, a: _Real, beta: _Real) -> Float[Array, " 4"]:
    """The MT-DeepONet encoding $c$ of $R$: coefficients of $(u, u^2, u^3, u^4)$."""
    a = jnp.asarray(a)
    beta = jnp.asarray(beta, a.dtype)
    if family == "F1":
        vector = jnp.array([1.0, -1.0, 0.0, 0.0], a.dtype)
    elif family == "F2":
        vector = jnp.array([1.0, 0.0, -1.0, 0.0], a.dtype)
    else:
        ones = jnp.ones_like(beta)
        vector = jnp.exp(-beta) * jnp.stack(
            [ones, beta - 1.0, beta * (beta / 2.0 - 1.0), -(beta**2) / 2.0]
        )
    return a * vector


def _laplacian(u: Float[Array, " X"], dx: float) -> Float[Array, " X"]:
    padded = jnp.concatenate([u[:1], u, u[-1:]])  # mirror ghosts: zero flux
    return (padded[:-2] - 2.0 * u + padded[2:]) / dx**2


def substeps(interval: float, d: float, dx: float, a_max: float, beta: float) -> int:
    """RK4 sub-steps per frame interval so that $h\\lambda_{\\max} \\le 2$."""
    lam = 4.0 * d / dx**2 + 3.0 * a_max * (1.0 + beta)
    return max(1, math.ceil(interval * lam / _RK4_REAL_LIMIT - 1e-12))


def solve_fisher(
    u0: Float[Array, " X"],
    d: _Real,
    interval: _Real,
    n_frames: int,
    n_sub: int,
    rate: Callable[[Array, Array], Array],
) -> Float[Array, "T X"]:
    r"""Integrate $u_t = D u_{xx} + \mathrm{rate}(t, u)$ (zero flux) with RK4.

    **Arguments:**

    - `u0`: initial cell values on $N$ cells of $[0, 1]$.
    - `d`: diffusivity $D$.
    - `interval`: time between saved frames.
    - `n_frames`: frames returned, the first being `u0`.
    - `n_sub`: RK4 steps per interval (`substeps` gives a stable count).
    - `rate`: the reaction (plus any forcing) as a function of $(t, u)$.

    **Returns:**

    `(n_frames, N)` array.
    """
    dx = 1.0 / u0.shape[0]
    h = interval / n_sub

    def f(time, u):
        return d * _laplacian(u, dx) + rate(time, u)

    def rk4(k, state):
        u, t0 = state
        time = t0 + k * h
        k1 = f(time, u)
        k2 = f(time + h / 2, u + h / 2 * k1)
        k3 = f(time + h / 2, u + h / 2 * k2)
        k4 = f(time + h, u + h * k3)
        return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t0

    def frame(carry, index):
        u = carry
        t0 = index * interval
        u, _ = jax.lax.fori_loop(0, n_sub, rk4, (u, t0))
        return u, u

    _, frames = jax.lax.scan(frame, u0, jnp.arange(n_frames - 1, dtype=u0.dtype))
    return jnp.concatenate([u0[None], frames], axis=0)


@functools.partial(
    jax.jit, static_argnames=("n", "family", "n_frames", "n_sub", "factor_out")
)
def _chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    factor: Float[Array, "X X"],
    d: Float[Array, ""],
    interval: Float[Array, ""],
    n: int,
    family: str,
    n_frames: int,
    n_sub: int,
    factor_out: int,
) -> tuple[Float[Array, "n T S"], Float[Array, "n 4"], Float[Array, "n 2"]]:
    a_values = jnp.asarray(A_VALUES, factor.dtype)
    beta_values = jnp.asarray(BETA_VALUES, factor.dtype)

    def one(i):
        k_ic, k_a, k_b = jax.random.split(jax.random.fold_in(key, start + i), 3)
        u0 = jax.nn.sigmoid(se_grf_1d(k_ic, factor))
        a = a_values[jax.random.randint(k_a, (), 0, a_values.shape[0])]
        if family == "F3":
            beta = beta_values[jax.random.randint(k_b, (), 0, beta_values.shape[0])]
        else:
            beta = jnp.zeros((), factor.dtype)
        u = solve_fisher(
            u0, d, interval, n_frames, n_sub, lambda t, v: reaction(v, family, a, beta)
        )
        coarse = u.reshape(n_frames, -1, factor_out).mean(axis=-1)
        return coarse, coefficients(family, a, beta), jnp.stack([a, beta])

    return jax.vmap(one)(jnp.arange(n))


def _positive(name: str, value: Any) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


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
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write one source-term family of the Fisher data of MT-DeepONet.

    $u_t = D u_{xx} + R(u)$ on $[0, 1]$, zero flux, $u_0 = \mathrm{sigmoid}(g)$; see
    the module docstring for the families, the [U] choices and the scheme. Sample
    $i$ of family $f$ is drawn from `fold_in(fold_in(key(seed), f), i)`, so the three
    families made with one seed have distinct initial conditions (the paper pools
    them and splits 80/20 at random).

    **Arguments:**

    - `out`: directory for the file.
    - `family`: `"F1"`, `"F2"` or `"F3"`.
    - `n_samples`: default 1000 (F1), 1000 (F2), 2000 (F3), as in the paper.
    - `seed`: PRNG seed.
    - `d`: diffusivity $D > 0$ ([D] 0.01).
    - `nx`, `save_nx`: solver cells and saved cells (`save_nx` divides `nx`).
    - `nt`, `t_end`: saved frames including $t = 0$, final time.
    - `length_scale`: of the initial GRF.
    - `chunk_size`: samples per jitted call.
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_Fisher_Sources_Form{1,2,3}.hdf5` with `tensor` `(N, nt, save_nx)`,
    `coefficients` `(N, 4)` (the MT-DeepONet encoding $c$), `params` `(N, 2)`
    $= [a, \beta]$ ($\beta = 0$ for F1, F2), `x-coordinate`, `t-coordinate`, root
    attrs `form` (1, 2, 3), `d`, `param_names` (`"a,beta"`).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}.")
    n_samples = DEFAULT_SAMPLES[family] if n_samples is None else n_samples
    n_samples = integer("n_samples", n_samples, 1)
    seed = integer("seed", seed, 0)
    nx = integer("nx", nx, 2)
    save_nx = integer("save_nx", save_nx, 1)
    nt = integer("nt", nt, 2)
    if nx % save_nx:
        raise ValueError(
            f"save_nx must divide nx={nx}, got {save_nx}; e.g. save_nx={nx // 4}."
        )
    d = _positive("d", d)
    t_end = _positive("t_end", t_end)
    length_scale = _positive("length_scale", length_scale)
    if chunk_size is not None:
        chunk_size = integer("chunk_size", chunk_size, 1)
    chunk = min(chunk_size or max(1, 2**22 // (nx * nt)), n_samples)
    interval = t_end / (nt - 1)
    dx = 1.0 / nx
    n_sub = substeps(interval, d, dx, float(A_VALUES.max()), float(BETA_VALUES.max()))
    centres = (np.arange(nx) + 0.5) / nx
    factor = se_factor(centres, length_scale)
    x = (np.arange(save_nx) + 0.5) / save_nx
    t = interval * np.arange(nt)
    family_index = FAMILIES.index(family)
    settings = {
        "family": family,
        "d": d,
        "n_samples": n_samples,
        "nx": nx,
        "save_nx": save_nx,
        "nt": nt,
        "t_end": t_end,
        "length_scale": length_scale,
        "rk4_substeps_per_frame": n_sub,
        "a_values": A_VALUES.tolist(),
        "beta_values": BETA_VALUES.tolist(),
    }

    def chunks(first: int = 0):
        key = jax.random.fold_in(jax.random.key(seed), family_index)
        for start in range(first, n_samples, chunk):
            u, c, p = _chunk(
                key,
                jnp.asarray(start),
                jnp.asarray(factor),
                jnp.asarray(d),
                jnp.asarray(interval),
                n=chunk,
                family=family,
                n_frames=nt,
                n_sub=n_sub,
                factor_out=nx // save_nx,
            )
            keep = min(chunk, n_samples - start)
            yield {
                "tensor": np.asarray(u, np.float32)[:keep],
                "coefficients": np.asarray(c, np.float32)[:keep],
                "params": np.asarray(p, np.float32)[:keep],
            }

    with jax.enable_x64(True):
        return write_fields(
            Path(out) / fisher_sources_filename(family),
            chunks,
            coordinates={X_COORD: x, T_COORD: t},
            params={"form": family_index + 1, "d": d, "param_names": "a,beta"},
            provenance={
                "generator": "fisher_sources",
                "seed": seed,
                "params": settings,
            },
            resume=resume,
        )
