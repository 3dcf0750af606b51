"""Physics-informed learning: a PDE written once, pointwise, and the losses, points
and models that train a network to solve it.

- **Residuals**: a problem is an [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem]
  (domain `Box`, pointwise `residual(u, x)`, conditions, exact solution or
  reference); derivatives come from [`Derivatives`][sciml.pinns.Derivatives]
  (`D.d("t")`, `D.d("x", "x")`, `D.laplacian()`, `D.divergence(flux)`) with a
  choice of autodiff engines. Conditions: `Dirichlet`, `Neumann`, `Robin`,
  `Periodic`, `InitialValue`, `InitialVelocity`. Benchmark problems:
  `sciml.pinns.problems`.
- **Points and loss**: `Collocation` (uniform or Latin hypercube, resampled every
  k steps), `residual_adaptive` (RAD), `fixed_batch`; `PINNLoss` with fixed
  weights, gradient-norm balancing and causal weighting in time, as
  `loss(model, batch, key) -> (scalar, metrics)`; `OperatorPINNLoss`, the same
  over a batch of input functions for an operator network (PI-DeepONet).
- **Models**: `PIG` (physics-informed Gaussians: a trainable Gaussian-mixture
  embedding and a small MLP head; diagonal or full covariance, per-channel or
  shared), with `check_scales`, the guard against collapsed Gaussians; `MLPPINN`,
  the tanh MLP baseline with optional Fourier features; `SeparablePIG`, one 1-D
  Gaussian mixture and head per axis combined by a rank-R sum of products, trained
  on product grids by `GridPINNLoss` (residuals through `GridDerivatives`,
  `grid_residual`).
- **Evaluation**: `relative_l2(model, problem)` on the problem's test grid.
"""

from . import problems as problems
from ._conditions import (
    AbstractCondition as AbstractCondition,
    Dirichlet as Dirichlet,
    InitialValue as InitialValue,
    InitialVelocity as InitialVelocity,
    Neumann as Neumann,
    Periodic as Periodic,
    Robin as Robin,
)
from ._constraint_loss import (
    converged_mean as converged_mean,
    physics_loss as physics_loss,
)
from ._derivatives import Derivatives as Derivatives
from ._domain import Box as Box
from ._evaluate import relative_l2 as relative_l2
from ._grid import (
    GridDerivatives as GridDerivatives,
    GridPINNLoss as GridPINNLoss,
    grid_residual as grid_residual,
)
from ._hard_constraint import (
    CONSTRAINT_LINEAR_SOLVES as CONSTRAINT_LINEAR_SOLVES,
    CONSTRAINT_SOLVERS as CONSTRAINT_SOLVERS,
    AbstractConstraint as AbstractConstraint,
    ConstraintInfo as ConstraintInfo,
    HardConstraint as HardConstraint,
    HardConstraintMoE as HardConstraintMoE,
    HardConstraintOutput as HardConstraintOutput,
    affine_values as affine_values,
)
from ._loss import PINNLoss as PINNLoss
from ._mlp_pinn import MLPPINN as MLPPINN
from ._operator_loss import OperatorPINNLoss as OperatorPINNLoss
from ._pig import PIG as PIG, check_scales as check_scales
from ._problem import AbstractPDEProblem as AbstractPDEProblem
from ._sampling import (
    Collocation as Collocation,
    fixed_batch as fixed_batch,
    residual_adaptive as residual_adaptive,
)
from ._separable_pig import SeparablePIG as SeparablePIG
from ._sorption_constraint import (
    CONDITION_ROWS as CONDITION_ROWS,
    DiffusionSorptionConstraint as DiffusionSorptionConstraint,
)
from ._vorticity_constraint import VorticityConstraint as VorticityConstraint

__all__ = [
    "CONDITION_ROWS",
    "CONSTRAINT_LINEAR_SOLVES",
    "CONSTRAINT_SOLVERS",
    "DiffusionSorptionConstraint",
    "VorticityConstraint",
    "converged_mean",
    "physics_loss",
    "AbstractConstraint",
    "ConstraintInfo",
    "HardConstraint",
    "HardConstraintMoE",
    "HardConstraintOutput",
    "affine_values",
    "AbstractCondition",
    "AbstractPDEProblem",
    "Box",
    "Collocation",
    "Derivatives",
    "Dirichlet",
    "GridDerivatives",
    "GridPINNLoss",
    "InitialValue",
    "InitialVelocity",
    "MLPPINN",
    "Neumann",
    "OperatorPINNLoss",
    "PIG",
    "PINNLoss",
    "Periodic",
    "Robin",
    "SeparablePIG",
    "check_scales",
    "fixed_batch",
    "grid_residual",
    "problems",
    "relative_l2",
    "residual_adaptive",
]
