"""The benchmark problems of `sciml.pinns`, each an
[`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem] with its domain, residual,
conditions, test grid and exact solution or classical reference.

- The PIG paper's five (Kang et al., ICLR 2025; method sheet `specs/pig.md`):
  `Helmholtz2D`, `KleinGordon`, `FlowMixing` (closed forms), `NonlinearDiffusion`
  and `AllenCahn` (references from `sciml.solvers`).
- Classic: `Poisson2D`, `Burgers1D` (Raissi et al.'s shock, Cole-Hopf exact),
  `DiffusionSorption` (PDEBench's, reference by `sciml.solvers`).
- Parameterised by an input function, for physics-informed operator learning:
  `Antiderivative`, `SourceDiffusionReaction`, `PeriodicBurgers` (PI-DeepONet's
  examples).
"""

from ._classic import (
    Burgers1D as Burgers1D,
    DiffusionSorption as DiffusionSorption,
    Poisson2D as Poisson2D,
)
from ._operators import (
    Antiderivative as Antiderivative,
    PeriodicBurgers as PeriodicBurgers,
    SourceDiffusionReaction as SourceDiffusionReaction,
)
from ._pig import (
    FlowMixing as FlowMixing,
    Helmholtz2D as Helmholtz2D,
    KleinGordon as KleinGordon,
)
from ._references import (
    AllenCahn as AllenCahn,
    NonlinearDiffusion as NonlinearDiffusion,
)

__all__ = [
    "AllenCahn",
    "Antiderivative",
    "Burgers1D",
    "DiffusionSorption",
    "FlowMixing",
    "Helmholtz2D",
    "KleinGordon",
    "NonlinearDiffusion",
    "PeriodicBurgers",
    "Poisson2D",
    "SourceDiffusionReaction",
]
