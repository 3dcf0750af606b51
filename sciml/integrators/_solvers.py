"""The solvers known by name, and the classic RK4 tableau diffrax does not ship."""

from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import numpy as np

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
    """Dense output between steps: diffrax's cubic Hermite interpolation."""

    def order(self, terms):
        """The classical order, 4 (diffrax's solver interface)."""
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
    if not isinstance(solver, str):
        raise TypeError(
            f"Expected a solver name or a diffrax.AbstractSolver instance, got "
            f"{type(solver).__name__} {solver!r}, e.g. solver='rk4' or diffrax.Tsit5()."
        )
    if solver.lower() in SOLVERS:
        return SOLVERS[solver.lower()]()
    raise ValueError(
        f"Unknown solver {solver!r}. Expected one of {sorted(SOLVERS)} or a "
        "diffrax.AbstractSolver instance, e.g. solver='rk4' or diffrax.Tsit5()."
    )


def solver_name(solver: "str | diffrax.AbstractSolver") -> str:
    """The lower-case name of a solver (a name or an instance), as used in `SOLVERS`
    and in reports."""
    return type(get_solver(solver)).__name__.lower()


def solver_order(solver: "str | diffrax.AbstractSolver") -> int:
    """The order of accuracy of `solver` (a name or an instance) on an ODE, as the
    solver itself declares it."""
    return int(get_solver(solver).order(diffrax.ODETerm(lambda t, y, args: y)))
