r"""Problems parameterised by an input function, for physics-informed operator
learning (PI-DeepONet: Wang, Wang & Perdikaris, Sci. Adv. 2021; spec deeponet.md
§3-§4). Each holds one input function's sensor values as an array leaf, so a
batch of problems is a `vmap` away ([`sciml.pinns.OperatorPINNLoss`][]); between
the sensors the input is interpolated linearly."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._conditions import Dirichlet, InitialValue, Periodic
from .._domain import Box
from ._base import AbstractScalarProblem


def _sensor_values(owner: str, sensors: ArrayLike, source: ArrayLike):
    sensors, source = jnp.asarray(sensors), jnp.asarray(source)
    if sensors.ndim != 1 or source.shape != sensors.shape:
        raise ValueError(
            f"{owner}: the input function needs one value per sensor: sensors "
            f"{sensors.shape}, values {source.shape}. Fix: sample the input at the "
            f"sensors (both shape (m,))."
        )
    return sensors, source


class _Interpolant(eqx.Module):
    """The piecewise-linear interpolant of sensor values, at coordinate `axis` of a
    point."""

    sensors: Array
    values: Array
    axis: int = eqx.field(static=True)

    def __call__(self, x):
        return jnp.interp(x[self.axis], self.sensors, self.values)


class Antiderivative(AbstractScalarProblem):
    r"""$s'(x) = u(x)$ on $[0, 1]$, $s(0) = 0$: the operator $u \mapsto s =
    \int_0^x u$ (the PI-DeepONet paper's first example).

    **Arguments:**

    - `source`: $u$ at the sensors `(m,)`.
    - `sensors`: the sensor positions `(m,)` (increasing, in $[0, 1]$).
    - `engine`: the derivative engine.
    """

    source: Float[Array, " m"]
    sensors: Float[Array, " m"]

    def __init__(self, source: ArrayLike, sensors: ArrayLike, *, engine: str = "auto"):
        self.sensors, self.source = _sensor_values("Antiderivative", sensors, source)
        self.domain = Box((0.0,), (1.0,), ("x",))
        self.conditions = (Dirichlet(0.0, on=[("x", "lower")]),)
        self.test_shape = (self.sensors.shape[0],)
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """$s' - u$ at one point `x`."""
        D = self.derivatives(u, x, order=1)
        return D.d("x") - jnp.interp(x[0], self.sensors, self.source)


class SourceDiffusionReaction(AbstractScalarProblem):
    r"""$s_t = D s_{xx} + k s^2 + u(x)$ on $(t, x) \in [0, 1]^2$ with zero initial
    and boundary values: the operator from the source $u$ to $s$ (the
    PI-DeepONet paper's diffusion-reaction example; $D = k = 0.01$, [U] in the
    sheet).

    **Arguments:**

    - `source`: $u$ at the sensors `(m,)`.
    - `sensors`: the sensor positions in $x$ `(m,)`.
    - `diffusivity`, `rate`: $D$ and $k$.
    - `engine`: the derivative engine.
    """

    source: Float[Array, " m"]
    sensors: Float[Array, " m"]
    diffusivity: float = eqx.field(static=True)
    rate: float = eqx.field(static=True)

    def __init__(
        self,
        source: ArrayLike,
        sensors: ArrayLike,
        diffusivity: float = 0.01,
        rate: float = 0.01,
        *,
        engine: str = "auto",
    ):
        self.sensors, self.source = _sensor_values(
            "SourceDiffusionReaction", sensors, source
        )
        self.diffusivity, self.rate = float(diffusivity), float(rate)
        self.domain = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))
        self.conditions = (InitialValue(0.0), Dirichlet(0.0))
        self.test_shape = (self.sensors.shape[0], self.sensors.shape[0])
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """$s_t - D s_{xx} - k s^2 - u(x)$ at one point `x` $= (t, x)$."""
        D = self.derivatives(u, x)
        f = jnp.interp(x[1], self.sensors, self.source)
        return D.d("t") - self.diffusivity * D.d("x", "x") - self.rate * D.value**2 - f


class PeriodicBurgers(AbstractScalarProblem):
    r"""$u_t + u u_x = \nu u_{xx}$ on $(t, x) \in [0, 1]^2$, periodic in $x$, from
    the initial value $u_0$: the operator $u_0 \mapsto u$ (the PI-DeepONet
    notebook's Burgers example, $\nu = 0.01$; periodic in value and first
    derivative, [D]).

    **Arguments:**

    - `initial`: $u_0$ at the sensors `(m,)`.
    - `sensors`: the sensor positions in $x$ `(m,)`.
    - `nu`: the viscosity $\nu$.
    - `engine`: the derivative engine.
    """

    initial: Float[Array, " m"]
    sensors: Float[Array, " m"]
    nu: float = eqx.field(static=True)

    def __init__(
        self,
        initial: ArrayLike,
        sensors: ArrayLike,
        nu: float = 0.01,
        *,
        engine: str = "auto",
    ):
        self.sensors, self.initial = _sensor_values("PeriodicBurgers", sensors, initial)
        self.nu = float(nu)
        self.domain = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))
        self.conditions = (
            InitialValue(_Interpolant(self.sensors, self.initial, axis=1)),
            Periodic("x", 1),
        )
        self.test_shape = (self.sensors.shape[0], self.sensors.shape[0])
        self.engine = engine
        self.residual_weight = 1.0

    def residual(self, u, x):
        """$u_t + u u_x - \\nu u_{xx}$ at one point `x` $= (t, x)$."""
        D = self.derivatives(u, x)
        return D.d("t") + D.value * D.d("x") - self.nu * D.d("x", "x")
