r"""ODE systems with reference trajectories computed in float64.

A system provides `vector_field(t, y, args)` (diffrax's convention) and
`trajectories(y0s, ts)`. Where the system has a closed-form solution (the harmonic
oscillator; the librating pendulum, through Jacobi's elliptic functions) that is what
`trajectories` returns; otherwise it integrates with diffrax's Dopri8 (adaptive, PID
controller, rtol = atol = $10^{-10}$ by default), stepping onto every save time so
saved states are step values, not interpolants. float64 is switched on locally with
`jax.enable_x64(True)` for the solve only, and the result comes back as a float64
numpy array, so the rest of the program stays float32.

The systems are those of the convergence study of Krishnapriyan, Queiruga, Erichson &
Mahoney, "Learning continuous models for continuous physics" (Commun. Phys. 6:319,
2023) with the parameters of `specs/convergence.md` §4: `HarmonicOscillator`,
`Pendulum`, `LotkaVolterra` and the chaotic `Lorenz63`. Look one up by name with
`get_system("pendulum")`; `system_names()` lists them.
"""

import abc
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree, Real

from ._elliptic import ellipf, ellipj


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


@eqx.filter_jit
def _solve_to(system, y0s, t1s, rtol, atol, max_steps):
    """Dopri8 from t = 0 to a (traced) end time per initial state; saves the end only,
    which compiles several times faster than saving on a grid."""

    def one(y0, t1):
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(system.vector_field),
            diffrax.Dopri8(),
            t0=jnp.zeros_like(t1),
            t1=t1,
            dt0=None,
            y0=y0,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=max_steps,
        )
        return solution.ys[0]

    return jax.vmap(one)(y0s, t1s)


def _check_finite_params(name: str, **params) -> None:
    bad = {k: v for k, v in params.items() if not np.isfinite(v)}
    if bad:
        raise ValueError(f"{name} needs finite parameters, got {bad}.")


class AbstractSystem(eqx.Module):
    r"""An autonomous or time-dependent ODE $\dot y = f(t, y)$ with a state vector.

    Subclasses implement `vector_field`, set `state_size`, and may override
    `exact_trajectories` (a closed-form solution), `sample_initial_conditions` and
    the default test horizon `horizon`; `trajectories` and `state_at` are shared.
    """

    state_size: eqx.AbstractClassVar[int]
    horizon: ClassVar[float] = 2.0
    """A default horizon for tests of learned models (a few time scales)."""

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

    def exact_trajectories(
        self, y0s: Float[np.ndarray, "batch n"], ts: Float[np.ndarray, " T"]
    ) -> Float[np.ndarray, "batch T n"] | None:
        """The closed-form solution at `ts` from `y0s` given at `ts[0]`, or None when
        the system (or these initial conditions) has none."""
        del y0s, ts
        return None

    def sample_initial_conditions(
        self, n: int, seed: int = 0
    ) -> Float[np.ndarray, "n state"]:
        """Draw `n` initial states from the system's default distribution.

        **Arguments:**

        - `n`: how many.
        - `seed`: seed of a `numpy.random.default_rng`.

        **Returns:** a float64 array `(n, state_size)`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no default initial-condition distribution; "
            "pass initial states explicitly."
        )

    def trajectories(
        self,
        y0s: Real[ArrayLike, "*batch n"],
        ts: Real[ArrayLike, " T"],
        *,
        method: str = "auto",
        rtol: float | int = 1e-10,
        atol: float | int = 1e-10,
        max_steps: int = 1_000_000,
    ) -> Float[np.ndarray, "batch T n"]:
        """The solution from each initial state, saved at `ts`, in float64.

        **Arguments:**

        - `y0s`: initial states at `ts[0]`, shape `(batch, state_size)`.
        - `ts`: strictly increasing save times; integration starts at `ts[0]`.
        - `method`: `"exact"` (the closed form; an error where there is none),
          `"dopri8"` (adaptive Dopri8 in float64), or `"auto"` (exact where
          available, else Dopri8).
        - `rtol`, `atol`: tolerances of the PID step-size controller (Dopri8).
        - `max_steps`: step budget per trajectory (Dopri8).

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
        if method not in ("auto", "exact", "dopri8"):
            raise ValueError(
                f"Unknown method {method!r}; expected 'auto', 'exact' or 'dopri8'."
            )
        if method != "dopri8":
            exact = self.exact_trajectories(y0s, ts)
            if exact is not None:
                return np.asarray(exact, dtype=np.float64)
            if method == "exact":
                raise ValueError(
                    f"{type(self).__name__} has no closed-form solution for these "
                    "initial conditions; use method='dopri8' or 'auto'."
                )
        with jax.enable_x64(True):
            ys = _solve(self, jnp.asarray(y0s), jnp.asarray(ts), rtol, atol, max_steps)
            return np.asarray(ys, dtype=np.float64)

    def state_at(
        self,
        y0s: Real[ArrayLike, "batch n"],
        t: Real[ArrayLike, "*batch"],
        *,
        rtol: float | int = 1e-12,
        atol: float | int = 1e-12,
        max_steps: int = 1_000_000,
    ) -> Float[np.ndarray, "batch n"]:
        """The true state at time `t` (one time, or one per initial state) from `y0s`
        at time 0, in float64: the closed form where there is one, else Dopri8 with
        rtol = atol = $10^{-12}$ (`specs/convergence.md` §2). This is the
        `reference(y0s, t1)` that `sciml.convergence.test` takes.

        **Arguments:**

        - `y0s`: initial states `(batch, state_size)`.
        - `t`: the time, a scalar or one per initial state (all > 0).
        - `rtol`, `atol`, `max_steps`: the Dopri8 settings.

        **Returns:** a float64 array `(batch, state_size)`.
        """
        y0s = np.asarray(y0s, dtype=np.float64)
        if y0s.ndim != 2 or y0s.shape[1] != self.state_size:
            raise ValueError(
                f"y0s must have shape (batch, {self.state_size}), got {y0s.shape}."
            )
        ts = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(y0s),))
        if not (np.all(np.isfinite(ts)) and np.all(ts > 0)):
            raise ValueError(f"Expected finite times t > 0, got {t!r}.")
        if np.all(ts == ts[0]):
            exact = self.exact_trajectories(y0s, np.array([0.0, ts[0]]))
            if exact is not None:
                return np.asarray(exact[:, -1], dtype=np.float64)
        with jax.enable_x64(True):
            ys = _solve_to(
                self, jnp.asarray(y0s), jnp.asarray(ts), rtol, atol, max_steps
            )
            return np.asarray(ys, dtype=np.float64)


class HarmonicOscillator(AbstractSystem):
    r"""The simple harmonic oscillator $\dot x = v$, $\dot v = -\omega^2 x$.

    Exact solution: $x(t) = x_0\cos\omega t + (v_0/\omega)\sin\omega t$,
    $v(t) = -x_0\omega\sin\omega t + v_0\cos\omega t$.

    **Arguments:**

    - `omega`: the angular frequency $\omega > 0$.
    """

    state_size = 2
    omega: float | int = eqx.field(default=1.0, converter=float)

    def __check_init__(self):
        if not (np.isfinite(self.omega) and self.omega > 0):
            raise ValueError(
                f"HarmonicOscillator needs a finite omega > 0, got {self.omega}."
            )

    def vector_field(
        self, t: Real[ArrayLike, ""], y: Float[Array, " 2"], args: PyTree
    ) -> Float[Array, " 2"]:
        r"""$(\dot x, \dot v) = (v, -\omega^2 x)$."""
        return jnp.stack([y[1], -(self.omega**2) * y[0]])

    def exact_trajectories(
        self, y0s: Float[np.ndarray, "batch n"], ts: Float[np.ndarray, " T"]
    ) -> Float[np.ndarray, "batch T n"] | None:
        r"""$x(t) = x_0\cos\omega t + (v_0/\omega)\sin\omega t$ and its derivative,
        at `ts` from `y0s` (batch, 2) given at `ts[0]`."""
        w = self.omega
        s = w * (ts - ts[0])[None, :]
        x0, v0 = y0s[:, :1], y0s[:, 1:]
        x = x0 * np.cos(s) + v0 / w * np.sin(s)
        v = -x0 * w * np.sin(s) + v0 * np.cos(s)
        return np.stack([x, v], axis=-1)

    def sample_initial_conditions(
        self, n: int, seed: int = 0
    ) -> Float[np.ndarray, "n state"]:
        """Positions and velocities uniform in $[-1, 1]^2$."""
        return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 2))


class Pendulum(AbstractSystem):
    r"""The pendulum $\ddot\theta = -(g/L)\sin\theta$ with state $y = (\theta, \omega)$.

    Exact solution for librating motion (energy below the separatrix): with
    $w = \sqrt{g/L}$ and $k^2 = \sin^2(\theta_0/2) + (\omega_0 / 2w)^2 < 1$,
    $\sin(\theta/2) = k\,\mathrm{sn}(w t + s_0; k^2)$ and
    $\omega = 2 k w\,\mathrm{cn}(w t + s_0; k^2)$, where the phase $s_0 = F(\varphi_0
    \mid k^2)$ has $\sin\varphi_0 = \sin(\theta_0/2)/k$, $\cos\varphi_0 =
    \omega_0/(2wk)$. At rest ($\omega_0 = 0$) this is
    $\theta(t) = 2\arcsin(k\,\mathrm{sn}(K(k^2) - w t; k^2))$, $k = \sin(\theta_0/2)$.
    The elliptic functions are computed by the AGM / descending Landen scheme in
    float64 (`ellipj`, `ellipf`, `ellipk`); rotating motion ($k \ge 1$) falls back
    to Dopri8.

    **Arguments:**

    - `g`: gravitational acceleration.
    - `length`: pendulum length $L$.
    """

    state_size = 2
    g: float | int = eqx.field(default=1.0, converter=float)
    length: float | int = eqx.field(default=1.0, converter=float)

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

    def exact_trajectories(
        self, y0s: Float[np.ndarray, "batch n"], ts: Float[np.ndarray, " T"]
    ) -> Float[np.ndarray, "batch T n"] | None:
        """The closed-form solution by Jacobi elliptic functions at `ts` from `y0s`
        (batch, 2) given at `ts[0]` (librating motion), or None where there is none:
        `g <= 0`, or an initial condition that rotates or sits on the separatrix."""
        if self.g <= 0:
            return None
        w = np.sqrt(self.g / self.length)
        turns = np.round(y0s[:, 0] / (2 * np.pi))  # theta0 -> (-pi, pi]
        theta0 = y0s[:, 0] - 2 * np.pi * turns
        half = np.sin(theta0 / 2)
        v = y0s[:, 1] / (2 * w)
        k = np.sqrt(half**2 + v**2)
        if np.any(k >= 1.0 - 1e-12):
            return None  # rotating (or separatrix) motion: no librating closed form
        safe = np.where(k > 0, k, 1.0)
        s0 = ellipf(np.arctan2(half / safe, v / safe), k**2)
        s = w * (ts - ts[0])[None, :] + s0[:, None]
        sn, cn, _ = ellipj(s, (k**2)[:, None])
        theta = 2 * np.arcsin(np.clip(k[:, None] * sn, -1.0, 1.0))
        omega = 2 * k[:, None] * w * cn
        theta = theta + 2 * np.pi * turns[:, None]
        return np.stack([theta, omega], axis=-1)

    def sample_initial_conditions(
        self, n: int, seed: int = 0
    ) -> Float[np.ndarray, "n state"]:
        r"""$\theta_0 \sim U[\pi/4, 3\pi/4]$, $\omega_0 \sim U[-0.5, 0.5]$ (librating
        for $g/L = 1$)."""
        rng = np.random.default_rng(seed)
        return np.stack(
            [rng.uniform(np.pi / 4, 3 * np.pi / 4, n), rng.uniform(-0.5, 0.5, n)], -1
        )


class LotkaVolterra(AbstractSystem):
    r"""Predator--prey dynamics $\dot x = \alpha x - \beta x y$,
    $\dot y = \delta x y - \gamma y$ (no closed form: Dopri8 reference).

    **Arguments:**

    - `alpha`, `beta`, `gamma`, `delta`: the rates; default (1.5, 1, 3, 1).
    """

    state_size = 2
    alpha: float | int = eqx.field(default=1.5, converter=float)
    beta: float | int = eqx.field(default=1.0, converter=float)
    gamma: float | int = eqx.field(default=3.0, converter=float)
    delta: float | int = eqx.field(default=1.0, converter=float)

    def __check_init__(self):
        _check_finite_params(
            "LotkaVolterra",
            alpha=self.alpha,
            beta=self.beta,
            gamma=self.gamma,
            delta=self.delta,
        )

    def vector_field(
        self, t: Real[ArrayLike, ""], y: Float[Array, " 2"], args: PyTree
    ) -> Float[Array, " 2"]:
        r"""$(\alpha x - \beta x y, \delta x y - \gamma y)$."""
        x, p = y[0], y[1]
        return jnp.stack(
            [self.alpha * x - self.beta * x * p, self.delta * x * p - self.gamma * p]
        )

    def sample_initial_conditions(
        self, n: int, seed: int = 0
    ) -> Float[np.ndarray, "n state"]:
        """Prey $x_0 \\sim U[1, 5]$, predators $y_0 \\sim U[0.5, 3]$, around the
        equilibrium $(\\gamma/\\delta, \\alpha/\\beta) = (3, 1.5)$."""
        rng = np.random.default_rng(seed)
        return np.stack([rng.uniform(1.0, 5.0, n), rng.uniform(0.5, 3.0, n)], -1)


class Lorenz63(AbstractSystem):
    r"""The Lorenz system $\dot x = \sigma(y - x)$, $\dot y = x(\rho - z) - y$,
    $\dot z = xy - bz$: chaotic, with a largest Lyapunov exponent of about 0.9, so
    tests stay within a horizon of about two Lyapunov times (`horizon` = 1).

    **Arguments:**

    - `sigma`, `rho`, `b`: default (10, 28, 8/3).
    """

    state_size = 3
    horizon: ClassVar[float] = 1.0
    sigma: float | int = eqx.field(default=10.0, converter=float)
    rho: float | int = eqx.field(default=28.0, converter=float)
    b: float | int = eqx.field(default=8.0 / 3.0, converter=float)

    def __check_init__(self):
        _check_finite_params("Lorenz63", sigma=self.sigma, rho=self.rho, b=self.b)

    def vector_field(
        self, t: Real[ArrayLike, ""], y: Float[Array, " 3"], args: PyTree
    ) -> Float[Array, " 3"]:
        r"""$(\sigma(y - x), x(\rho - z) - y, xy - bz)$."""
        x, p, z = y[0], y[1], y[2]
        return jnp.stack(
            [self.sigma * (p - x), x * (self.rho - z) - p, x * p - self.b * z]
        )

    def sample_initial_conditions(
        self, n: int, seed: int = 0
    ) -> Float[np.ndarray, "n state"]:
        """States on the attractor: a trajectory from a random point near (1, 1, 20)
        after a burn-in of 20 time units, read at `n` random times in [20, 40]."""
        rng = np.random.default_rng(seed)
        start = np.array([1.0, 1.0, 20.0]) + rng.normal(0.0, 1.0, 3)
        times = rng.uniform(20.0, 40.0, n)
        if n == 0:
            return np.zeros((0, self.state_size))
        return self.state_at(np.tile(start, (n, 1)), times, rtol=1e-10, atol=1e-10)


SYSTEMS: dict[str, type[AbstractSystem]] = {
    "harmonic_oscillator": HarmonicOscillator,
    "pendulum": Pendulum,
    "lotka_volterra": LotkaVolterra,
    "lorenz63": Lorenz63,
}
"""The systems by name."""

_ALIASES = {"harmonic": "harmonic_oscillator", "sho": "harmonic_oscillator"}
_ALIASES.update({"lorenz": "lorenz63", "lotka": "lotka_volterra"})


def system_names() -> list[str]:
    """The names `get_system` knows, sorted."""
    return sorted(SYSTEMS)


def get_system(name: str, **params) -> AbstractSystem:
    """Build a system by name, e.g. `get_system("pendulum", g=9.81)`.

    **Arguments:**

    - `name`: one of `system_names()` (case-insensitive; `-` may stand for `_`; aliases
      `harmonic`, `sho`, `lorenz`, `lotka`).
    - `params`: the system's parameters (default: the values of
      `specs/convergence.md` §4).

    **Returns:** the system instance.
    """
    key = str(name).lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in SYSTEMS:
        raise ValueError(
            f"Unknown system {name!r}. Expected one of {system_names()}, e.g. "
            "sciml.solvers.get_system('pendulum')."
        )
    return SYSTEMS[key](**params)
