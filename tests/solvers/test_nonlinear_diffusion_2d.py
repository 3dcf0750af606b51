"""`sciml.solvers.NonlinearDiffusion2D`: the Dirichlet flux form's second order and
mass balance, self-convergence of the sheet's problem in space, positivity, the
maximum principle and the decay of the mass, the float32 defaults, interpolation,
and jit / vmap / grad without recompiling.

The sheet's problem is solved once per grid (float64, the default tolerances,
$16^2$, $48^2$, $144^2$ cells, whose centres coincide every third cell, five save
times to $t = 1$): $48^2$ and $144^2$ by the jitted `solve` (`sheet`), $16^2$ as the
first member of the batched value and gradient (`batch`), which the float32 solve
on that grid also checks."""

import collections
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers
from sciml.solvers._nonlinear_diffusion import DEFAULT_TOLERANCES

C = 0.025
TIMES = np.linspace(0.0, 1.0, 5)
SIZES = (12, 36, 108)

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, u0, ts):
    _TRACES[solver.grid.shape, u0.dtype.name] += 1  # at trace time
    return solver.solve(u0, ts)


@eqx.filter_jit
def _rhs(solver, u):
    return solver.rhs(u)


def _grid(nx, ny=None):
    return solvers.Grid((nx, ny or nx), -1.0, 1.0)


@eqx.filter_jit
def _interpolate(solver, u, points):
    return solver.interpolate(u, points)


@pytest.fixture(scope="module")
def sheet(batch):
    """The sheet's initial condition solved on each of `SIZES` (float64)."""
    with jax.enable_x64(True):
        out = {SIZES[0]: batch.ys[0]}
        for n in SIZES[1:]:
            solver = solvers.NonlinearDiffusion2D(_grid(n))
            u0 = solver.initial_condition(solver.grid)
            ys, ok = _solve(solver, u0, jnp.asarray(TIMES))
            assert bool(ok) and ys.dtype == jnp.float64
            out[n] = np.asarray(ys)
        return out


def test_flux_form_is_second_order_with_the_dirichlet_boundary():
    """u = sqrt(cos(pi x/2) cos(pi y/2)) is 0 on the boundary of (-1, 1)^2 and
    c Delta(u^2) = -c (pi^2/2) u^2, with a nonzero boundary flux of u^2 (the case a
    zero-flux ghost gets wrong). Measured: max error order 2.00 (n = 16 .. 64)."""
    ns, errors = [16, 32, 64], []
    with jax.enable_x64(True):
        for n in ns:
            solver = solvers.NonlinearDiffusion2D(_grid(n, 2 * n), C)
            x, y = np.meshgrid(*solver.grid.axes, indexing="ij")
            w = np.cos(np.pi * x / 2) * np.cos(np.pi * y / 2)
            rate = np.asarray(_rhs(solver, jnp.sqrt(jnp.asarray(w))[None]))[0]
            errors.append(np.abs(rate + C * np.pi**2 / 2 * w).max())
    slope = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert 1.9 < slope < 2.1, errors


def test_mass_balance_of_the_right_hand_side(getkey):
    """The interior fluxes cancel: the mass changes only through the boundary faces,
    d/dt sum(u) hx hy = -2c (hy/hx sum_x-faces u_1^2 + hx/hy sum_y-faces u_1^2)."""
    with jax.enable_x64(True):
        grid = solvers.Grid((7, 5), (-1.0, 0.0), (1.0, 3.0))
        hx, hy = grid.spacing
        u = jnp.abs(references.normal(getkey(), (1, 7, 5), jnp.float64))
        rate = np.asarray(_rhs(solvers.NonlinearDiffusion2D(grid, 0.3), u))
        w = np.asarray(u[0]) ** 2
        faces = hy / hx * (w[0].sum() + w[-1].sum()) + hx / hy * (
            w[:, 0].sum() + w[:, -1].sum()
        )
        np.testing.assert_allclose(rate.sum() * hx * hy, -2 * 0.3 * faces, rtol=1e-12)


def test_self_convergence_in_space_is_second_order(sheet):
    """12^2, 36^2 and 108^2 compared at the 12^2 centres (every third centre of the
    next grid). Measured at t = 1: differences 8.17e-3 and 8.60e-4, order 2.05."""
    coarse, middle, fine = (sheet[n][-1, 0] for n in SIZES)
    d1 = np.abs(coarse - middle[1::3, 1::3]).max()
    d2 = np.abs(middle[1::3, 1::3] - fine[4::9, 4::9]).max()
    order = np.log(d1 / d2) / np.log(3)
    assert 1.9 < order < 2.2, (d1, d2, order)
    assert d2 < 1e-3


def test_positivity_maximum_principle_and_mass_decay(sheet):
    """u stays positive, its maximum does not grow, and the mass only decreases
    (through the boundary, where u = 0 and u^2 has a nonzero normal derivative)."""
    for n, ys in sheet.items():
        assert ys.min() > 0, n
        peaks = ys.max(axis=(1, 2, 3))
        assert (np.diff(peaks) < 0).all(), (n, peaks)
        mass = ys.sum(axis=(1, 2, 3)) * (2 / n) ** 2
        assert (np.diff(mass) < 0).all(), (n, mass)
        assert 0 < mass[0] - mass[-1] < 1e-3 * mass[0]  # a fraction of a percent


def test_float32_defaults_meet_their_tolerance(sheet):
    """The defaults by dtype: float32 takes rtol 1e-5 (a float64 tolerance would
    never be met), solves, and agrees with the float64 solve (the batch's first
    member, so this also checks that member). Measured: 8.2e-8."""
    solver = solvers.NonlinearDiffusion2D(_grid(SIZES[0]))
    assert solver.tolerances(jnp.float32) == DEFAULT_TOLERANCES["float32"]
    assert DEFAULT_TOLERANCES["float32"] == (1e-5, 1e-7)
    assert solver.tolerances(jnp.float64) == (1e-9, 1e-12)
    chosen = solvers.NonlinearDiffusion2D(solver.grid, rtol=1e-3)
    assert chosen.tolerances(jnp.float64) == (1e-3, 1e-12)
    u0 = solver.initial_condition(solver.grid, jnp.float32)
    ys, ok = _solve(solver, u0, jnp.asarray(TIMES, jnp.float32))
    assert bool(ok) and ys.dtype == jnp.float32
    assert np.abs(np.asarray(ys, np.float64) - sheet[SIZES[0]]).max() < 1e-6


def test_initial_condition_is_the_sheets():
    grid = _grid(4, 6)
    u0 = np.asarray(solvers.NonlinearDiffusion2D.initial_condition(grid, jnp.float32))
    assert u0.shape == (1, 4, 6) and u0.dtype == np.float32
    x, y = grid.axes[0][1], grid.axes[1][2]  # -0.25, -1/6
    expected = (
        0.25 * np.exp(-((x - 0.3) ** 2 + (y - 0.2) ** 2) / 0.1)
        + 0.4 * np.exp(-15 * ((x + 0.5) ** 2 + (y + 0.1) ** 2))
        + 0.3 * np.exp(-20 * (x**2 + (y + 0.5) ** 2))
    )
    np.testing.assert_allclose(u0[0, 1, 2], expected, rtol=1e-6)


def test_interpolate_is_second_order_and_zero_on_the_boundary():
    """Bilinear interpolation with the ghost -u: exact at the centres, 0 on the
    boundary, second order for f = cos(pi x/2) cos(pi y/2) at random points.
    Measured: max errors 8.6e-3, 1.9e-3 (ratio 4.6)."""
    points = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    edge = np.array([[-1.0, 0.3], [1.0, -0.2], [0.1, 1.0], [-1.0, -1.0]])
    errors = []
    with jax.enable_x64(True):
        for n in (16, 32):
            solver = solvers.NonlinearDiffusion2D(_grid(n))
            x, y = np.meshgrid(*solver.grid.axes, indexing="ij")
            f = np.cos(np.pi * x / 2) * np.cos(np.pi * y / 2)
            u = jnp.asarray(f)[None]
            centres = np.stack([x[3:5, 2], y[3:5, 2]], axis=-1)
            values = _interpolate(solver, u, np.concatenate([centres, edge, points]))
            values = np.asarray(values[0])
            np.testing.assert_allclose(values[:2], f[3:5, 2], rtol=1e-13)
            assert np.abs(values[2:6]).max() < 1e-15
            exact = np.cos(np.pi * points[:, 0] / 2) * np.cos(np.pi * points[:, 1] / 2)
            errors.append(np.abs(values[6:] - exact).max())
    assert 3.3 < errors[0] / errors[1] < 5.5, errors
    assert errors[1] < 2e-3


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="2-D Grid of cells"):
        solvers.NonlinearDiffusion2D(solvers.Grid(16))
    with pytest.raises(ValueError, match="2-D Grid of cells"):
        solvers.NonlinearDiffusion2D(solvers.Grid((16, 16), points="nodes"))
    with pytest.raises(ValueError, match="rtol must be > 0"):
        solvers.NonlinearDiffusion2D(_grid(8), rtol=0.0)
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        solvers.NonlinearDiffusion2D(_grid(8), max_steps=0)
    solver = solvers.NonlinearDiffusion2D(_grid(8))
    with pytest.raises(ValueError, match=r"field of shape \(1, 8, 8\)"):
        solver.solve(jnp.zeros((8, 8)), jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least two save times"):
        solver.solve(jnp.zeros((1, 8, 8)), jnp.array([0.0]))
    with pytest.raises(ValueError, match="must lie in the box"):
        solver.interpolate(jnp.zeros((1, 8, 8)), np.array([[0.0, 1.5]]))
    with pytest.raises(ValueError, match=r"points of shape \(P, 2\)"):
        solver.interpolate(jnp.zeros((1, 8, 8)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="needs a 2-D Grid"):
        solvers.NonlinearDiffusion2D.initial_condition(solvers.Grid(8))


# --- jit, vmap, grad, and no recompile for new parameters ---------------------
# On the coarsest grid of `sheet`, whose solve is the unbatched reference of the
# batch's first member (the gradient's point: the sheet's problem).

GRAD_GRID = _grid(SIZES[0])
WEIGHTS = np.linspace(1.0, 2.0, SIZES[0])  # along y: a weighted energy


def _solver(c):
    return solvers.NonlinearDiffusion2D(GRAD_GRID, c)


def _loss(args):
    solver, u0 = args
    ys, ok = solver.solve(u0, jnp.asarray(TIMES))
    return jnp.sum(WEIGHTS * ys[-1, 0] ** 2), (ys, ok)


_batched_value_and_grad = references.batched_value_and_grad(_loss)
H_C, H_U = 1e-6, 1e-6  # the difference steps


def _batch_args(cs):
    """Solvers built by `eqx.filter_vmap` over the constructor from five
    coefficients, with the initial fields: the sheet's u0, three times, then
    displaced along a direction `v` either way."""
    u0 = solvers.NonlinearDiffusion2D.initial_condition(GRAD_GRID)
    v = references.normal(jax.random.key(3), u0.shape, jnp.float64)
    u0s = jnp.stack([u0, u0, u0, u0 + H_U * v, u0 - H_U * v])
    return (eqx.filter_vmap(_solver)(cs), u0s), v


@pytest.fixture(scope="module")
def batch():
    """The batched value and gradient at the gradient's point (`c` = 0.025) and
    the points of central differences in `c` and in the field."""
    with jax.enable_x64(True):
        cs = jnp.array([C, C + H_C, C - H_C, C, C])
        (solver_batch, u0s), v = _batch_args(cs)
        assert solver_batch.coefficient.shape == (5,)
        (values, (ys, ok)), grads = _batched_value_and_grad((solver_batch, u0s))
        assert bool(ok.all())
        values, ys, v, grads = jax.tree.map(np.asarray, (values, ys, v, grads))
        return types.SimpleNamespace(
            u0s=np.asarray(u0s), v=v, values=values, ys=ys, grads=grads
        )


def test_vmap_over_fields_and_coefficients(batch):
    """Each member is its own solve: it starts from its own field, the first agrees
    with the float32 solve (test above), and the values of the difference
    quotients bracket the gradient's point."""
    np.testing.assert_array_equal(batch.ys[:, 0], batch.u0s)
    values = batch.values
    assert len(set(values.tolist())) == 5
    assert (values[1] - values[0]) * (values[0] - values[2]) > 0  # monotone in c
    assert (values[3] - values[0]) * (values[0] - values[4]) > 0


def test_grad_matches_central_differences(batch):
    """jax.grad of a weighted energy of the final state with respect to the
    coefficient and to the initial field, against central differences (float64)."""
    values, (grad_solver, grad_u0) = batch.values, batch.grads
    fd_c = (values[1] - values[2]) / (2 * H_C)
    np.testing.assert_allclose(grad_solver.coefficient[0], fd_c, rtol=1e-6)
    fd_u = (values[3] - values[4]) / (2 * H_U)
    np.testing.assert_allclose(np.sum(grad_u0[0] * batch.v), fd_u, rtol=1e-6)


def test_new_coefficients_do_not_recompile(batch, sheet):
    """The batched gradient is `assert_max_traces(max_traces=1)`: new coefficients
    reuse it, and the unbatched solve of `sheet` on 48^2 cells."""
    with jax.enable_x64(True):
        (values, (_, ok)), _ = _batched_value_and_grad(
            _batch_args(jnp.array([0.05, 0.04, 0.03, 0.02, 0.01]))[0]
        )
        assert bool(ok.all()) and np.isfinite(values).all()
        solver = solvers.NonlinearDiffusion2D(_grid(SIZES[1]), 0.05)
        traces = _TRACES.copy()
        _, ok = _solve(
            solver, solver.initial_condition(solver.grid), jnp.asarray(TIMES)
        )
    assert bool(ok) and _TRACES == traces
    assert _TRACES[solver.grid.shape, "float64"] == 1
