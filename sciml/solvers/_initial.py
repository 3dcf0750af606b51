r"""Families of random initial conditions and coefficient fields.

Every family is an equinox module called as `family(grid, *, key)`: it draws ONE
channel-first field `(C, *grid.shape)` on the grid, in JAX's default float type
(float64 when x64 is on), from the key alone. `family.batch(grid, n, key=key)` draws
samples $i = $ `start` $.. $ `start + n - 1`, sample $i$ from
`jax.random.fold_in(key, i)`: so a sample depends on the key and its index only,
never on how many are drawn, on the chunking of a generator, or on a PDE
parameter. Solvers (`sciml.solvers`) and data generators (`sciml.datasets`) share
these families; nothing here imports either.
"""

import abc
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .. import _checks
from .._random import flat_draw
from ._grf import periodic_grf_2d, periodic_kernel_spectrum, se_factor, se_grf
from ._grid import Grid

__all__ = [
    "AbstractInitialCondition",
    "BinaryBumps",
    "InitialConditionParams",
    "PDEBenchSines",
    "PeriodicGRF",
    "RandomConstant",
    "SquaredExponentialGRF",
    "StandardNormal",
]


def _default_float():
    return jnp.result_type(float)


class AbstractInitialCondition(eqx.Module):
    """A family of random fields: `family(grid, *, key)` draws one `(C, *grid)` field."""

    @abc.abstractmethod
    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, " C *grid"]:
        """One field on `grid` drawn from `key`, shape `(C, *grid.shape)`."""

    def batch(
        self, grid: Grid, n: int, *, key: PRNGKeyArray, start: Int[ArrayLike, ""] = 0
    ) -> Float[Array, " n C *grid"]:
        """Samples `start .. start + n - 1`, sample $i$ drawn from `fold_in(key, i)`.

        **Arguments:**

        - `grid`: the grid.
        - `n`: how many (static under `jax.jit`).
        - `key`: the seed's PRNG key, e.g. `jax.random.key(seed)`.
        - `start`: index of the first sample (may be traced).

        **Returns:**

        The fields, shape `(n, C, *grid.shape)`.
        """
        n = _checks.integer("n", n, minimum=0, owner=f"{type(self).__name__}.batch")
        indices = jnp.asarray(start) + jnp.arange(n)
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(indices)
        return jax.vmap(lambda k: self(grid, key=k))(keys)


# ------------------------------------------------------------ PDEBench's sines

_MAX_WAVENUMBER = 4
_P_NEGATE = 0.5
_P_ABSOLUTE = 0.1
_P_WINDOW = 0.1
_WINDOW_DELTA = 0.01
_WINDOW_X1 = (0.1, 0.45)
_WINDOW_X2 = (0.55, 0.9)


class InitialConditionParams(eqx.Module):
    r"""The random draws of one `PDEBenchSines` sample (or many, with batch axes).

    **Arguments:**

    - `amplitudes`: $A_j$, shape `(*batch, 2)`.
    - `wavenumbers`: $n_j \in \{1,\dots,4\}$, shape `(*batch, 2)`.
    - `phases`: $\phi_j$, shape `(*batch, 2)`.
    - `sign`: $\pm 1$, shape `batch`.
    - `absolute`: whether $|u_0|$ is taken, shape `batch`.
    - `windowed`: whether the tanh window is applied, shape `batch`.
    - `x1`, `x2`: window edges as fractions of the domain length, shape `batch`.
    """

    amplitudes: Float[Array, "*batch 2"]
    wavenumbers: Int[Array, "*batch 2"]
    phases: Float[Array, "*batch 2"]
    sign: Float[Array, "*batch"]
    absolute: Bool[Array, "*batch"]
    windowed: Bool[Array, "*batch"]
    x1: Float[Array, "*batch"]
    x2: Float[Array, "*batch"]


class PDEBenchSines(AbstractInitialCondition):
    r"""PDEBench's random initial condition of its 1-D advection, Burgers and
    reaction-diffusion data (Takamoto et al., NeurIPS 2022; spec pdebench.md §2).

    $u_0(x) = \sum_{j=1}^{2} A_j \sin(2\pi n_j (x - a)/L + \phi_j)$ on $[a, a + L)$
    with $n_j \in \{1,\dots,4\}$, $A_j \sim U(0,1)$, $\phi_j \sim U(0, 2\pi)$, then in
    this order: a random sign (probability 1/2 each, [U] in the spec),
    $u_0 \leftarrow |u_0|$ with probability 0.1, and with probability 0.1 a
    multiplication by the window $\tfrac12[\tanh((x - x_1)/\delta) - \tanh((x -
    x_2)/\delta)]$, $\delta = 0.01$, $x_1 \sim a + U(0.1, 0.45) L$,
    $x_2 \sim a + U(0.55, 0.9) L$. So $|u_0| \le 2$.

    The draws (`params`) are separate from the evaluation (`evaluate`): the formula
    is analytic, so evaluating it at $(x - \beta t) \bmod L$ gives the exact
    advected field. Every draw names its dtype, so a sample does not depend on
    whether float64 is on. One channel: `family(grid, key=key)` is `(1, X)`.

    **Arguments:** none.
    """

    def params(self, *, key: PRNGKeyArray) -> InitialConditionParams:
        """The draws of one sample (one threefry call of 11 uniforms)."""
        # floor(4 v) + 1 is exactly uniform on {1, ..., 4}: float32 uniforms lie on
        # a grid of 2**23 points in [0, 1), a multiple of 4.
        v = jax.random.uniform(key, (11,), jnp.float32)
        wavenumbers = jnp.floor(_MAX_WAVENUMBER * v[2:4]).astype(jnp.int32) + 1
        negate = v[6] < _P_NEGATE
        return InitialConditionParams(
            amplitudes=v[0:2],
            wavenumbers=wavenumbers,
            phases=(2 * jnp.pi) * v[4:6],
            sign=jnp.where(negate, jnp.float32(-1.0), jnp.float32(1.0)),
            absolute=v[7] < _P_ABSOLUTE,
            windowed=v[8] < _P_WINDOW,
            x1=_WINDOW_X1[0] + (_WINDOW_X1[1] - _WINDOW_X1[0]) * v[9],
            x2=_WINDOW_X2[0] + (_WINDOW_X2[1] - _WINDOW_X2[0]) * v[10],
        )

    def evaluate(
        self,
        params: InitialConditionParams,
        x: Float[ArrayLike, " X"],
        *,
        length: float | int = 1.0,
    ) -> Float[Array, " X"]:
        r"""Evaluate one sample's $u_0$ at the points `x` of $[0, L)$, in the dtype of
        `x`.

        **Arguments:**

        - `params`: one sample's draws (no batch axis; `jax.vmap` for many).
        - `x`: points in $[0, L)$.
        - `length`: the domain length $L$.

        **Returns:**

        $u_0(x)$, same shape and dtype as `x`.
        """
        x = jnp.asarray(x)
        dtype = x.dtype
        amplitudes = params.amplitudes.astype(dtype)[:, None]
        wavenumbers = params.wavenumbers.astype(dtype)[:, None]
        phases = params.phases.astype(dtype)[:, None]
        argument = (2 * jnp.pi / length) * wavenumbers * x[None, :] + phases
        u = jnp.sum(amplitudes * jnp.sin(argument), axis=0)
        u = params.sign.astype(dtype) * u
        u = jnp.where(params.absolute, jnp.abs(u), u)
        x1 = params.x1.astype(dtype) * length
        x2 = params.x2.astype(dtype) * length
        delta = _WINDOW_DELTA
        window = 0.5 * (jnp.tanh((x - x1) / delta) - jnp.tanh((x - x2) / delta))
        return jnp.where(params.windowed, u * window, u)

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "1 X"]:
        if grid.ndim != 1:
            raise ValueError(f"PDEBenchSines is 1-D; got a grid of shape {grid.shape}.")
        x = jnp.asarray(grid.axes[0] - grid.lower[0], _default_float())
        return self.evaluate(self.params(key=key), x, length=grid.lengths[0])[None]


# --------------------------------------------------------------- simple fields


class RandomConstant(AbstractInitialCondition):
    r"""A spatially constant field $u_0 \equiv c$, $c \sim U(\text{low}, \text{high})$
    (PDEBench's diffusion-sorption initial condition, $U(0, 0.2)$).

    **Arguments:**

    - `low`, `high`: the range of $c$.
    - `channels`: channels of the field (each gets the same $c$).
    """

    low: float | int = eqx.field(static=True)
    high: float | int = eqx.field(static=True)
    channels: int = eqx.field(static=True)

    def __init__(
        self, low: float | int = 0.0, high: float | int = 0.2, channels: int = 1
    ):
        self.low = _checks.real("low", low, owner="RandomConstant")
        self.high = _checks.real("high", high, above=self.low, owner="RandomConstant")
        self.channels = _checks.integer(
            "channels", channels, minimum=1, owner="RandomConstant"
        )

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, " C *grid"]:
        dtype = _default_float()
        level = self.low + (self.high - self.low) * jax.random.uniform(key, (), dtype)
        return jnp.full((self.channels, *grid.shape), level, dtype)


class StandardNormal(AbstractInitialCondition):
    """Independent standard normal values in every cell and channel (PDEBench's 2-D
    diffusion-reaction initial condition, two channels).

    **Arguments:**

    - `channels`: channels of the field.
    """

    channels: int = eqx.field(static=True)

    def __init__(self, channels: int = 1):
        self.channels = _checks.integer(
            "channels", channels, minimum=1, owner="StandardNormal"
        )

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, " C *grid"]:
        return flat_draw(
            jax.random.normal, key, (self.channels, *grid.shape), dtype=_default_float()
        )


# ------------------------------------------------------ Gaussian random fields


@functools.lru_cache(maxsize=32)
def _se_factors(grid: Grid, length_scale: float | int) -> tuple[np.ndarray, ...]:
    return tuple(se_factor(axis, length_scale) for axis in grid.axes)


class SquaredExponentialGRF(AbstractInitialCondition):
    r"""A zero-mean Gaussian random field with the squared-exponential covariance
    $\mathrm{Cov}(g(x), g(x')) = \sigma^2 \exp(-|x - x'|^2 / (2\ell^2))$ at the grid
    points (not periodic), 1-D or 2-D.

    The kernel is separable, so a sample is $F_x z$ (1-D) or $F_x Z F_y^\top$ (2-D),
    with white noise $z$ and $F F^\top = K$ the 1-D factors from an
    eigendecomposition in float64 (exact in distribution on the grid). One channel.

    **Arguments:**

    - `length_scale`: $\ell > 0$.
    - `sigma`: the standard deviation $\sigma > 0$.
    """

    length_scale: float | int = eqx.field(static=True)
    sigma: float | int = eqx.field(static=True)

    def __init__(self, length_scale: float | int = 0.1, sigma: float | int = 1.0):
        owner = "SquaredExponentialGRF"
        self.length_scale = _checks.real(
            "length_scale", length_scale, above=0.0, owner=owner
        )
        self.sigma = _checks.real("sigma", sigma, above=0.0, owner=owner)

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, " 1 *grid"]:
        if grid.ndim > 2:
            raise ValueError(
                f"SquaredExponentialGRF is 1-D or 2-D; got a grid of shape {grid.shape}."
            )
        dtype = _default_float()
        factors = tuple(
            jnp.asarray(f, dtype) for f in _se_factors(grid, self.length_scale)
        )
        g = se_grf(factors, key=key)
        return (self.sigma * g)[None]


class PeriodicGRF(AbstractInitialCondition):
    r"""A Gaussian random field on the 2-D unit torus with the periodic kernel
    $\prod_d \exp(-2\sin^2(\pi(x_d - x'_d))/\ell^2)$, mean removed and scaled to unit
    spatial standard deviation (the HC-MoE Navier-Stokes data; spec pdebench.md §5,
    where the kernel form and amplitude are [U]).

    It is sampled as a trigonometric polynomial (modes $|k_d| \le 15$), so one key
    gives the same function on every grid of $n \ge 32$ nodes per axis. Needs a
    square grid of nodes (`Grid((n, n), points="nodes")`). One channel.

    **Arguments:**

    - `length_scale`: $\ell \ge 0.2$ (the modes kept resolve no shorter one).
    """

    length_scale: float | int = eqx.field(static=True)
    spectrum: np.ndarray

    def __init__(self, length_scale: float | int = 0.8):
        self.length_scale = _checks.real(
            "length_scale", length_scale, minimum=0.2, owner="PeriodicGRF"
        )
        self.spectrum = periodic_kernel_spectrum(self.length_scale)

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "1 n n"]:
        n = grid.shape[0]
        if grid.ndim != 2 or grid.shape != (n, n) or grid.points != "nodes" or n % 2:
            raise ValueError(
                "PeriodicGRF needs a square grid of nodes with an even size, e.g. "
                f"Grid((256, 256), points='nodes'); got {grid}."
            )
        spectrum = jnp.asarray(self.spectrum, _default_float())
        return periodic_grf_2d(spectrum, n, key=key)[None]


class BinaryBumps(AbstractInitialCondition):
    r"""PDEBench's Darcy permeability: $a = 1$ where $g > \bar g$, else $0.1$, with
    $g(x) = \sum_{i=1}^{5} \exp(-|x - m_i|^2 / s_i)$, $m_i \sim U$ over the unit
    square and $s_i \sim 0.5\,U(0, 1)$ (spec pdebench.md §3).

    The threshold $\bar g$ is the mean of $g$ over the sample's own grid [D];
    PDEBench took it over a batch of 200 samples, which `bumps` and `binarise` let a
    caller reproduce. One channel, 2-D.

    **Arguments:**

    - `n_bumps`: how many bumps.
    - `high`, `low`: the two permeability values.
    """

    n_bumps: int = eqx.field(static=True)
    high: float | int = eqx.field(static=True)
    low: float | int = eqx.field(static=True)

    def __init__(
        self, n_bumps: int = 5, high: float | int = 1.0, low: float | int = 0.1
    ):
        self.n_bumps = _checks.integer(
            "n_bumps", n_bumps, minimum=1, owner="BinaryBumps"
        )
        self.high = _checks.real("high", high, above=0.0, owner="BinaryBumps")
        self.low = _checks.real("low", low, above=0.0, owner="BinaryBumps")

    def bumps(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "X Y"]:
        """The smooth field $g$ before thresholding."""
        if grid.ndim != 2:
            raise ValueError(f"BinaryBumps is 2-D; got a grid of shape {grid.shape}.")
        dtype = _default_float()
        x, y = (jnp.asarray(axis, dtype) for axis in grid.axes)
        k_m, k_s = jax.random.split(key)
        m = jax.random.uniform(k_m, (self.n_bumps, 2), dtype)
        s = 0.5 * jax.random.uniform(k_s, (self.n_bumps,), dtype, minval=1e-12)
        dx2 = (x[None, :] - m[:, :1]) ** 2  # (bumps, X)
        dy2 = (y[None, :] - m[:, 1:]) ** 2
        d2 = dx2[:, :, None] + dy2[:, None, :]
        return jnp.sum(jnp.exp(-d2 / s[:, None, None]), axis=0)

    def binarise(
        self, g: Float[Array, "X Y"], threshold: Float[ArrayLike, ""]
    ) -> Float[Array, "1 X Y"]:
        """`high` where `g > threshold`, else `low`, as a `(1, X, Y)` field."""
        return jnp.where(g > threshold, self.high, self.low).astype(g.dtype)[None]

    def __call__(self, grid: Grid, *, key: PRNGKeyArray) -> Float[Array, "1 X Y"]:
        g = self.bumps(grid, key=key)
        return self.binarise(g, jnp.mean(g))
