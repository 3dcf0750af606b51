r"""ODE systems with reference trajectories computed in float64.

A system provides `vector_field(t, y, args)`; the shared `trajectories` integrates it
with diffrax's Dopri8 (adaptive, PID controller, rtol = atol = $10^{-10}$ by default),
stepping onto every save time so saved states are step values, not interpolants.
float64 is switched on locally with `jax.enable_x64(True)` for the solve only, and the
result comes back as a float64 numpy array, so the rest of the program stays float32.
"""

import abc

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree, Real


@eqx.filter_jit
def _solve(system, y0s, ts, rtol, atol, max_steps):
    def one(y0):
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(system.vector_field),
            diffrax.Dopri8(),
            t0=ts[0],
            t1=ts[-1],
            dt0=None,
            y0=y0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.ClipStepSizeController(
                diffrax.PIDController(rtol=rtol, atol=atol), step_ts=ts
            ),
            max_steps=max_steps,
        )
        return solution.ys

    return jax.vmap(one)(y0s)


class AbstractSystem(eqx.Module):
    r"""An autonomous or time-dependent ODE $\dot y = f(t, y)$ with a state vector.

    Subclasses implement `vector_field` and set `state_size`; `trajectories` is shared.
    """

    state_size: eqx.AbstractClassVar[int]

    @abc.abstractmethod
    def vector_field(
        self, t: Real[ArrayLike, ""], y: Float[Array, " n"], args: PyTree
    ) -> Float[Array, " n"]:
        r"""The right-hand side $f(t, y)$, in diffrax's `(t, y, args)` convention.

        **Arguments:**

        - `t`: time.
        - `y`: the state.
        - `args`: unused extra arguments (diffrax passes `None`).

        **Returns:**

        $\dot y$, same shape as `y`.
        """

    def trajectories(
        self,
        y0s: Real[ArrayLike, "*batch n"],
        ts: Real[ArrayLike, " T"],
        *,
        rtol: float = 1e-10,
        atol: float = 1e-10,
        max_steps: int = 1_000_000,
    ) -> Float[np.ndarray, "batch T n"]:
        """Integrate from each initial state, saving at `ts`, in float64.

        **Arguments:**

        - `y0s`: initial states, shape `(batch, state_size)`.
        - `ts`: strictly increasing save times; integration starts at `ts[0]`.
        - `rtol`, `atol`: tolerances of the PID step-size controller.
        - `max_steps`: step budget per trajectory.

        **Returns:**

        A float64 numpy array of shape `(batch, len(ts), state_size)`.
        """
        y0s = np.asarray(y0s, dtype=np.float64)
        ts = np.asarray(ts, dtype=np.float64)
        if y0s.ndim != 2 or y0s.shape[1] != self.state_size:
            raise ValueError(
                f"y0s must have shape (batch, {self.state_size}), got {y0s.shape}; "
                "add a batch axis with y0s[None] for one trajectory."
            )
        if ts.ndim != 1 or ts.shape[0] < 2 or not np.all(np.diff(ts) > 0):
            raise ValueError(
                f"ts must be 1-D, strictly increasing, with >= 2 times; got {ts!r}."
            )
        if not (np.all(np.isfinite(y0s)) and np.all(np.isfinite(ts))):
            raise ValueError("y0s and ts must be finite.")
        with jax.enable_x64(True):
            ys = _solve(self, jnp.asarray(y0s), jnp.asarray(ts), rtol, atol, max_steps)
            return np.asarray(ys, dtype=np.float64)


class Pendulum(AbstractSystem):
    r"""The pendulum $\ddot\theta = -(g/L)\sin\theta$ with state $y = (\theta, \omega)$.

    **Arguments:**

    - `g`: gravitational acceleration.
    - `length`: pendulum length $L$.
    """

    state_size = 2
    g: float = 1.0
    length: float = 1.0

    def __check_init__(self):
        if not (np.isfinite(self.g) and np.isfinite(self.length) and self.length > 0):
            raise ValueError(
                f"Pendulum needs finite g and length > 0, got g={self.g}, "
                f"length={self.length}."
            )

    def vector_field(
        self, t: Real[ArrayLike, ""], y: Float[Array, " 2"], args: PyTree
    ) -> Float[Array, " 2"]:
        r"""$(\dot\theta, \dot\omega) = (\omega, -(g/L)\sin\theta)$."""
        theta, omega = y[0], y[1]
        return jnp.stack([omega, -(self.g / self.length) * jnp.sin(theta)])
