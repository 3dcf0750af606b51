r"""The 2-D Navier-Stokes (vorticity) hard constraint of PI-HC-MoE (Chalapathi et
al., ICLR 2024, spec hard-constraints.md §1-2): $w = w_0 + m(t)(\Phi -
\langle\Phi\rangle_x)c$ on a periodic $(t, x, y)$ grid, with the PDE rows $w_t +
\mathbf u\cdot\nabla w - \Delta w/Re$ at the sampled points."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import real
from ._differences import central_difference
from ._hard_constraint import AbstractConstraint, Affine, affine_values


def _spectral(f: Array) -> dict[str, Array]:
    r"""$\partial_x f$, $\partial_y f$, $\Delta f$ and the velocity $(\partial_y\psi,
    -\partial_x\psi)$ of $-\Delta\psi = f$ (mean-free $\psi$), on the unit torus
    sampled at the nodes $i/n$ along axes 1 and 2 of `f` (`(T, X, Y, ...)`), by real
    FFTs. First derivatives drop the Nyquist mode (it has no real derivative)."""
    nx, ny = f.shape[1], f.shape[2]
    extra = (1,) * (f.ndim - 3)
    nu_x = jnp.fft.fftfreq(nx, 1.0 / nx).reshape(1, nx, 1, *extra)
    nu_y = jnp.fft.rfftfreq(ny, 1.0 / ny).reshape(1, 1, -1, *extra)
    k2 = (2 * jnp.pi) ** 2 * (nu_x**2 + nu_y**2)
    ikx = jnp.where(jnp.abs(nu_x) == nx / 2, 0.0, 2j * jnp.pi * nu_x)
    iky = jnp.where(nu_y == ny / 2, 0.0, 2j * jnp.pi * nu_y)
    fh = jnp.fft.rfftn(f, axes=(1, 2))
    psi = jnp.where(k2 == 0, 0.0, fh / jnp.where(k2 == 0, 1.0, k2))

    def back(g):
        return jnp.fft.irfftn(g, s=(nx, ny), axes=(1, 2)).astype(f.dtype)

    return {
        "w_x": back(ikx * fh),
        "w_y": back(iky * fh),
        "lap": back(-k2 * fh),
        "vel_u": back(iky * psi),
        "vel_v": back(-ikx * psi),
    }


class VorticityConstraint(AbstractConstraint):
    r"""$w_t + \mathbf u\cdot\nabla w = \Delta w/Re$ on the unit torus, for the ansatz
    $w(t, x) = w_0(x) + m(t)\,(\Phi(t, x) - \langle\Phi(t, \cdot)\rangle_x)\,c$ with
    the mollifier $m(t) = 0.005\,t/T$ (the official code's): the initial
    condition holds exactly and the mean vorticity is conserved, so the residual
    is the PDE rows and the ridge $\lambda c$ only. The velocity
    $\mathbf u = (\partial_y\psi, -\partial_x\psi)$ with $-\Delta\psi = w$ is linear
    in $c$, so $\mathbf u\cdot\nabla w$ is quadratic: a nonlinear least-squares
    problem.

    Derivatives: every spatial one spectrally (real FFTs on the periodic grid,
    consistent with the velocity; the official code's one-sided `gradient` on a
    periodic field is a quirk we do not copy); $w_t$ by second-order finite
    differences (central inside, second-order one-sided at the two ends). The
    residual is $r$ itself, not $r^2$ (the code's other quirk).

    **Arguments:**

    - `re`: the Reynolds number $1/\nu$ ($10^4$).
    - `t_end`: $T$, the time of the last frame ($5$); the frames are
        $t_k = kT/(n_t - 1)$.
    - `mollifier`: the factor $0.005$ of $m(t)$.
    - `ridge`: $\lambda$ ($10^{-4}$).

    `data` is $w_0$ on the `(n_x, n_y)` nodes $i/n$.
    """

    re: float = eqx.field(static=True)
    t_end: float = eqx.field(static=True)
    mollifier: float = eqx.field(static=True)
    ridge: float = eqx.field(static=True)

    def __init__(
        self,
        re: float = 1e4,
        t_end: float = 5.0,
        mollifier: float = 0.005,
        ridge: float = 1e-4,
    ):
        owner = "VorticityConstraint"
        self.re = real("re", re, above=0.0, owner=owner)
        self.t_end = real("t_end", t_end, above=0.0, owner=owner)
        self.mollifier = real("mollifier", mollifier, above=0.0, owner=owner)
        self.ridge = real("ridge", ridge, minimum=0.0, owner=owner)

    def ansatz(self, basis: Float[Array, "T X Y N"], data: Float[Array, "X Y"]):
        r"""$w_0 + m(t)(\Phi - \langle\Phi\rangle_x)c$ as `(offset, matrix)`."""
        nt = basis.shape[0]
        t = jnp.linspace(0.0, self.t_end, nt, dtype=basis.dtype)
        m = (self.mollifier * t / self.t_end).reshape(nt, 1, 1, 1)
        matrix = m * (basis - jnp.mean(basis, axis=(1, 2), keepdims=True))
        w0 = jnp.broadcast_to(jnp.asarray(data, basis.dtype), basis.shape[:-1])
        return w0, matrix

    def fields(self, field: Affine, data: Float[Array, "X Y"]) -> dict[str, Affine]:
        """`u` (the vorticity), `w_t`, `w_x`, `w_y`, `lap` and the velocity `vel_u`,
        `vel_v` of the affine field on the `(n_t, n_x, n_y)` grid."""
        off, mat = field
        dt = self.t_end / (off.shape[0] - 1)
        offsets, matrices = _spectral(off), _spectral(mat)
        out = {name: (offsets[name], matrices[name]) for name in offsets}
        out["u"] = field
        out["w_t"] = tuple(central_difference(f, dt, 0, edge_order=2) for f in field)
        return out

    def terms(self, c, rows, shared, data, block):
        r"""The `pde` block: $w_t + \mathbf u\cdot\nabla w - \Delta w/Re$."""

        def value(name):
            return affine_values(rows[name], c)

        advection = value("vel_u") * value("w_x") + value("vel_v") * value("w_y")
        return {"pde": value("w_t") + advection - value("lap") / self.re}
