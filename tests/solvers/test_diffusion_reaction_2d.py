"""`sciml.solvers.DiffusionReaction2D`: the no-flux Laplacian's order and
conservation, the reaction ODE limit, time accuracy of the float32 default, the
right-hand side, and jit / vmap / grad without recompiling.

Every float64 Tsit5 solve here is one member of one batch (`batch`: 16 x 16 cells of
width 2/128, PDEBench's, rtol 1e-11, six save times), a single compiled
`eqx.filter_vmap` of a value-and-gradient: the uniform-state test, the float32
test's reference, the vmap and the gradient tests read their members from it."""

import collections
import types

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers
from sciml.solvers._diffusion_reaction_2d import neumann_laplacian

K = 5e-3
TIMES = np.linspace(0.0, 5.0, 6)
SHAPE = (16, 16)
GRID = solvers.Grid(SHAPE, -0.125, 0.125)  # dx = 2/128, as PDEBench's
RTOL, ATOL = 1e-11, 1e-13

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, uv0, ts):
    _TRACES[solver.grid.shape, solver.rtol, uv0.dtype.name] += 1  # at trace time
    return solver.solve(uv0, ts)


_laplacian = jax.jit(neumann_laplacian, static_argnums=(1, 2))


def cell_centres(n):
    return -1.0 + 2.0 * (np.arange(n) + 0.5) / n


def test_laplacian_is_second_order_and_conservative(getkey):
    """f = cos(pi (x+1)) cos(pi (y+1)/2) has zero normal derivative on the boundary
    of (-1, 1)^2 and Laplacian -(pi^2 + pi^2/4) f. Measured: max error order 1.99 (n = 16 .. 128)."""
    ns, errors = [16, 32, 64, 128], []
    with jax.enable_x64(True):
        for n in ns:
            grid = solvers.Grid((n, 2 * n), -1.0, 1.0)
            x, y = np.meshgrid(*grid.axes, indexing="ij")
            np.testing.assert_allclose(x[:, 0], cell_centres(n))
            f = np.cos(np.pi * (x + 1)) * np.cos(np.pi * (y + 1) / 2)
            lap = np.asarray(_laplacian(jnp.asarray(f), *grid.spacing))
            errors.append(np.abs(lap + (np.pi**2 + np.pi**2 / 4) * f).max())
        slope = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
        assert 1.95 < slope < 2.05, errors
        # zero flux through the boundary: the Laplacian of any field sums to zero
        u = jax.random.normal(getkey(), (7, 5), jnp.float64)
        assert abs(float(_laplacian(u, 0.3, 0.2).sum())) < 1e-10
        # and so diffusion alone (no reaction: the v equation with u = 0) conserves
        # the total of v exactly in the semi-discrete right-hand side
        solver = solvers.DiffusionReaction2D(solvers.Grid((7, 5)), 0.3, 0.7, 0.0)
        v = u
        rate = solver.rhs(jnp.stack([jnp.zeros((7, 5)), v]))[1] + v  # less -v
        assert abs(float(rate.sum())) < 1e-10


def _solver(du=1e-3, k=K):
    return solvers.DiffusionReaction2D(GRID, du, 5e-3, k, rtol=RTOL, atol=ATOL)


def _loss(args):
    solver, uv0 = args
    ys, ok = solver.solve(uv0, jnp.asarray(TIMES))
    weights = jnp.linspace(1.0, 2.0, SHAPE[1])  # along y
    return jnp.sum(weights * ys[-1] ** 2), (ys, ok)


_batched_value_and_grad = references.batched_value_and_grad(_loss)
DU, H_D, H_U = 2e-3, 1e-7, 1e-6  # the gradient's point and the difference steps
UNIFORM, RANDOM = 5, 6  # the members of the uniform-state and float32 tests


def _t32():
    return jnp.asarray(TIMES, jnp.float32)


def _random_field():
    """The float32 test's initial values, i.i.d. standard normal (float32)."""
    return references.normal(jax.random.key(7), (2, *SHAPE), jnp.float32)


@pytest.fixture(scope="module")
def batch():
    """Solvers built by `eqx.filter_vmap` over the constructor from several `du` and
    `k`, with a batch of initial fields: the gradient's point, the points of central
    differences in `du` and along a direction `v` of the field, a uniform state and
    the float32 test's field (both with PDEBench's parameters)."""
    with jax.enable_x64(True):
        key = jax.random.key(3)
        uv0 = 0.5 * references.normal(key, (2, *SHAPE), jnp.float64)
        v = references.normal(jax.random.fold_in(key, 1), uv0.shape, jnp.float64)
        uniform = jnp.stack([jnp.full(SHAPE, 0.8), jnp.full(SHAPE, -0.3)]).astype(float)
        rand = jnp.asarray(_random_field(), jnp.float64)
        dus = jnp.array([DU, DU + H_D, DU - H_D, DU, DU, 1e-3, 1e-3])
        ks = jnp.array([0.1] * 5 + [K, K])
        uv0s = jnp.stack([uv0, uv0, uv0, uv0 + H_U * v, uv0 - H_U * v, uniform, rand])
        solver_batch = eqx.filter_vmap(_solver)(dus, ks)
        assert solver_batch.du.shape == solver_batch.k.shape == (7,)
        (values, (ys, ok)), grads = _batched_value_and_grad((solver_batch, uv0s))
        assert bool(ok.all())
        values, ys, v, grads = jax.tree.map(np.asarray, (values, ys, v, grads))
        # numpy arrays: their arithmetic stays float64 outside `enable_x64`
        return types.SimpleNamespace(
            uv0s=np.asarray(uv0s), v=v, values=values, ys=ys, grads=grads
        )


def _reaction_ode(uv0):
    def ode(time, y, args):
        return jnp.stack([y[0] - y[0] ** 3 - K - y[1], y[0] - y[1]])

    return diffrax.diffeqsolve(
        diffrax.ODETerm(ode),
        diffrax.Dopri8(),
        0.0,
        5.0,
        1e-3,
        jnp.asarray(uv0),
        saveat=diffrax.SaveAt(ts=jnp.asarray(TIMES)),
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
    ).ys


def test_uniform_state_follows_the_reaction_ode(batch):
    """From a spatially uniform state the PDE is the ODE u' = u - u^3 - k - v,
    v' = u - v; compare with a float64 Dopri8 solve of that ODE at rtol 1e-12."""
    uv = batch.ys[UNIFORM]
    with jax.enable_x64(True):
        exact = np.asarray(_reaction_ode([0.8, -0.3]))
    assert uv.shape == (6, 2, *SHAPE)
    np.testing.assert_allclose(uv[:, :, 3, 2], exact, atol=1e-8)
    assert np.ptp(uv, axis=(2, 3)).max() < 1e-12  # it stays uniform


def test_float32_default_is_accurate_in_time(batch):
    """The default (float32, rtol 1e-6), unbatched, against float64 at rtol 1e-11
    (the batch's member) from the same initial values at PDEBench's resolution in
    space but a 16 x 16 grid: the diffusive stiffness is the same per cell width.
    Measured: max error 3.1e-7 (the solution reaches 3.4)."""
    assert GRID.spacing == (2 / 128, 2 / 128)
    fast, ok = _solve(solvers.DiffusionReaction2D(GRID), _random_field(), _t32())
    assert bool(ok) and fast.dtype == jnp.float32
    assert np.abs(np.asarray(fast) - batch.ys[RANDOM]).max() < 5e-6


def test_rhs_matches_the_equation():
    """The reaction terms at one cell of a uniform state: (u - u^3 - k - v, u - v)."""
    solver = solvers.DiffusionReaction2D(solvers.Grid((3, 3)), 1.0, 2.0, 0.1)
    uv = jnp.stack([jnp.full((3, 3), 0.5), jnp.full((3, 3), 0.2)])
    out = np.asarray(solver.rhs(uv))
    np.testing.assert_allclose(out[0], 0.5 - 0.125 - 0.1 - 0.2, rtol=1e-6)
    np.testing.assert_allclose(out[1], 0.3, rtol=1e-6)


# --- jit, vmap, grad, and no recompile for new parameters ---------------------


def test_vmap_over_fields_and_parameters(batch):
    """Each member of the batch is its own solve: it starts from its own field, the
    uniform and float32-test members agree with their independent references
    (above), and the members of the difference quotients bracket the gradient's
    point."""
    values, ys = batch.values, batch.ys
    assert ys.shape == (7, 6, 2, *SHAPE)
    np.testing.assert_array_equal(ys[:, 0], batch.uv0s)  # the first state is uv0
    assert len(set(values.tolist())) == 7
    assert (values[1] - values[0]) * (values[0] - values[2]) > 0  # monotone in du


def test_grad_matches_central_differences(batch):
    """jax.grad of a weighted energy of the final state with respect to `du` and to
    the initial fields, against central differences (float64) of the batch."""
    values, (grad_solver, grad_uv0) = batch.values, batch.grads
    fd_d = (values[1] - values[2]) / (2 * H_D)
    np.testing.assert_allclose(grad_solver.du[0], fd_d, rtol=1e-6)
    fd_u = (values[3] - values[4]) / (2 * H_U)
    np.testing.assert_allclose(np.sum(grad_uv0[0] * batch.v), fd_u, rtol=1e-6)


def test_new_parameters_do_not_recompile():
    """New `du`, `dv` and `k`: the unbatched (float32) solve does not trace again
    (the batch above is `assert_max_traces(max_traces=1)` as well)."""
    uv0 = _random_field()
    _solve(solvers.DiffusionReaction2D(GRID), uv0, _t32())  # compiled now or above
    traces = _TRACES.copy()
    _, ok = _solve(solvers.DiffusionReaction2D(GRID, 2e-3, 1e-2, 0.1), uv0, _t32())
    assert bool(ok)
    assert _TRACES == traces
    assert _TRACES[SHAPE, 1e-6, "float32"] == 1
