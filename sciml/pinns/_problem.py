r"""`AbstractPDEProblem`: a PDE written once, pointwise, with its domain, conditions
and, where known, its exact solution.

A problem's `residual(u, x)` is ordinary maths on a field `u: (d,) -> ()` (or
`(k,)`) at one point `x`, with the derivatives it needs from
[`sciml.pinns.Derivatives`][] (`self.derivatives(u, x)`); the loss `vmap`s it over
collocation points. For $u_t + u u_x = \nu u_{xx}$:

```python
class Burgers(AbstractPDEProblem):
    def residual(self, u, x):
        D = self.derivatives(u, x)
        return D.d("t") + D.value * D.d("x") - self.nu * D.d("x", "x")
```
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float

from ._conditions import AbstractCondition
from ._derivatives import Derivatives
from ._domain import Box


class AbstractPDEProblem(eqx.Module):
    """A PDE problem: domain, pointwise residual, conditions, exact solution.

    Subclasses provide `domain`, `conditions` and `residual`, and, where the
    solution is known in closed form, `exact`; `test_shape` is the grid the
    problem's error is measured on (its `test_points`), and `reference` gives the
    solution there (the exact one, or a classical solver's). `residual_weight` is
    the residual's weight in the loss its paper used (the conditions carry their
    own), `n_outputs` the number of unknowns, and `engine` the derivative engine
    ([`sciml.pinns.Derivatives`][]).
    """

    domain: eqx.AbstractVar[Box]
    conditions: eqx.AbstractVar[tuple[AbstractCondition, ...]]
    test_shape: eqx.AbstractVar[tuple[int, ...]]
    engine: eqx.AbstractVar[str]
    residual_weight: eqx.AbstractVar[float]
    n_outputs: eqx.AbstractClassVar[int]

    @abc.abstractmethod
    def residual(self, u: Callable, x: Float[Array, " d"]) -> Array:
        """The PDE's residual at one point `x` for the field `u` (zero for the
        solution)."""

    @property
    def has_exact(self) -> bool:
        """Whether `exact` is the closed-form solution."""
        return type(self).exact is not AbstractPDEProblem.exact

    def exact(self, x: Float[Array, " d"]) -> Array:
        """The exact solution at one point `x`."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form solution; use `reference()`, "
            f"which solves it with sciml.solvers."
        )

    def derivatives(
        self, u: Callable, x: Float[Array, " d"], order: int | None = None
    ) -> Derivatives:
        """The derivative helper of `u` at `x`, with this domain's axis names and
        this problem's engine (`order`: as in `Derivatives`; 1 for a first-order
        residual)."""
        return Derivatives(
            u, x, names=self.domain.names, engine=self.engine, order=order
        )

    def test_points(self) -> Float[np.ndarray, "n d"]:
        """The points of the test grid (`test_shape`, endpoints included; float64
        numpy)."""
        return self.domain.grid(self.test_shape)

    def reference(self) -> tuple[Float[np.ndarray, "n d"], Float[np.ndarray, "n ..."]]:
        """The test points and the solution there (float64 numpy). The default
        evaluates `exact`; problems without one override this with a solver."""
        x = self.test_points()
        with jax.enable_x64(True):
            values = jax.vmap(self.exact)(jax.numpy.asarray(x))
        return x, np.asarray(values)
