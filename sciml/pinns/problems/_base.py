"""The fields every problem of `sciml.pinns.problems` holds."""

import equinox as eqx

from .._domain import Box
from .._problem import AbstractPDEProblem


class AbstractScalarProblem(AbstractPDEProblem):
    """An `AbstractPDEProblem` with one unknown whose domain, conditions, test grid,
    derivative engine and residual weight are fields set by its `__init__`."""

    domain: Box
    conditions: tuple
    test_shape: tuple[int, ...] = eqx.field(static=True)
    engine: str = eqx.field(static=True)
    residual_weight: float = eqx.field(static=True)
    n_outputs = 1
