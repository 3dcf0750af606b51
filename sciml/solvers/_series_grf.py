r"""Gaussian random functions of one variable as random trigonometric series: the
input functions of the DeepONet benchmarks (spec deeponet.md §4).

A sample is a finite trigonometric sum with Gaussian coefficients, so it is one
function, the same whatever points it is evaluated at (a grid, its refinement,
arbitrary sensors), with an exact antiderivative. Two families:

- `SquaredExponentialSeries`: the squared-exponential (RBF) field on an interval
  $[a, b]$, $\mathrm{Cov}(u(x), u(y)) = \sigma^2 e^{-(x-y)^2/(2\ell^2)}$, not
  periodic. It is sampled as the periodic field of period $P = (b - a) + 9\ell$
  whose covariance is the kernel summed over its images,
  $k_P(r) = \sum_{n \in \mathbb{Z}} k(r + nP)$: for $|r| \le b - a$ the images lie
  at least $9\ell$ away, so $|k_P(r) - k(r)| \le 2\sigma^2 e^{-40.5} < 10^{-17}
  \sigma^2$ on the interval. By Poisson's formula the Fourier coefficients of $k_P$
  are exactly $c_j = \sigma^2\sqrt{2\pi}\,\ell/P\; e^{-(\omega_j\ell)^2/2}$,
  $\omega_j = 2\pi j/P$, so

  $$u(x) = \sqrt{c_0}\,\xi_0 + \sum_{j=1}^{J}\sqrt{2c_j}\,\big(\xi_j\cos\omega_j y
  + \eta_j\sin\omega_j y\big), \qquad y = x - a,\ \xi_j, \eta_j \sim N(0, 1),$$

  has covariance $k_P$ up to the modes dropped, $j > J$ with $\omega_J \ell \ge
  9.2$: they carry less than $10^{-18}\sigma^2$ of the variance (measured: the
  series' covariance matches the kernel to $3\cdot10^{-16}$ for $\ell = 0.2$ and
  $2\cdot10^{-15}$ for $\ell = 0.01$, the round-off of summing it). So the law is the
  squared-exponential one to $10^{-17}$ relative in covariance, with no
  ill-conditioned factorisation (the eigendecomposition of `SquaredExponentialGRF`
  clips round-off eigenvalues, which leaves noise of relative size about $10^{-7}$
  in its samples), and $\int_a^x u$ is known in closed form. $J \approx 1.46\,P/\ell$:
  21 modes for $\ell = 0.2$ on $[0, 1]$, 160 for $\ell = 0.01$.
- `PeriodicMaternGRF`: the field $N(0, \sigma^2(-\Delta + \tau^2 I)^{-\gamma})$ on a
  periodic interval of length $L$ (the Whittle-Matern covariance operator; the
  Burgers data of the FNO and PI-DeepONet papers), by its Karhunen-Loeve expansion
  in the eigenfunctions $\sqrt{2/L}\cos, \sqrt{2/L}\sin$ of $-\Delta$ with
  eigenvalues $(2\pi k/L)^2$:

  $$u(x) = \sum_{k=1}^{K} \sigma\Big(\big(\tfrac{2\pi k}{L}\big)^2 + \tau^2\Big)^{-\gamma/2}
  \sqrt{2}\,\big(\xi_k\cos\tfrac{2\pi k (x - a)}{L} + \eta_k\sin\tfrac{2\pi k (x - a)}{L}\big),$$

  written for $L = 1$ (the constant mode $k = 0$ is left out, as in the generators
  of those papers [D]; `zero_mean=False` adds it with variance $\sigma^2\tau^{-2\gamma}$).

The coefficients are drawn in JAX's default float type (float64 when x64 is on) and
the sums evaluated in the dtype of the points; use float64 for data (the phases
$\omega_J x$ reach $10^3$ for $\ell = 0.01$, which float32 resolves to $10^{-4}$
only).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import _checks
from ._grid import Grid
from ._initial import AbstractInitialCondition

__all__ = ["PeriodicMaternGRF", "SquaredExponentialSeries"]

SE_MARGIN = 9.0  # P = (b - a) + 9 l: the kernel's images are below e^{-40.5}
SE_CUTOFF = 9.2  # the last mode kept has omega_J l >= 9.2: c_J / c_0 < e^{-42}
_ROUND_OFF = 1e-9  # slack (relative to the interval) for points on its ends


def _default_float():
    return jnp.result_type(float)


def _trig_sum(
    amplitudes: Array, omega: Array, params: Array, y: Array
) -> Float[Array, " P"]:
    """$\\sum_j A_j(\\xi_j\\cos\\omega_j y + \\eta_j\\sin\\omega_j y)$ at the points `y`."""
    phase = y[:, None] * omega[None, :]
    xi, eta = params[0], params[1]
    return (
        jnp.cos(phase) * (amplitudes * xi) + jnp.sin(phase) * (amplitudes * eta)
    ).sum(axis=-1)


class SquaredExponentialSeries(AbstractInitialCondition):
    r"""A zero-mean squared-exponential (RBF) Gaussian random function on $[a, b]$,
    $\mathrm{Cov}(u(x), u(y)) = \sigma^2 e^{-(x-y)^2/(2\ell^2)}$, as a random
    trigonometric series (module docstring: exact in law to $10^{-17}$ relative),
    with its exact antiderivative $\int_a^x u$.

    `params(key=key)` draws one sample's coefficients; `evaluate(params, x)` and
    `antiderivative(params, x)` evaluate it at any points of $[a, b]$;
    `family(grid, key=key)` is `evaluate` at the points of a 1-D `grid` inside
    $[a, b]$, one channel. The same key gives the same function at every
    resolution. The input functions of DeepONet's antiderivative and
    diffusion-reaction benchmarks (Lu et al., Nat. Mach. Intell. 3, 2021; Wang,
    Wang & Perdikaris, Sci. Adv. 7, 2021).

    **Arguments:**

    - `length_scale`: $\ell > 0$.
    - `sigma`: the standard deviation $\sigma > 0$.
    - `lower`, `upper`: the interval $[a, b]$ on which the covariance holds.
    """

    length_scale: float = eqx.field(static=True)
    sigma: float = eqx.field(static=True)
    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)
    period: float = eqx.field(static=True)
    n_modes: int = eqx.field(static=True)
    amplitudes: np.ndarray
    frequencies: np.ndarray

    def __init__(
        self,
        length_scale: float | int = 0.2,
        sigma: float | int = 1.0,
        lower: float | int = 0.0,
        upper: float | int = 1.0,
    ):
        owner = "SquaredExponentialSeries"
        self.length_scale = _checks.real(
            "length_scale", length_scale, above=0.0, owner=owner
        )
        self.sigma = _checks.real("sigma", sigma, above=0.0, owner=owner)
        self.lower = _checks.real("lower", lower, owner=owner)
        self.upper = _checks.real("upper", upper, above=self.lower, owner=owner)
        ell = self.length_scale
        self.period = (self.upper - self.lower) + SE_MARGIN * ell
        self.n_modes = math.ceil(SE_CUTOFF * self.period / (2 * math.pi * ell)) + 1
        j = np.arange(self.n_modes)
        omega = 2 * np.pi * j / self.period
        c = np.sqrt(2 * np.pi) * ell / self.period * np.exp(-0.5 * (omega * ell) ** 2)
        weights = np.where(j == 0, 1.0, 2.0)
        self.amplitudes = self.sigma * np.sqrt(weights * c)
        self.frequencies = omega

    def covariance(self, r: np.ndarray) -> np.ndarray:
        r"""The series' exact covariance $\sum_j A_j^2\cos(\omega_j r)$ at the lags
        `r` (numpy, float64): $\sigma^2 e^{-r^2/(2\ell^2)}$ to $10^{-17}\sigma^2$ for
        $|r| \le b - a$."""
        r = np.asarray(r, dtype=np.float64)
        return (
            self.amplitudes**2 * np.cos(np.multiply.outer(r, self.frequencies))
        ).sum(axis=-1)

    def params(self, *, key: PRNGKeyArray) -> Float[Array, "2 J"]:
        r"""One sample's coefficients $(\xi_j, \eta_j)$, standard normal, shape
        `(2, n_modes)`, in JAX's default float type ($\eta_0$ is drawn and unused)."""
        return jax.random.normal(key, (2, self.n_modes), _default_float())

    def _offsets(self, x: Float[ArrayLike, " P"], owner: str) -> Array:
        x = jnp.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"{owner} expected points of shape (P,), got {x.shape}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(_default_float())
        return x - self.lower

    def evaluate(
        self, params: Float[Array, "2 J"], x: Float[ArrayLike, " P"]
    ) -> Float[Array, " P"]:
        r"""$u(x)$ at the points `x` (in $[a, b]$, where the covariance holds), in the
        dtype of `x`.

        **Arguments:**

        - `params`: one sample's coefficients from `params` (no batch axis).
        - `x`: points `(P,)`.

        **Returns:**

        $u(x)$, shape `(P,)`.
        """
        y = self._offsets(x, "SquaredExponentialSeries.evaluate")
        dtype = y.dtype
        amplitudes = jnp.asarray(self.amplitudes, dtype)
        omega = jnp.asarray(self.frequencies, dtype)
        return _trig_sum(amplitudes, omega, params.astype(dtype), y)

    def antiderivative(
        self, params: Float[Array, "2 J"], x: Float[ArrayLike, " P"]
    ) -> Float[Array, " P"]:
        r"""The exact antiderivative $s(x) = \int_a^x u$ at the points `x`:
        $A_0\xi_0 y + \sum_{j\ge1} A_j(\xi_j\sin\omega_j y + \eta_j(1 - \cos\omega_j
        y))/\omega_j$, $y = x - a$; $s(a) = 0$, $s' = u$.

        **Arguments:**

        - `params`: one sample's coefficients from `params`.
        - `x`: points `(P,)`.

        **Returns:**

        $s(x)$, shape `(P,)`, in the dtype of `x`.
        """
        y = self._offsets(x, "SquaredExponentialSeries.antiderivative")
        dtype = y.dtype
        params = params.astype(dtype)
        omega = jnp.asarray(self.frequencies[1:], dtype)
        scaled = jnp.asarray(self.amplitudes[1:] / self.frequencies[1:], dtype)
        phase = y[:, None] * omega[None, :]
        xi, eta = params[0, 1:], params[1, 1:]
        waves = jnp.sin(phase) * (scaled * xi) + (1.0 - jnp.cos(phase)) * (scaled * eta)
        return self.amplitudes[0] * params[0, 0] * y + waves.sum(axis=-1)

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "1 X"]:
        if grid.ndim != 1:
            raise ValueError(
                f"SquaredExponentialSeries is 1-D; got a grid of shape {grid.shape}."
            )
        (axis,) = grid.axes
        slack = _ROUND_OFF * (self.upper - self.lower)
        if axis.min() < self.lower - slack or axis.max() > self.upper + slack:
            raise ValueError(
                "SquaredExponentialSeries: the grid's points must lie in "
                f"[{self.lower}, {self.upper}] (where the covariance holds), got "
                f"[{axis.min()}, {axis.max()}]; pass lower/upper covering the grid."
            )
        x = jnp.asarray(axis, _default_float())
        return self.evaluate(self.params(key=key), x)[None]


class PeriodicMaternGRF(AbstractInitialCondition):
    r"""The Gaussian random field $N(0, \sigma^2(-\Delta + \tau^2 I)^{-\gamma})$ on a
    periodic interval, by its Karhunen-Loeve series truncated at $K$ modes (module
    docstring).

    The field of the DeepONet / FNO Burgers data. `params(key=key)` draws one
    sample's coefficients; `evaluate(params, x, lower=a, length=L)` sums the series
    at any points; `family(grid, key=key)` does so at the points of a 1-D `grid`
    (whose box is the period), one channel; the same key gives the same function on
    every grid. The modes dropped, $k > K$, carry the variance
    $\sum_{k>K} 2\sigma^2((2\pi k/L)^2 + \tau^2)^{-\gamma}$ (`tail_variance`): for
    the defaults, $1.7 \cdot 10^{-15}$ of the total with $K = 128$.

    Defaults [D]: $\tau = 5$, $\gamma = 4$ as the sheet, and $\sigma = 625$: the
    generator behind PI-DeepONet's Burgers data (a chebfun GRF routine called with
    `sigma = 25^2`) multiplies the square roots of the eigenvalues by 625, i.e. its
    covariance is $625^2(-\Delta + 25 I)^{-4}$ (pointwise standard deviation 0.21),
    where the sheet writes $25^2(-\Delta + 25 I)^{-4}$; `sigma=25` gives the
    sheet's formula read literally (standard deviation $8.5\cdot10^{-3}$, for which
    Burgers at $\nu = 0.01$ hardly leaves the heat equation).

    **Arguments:**

    - `sigma`: $\sigma > 0$.
    - `tau`: $\tau \ge 0$ (with `zero_mean=False`, $\tau > 0$).
    - `gamma`: $\gamma > 1/2$ (the series then has finite variance).
    - `n_modes`: $K$, the modes kept.
    - `zero_mean`: leave out the constant mode (default), or draw it too.
    """

    sigma: float = eqx.field(static=True)
    tau: float = eqx.field(static=True)
    gamma: float = eqx.field(static=True)
    n_modes: int = eqx.field(static=True)
    zero_mean: bool = eqx.field(static=True)

    def __init__(
        self,
        sigma: float | int = 625.0,
        tau: float | int = 5.0,
        gamma: float | int = 4.0,
        n_modes: int = 128,
        *,
        zero_mean: bool = True,
    ):
        owner = "PeriodicMaternGRF"
        self.sigma = _checks.real("sigma", sigma, above=0.0, owner=owner)
        self.tau = _checks.real("tau", tau, minimum=0.0, owner=owner)
        self.gamma = _checks.real("gamma", gamma, above=0.5, owner=owner)
        self.n_modes = _checks.integer("n_modes", n_modes, minimum=1, owner=owner)
        self.zero_mean = _checks.boolean("zero_mean", zero_mean, owner=owner)
        if not self.zero_mean and self.tau == 0:
            raise ValueError(
                f"{owner}: the constant mode has infinite variance when tau = 0; pass "
                "tau > 0 or zero_mean=True."
            )

    def amplitudes(self, length: float | int = 1.0) -> np.ndarray:
        r"""The amplitudes $A_k$ of the modes $k = 0 .. K$ (numpy, float64) on a
        period $L$: $A_k = \sqrt2\,\sigma((2\pi k/L)^2 + \tau^2)^{-\gamma/2}$ for
        $k \ge 1$, $A_0 = \sigma\tau^{-\gamma}$ (0 with `zero_mean`)."""
        k = np.arange(self.n_modes + 1)
        with np.errstate(divide="ignore"):
            root = ((2 * np.pi * k / length) ** 2 + self.tau**2) ** (-self.gamma / 2)
        out = np.sqrt(2.0) * self.sigma * root
        out[0] = 0.0 if self.zero_mean else self.sigma * root[0]
        return out

    def variance(self, length: float | int = 1.0) -> float:
        r"""The pointwise variance of the truncated series, $\sum_{k \le K} A_k^2$."""
        return float(np.sum(self.amplitudes(length) ** 2))

    def tail_variance(self, length: float | int = 1.0) -> float:
        r"""The variance of the modes dropped, $\sum_{k > K} A_k^2$ (summed to
        $k = 100K$, then bounded by the integral of the rest)."""
        k = np.arange(self.n_modes + 1, 100 * (self.n_modes + 1), dtype=np.float64)
        terms = (
            2
            * self.sigma**2
            * ((2 * np.pi * k / length) ** 2 + self.tau**2) ** (-self.gamma)
        )
        k_end = k[-1] + 1
        rest = 2 * self.sigma**2 * (2 * np.pi / length) ** (-2 * self.gamma)
        rest *= k_end ** (1 - 2 * self.gamma) / (2 * self.gamma - 1)
        return float(terms.sum() + rest)

    def params(self, *, key: PRNGKeyArray) -> Float[Array, "2 K"]:
        r"""One sample's coefficients $(\xi_k, \eta_k)$, $k = 0 .. K$, standard
        normal, shape `(2, n_modes + 1)`, in JAX's default float type."""
        return jax.random.normal(key, (2, self.n_modes + 1), _default_float())

    def evaluate(
        self,
        params: Float[Array, "2 K"],
        x: Float[ArrayLike, " P"],
        *,
        lower: float | int = 0.0,
        length: float | int = 1.0,
    ) -> Float[Array, " P"]:
        r"""$u(x)$ at the points `x` of the periodic interval $[a, a + L)$ (any real
        $x$: the series is periodic), in the dtype of `x`.

        **Arguments:**

        - `params`: one sample's coefficients (no batch axis).
        - `x`: points `(P,)`.
        - `lower`: $a$.
        - `length`: the period $L$.

        **Returns:**

        $u(x)$, shape `(P,)`.
        """
        x = jnp.asarray(x)
        if x.ndim != 1:
            raise ValueError(
                f"PeriodicMaternGRF.evaluate expected points of shape (P,), got {x.shape}."
            )
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(_default_float())
        dtype = x.dtype
        # reduce modulo the period first, so the phases stay below 2 pi K
        y = jnp.mod(x - lower, length)
        omega = jnp.asarray(2 * np.pi * np.arange(self.n_modes + 1) / length, dtype)
        amplitudes = jnp.asarray(self.amplitudes(length), dtype)
        return _trig_sum(amplitudes, omega, params.astype(dtype), y)

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "1 X"]:
        if grid.ndim != 1:
            raise ValueError(
                f"PeriodicMaternGRF is 1-D; got a grid of shape {grid.shape}."
            )
        x = jnp.asarray(grid.axes[0], _default_float())
        params = self.params(key=key)
        u = self.evaluate(params, x, lower=grid.lower[0], length=grid.lengths[0])
        return u[None]
