"""ODE-Net: a neural vector field inside a fixed-step integrator."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import integrators
from ._rollout import rollout


class ODENet(eqx.Module):
    r"""Advance a state with a learned vector field and a fixed-step integrator.

    The model is $\dot y = f_\theta(y)$; one call is one step of the integrator $S$:
    $y_{k+1} = \Psi^S_{\Delta t}(f_\theta; y_k)$. Trained on trajectories sampled every
    $\Delta t$, it is the setting of Krishnapriyan et al., "Learning continuous models
    for continuous physics" (Commun. Phys. 2023), whose convergence test
    (`sciml.convergence.test`) asks whether $f_\theta$ is the continuous field or only a
    map tied to $S$ and $\Delta t$.

    **Arguments:**

    - `vector_field`: the learned field, an equinox module (or callable) mapping a
      state `y` to `dy/dt` of the same shape, e.g. `sciml.nn.MLP(n, n, ...)`.
    - `solver`: a name from `sciml.integrators.SOLVERS` (`"euler"`, `"rk4"`, ...) or
      a diffrax solver instance.
    - `dt`: the step size $\Delta t$ (the data's sampling interval).
    """

    vector_field: Callable
    solver: str | diffrax.AbstractSolver = eqx.field(static=True)
    dt: float = eqx.field(static=True)

    def __init__(
        self,
        vector_field: Callable,
        solver: str | diffrax.AbstractSolver = "rk4",
        dt: float = 0.1,
    ):
        if not callable(vector_field):
            raise TypeError(
                f"ODENet: expected a callable vector field y -> dy/dt, got "
                f"{type(vector_field).__name__}. Pass e.g. sciml.nn.MLP(n, n, key=key)."
            )
        integrators.get_solver(solver)  # fail early on an unknown name
        self.vector_field = vector_field
        self.solver = solver
        self.dt = integrators.check_dt(dt, owner="ODENet")

    def rhs(self, t, y: Float[Array, "..."], args=None) -> Float[Array, "..."]:
        """The vector field in diffrax's signature `f(t, y, args)` (time-independent)."""
        del t, args
        dy = self.vector_field(y)
        if dy.shape != y.shape:
            raise ValueError(
                f"ODENet: the vector field maps a state of shape {y.shape} to "
                f"{dy.shape}; it must return dy/dt of the state's shape."
            )
        return dy

    def __call__(self, y: Float[Array, "..."]) -> Float[Array, "..."]:
        """One integrator step of size `dt` from state `y`."""
        return integrators.step(
            self.rhs, self.solver, y, jnp.zeros((), y.dtype), self.dt
        )

    def trajectory(
        self, y0: Float[Array, "..."], n_steps: int
    ) -> Float[Array, "n ..."]:
        """The states after $1, \\dots, n$ steps (not including `y0`)."""
        return rollout(self, y0, n_steps)
