r"""The refinement test for learned dynamics (Krishnapriyan, Queiruga, Erichson &
Mahoney, "Learning continuous models for continuous physics", Commun. Phys. 6:319,
2023; method sheet `specs/convergence.md`).

- `test`: a learned vector field (an `ODENet`, a method-of-lines model, any
  `f(t, y, args)`) integrated over a sweep of step sizes with one or more fixed-step
  solvers; a `ConvergenceReport` of per-solver `SolverSweep`s with the verdict.
- `test_many`: the same for a stacked ensemble of fields (e.g. seeds), one compiled
  sweep per solver for all members; one report each.
- `resolution_test`: a neural operator evaluated on coarser and finer grids; a
  `ResolutionReport`.
- `as_vector_field`: the field `test` integrates for a model (an ODENet's `.rhs`).
- Tools: `geometric_dts`, `sweep`, `sweep_many`, `richardson` / `richardson_limit`,
  `order_tolerance`, `MethodOfLines`, `PeriodicStencil`, `FourierMultiplier`.
"""

from ._mol import (
    FourierMultiplier as FourierMultiplier,
    MethodOfLines as MethodOfLines,
    PeriodicStencil as PeriodicStencil,
)
from ._order import (
    RichardsonEstimate as RichardsonEstimate,
    fit_order as fit_order,
    richardson as richardson,
    richardson_limit as richardson_limit,
)
from ._report import ConvergenceReport as ConvergenceReport, SolverSweep as SolverSweep
from ._resolution import (
    ResolutionReport as ResolutionReport,
    resolution_test as resolution_test,
)
from ._sweep import (
    geometric_dts as geometric_dts,
    sweep as sweep,
    sweep_many as sweep_many,
)
from ._timestep import (
    as_vector_field as as_vector_field,
    test as test,
    test_many as test_many,
)
from ._verdict import (
    order_accepted as order_accepted,
    order_tolerance as order_tolerance,
)

__all__ = [
    "ConvergenceReport",
    "FourierMultiplier",
    "MethodOfLines",
    "PeriodicStencil",
    "ResolutionReport",
    "RichardsonEstimate",
    "SolverSweep",
    "as_vector_field",
    "fit_order",
    "geometric_dts",
    "order_accepted",
    "order_tolerance",
    "resolution_test",
    "richardson",
    "richardson_limit",
    "sweep",
    "sweep_many",
    "test",
    "test_many",
]
