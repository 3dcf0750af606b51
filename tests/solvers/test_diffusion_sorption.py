"""`sciml.solvers.DiffusionSorption`: the linear limit against the exact series at
second order, the retardation factor, and jit / vmap / grad without recompiling.

Every compilation of the Kvaerno5 solve costs seconds, so the fast tests compile
two: the unbatched `_solve` on 32 cells, and one batched value-and-gradient on 64
cells (`batch`), whose members serve the order test (the linear limit), the vmap
test and the gradient test together."""

import collections
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references
from scipy.optimize import brentq

from sciml import solvers

D = 5e-4
TIMES = np.array([0.0, 50.0, 500.0])
RTOL = 1e-8  # the order test's tolerance, shared by the 32-cell solves below

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, u0, ts):
    _TRACES[solver.grid.shape, solver.rtol, solver.boundary] += 1  # at trace time
    return solver.solve(u0, ts)


def _series(x, t, u0, terms=600):
    """Exact solution of u_t = D u_xx, u(0) = 1, u(1) = -D u_x(1), u(x, 0) = u0.

    u = u_s + sum_n c_n sin(mu_n x) exp(-D mu_n^2 t), u_s = 1 - x/(1 + D), with
    tan(mu) = -D mu (mu_n in ((n - 1/2) pi, n pi)).
    """
    mu = np.array(
        [
            brentq(
                lambda m: np.sin(m) + D * m * np.cos(m),
                (n - 0.5) * np.pi + 1e-12,
                n * np.pi + 1e-9,
            )
            for n in range(1, terms + 1)
        ]
    )
    s = 1 / (1 + D)
    int_sin = (1 - np.cos(mu)) / mu
    int_x_sin = (np.sin(mu) - mu * np.cos(mu)) / mu**2
    norm = 0.5 - np.sin(2 * mu) / (4 * mu)
    c = ((u0 - 1) * int_sin + s * int_x_sin) / norm
    modes = np.sin(mu[:, None] * x[None, :]) * np.exp(-D * mu[:, None] ** 2 * t)
    return 1 - s * x + c @ modes


U0 = 0.1  # the constant initial value of the linear-limit solves


def _ts():
    return jnp.asarray(TIMES)


def _linear_solver(nx, boundary="face", rtol=RTOL):
    """k_f = 0 gives R = 1: plain diffusion with the Dirichlet and Robin ends."""
    grid = solvers.Grid(nx)
    return solvers.DiffusionSorption(
        grid, d=D, k_f=0.0, boundary=boundary, rtol=rtol, atol=rtol * 1e-2
    )


def _series_error(u):
    """The largest error of a linear-limit solution `(3, 1, X)` at t = 50, 500."""
    x = solvers.Grid(u.shape[-1]).axes[0]
    u = np.asarray(u)
    return max(np.abs(u[k, 0] - _series(x, TIMES[k], U0)).max() for k in (1, 2))


def _linear_errors(sizes, boundary, rtol):
    errors = []
    with jax.enable_x64(True):
        for nx in sizes:
            solver = _linear_solver(nx, boundary, rtol)
            u, ok = _solve(solver, jnp.full((1, nx), U0, jnp.float64), _ts())
            assert bool(ok)
            assert u.shape == (3, 1, nx) and u.dtype == jnp.float64
            errors.append(_series_error(u))
    return np.array(errors)


# --- one batch on 64 cells: jit, vmap over fields and parameters, grad ---------

NX = 64


def _solver(d, k_f):
    grid = solvers.Grid(NX)
    return solvers.DiffusionSorption(grid, d=d, k_f=k_f, rtol=RTOL, atol=RTOL * 1e-2)


def _loss(args):
    solver, u0 = args
    ys, ok = solver.solve(u0, _ts())
    weights = jnp.linspace(1.0, 2.0, NX)
    return jnp.sum(weights * ys[-1, 0] ** 2), (ys, ok)


_batched_value_and_grad = references.batched_value_and_grad(_loss)
D0, K_F, H_D, H_U = 2e-3, 3.5e-4, 2e-6, 1e-5  # the gradient's point and steps


@pytest.fixture(scope="module")
def batch():
    """Solvers built by `eqx.filter_vmap` over the constructor from several `d` and
    `k_f`, with a batch of initial fields, in one compiled call: the gradient's
    point, the points of central differences in `d` and along a direction `v` of
    the field, and the linear limit (`d` = 5e-4, `k_f` = 0, `u0` = 0.1)."""
    with jax.enable_x64(True):
        x = jnp.asarray(solvers.Grid(NX).axes[0])
        u0 = (0.1 + 0.05 * jnp.cos(jnp.pi * x))[None]
        v = jax.random.normal(jax.random.key(0), u0.shape, jnp.float64)
        ds = jnp.array([D0, D0 + H_D, D0 - H_D, D0, D0, D])
        k_fs = jnp.array([K_F] * 5 + [0.0])
        u0s = jnp.stack([u0, u0, u0, u0 + H_U * v, u0 - H_U * v, jnp.full_like(u0, U0)])
        solver_batch = eqx.filter_vmap(_solver)(ds, k_fs)
        assert solver_batch.d.shape == solver_batch.k_f.shape == (6,)
        (values, (ys, ok)), grads = _batched_value_and_grad((solver_batch, u0s))
        assert bool(ok.all())
        values, ys, v, grads = jax.tree.map(np.asarray, (values, ys, v, grads))
        # numpy arrays: their arithmetic stays float64 outside `enable_x64`
        return types.SimpleNamespace(
            u0s=np.asarray(u0s), v=v, values=values, ys=ys, grads=grads
        )


def test_linear_limit_matches_exact_series_at_second_order(batch):
    """32 cells unbatched (`_solve`), 64 cells from the batch: two grids, each a
    Kvaerno5 compilation; the slow test below measures four."""
    with jax.enable_x64(True):
        u, ok = _solve(_linear_solver(32), jnp.full((1, 32), U0, jnp.float64), _ts())
        assert bool(ok)
    errors = np.array([_series_error(u), _series_error(batch.ys[5])])
    order = np.log2(errors[0] / errors[1])
    # measured: errors (4.65e-3 at 16) 1.15e-3, 2.86e-4; order 2.01 (boundaries included)
    assert order > 1.9, errors
    assert errors[-1] < 4e-4


@pytest.mark.slow
def test_linear_limit_fine_grids_and_pdebench_boundary():
    sizes = [32, 64, 128, 256]
    errors = _linear_errors(sizes, "face", 1e-10)
    orders = np.log2(errors[:-1] / errors[1:])
    assert (orders > 1.95).all(), (errors, orders)  # measured 2.006, 2.002, 2.000
    errors = _linear_errors(sizes, "pdebench", 1e-10)
    orders = np.log2(errors[:-1] / errors[1:])
    assert (np.abs(orders - 1) < 0.05).all(), (errors, orders)  # measured 0.996-1.000


def test_retardation_clamps_small_values():
    solver = solvers.DiffusionSorption(
        solvers.Grid(4), phi=0.29, rho_s=2880.0, k_f=3.5e-4, n_f=0.874
    )
    r = np.asarray(solver.retardation(jnp.array([0.0, 1e-9, 1e-6, 1.0])))
    assert r[0] == r[1] == r[2]  # clamped at 1e-6
    np.testing.assert_allclose(r[3], 1 + 0.71 / 0.29 * 2880 * 3.5e-4 * 0.874)
    # no sorption (k_f = 0): R = 1 and the right-hand side is plain diffusion
    plain = solvers.DiffusionSorption(solvers.Grid(4), k_f=0.0)
    np.testing.assert_array_equal(plain.retardation(jnp.array([0.0, 0.5])), 1.0)


def test_vmap_over_fields_and_parameters(batch):
    """Each member of the batch is its own solve: it starts from its own field, the
    linear-limit member is the exact series to the discretisation error, and the
    members of the difference quotients bracket the gradient's point."""
    values, ys = batch.values, batch.ys
    assert ys.shape == (6, 3, 1, NX)
    np.testing.assert_array_equal(ys[:, 0], batch.u0s)  # the first saved state is u0
    assert _series_error(ys[5]) < 4e-4
    assert len(set(values.tolist())) == 6
    assert values[1] > values[0] > values[2]  # the loss grows with d here


def test_grad_matches_central_differences(batch):
    """jax.grad of a weighted energy of the final state with respect to `d` and to
    the initial field, against central differences (float64) of the batch."""
    values, (grad_solver, grad_u0) = batch.values, batch.grads
    fd_d = (values[1] - values[2]) / (2 * H_D)
    np.testing.assert_allclose(grad_solver.d[0], fd_d, rtol=1e-5)
    fd_u = (values[3] - values[4]) / (2 * H_U)
    np.testing.assert_allclose(np.sum(grad_u0[0] * batch.v), fd_u, rtol=1e-5)


def test_new_parameters_do_not_recompile():
    """New `d` and `k_f`: the unbatched solve does not trace again (the batch above
    is `assert_max_traces(max_traces=1)` as well)."""
    with jax.enable_x64(True):
        start = jnp.full((1, 32), U0, jnp.float64)
        _solve(_linear_solver(32), start, _ts())  # compiled now, or by the order test
        traces = _TRACES.copy()
        grid = solvers.Grid(32)
        for d, k_f in ((1e-3, 1e-4), (5e-3, 3.5e-4)):
            solver = solvers.DiffusionSorption(
                grid, d=d, k_f=k_f, rtol=RTOL, atol=RTOL * 1e-2
            )
            _, ok = _solve(solver, start, _ts())
            assert bool(ok)
        assert _TRACES == traces
        assert _TRACES[(32,), RTOL, "face"] == 1


def test_float32_takes_tolerances_it_can_meet():
    """JAX's default float32 cannot meet float64's atol of 1e-9 (the solve failed
    with inf before); by default it takes rtol 1e-5, atol 1e-7 and lands within
    1e-5 of the float64 solve of PDEBench's sorbing case."""
    solver = solvers.DiffusionSorption(solvers.Grid(32))
    u32, ok = _solve(solver, jnp.full((1, 32), U0, jnp.float32), _ts().astype("f4"))
    assert bool(ok) and u32.dtype == jnp.float32 and np.isfinite(u32).all()
    with jax.enable_x64(True):
        u64, ok64 = _solve(solver, jnp.full((1, 32), U0, jnp.float64), _ts())
        assert bool(ok64)
        np.testing.assert_allclose(np.asarray(u32), np.asarray(u64), atol=1e-5)
