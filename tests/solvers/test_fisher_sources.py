"""`sciml.solvers.FisherSources`: second order in space against exact solutions (the
heat-equation limit and a travelling Fisher-KPP front), fourth order in time (the
exact logistic ODE and a self-convergence of the full equation), the source terms
and their MT-DeepONet coefficients, and jit / vmap / grad.

F3 with beta = 0 is Fisher-KPP, and with a = 0 the heat equation, so the order
tests run one family and share one compiled `_advance` per grid (its parameters
and its step count are traced)."""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers

D = 0.01


@eqx.filter_jit
def _advance(stepper, u, n):
    """`n` steps (traced) of `stepper` from `u`."""
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), u)


def _solve(nx, d, a, beta, u0, t_end, steps=None, stable_fraction=1.0):
    """`FisherSources` (F3) from the cell values `u0(x)` to `t_end` in `steps` equal
    steps (default: the fewest stable ones, `max_dt * stable_fraction`)."""
    grid = solvers.Grid(nx)
    if steps is None:
        max_dt = solvers.FisherSources.max_dt(grid, d, a, beta) * stable_fraction
        steps = solvers.substeps(t_end, max_dt)
    stepper = solvers.FisherSources(grid, t_end / steps, d, "F3", a, beta)
    x = grid.axes[0]
    u = _advance(stepper, jnp.asarray(u0(x))[None], jnp.asarray(steps))
    return x, np.asarray(u[0])


def test_heat_limit_second_order_in_space():
    """a = 0: u = 1/2 + cos(pi x) e^{-D pi^2 t}/4, zero flux at x = 0 and 1."""
    sizes, errors = [16, 32, 64], []
    with jax.enable_x64(True):
        for nx in sizes:
            x, u = _solve(
                nx, D, 0.0, 0.0, lambda x: 0.5 + 0.25 * np.cos(np.pi * x), 1.0
            )
            exact = 0.5 + 0.25 * np.cos(np.pi * x) * np.exp(-D * np.pi**2)
            errors.append(np.abs(u - exact).max())
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    # measured: errors 7.1e-5, 1.8e-5, 4.5e-6; order 1.996
    assert slope > 1.95, (errors, slope)


def test_travelling_front_second_order_in_space():
    """Fisher-KPP u_t = d u_xx + a u(1 - u) has the exact front (Ablowitz and
    Zeppetella 1979) u = (1 + exp(k (x - x0) - c t))^{-2}, k = sqrt(a/(6d)),
    c = 5a/6; with d = 1e-4 its flux d u_x through the ends is below 1e-9 (zero flux to
    the accuracy measured). Measured: errors 3.6e-4, 9.0e-5, 2.3e-5; order 2.00."""
    a, d = 1.0, 1e-4
    k, c = np.sqrt(a / (6 * d)), 5 * a / 6

    def front(x, t):
        return (1 + np.exp(k * (x - 0.4) - c * t)) ** -2

    sizes, errors = [128, 256, 512], []
    with jax.enable_x64(True):
        for nx in sizes:
            x, u = _solve(nx, d, a, 0.0, lambda x: front(x, 0.0), 1.0, None, 0.25)
            errors.append(np.abs(u - front(x, 1.0)).max())
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert slope > 1.95, (errors, slope)
    assert errors[-1] < 3e-5


def test_rk4_fourth_order_in_time():
    """A uniform state follows the logistic ODE u' = a u (1 - u) (F3 with beta = 0),
    solved exactly; and the full F3 equation (diffusion and the exponential source)
    converges at fourth order against itself."""
    a, u0 = 0.7, 0.2
    exact = 1 / (1 + (1 / u0 - 1) * np.exp(-a))
    with jax.enable_x64(True):
        errors = [
            np.abs(
                _solve(16, D, a, 0.0, lambda x: np.full_like(x, u0), 1.0, n)[1] - exact
            ).max()
            for n in (4, 8, 16)
        ]
        # measured: errors 2.6e-7, 1.7e-8, 1.1e-9; orders 3.97, 3.98
        orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
        assert (orders > 3.8).all(), (errors, orders)
        solutions = [
            _solve(16, D, 0.7, 1.3, lambda x: 0.5 + 0.25 * np.cos(np.pi * x), 1.0, n)[1]
            for n in (4, 8, 16)
        ]
    d1 = np.abs(solutions[0] - solutions[1]).max()
    d2 = np.abs(solutions[1] - solutions[2]).max()
    # measured: d1 = 6.0e-8, d2 = 3.4e-9; order 4.15
    assert np.log2(d1 / d2) > 3.8, (d1, d2)


@eqx.filter_jit
def _rates(stepper, u):
    """`rhs` on 11 uniform fields (one per value of `u`) and the coefficients."""
    fields = jnp.broadcast_to(u[:, None], (11, 3))
    return stepper.rhs(fields), solvers.source_coefficients(
        stepper.family, stepper.a, stepper.beta
    )


def test_rhs_is_the_source_on_uniform_fields_and_coefficients_encode_it():
    """On spatially uniform fields the diffusion vanishes and `rhs` is R(u); the
    MT-DeepONet coefficients reproduce R exactly for F1, F2 and the 2nd-order
    Taylor expansion of e^{beta u} for F3."""
    with jax.enable_x64(True):
        u = np.linspace(0.0, 1.0, 11)
        powers = np.stack([u, u**2, u**3, u**4], axis=-1)
        sources = {
            "F1": (0.4, 0.0, 0.4 * (u - u**2)),
            "F2": (0.4, 0.0, 0.4 * (u - u**3)),
            "F3": (0.4, 1.5, 0.4 * u * (1 - u) * np.exp(1.5 * (u - 1))),
        }
        for family, (a, beta, expected) in sources.items():
            stepper = solvers.FisherSources(solvers.Grid(3), 0.1, D, family, a, beta)
            rate, c = _rates(stepper, jnp.asarray(u))
            np.testing.assert_allclose(rate, expected[:, None] * np.ones(3), atol=1e-15)
            if family != "F3":
                np.testing.assert_allclose(powers @ np.asarray(c), expected, atol=1e-15)
        # F3: u(1-u) e^{beta(u-1)} with e^{beta u} Taylor-truncated at 2nd order
        taylor = 0.4 * u * (1 - u) * (1 + 1.5 * u + 1.125 * u**2) * np.exp(-1.5)
        np.testing.assert_allclose(
            powers @ np.asarray(c), taylor, rtol=1e-12, atol=1e-15
        )
        # the function itself, called eagerly with Python numbers
        np.testing.assert_allclose(
            solvers.source_coefficients("F1", 0.4), [0.4, -0.4, 0, 0]
        )
    assert solvers.FAMILIES == ("F1", "F2", "F3")


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="family must be one of"):
        solvers.FisherSources(solvers.Grid(8), 0.1, D, "F4", 0.5)
    with pytest.raises(ValueError, match="family must be one of"):
        solvers.source_coefficients("F4", 0.5)
    with pytest.raises(ValueError, match="1-D Grid of cells"):
        solvers.FisherSources(solvers.Grid((8, 8)), 0.1, D, "F1", 0.5)
    # the stability limit: h (4 d / dx^2 + 3 a (1 + beta)) = 2
    limit = solvers.FisherSources.max_dt(solvers.Grid(10), 0.01, 1.0, 1.0)
    assert limit == pytest.approx(2 / (4 * 0.01 * 100 + 6))


# --- jit, vmap, grad ----------------------------------------------------------
# On the 16 cells of the order tests, so that `_advance` (compiled there) is the
# unbatched reference: `trajectory(u0, 3, 2)` ends after four steps.

NX = 16
WEIGHTS = np.linspace(1.0, 2.0, NX)


def _loss(args):
    stepper, u0 = args
    frames = stepper.trajectory(u0, 3, 2)
    return jnp.sum(WEIGHTS * frames[-1, 0] ** 2), frames


_batched_value_and_grad = references.batched_value_and_grad(_loss)
A, H = 0.5, 1e-6  # the gradient's point (with d = D) and the difference step


def _stepper(d, a, beta=1.0):
    return solvers.FisherSources(solvers.Grid(NX), 0.05, d, "F3", a, beta)


@pytest.fixture(scope="module")
def batch():
    """Steppers built from several (d, a) by `eqx.filter_vmap` over the constructor,
    with a batch of initial fields: the gradient's point, then the points of
    central differences in `d`, in `a` and along a direction `v` of the field."""
    with jax.enable_x64(True):
        x = jnp.asarray(solvers.Grid(NX).axes[0])
        u0 = (0.5 + 0.25 * jnp.cos(jnp.pi * x))[None]
        v = jax.random.normal(jax.random.key(0), u0.shape, jnp.float64)
        ds = jnp.array([D, D + H, D - H, D, D, D, D])
        as_ = jnp.array([A, A, A, A + H, A - H, A, A])
        u0s = jnp.stack([u0, u0, u0, u0, u0, u0 + H * v, u0 - H * v])
        stepper_batch = eqx.filter_vmap(_stepper)(ds, as_)
        assert stepper_batch.d.shape == stepper_batch.beta.shape == (7,)
        (values, frames), grads = _batched_value_and_grad((stepper_batch, u0s))
        assert frames.shape == (7, 3, 1, NX)
        values, frames, v, grads = jax.tree.map(np.asarray, (values, frames, v, grads))
        # numpy arrays: their arithmetic stays float64 outside `enable_x64`
        return types.SimpleNamespace(
            ds=ds, as_=as_, u0s=u0s, v=v, values=values, frames=frames, grads=grads
        )


def test_vmap_over_fields_and_parameters(batch):
    """The batched trajectories equal four unbatched jitted steps of each stepper."""
    frames = batch.frames
    with jax.enable_x64(True):
        for i in (0, 1, 3, 5):
            stepper = _stepper(float(batch.ds[i]), float(batch.as_[i]))
            single = _advance(stepper, batch.u0s[i], jnp.asarray(4))
            np.testing.assert_allclose(frames[i, -1], single, rtol=1e-13)
            np.testing.assert_array_equal(frames[i, 0], batch.u0s[i])


def test_grad_matches_central_differences(batch):
    """jax.grad through `trajectory` with respect to `d`, `a` and the initial field,
    against central differences (float64) of the batch."""
    values, (grad_stepper, grad_u0) = batch.values, batch.grads
    fd_d = (values[1] - values[2]) / (2 * H)
    fd_a = (values[3] - values[4]) / (2 * H)
    fd_u = (values[5] - values[6]) / (2 * H)
    np.testing.assert_allclose(grad_stepper.d[0], fd_d, rtol=1e-6)
    np.testing.assert_allclose(grad_stepper.a[0], fd_a, rtol=1e-6)
    np.testing.assert_allclose(np.sum(grad_u0[0] * batch.v), fd_u, rtol=1e-6)


def test_new_parameters_do_not_recompile(batch):
    """The batched gradient is `assert_max_traces(max_traces=1)`: new values of `d`,
    `a` and `beta` reuse it."""
    with jax.enable_x64(True):
        stepper_batch = eqx.filter_vmap(lambda d, a: _stepper(d, a, 2.0))(
            2 * batch.ds, batch.as_
        )
        (values, _), _ = _batched_value_and_grad((stepper_batch, batch.u0s))
    assert np.isfinite(values).all()
