r"""2-D diffusion-reaction (FitzHugh-Nagumo activator-inhibitor), PDEBench's
`2D_diff-react_NA_NA.h5` (Takamoto et al., PDEBench, NeurIPS 2022 D&B).

$$u_t = D_u \Delta u + u - u^3 - k - v, \qquad v_t = D_v \Delta v + u - v$$

on $(-1, 1)^2$ with no-flux (homogeneous Neumann) boundaries, $t \in [0, 5]$, 101
frames on $128 \times 128$ cells; $D_u = 10^{-3}$, $D_v = 5 \cdot 10^{-3}$,
$k = 5 \cdot 10^{-3}$; $u_0$ and $v_0$ independent standard normal in every cell.

Our spec sheet does not describe this PDE. The recipe above is PDEBench's MIT
simulator (`data_gen/src/sim_diff_react.py` and `configs/diff-react.yaml`), read,
not copied. Its semi-discretisation is kept:

- **Space**: cell-centred finite volumes, the 5-point Laplacian, and zero flux
  through the boundary faces (a ghost cell equal to its neighbour inside), so
  $\sum_{ij} \Delta_h u_{ij} = 0$ and diffusion conserves the total. Second order
  (measured in the tests).
- **Time** [D]: PDEBench calls scipy's `solve_ivp` with its defaults (RK45,
  `rtol` $10^{-3}$, `atol` $10^{-6}$) although its dataset metadata states an error
  tolerance of $10^{-6}$ [U]. Here diffrax `Tsit5` (explicit, order 5) with a PID
  controller at `rtol` $10^{-6}$, `atol` $10^{-8}$, vmapped over samples. The
  problem is mildly stiff (the diffusive eigenvalues reach
  $8 D_v/\Delta x^2 \approx 164$), so the step is set by stability, a few hundred
  steps to $t = 5$; an implicit solver would not pay.
- **Axes** [D]: `data[t, i, j, c]` is cell $(x_i, y_j)$ and $c$ = (u, v). PDEBench's
  simulator reshapes to `(t, y, x)`; on its square grid with i.i.d. initial values
  and an isotropic equation the two orders have the same distribution.
"""

import functools
import os
from pathlib import Path
from typing import Any, Literal

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from sciml.datasets._checks import integer, real
from sciml.datasets._layouts import write_groups

_Real = float | Float[Array, ""]
_CHUNK_SAMPLES = 64
FILENAME = "2D_diff-react_NA_NA.h5"


def neumann_laplacian(
    u: Float[Array, "X Y"], dx: _Real, dy: _Real
) -> Float[Array, "X Y"]:
    r"""The 5-point Laplacian of cell averages with zero flux through the boundary.

    $(\Delta_h u)_{ij} = (u_{i+1,j} - 2u_{ij} + u_{i-1,j})/\Delta x^2 + (\dots)_y$ with
    the ghost value outside a boundary face equal to the cell inside it.
    """
    g = jnp.pad(u, 1, mode="edge")
    centre = g[1:-1, 1:-1]
    d2x = (g[2:, 1:-1] - 2 * centre + g[:-2, 1:-1]) / dx**2
    d2y = (g[1:-1, 2:] - 2 * centre + g[1:-1, :-2]) / dy**2
    return d2x + d2y


def diffusion_reaction_rhs(
    uv: Float[Array, "2 X Y"], du: _Real, dv: _Real, k: _Real, dx: _Real, dy: _Real
) -> Float[Array, "2 X Y"]:
    r"""$(D_u \Delta_h u + u - u^3 - k - v,\ D_v \Delta_h v + u - v)$ for `uv = (u, v)`."""
    u, v = uv[0], uv[1]
    u_t = du * neumann_laplacian(u, dx, dy) + u - u**3 - k - v
    v_t = dv * neumann_laplacian(v, dx, dy) + u - v
    return jnp.stack([u_t, v_t])


def solve_diffusion_reaction_2d(
    uv0: Float[Array, "2 X Y"],
    t: Float[Array, " T"],
    *,
    du: _Real = 1e-3,
    dv: _Real = 5e-3,
    k: _Real = 5e-3,
    length: float = 2.0,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
) -> tuple[Float[Array, "T 2 X Y"], Bool[Array, ""]]:
    r"""Integrate one sample and return it at the times `t`.

    **Arguments:**

    - `uv0`: the initial $(u, v)$ cell values, shape `(2, X, Y)`.
    - `t`: increasing save times, `t[0]` the initial time (returned as `uv0`).
    - `du`, `dv`, `k`: $D_u$, $D_v$, $k$.
    - `length`: the side of the square domain ($(-1, 1)$: 2).
    - `rtol`, `atol`, `max_steps`: the PID step-size controller's settings.

    **Returns:**

    `(uv, ok)`: `uv` `(T, 2, X, Y)` and whether diffrax reported success.
    """
    dx = length / uv0.shape[1]
    dy = length / uv0.shape[2]

    def field(time, uv, args):
        return diffusion_reaction_rhs(uv, du, dv, k, dx, dy)

    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        t0=t[0],
        t1=t[-1],
        dt0=1e-3 * (t[-1] - t[0]) / t.shape[0],
        y0=uv0,
        saveat=diffrax.SaveAt(ts=t),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    return solution.ys, solution.result == diffrax.RESULTS.successful


def initial_values(
    key: PRNGKeyArray, nx: int, ny: int, dtype: Any = jnp.float32
) -> Float[Array, "2 X Y"]:
    """PDEBench's initial condition: $u_0, v_0$ i.i.d. standard normal per cell."""
    return jax.random.normal(key, (2, nx, ny), dtype)


@functools.partial(jax.jit, static_argnames=("n", "nx", "ny", "rtol", "atol"))
def _chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    t: Float[Array, " T"],
    params: Float[Array, " 3"],
    n: int,
    nx: int,
    ny: int,
    rtol: float,
    atol: float,
) -> tuple[Float[Array, "n T X Y 2"], Bool[Array, " n"]]:
    du, dv, k = params[0], params[1], params[2]

    def one(i):
        uv0 = initial_values(jax.random.fold_in(key, start + i), nx, ny, t.dtype)
        uv, ok = solve_diffusion_reaction_2d(
            uv0, t, du=du, dv=dv, k=k, rtol=rtol, atol=atol
        )
        return jnp.moveaxis(uv, 1, -1), ok

    return jax.vmap(one)(jnp.arange(n))


def generate_diffusion_reaction_2d(
    *,
    out: str | os.PathLike,
    du: float | int = 1e-3,
    dv: float | int = 5e-3,
    k: float | int = 5e-3,
    n_samples: int = 1000,
    seed: int = 0,
    nx: int = 128,
    ny: int = 128,
    nt: int = 101,
    t_end: float | int = 5.0,
    rtol: float = 1e-6,
    dtype: Literal["float32", "float64"] = "float32",
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's 2-D diffusion-reaction file `2D_diff-react_NA_NA.h5`.

    FitzHugh-Nagumo on $(-1, 1)^2$ with no-flux boundaries (module docstring), from
    $u_0, v_0 \sim \mathcal N(0, 1)$ per cell drawn from `fold_in(key(seed), i)` for
    sample $i$; frames $t_k = k\,t_\mathrm{end}/(n_t - 1)$ (the first is the initial
    condition). Tsit5 + PID; a failed solve raises `RuntimeError`.

    **Arguments:**

    - `out`: directory for the file.
    - `du`, `dv`: diffusivities $D_u, D_v \ge 0$ (PDEBench: $10^{-3}$, $5\cdot10^{-3}$).
    - `k`: the reaction constant (PDEBench: $5\cdot10^{-3}$).
    - `n_samples`, `seed`: samples (PDEBench: 1000), PRNG seed.
    - `nx`, `ny`, `nt`, `t_end`: cells per side, saved frames, final time
        (128, 128, 101, 5).
    - `rtol`: the controller's relative tolerance (`atol` is `rtol / 100`).
    - `dtype`: the arithmetic (float32 for speed, float64 for validation); the file
        is float32 either way.
    - `chunk_size`: samples per jitted call (default 64).
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk; see `sciml.datasets.write`.

    **Returns:**

    The path `out/2D_diff-react_NA_NA.h5`: groups `0000`, ... with `data`
    `(nt, nx, ny, 2)` (channels u, v), `grid/x`, `grid/y` (cell centres), `grid/t`;
    root attr `config` (JSON).
    """
    values = {
        "du": real("du", du),
        "dv": real("dv", dv),
        "k": real("k", k),
        "t_end": real("t_end", t_end, positive=True),
        "rtol": real("rtol", rtol, positive=True),
    }
    if values["du"] < 0 or values["dv"] < 0:
        raise ValueError(f"du and dv must be >= 0, got du={du!r}, dv={dv!r}.")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    n_samples = integer("n_samples", n_samples, 1)
    seed = integer("seed", seed, 0)
    nx = integer("nx", nx, 2)
    ny = integer("ny", ny, 2)
    nt = integer("nt", nt, 2)
    chunk = (
        _CHUNK_SAMPLES if chunk_size is None else integer("chunk_size", chunk_size, 1)
    )
    chunk = min(chunk, n_samples)
    x = -1.0 + 2.0 * (np.arange(nx) + 0.5) / nx
    y = -1.0 + 2.0 * (np.arange(ny) + 0.5) / ny
    t = values["t_end"] * np.arange(nt) / (nt - 1)
    rtol, atol = values["rtol"], values["rtol"] / 100
    config = {
        **values,
        "n_samples": n_samples,
        "seed": seed,
        "nx": nx,
        "ny": ny,
        "nt": nt,
        "dtype": dtype,
        "u0": "u0, v0 ~ N(0, 1) per cell",
        "solver": f"diffrax Tsit5, PID rtol {rtol:g} atol {atol:g}",
    }
    params = np.array([values["du"], values["dv"], values["k"]])

    def chunks(first: int = 0):
        key = jax.random.key(seed)
        for start in range(first, n_samples, chunk):
            uv, ok = _chunk(
                key,
                jnp.asarray(start),
                jnp.asarray(t, dtype),
                jnp.asarray(params, dtype),
                n=chunk,
                nx=nx,
                ny=ny,
                rtol=rtol,
                atol=atol,
            )
            keep = min(chunk, n_samples - start)
            failed = np.flatnonzero(~np.asarray(ok)[:keep])
            if failed.size:
                raise RuntimeError(
                    f"The solver failed on sample {start + int(failed[0])} (max_steps "
                    "or a step-size collapse); check the parameters."
                )
            yield np.asarray(uv, np.float32)[:keep]

    with jax.enable_x64(dtype == "float64"):
        return write_groups(
            Path(out) / FILENAME,
            chunks,
            x=x,
            y=y,
            t=t,
            config=config,
            provenance={"generator": "diffusion_reaction_2d", "seed": seed},
            resume=resume,
        )
