"""Fixed-step time integrators shared by `sciml.operators` and `sciml.convergence`.

Both rooms need the same solvers, looked up by name, and the classic RK4 tableau
(which diffrax does not ship), so they live here once.
"""

from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PyTree

_rk4_tableau = diffrax.ButcherTableau(
    a_lower=(np.array([1 / 2]), np.array([0.0, 1 / 2]), np.array([0.0, 0.0, 1.0])),
    b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    b_error=np.array([0.0, 0.0, 0.0, 0.0]),
    c=np.array([1 / 2, 1 / 2, 1.0]),
)


class RK4(diffrax.AbstractERK):
    r"""The classic fourth-order Runge--Kutta method (Kutta, 1901).

    $k_1 = f(t, y)$, $k_2 = f(t + h/2, y + h k_1/2)$, $k_3 = f(t + h/2, y + h k_2/2)$,
    $k_4 = f(t + h, y + h k_3)$, $y_{n+1} = y_n + h(k_1 + 2k_2 + 2k_3 + k_4)/6$.

    It has no embedded error estimate, so use it with a constant step size only.

    **Arguments:** None
    """

    tableau: ClassVar[diffrax.ButcherTableau] = _rk4_tableau
    interpolation_cls: ClassVar[Callable[..., Any]] = (
        diffrax.ThirdOrderHermitePolynomialInterpolation.from_k
    )

    def order(self, terms):
        del terms
        return 4


SOLVERS: dict[str, type[diffrax.AbstractSolver]] = {
    "euler": diffrax.Euler,
    "midpoint": diffrax.Midpoint,
    "heun": diffrax.Heun,
    "ralston": diffrax.Ralston,
    "rk4": RK4,
    "bosh3": diffrax.Bosh3,
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "dopri8": diffrax.Dopri8,
}
"""Explicit solvers known by name (lower case)."""


def get_solver(solver: "str | diffrax.AbstractSolver") -> diffrax.AbstractSolver:
    """Return a diffrax solver instance from a name or an instance.

    **Arguments:**

    - `solver`: a name from `SOLVERS` (case-insensitive) or a diffrax solver.

    **Returns:** the solver instance.
    """
    if isinstance(solver, diffrax.AbstractSolver):
        return solver
    if isinstance(solver, str) and solver.lower() in SOLVERS:
        return SOLVERS[solver.lower()]()
    raise ValueError(
        f"Unknown solver {solver!r}. Expected one of {sorted(SOLVERS)} or a "
        "diffrax.AbstractSolver instance, e.g. solver='rk4' or diffrax.Tsit5()."
    )


def solver_name(solver: diffrax.AbstractSolver) -> str:
    """The lower-case name of a solver, as used in `SOLVERS` and in reports."""
    return type(solver).__name__.lower()


def solver_order(solver: diffrax.AbstractSolver) -> int:
    """The order of accuracy of `solver` on an ODE, as the solver itself declares it."""
    return int(solver.order(diffrax.ODETerm(lambda t, y, args: y)))


def check_dt(dt: float) -> float:
    """Check that a step size is a positive finite number and return it as a float."""
    if not (isinstance(dt, (int, float, np.floating)) and np.isfinite(dt) and dt > 0):
        raise ValueError(
            f"Expected a positive finite step size dt, got {dt!r}. "
            "Pass the time between two samples of your data, e.g. dt=0.1."
        )
    return float(dt)


def step(
    rhs: Callable[[Any, PyTree, Any], PyTree],
    solver: diffrax.AbstractSolver,
    y0: PyTree[Array],
    t0: Any,
    dt: Any,
    args: Any = None,
) -> PyTree[Array]:
    r"""Advance $y' = f(t, y, \text{args})$ by one step of size `dt` from `t0`.

    **Arguments:**

    - `rhs`: the vector field `rhs(t, y, args)`.
    - `solver`: a diffrax solver.
    - `y0`: the state at `t0`.
    - `t0`, `dt`: start time and step size (may be traced).
    - `args`: passed through to `rhs`.

    **Returns:** the state at `t0 + dt`.
    """
    terms = diffrax.ODETerm(rhs)
    t1 = t0 + dt
    state = solver.init(terms, t0, t1, y0, args)
    y1, _, _, _, _ = solver.step(terms, t0, t1, y0, args, state, made_jump=False)
    return y1


def integrate(
    rhs: Callable[[Any, PyTree, Any], PyTree],
    solver: diffrax.AbstractSolver,
    y0: PyTree[Array],
    dt: Any,
    n_steps: int,
    t0: Any = 0.0,
    args: Any = None,
) -> PyTree[Array]:
    """Integrate with `n_steps` constant steps, returning every state (`lax.scan`).

    **Arguments:**

    - `rhs`, `solver`, `args`: as in `step`.
    - `y0`: the initial state.
    - `dt`: the step size (may be traced).
    - `n_steps`: number of steps (static).
    - `t0`: the initial time.

    **Returns:** the states at $t_0 + k\\,dt$, $k = 1, \\dots, n$, stacked on a new
    leading axis.
    """
    terms = diffrax.ODETerm(rhs)
    solver_state = solver.init(terms, t0, t0 + dt, y0, args)

    def body(carry, k):
        y, s = carry
        t = t0 + k * dt
        y1, _, _, s1, _ = solver.step(terms, t, t + dt, y, args, s, made_jump=False)
        return (y1, s1), y1

    ks = jnp.arange(n_steps, dtype=jnp.result_type(float))
    _, ys = jax.lax.scan(body, (y0, solver_state), ks)
    return ys
