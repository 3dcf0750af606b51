"""`sciml.solvers.NavierStokes2D`: Taylor-Green decay and second order in time,
conservation of the mean vorticity, the nonlinear temporal order, the initial field
(`PeriodicGRF`), and jit / vmap / grad.

The order tests share one compiled `solve` (32 x 32 nodes, two save times; `nu` and
`dt` are array leaves, so every viscosity and step reuses it) and one compiled
`_steps`, which takes `n` steps of `stepper(w)`: `solve` equals `n` steps of `dt`
when the Courant limit does not bind, which is how the tests know the sub-step."""

import collections
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references
from scipy.special import ive

from sciml import solvers

N = 32
GRID = solvers.Grid((N, N), points="nodes")

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, w0, ts):
    _TRACES[solver.grid.shape, w0.dtype.name, ts.shape] += 1  # at trace time
    return solver.solve(w0, ts)


@eqx.filter_jit
def _draw(family, grid, key):
    return family(grid, key=key)  # compiled: cheaper than its many eager ops


@eqx.filter_jit
def _steps(stepper, w, n):
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), w)


def _run(w0, nu, t_end, steps):
    """`solve` to `t_end` with `dt = t_end / steps`; checks it took `steps` steps of
    `dt` (the Courant limit does not bind) against the stepper itself."""
    solver = solvers.NavierStokes2D(GRID, nu, t_end / steps)
    ys, ok = _solve(solver, w0, jnp.array([0.0, t_end]))
    assert bool(ok) and ys.shape == (2, 1, N, N)
    stepped = _steps(solver, w0, jnp.asarray(steps))  # traced: one compile
    np.testing.assert_allclose(ys[-1], stepped, rtol=0, atol=1e-12)
    return ys[-1, 0]


def test_taylor_green_decay_rate_and_second_order():
    # w = sin(kx) sin(ky) + c is a steady Euler flow (u.grad w = 0) and decays like
    # exp(-2 nu k^2 t); the constant c (mean vorticity) must stay.
    k, nu, t_end = 4 * np.pi, 1e-2, 2.0
    x, y = np.meshgrid(*GRID.axes, indexing="ij")
    w0 = np.sin(k * x) * np.sin(k * y) + 0.3
    exact = np.exp(-2 * nu * k**2 * t_end) * np.sin(k * x) * np.sin(k * y) + 0.3
    errors = []
    with jax.enable_x64(True):
        for steps in (8, 16, 32):
            w = _run(jnp.asarray(w0)[None], nu, t_end, steps)
            errors.append(np.abs(np.asarray(w) - exact).max())
            assert abs(float(w.mean()) - 0.3) < 1e-14
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured: errors 5.5e-4, 1.5e-4, 3.7e-5; orders 1.92, 1.98 (Crank-Nicolson)
    assert (orders > 1.85).all(), (errors, orders)
    assert errors[-1] < 5e-5


def test_nonlinear_temporal_order_and_mean_conservation():
    nu = 1e-3
    solutions = []
    with jax.enable_x64(True):
        w0 = 0.3 * _draw(solvers.PeriodicGRF(0.8), GRID, jax.random.key(1)) + 0.1
        assert w0.dtype == jnp.float64
        for steps in (16, 32, 64):
            w = _run(w0, nu, 1.0, steps)  # the CFL limit does not bind here
            solutions.append(np.asarray(w))
            # mean vorticity conserved to round-off
            assert abs(float(w.mean()) - float(w0.mean())) < 1e-13
    d1 = np.abs(solutions[0] - solutions[1]).max()
    d2 = np.abs(solutions[1] - solutions[2]).max()
    # measured: d1 = 7.7e-5, d2 = 1.9e-5, order 1.995 (Heun + Crank-Nicolson)
    assert np.log2(d1 / d2) > 1.8, (d1, d2)
    # every viscosity and step above reused one compiled solve
    assert _TRACES[(N, N), "float64", (2,)] == 1


def test_initial_field_is_resolution_independent_and_normalised():
    family = solvers.PeriodicGRF(0.8)
    with jax.enable_x64(True):
        coarse = np.asarray(_draw(family, GRID, jax.random.key(7)))[0]
        fine_grid = solvers.Grid((64, 64), points="nodes")
        fine = np.asarray(_draw(family, fine_grid, jax.random.key(7)))[0]
    np.testing.assert_allclose(fine[::2, ::2], coarse, atol=1e-12)
    assert abs(coarse.mean()) < 1e-12 and abs(coarse.std() - 1) < 1e-12
    assert abs(fine.std() - 1) < 1e-12


def test_spectrum_matches_bessel_series():
    # exp(-(1 - cos 2 pi s)/l^2) = e^{-1/l^2} sum_k I_k(1/l^2) e^{2 pi i k s}
    spectrum = solvers.PeriodicGRF(0.8).spectrum
    np.testing.assert_allclose(spectrum[:6], ive(np.arange(6), 1 / 0.64), rtol=1e-10)


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="grid of nodes on the unit torus"):
        solvers.NavierStokes2D(solvers.Grid((32, 32)), 1e-3)  # cells
    with pytest.raises(ValueError, match="even size"):
        solvers.NavierStokes2D(solvers.Grid((33, 33), points="nodes"), 1e-3)
    with pytest.raises(ValueError, match="cfl must be <= 0.5 and > 0"):
        solvers.NavierStokes2D(GRID, 1e-3, cfl=0.9)
    solver = solvers.NavierStokes2D(GRID, 1e-3)
    with pytest.raises(ValueError, match="equispaced"):
        solver.solve(jnp.zeros((1, N, N)), np.array([0.0, 0.1, 0.3]))
    with pytest.raises(ValueError, match=r"field of shape \(1, 32, 32\)"):
        solver(jnp.zeros((N, N)))


# --- jit, vmap, grad ----------------------------------------------------------
# On the order tests' grid, so that `_steps` and `_solve` (compiled there) are the
# unbatched references: `trajectory(w0, 3, 2)` ends after four steps.

DT = 0.025
WEIGHTS = 1.0 + GRID.axes[0][:, None]  # a weighted energy, so that w0 matters


def _loss(args):
    stepper, w0 = args
    frames = stepper.trajectory(w0, 3, 2)
    return jnp.sum(WEIGHTS * frames[-1, 0] ** 2), frames


_batched_value_and_grad = references.batched_value_and_grad(_loss)
NU, H = 1e-2, 1e-6  # the gradient's point and the difference step


def _stepper(nu):
    return solvers.NavierStokes2D(GRID, nu, DT)


@pytest.fixture(scope="module")
def batch():
    """Steppers built from several `nu` by `eqx.filter_vmap` over the constructor,
    with a batch of initial fields: the gradient's point, then the points of
    central differences in `nu` and along a direction `v` of the field."""
    with jax.enable_x64(True):
        w0 = _draw(solvers.PeriodicGRF(0.8), GRID, jax.random.key(1))
        v = jax.random.normal(jax.random.key(2), w0.shape, jnp.float64)
        nus = jnp.array([NU, NU + H, NU - H, NU, NU])
        w0s = jnp.stack([w0, w0, w0, w0 + H * v, w0 - H * v])
        stepper_batch = eqx.filter_vmap(_stepper)(nus)
        assert stepper_batch.nu.shape == stepper_batch.dt.shape == (5,)
        (values, frames), grads = _batched_value_and_grad((stepper_batch, w0s))
        assert frames.shape == (5, 3, 1, N, N)
        values, frames, v, grads = jax.tree.map(np.asarray, (values, frames, v, grads))
        # numpy arrays: their arithmetic stays float64 outside `enable_x64`
        return types.SimpleNamespace(
            nus=nus, w0s=w0s, v=v, values=values, frames=frames, grads=grads
        )


def test_vmap_over_fields_and_viscosities(batch):
    """The batched trajectories equal four unbatched jitted steps of each stepper."""
    with jax.enable_x64(True):
        for i in (0, 1, 3):
            stepper = _stepper(float(batch.nus[i]))
            single = _steps(stepper, batch.w0s[i], jnp.asarray(4))
            np.testing.assert_allclose(batch.frames[i, -1], single, rtol=0, atol=1e-12)


def test_grad_of_trajectory_matches_central_differences(batch):
    """jax.grad through `trajectory` (a scan of steps) with respect to `nu` and to
    the initial vorticity, against central differences (float64) of the batch."""
    values, (grad_stepper, grad_w0) = batch.values, batch.grads
    np.testing.assert_allclose(
        grad_stepper.nu[0], (values[1] - values[2]) / (2 * H), rtol=1e-6
    )
    fd_w = (values[3] - values[4]) / (2 * H)
    np.testing.assert_allclose(np.sum(grad_w0[0] * batch.v), fd_w, rtol=1e-6)
    assert grad_stepper.dt[0] != 0.0  # the step is a leaf as well


def test_new_viscosities_do_not_recompile(batch):
    """The batched gradient is `assert_max_traces(max_traces=1)`: new values of `nu`
    reuse it (and the order tests assert one trace of `solve` for all of theirs)."""
    with jax.enable_x64(True):
        (values, _), _ = _batched_value_and_grad(
            (eqx.filter_vmap(_stepper)(10 * batch.nus), batch.w0s)
        )
    assert np.isfinite(values).all()


def _solve_loss(nu, w0):
    solver = solvers.NavierStokes2D(GRID, nu, DT)
    ys, _ = solver.solve(w0, jnp.array([0.0, 0.1], w0.dtype))  # float32 t demotes h
    return jnp.sum(WEIGHTS * ys[-1, 0] ** 2)


def test_solve_differentiates_in_forward_mode():
    """`solve`'s sub-step count depends on the flow, so it differentiates in forward
    mode (documented): jax.jvp in `nu` against a central difference (float64)."""
    with jax.enable_x64(True):
        w0 = _draw(solvers.PeriodicGRF(0.8), GRID, jax.random.key(1))
        loss = jax.jit(_solve_loss)
        _, tangent = jax.jvp(lambda nu: loss(nu, w0), (NU,), (1.0,))
        central = (loss(NU + H, w0) - loss(NU - H, w0)) / (2 * H)
    np.testing.assert_allclose(tangent, central, rtol=1e-6)
