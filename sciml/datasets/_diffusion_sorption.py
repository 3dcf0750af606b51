r"""1-D diffusion-sorption $u_t = D/R(u)\,u_{xx}$ (PDEBench, Takamoto et al., NeurIPS
2022; spec pdebench.md §3), by the method of lines with an implicit stiff solver.

$R(u) = 1 + \frac{1-\phi}{\phi}\rho_s k_f n_f\, u^{n_f - 1}$ with $u$ clamped at
$\ge 10^{-6}$ inside $R$ ($u^{n_f-1}$ blows up at 0; PDEBench adds $10^{-6}$). On
$x \in (0,1)$, $t \in (0, 500]$, constant initial value $u_0 \sim U(0, 0.2)$ per sample.

Boundary conditions. The spec and the PDEBench paper write $u(0,t) = 1$ and
$u(1,t) = D\,u_x(1,t)$; PDEBench's code however sets the right ghost value to
$D(u_{N-2} - u_{N-1})/\Delta x = -D u_x$, i.e. $u(1,t) = -D\,u_x(1,t)$, an outflow
(Robin) condition. The literal sign is ill-posed: it has a mode growing like
$e^{t/(D R)}$ localised within $D$ of $x = 1$. So the code's sign is used ([U]
resolved, [D]). Two discretisations (`boundary`):

- `"face"` (default [D]): the conditions hold on the boundary faces, $u = 1$ at
  $x = 0$ (ghost $2 - u_0$) and $u = -D u_x$ at $x = 1$ (ghost $u_{N-1}(2D - \Delta x)
  /(2D + \Delta x)$); second order in space (measured in the tests).
- `"pdebench"`: PDEBench's ghost values, 1 on the left and $D(u_{N-2} -
  u_{N-1})/\Delta x$ on the right, placed one cell outside (first order).

Time integration ([D], spec recipe): diffrax `Kvaerno5` (L-stable ESDIRK, order 5)
with a PID step-size controller, `rtol` $10^{-6}$, `atol` $10^{-9}$, in float64, cast to
float32 for the file. The Newton systems $I - \gamma h J$ of a 3-point stencil are
tridiagonal: the Jacobian is assembled from three JVPs (columns coloured modulo 3)
and solved by the tridiagonal algorithm in $O(N)$, which keeps 1024 cells cheap
enough to `vmap` over samples (a dense LU of $1024^2$ per step would not be).
"""

import functools
import os
from pathlib import Path
from typing import Any, Literal

import diffrax
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from sciml.datasets._checks import integer, real
from sciml.datasets._layouts import write_groups

_CLAMP = 1e-6
_Real = float | Float[Array, ""]
_CHUNK_SAMPLES = 64


class ColouredTridiagonal(lx.AbstractLinearSolver):
    """Solve with an operator known to be tridiagonal (not tagged so), for 1-D arrays.

    `init` recovers the three diagonals from three matrix-vector products with the
    columns coloured modulo 3; `compute` uses `jax.lax.linalg.tridiagonal_solve`.
    Used as diffrax's Newton linear solver for 3-point-stencil method-of-lines.
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        struct = operator.in_structure()
        n = struct.shape[0]
        colours = jnp.arange(n) % 3
        cols = [operator.mv((colours == c).astype(struct.dtype)) for c in range(3)]
        stacked = jnp.stack(cols)  # (3, n): row i of colour c
        idx = jnp.arange(n)
        diag = stacked[colours, idx]
        upper = stacked[colours[1:], idx[:-1]]  # A[i, i+1]
        lower = stacked[colours[:-1], idx[1:]]  # A[i+1, i]
        return diag, lower, upper

    def compute(self, state, vector, options):
        del options
        diag, lower, upper = state
        zero = jnp.zeros((1,), diag.dtype)
        solution = jax.lax.linalg.tridiagonal_solve(
            jnp.concatenate([zero, lower]),
            diag,
            jnp.concatenate([upper, zero]),
            vector[:, None],
        )[:, 0]
        return solution, lx.RESULTS.successful, {}

    def transpose(self, state, options):
        diag, lower, upper = state
        return (diag, upper, lower), options

    def conj(self, state, options):
        return state, options

    def assume_full_rank(self):
        return True


def retardation(u: Array, phi: _Real, rho_s: _Real, k_f: _Real, n_f: _Real) -> Array:
    """$R(u) = 1 + (1-\\phi)/\\phi\\,\\rho_s k_f n_f \\max(u, 10^{-6})^{n_f - 1}$."""
    coefficient = (1.0 - phi) / phi * rho_s * k_f * n_f
    return 1.0 + coefficient * jnp.maximum(u, _CLAMP) ** (n_f - 1.0)


def _rhs(u: Float[Array, " X"], d: _Real, dx: float, boundary: str, r_args) -> Array:
    if boundary == "face":
        left = 2.0 - u[:1]
        right = u[-1:] * (2.0 * d - dx) / (2.0 * d + dx)
    else:
        left = jnp.ones_like(u[:1])
        right = d * (u[-2:-1] - u[-1:]) / dx
    padded = jnp.concatenate([left, u, right])
    lap = (padded[:-2] - 2.0 * u + padded[2:]) / dx**2
    return d / retardation(u, *r_args) * lap


def solve_diffusion_sorption(
    u0: Float[Array, " X"],
    t: Float[Array, " T"],
    *,
    d: _Real = 5e-4,
    phi: _Real = 0.29,
    rho_s: _Real = 2880.0,
    k_f: _Real = 3.5e-4,
    n_f: _Real = 0.874,
    boundary: str = "face",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
) -> tuple[Float[Array, "T X"], Bool[Array, ""]]:
    r"""Integrate one sample of $u_t = D/R(u)\,u_{xx}$ and return it at times `t`.

    **Arguments:**

    - `u0`: initial values at the cell centres $(i + 1/2)/N$.
    - `t`: increasing save times, `t[0]` the initial time (returned as `u0`).
    - `d`, `phi`, `rho_s`, `k_f`, `n_f`: $D, \phi, \rho_s, k_f, n_f$.
    - `boundary`: `"face"` or `"pdebench"` (module docstring).
    - `rtol`, `atol`, `max_steps`: the step-size controller's settings.

    **Returns:**

    `(u, ok)`: `u` `(T, X)` and whether diffrax reported success.
    """
    dx = 1.0 / u0.shape[0]
    r_args = (phi, rho_s, k_f, n_f)

    def field(time, u, args):
        return _rhs(u, d, dx, boundary, r_args)

    root_finder = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)(
        linear_solver=ColouredTridiagonal()
    )
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Kvaerno5(root_finder=root_finder),
        t0=t[0],
        t1=t[-1],
        dt0=1e-3 * (t[-1] - t[0]) / t.shape[0],
        y0=u0,
        saveat=diffrax.SaveAt(ts=t),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    return solution.ys, solution.result == diffrax.RESULTS.successful


@functools.partial(jax.jit, static_argnames=("n", "nx", "boundary"))
def _chunk(
    key: PRNGKeyArray,
    start: Int[Array, ""],
    t: Float[Array, " T"],
    params: Float[Array, " 5"],
    n: int,
    nx: int,
    boundary: str,
) -> tuple[Float[Array, "n T X"], Bool[Array, " n"], Float[Array, " n"]]:
    d, phi, rho_s, k_f, n_f = (params[i] for i in range(5))

    def one(i):
        k = jax.random.fold_in(key, start + i)
        level = 0.2 * jax.random.uniform(k, (), t.dtype)
        u0 = jnp.full((nx,), level, t.dtype)
        u, result = solve_diffusion_sorption(
            u0, t, d=d, phi=phi, rho_s=rho_s, k_f=k_f, n_f=n_f, boundary=boundary
        )
        return u, result, level

    return jax.vmap(one)(jnp.arange(n))


def generate_diffusion_sorption(
    *,
    out: str | os.PathLike,
    d: float | int = 5e-4,
    phi: float | int = 0.29,
    rho_s: float | int = 2880.0,
    k_f: float | int = 3.5e-4,
    n_f: float | int = 0.874,
    n_samples: int = 10_000,
    seed: int = 0,
    nx: int = 1024,
    nt: int = 101,
    t_end: float | int = 500.0,
    boundary: Literal["face", "pdebench"] = "face",
    chunk_size: int | None = None,
    resume: bool = False,
) -> Path:
    r"""Write PDEBench's diffusion-sorption file `1D_diff-sorp_NA_NA.h5`.

    $u_t = D/R(u)\,u_{xx}$ on $(0,1)$ with $u(0,t) = 1$, $u(1,t) = -D u_x(1,t)$ (see
    the module docstring for the sign), a constant $u_0 \sim U(0, 0.2)$ drawn from
    `fold_in(key(seed), i)` for sample $i$, frames $t_k = k\,t_\mathrm{end}/(n_t-1)$
    (the first is $u_0$). Kvaerno5 + PID (`rtol` $10^{-6}$) in float64; a failed solve
    raises `RuntimeError`.

    **Arguments:**

    - `out`: directory for the file.
    - `d`, `phi`, `rho_s`, `k_f`, `n_f`: $D > 0$, porosity $\phi \in (0,1)$,
        $\rho_s \ge 0$, $k_f \ge 0$, $n_f > 0$ (PDEBench: $5\cdot10^{-4}$, 0.29, 2880,
        $3.5\cdot10^{-4}$, 0.874).
    - `n_samples`, `seed`: samples (PDEBench: 10 000), PRNG seed.
    - `nx`, `nt`, `t_end`: cells, saved frames, final time (1024, 101, 500).
    - `boundary`: `"face"` (second order, default) or `"pdebench"`.
    - `chunk_size`: samples per jitted call (default 64).
    - `resume`: continue an interrupted run of the same settings from its last
        finished chunk (the partial file `.{name}.partial` beside the output);
        see `sciml.datasets.write`.

    **Returns:**

    The path `out/1D_diff-sorp_NA_NA.h5`: groups `0000`, ... with `data`
    `(nt, nx, 1)`, `grid/x` (cell centres), `grid/t`; root attr `config` (JSON).
    """
    values = {
        "d": real("d", d),
        "phi": real("phi", phi),
        "rho_s": real("rho_s", rho_s),
        "k_f": real("k_f", k_f),
        "n_f": real("n_f", n_f),
        "t_end": real("t_end", t_end),
    }
    if values["d"] <= 0 or values["t_end"] <= 0:
        raise ValueError(f"d and t_end must be > 0, got d={d!r}, t_end={t_end!r}.")
    if not 0 < values["phi"] < 1:
        raise ValueError(f"phi (porosity) must be in (0, 1), got {phi!r}; e.g. 0.29.")
    if values["rho_s"] < 0 or values["k_f"] < 0 or values["n_f"] <= 0:
        raise ValueError(
            f"need rho_s >= 0, k_f >= 0 and n_f > 0, got {rho_s!r}, {k_f!r}, {n_f!r}."
        )
    n_samples = integer("n_samples", n_samples, 1)
    seed = integer("seed", seed, 0)
    nx = integer("nx", nx, 3)
    nt = integer("nt", nt, 2)
    if boundary not in ("face", "pdebench"):
        raise ValueError(f"boundary must be 'face' or 'pdebench', got {boundary!r}.")
    chunk = (
        _CHUNK_SAMPLES if chunk_size is None else integer("chunk_size", chunk_size, 1)
    )
    chunk = min(chunk, n_samples)
    x = (np.arange(nx) + 0.5) / nx
    t = values["t_end"] * np.arange(nt) / (nt - 1)
    params = np.array([values[k] for k in ("d", "phi", "rho_s", "k_f", "n_f")])
    config = {
        **values,
        "n_samples": n_samples,
        "seed": seed,
        "nx": nx,
        "nt": nt,
        "boundary": boundary,
        "u0": "constant ~ U(0, 0.2)",
        "solver": "diffrax Kvaerno5, PID rtol 1e-6 atol 1e-9, float64",
    }

    def chunks(first: int = 0):
        key = jax.random.key(seed)
        for start in range(first, n_samples, chunk):
            u, result, _ = _chunk(
                key,
                jnp.asarray(start),
                jnp.asarray(t),
                jnp.asarray(params),
                n=chunk,
                nx=nx,
                boundary=boundary,
            )
            keep = min(chunk, n_samples - start)
            failed = np.flatnonzero(~np.asarray(result)[:keep])
            if failed.size:
                raise RuntimeError(
                    f"The stiff solver failed on sample {start + int(failed[0])} "
                    "(step-size collapse or max_steps); check the parameters."
                )
            yield np.asarray(u, np.float32)[:keep, :, :, None]

    with jax.enable_x64(True):
        return write_groups(
            Path(out) / "1D_diff-sorp_NA_NA.h5",
            chunks,
            x=x,
            t=t,
            config=config,
            provenance={"generator": "diffusion_sorption", "seed": seed},
            resume=resume,
        )
