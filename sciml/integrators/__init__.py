"""Fixed-step time integrators shared by `sciml.operators` and `sciml.convergence`.

Both rooms need the same solvers, looked up by name, and the classic RK4 tableau
(which diffrax does not ship), so they live here once; so does the fixed-step
mechanism (`stepper`) that `step`, `integrate` and the convergence sweeps share.
Every function that takes a solver takes a name from `SOLVERS` or a diffrax solver.
"""

from ._solvers import (
    RK4 as RK4,
    SOLVERS as SOLVERS,
    get_solver as get_solver,
    solver_name as solver_name,
    solver_order as solver_order,
)
from ._stepper import (
    Stages as Stages,
    Stepper as Stepper,
    check_dt as check_dt,
    explicit_stages as explicit_stages,
    integrate as integrate,
    step as step,
    stepper as stepper,
)

__all__ = [
    "RK4",
    "SOLVERS",
    "Stages",
    "Stepper",
    "check_dt",
    "explicit_stages",
    "get_solver",
    "integrate",
    "solver_name",
    "solver_order",
    "step",
    "stepper",
]
