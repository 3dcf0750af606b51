r"""1-D diffusion-reaction with a source, $s_t = D s_{xx} + k s^2 + f(x)$ on $(a, b)$
with $s = 0$ at both ends: the PI-DeepONet benchmark (Wang, Wang & Perdikaris,
Sci. Adv. 7, 2021; spec deeponet.md §4), with $D = k = 0.01$ on $[0, 1]^2$, zero
initial state and $f$ a Gaussian random function.

The method of lines [D]:

- **Space**: second-order central differences at the nodes $x_j = a + jh$,
  $h = (b - a)/N$ (`Grid(N, a, b, points="nodes")`: the field holds $x_0, \dots,
  x_{N-1}$; $x_0 = a$ carries the boundary value 0, and $x_N = b$, also 0, is not
  stored). The unknowns are the $N - 1$ interior values $v$, and the semi-discrete
  system is $v' = D A v + k v^2 + f$ with $A$ the Dirichlet second-difference
  matrix.
- **Basis**: $A$ is diagonal in the discrete sine transform (DST-I),
  $\hat v_n = \sum_{j=1}^{N-1} v_j \sin(\pi n j/N)$, with eigenvalues
  $\mu_n = -\tfrac{4}{h^2}\sin^2\tfrac{\pi n}{2N}$, $n = 1 .. N-1$; the transform is
  one real FFT of the odd extension (length $2N$), its inverse the same times $2/N$.
- **Time**: ETDRK4 (Cox and Matthews, J. Comput. Phys. 176, 2002) on $\hat v' =
  D\mu\,\hat v + \widehat{N}(v)$, $N(v) = k v^2 + f$, with Kassam and Trefethen's
  contour means for the coefficients (the same as `AllenCahn1D`'s). The stiff
  diffusion is integrated exactly, so the step is limited by accuracy only; with
  $k = 0$ the scheme is exact in time (ETDRK4 integrates a constant forcing
  exactly), and its solution is the exact solution of the semi-discrete system.

The expected orders, measured in the tests: 2 in space (against the exact solution
of the heat equation with a source, and by self-convergence with a random source
and $k \ne 0$), 4 in time. The source and the boundary values disagree at the
corners ($s_t(a, 0) = f(a) \ne 0$ but $s(a, t) = 0$): the solution is continuous
there with a layer of width $\sqrt{Dt}$, which costs neither order at the save
times (measured).
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _checks
from ._base import AbstractStepper, as_real, frames
from ._etdrk import etdrk4_coefficients, etdrk4_step
from ._grid import Grid


def dst1(v: Float[Array, "... M"]) -> Float[Array, "... M"]:
    r"""The type-I discrete sine transform $\hat v_n = \sum_{j=1}^{M} v_j \sin(\pi n
    j/(M+1))$, $n = 1 .. M$, over the last axis, by one real FFT of the odd extension
    of length $2(M+1)$. Its inverse is $\tfrac{2}{M+1}$ times itself."""
    n = v.shape[-1] + 1
    zero = jnp.zeros((*v.shape[:-1], 1), v.dtype)
    odd = jnp.concatenate([zero, v, zero, -v[..., ::-1]], axis=-1)
    return -jnp.imag(jnp.fft.rfft(odd, axis=-1)[..., 1:n]) / 2


def _check_grid(grid, owner: str) -> None:
    if (
        not isinstance(grid, Grid)
        or grid.ndim != 1
        or grid.points != "nodes"
        or grid.shape[0] < 3
    ):
        raise ValueError(
            f"{owner} needs a 1-D Grid of nodes, at least 3 of them (the first is the "
            "boundary x = a, the end x = b is not stored), e.g. "
            f'Grid(1980, 0.0, 1.0, points="nodes"); got {grid!r}.'
        )


class SourceDiffusionReaction1D(AbstractStepper):
    r"""One ETDRK4 step of the finite-difference semi-discretisation of
    $s_t = D s_{xx} + k s^2 + f(x)$ with $s = 0$ at both ends (module docstring).

    Fields are `(C, N)` on the grid's nodes $x_0 = a, \dots, x_{N-1}$; the boundary
    entry $x_0$ is returned as 0 whatever it held, and $s(b) = 0$ is not stored.
    `stepper.trajectory(u0, n_frames, substeps)` computes the ETDRK4 coefficients
    once and steps in the sine basis. `dt`, `d`, `k` and the source $f$ are array
    leaves: one compilation per grid, `eqx.filter_vmap` over steppers built from a
    batch of sources, gradients with respect to all of them (the DeepONet input
    $f$ included).

    PI-DeepONet's problem: `SourceDiffusionReaction1D(Grid(1980, points="nodes"),
    dt, f, 0.01, 0.01)` in float64, from $s = 0$, saved every 20th node (the 100
    points $i/99$ with the end $x = 1$) at $t_k = k/99$.

    **Arguments:**

    - `grid`: a 1-D `Grid` of nodes, $N \ge 3$.
    - `dt`: the step $h > 0$.
    - `source`: $f$ at the nodes, `(1, N)` or `(C, N)` (its entry at $x_0$ is not
        used).
    - `d`: the diffusivity $D \ge 0$.
    - `k`: the reaction rate $k$.
    - `contour_points`: the points of the contour means (static).

    References: Wang, Wang and Perdikaris, "Learning the solution operator of
    parametric partial differential equations with physics-informed DeepONets",
    Sci. Adv. 7 (2021); Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005).
    """

    grid: Grid
    dt: Float[Array, ""]
    source: Float[Array, "C N"]
    d: Float[Array, ""]
    k: Float[Array, ""]
    contour_points: int = eqx.field(static=True)

    def __init__(
        self,
        grid: Grid,
        dt: Float[ArrayLike, ""],
        source: Float[ArrayLike, "C N"],
        d: Float[ArrayLike, ""] = 0.01,
        k: Float[ArrayLike, ""] = 0.01,
        *,
        contour_points: int = 32,
    ):
        owner = "SourceDiffusionReaction1D"
        _check_grid(grid, owner)
        if _checks.is_real(dt):
            _checks.real("dt", dt, above=0.0, owner=owner)
        if _checks.is_real(d):
            _checks.real("d", d, minimum=0.0, owner=owner)
        source = as_real(source)
        grid.check_field(source, f"{owner} (source)")
        self.grid = grid
        self.dt = as_real(dt)
        self.source = source
        self.d = as_real(d)
        self.k = as_real(k)
        self.contour_points = _checks.integer(
            "contour_points", contour_points, minimum=4, owner=owner
        )

    def eigenvalues(self, dtype=None) -> Float[Array, " M"]:
        r"""$\mu_n = -\tfrac{4}{h^2}\sin^2\tfrac{\pi n}{2N}$, $n = 1 .. N-1$: the
        eigenvalues of the Dirichlet second-difference matrix."""
        n = self.grid.shape[0]
        h = self.grid.spacing[0]
        mu = -4.0 / h**2 * np.sin(np.pi * np.arange(1, n) / (2 * n)) ** 2
        return jnp.asarray(mu, dtype=dtype or jnp.result_type(float))

    def rhs(self, u: Float[Array, "C N"]) -> Float[Array, "C N"]:
        r"""The semi-discrete right-hand side $D\,\delta^2 s/h^2 + k s^2 + f$ at the
        nodes, with $s = 0$ at both ends (0 at $x_0$)."""
        self.grid.check_field(u, "SourceDiffusionReaction1D.rhs")
        h = self.grid.spacing[0]
        zero = jnp.zeros_like(u[..., :1])
        v = u[..., 1:]
        padded = jnp.concatenate([zero, v, zero], axis=-1)
        lap = (padded[..., :-2] - 2.0 * v + padded[..., 2:]) / h**2
        rate = self.d * lap + self.k * v**2 + self.source[..., 1:].astype(u.dtype)
        return jnp.concatenate([zero, rate], axis=-1)

    def _coefficients(self, dtype):
        h = self.dt.astype(dtype)
        hl = h * (self.d * self.eigenvalues(dtype)).astype(dtype)
        return etdrk4_coefficients(hl, h, self.contour_points)

    def _inverse(self, w: Array) -> Array:
        return (2.0 / self.grid.shape[0]) * dst1(w)

    def _nonlinear(self, w: Array, forcing: Array) -> Array:
        v = self._inverse(w)
        return self.k * dst1(v**2) + forcing

    def _step(self, w: Array, forcing: Array, coefficients) -> Array:
        return etdrk4_step(w, coefficients, lambda z: self._nonlinear(z, forcing))

    def _check_channels(self, u: Array) -> None:
        if self.source.shape[0] not in (1, u.shape[0]):
            raise ValueError(
                f"SourceDiffusionReaction1D: the source has {self.source.shape[0]} "
                f"channels and the field {u.shape[0]}; pass a source of one channel "
                "or of the field's."
            )

    def _with_boundary(self, w: Array) -> Array:
        v = self._inverse(w)
        return jnp.concatenate([jnp.zeros_like(v[..., :1]), v], axis=-1)

    def __call__(self, u: Float[Array, "C N"]) -> Float[Array, "C N"]:
        """One ETDRK4 step of size `dt` from the field `u`, shape `(C, N)`."""
        self.grid.check_field(u, "SourceDiffusionReaction1D")
        self._check_channels(u)
        forcing = dst1(self.source[..., 1:].astype(u.dtype))
        w = self._step(dst1(u[..., 1:]), forcing, self._coefficients(u.dtype))
        return self._with_boundary(w)

    def trajectory(
        self, u0: Float[Array, "C N"], n_frames: int, substeps: int = 1
    ) -> Float[Array, "T C N"]:
        """The frames $s(k\\,m\\,\\Delta t)$, $k = 0 .. n - 1$, as
        `AbstractStepper.trajectory`, with the coefficients computed once and the
        steps taken in the sine basis (equal to repeated `stepper(u)` to round-off).

        **Arguments:**

        - `u0`: the initial field `(C, N)`.
        - `n_frames`: frames returned, including `u0` (static).
        - `substeps`: steps between two frames (static).

        **Returns:**

        The frames, shape `(n_frames, C, N)`; frame 0 is `u0` as given.
        """
        self.grid.check_field(u0, "SourceDiffusionReaction1D")
        self._check_channels(u0)
        coefficients = self._coefficients(u0.dtype)
        forcing = dst1(self.source[..., 1:].astype(u0.dtype))
        return frames(
            lambda w: self._step(w, forcing, coefficients),
            u0,
            n_frames,
            substeps,
            forward=lambda u: dst1(u[..., 1:]),
            backward=self._with_boundary,
        )
