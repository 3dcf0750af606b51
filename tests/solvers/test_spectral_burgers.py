"""`sciml.solvers.SpectralBurgers1D`: the exact Cole-Hopf solution (spectral
convergence in the nodes), fourth order in time, the conserved mean, the maximum
principle, `trajectory` against repeated steps, the step bound, and jit / vmap / grad
(with respect to nu and the initial field) without recompiling.

Fixed-step runs go through one jitted `_advance(stepper, u, n)` (a `fori_loop` with a
traced count), so each grid compiles once whatever the step and the viscosity."""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers

NU = 0.01
A = 0.5


@eqx.filter_jit
def _advance(stepper, u, n):
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), u)


def cole_hopf(amplitude, x, t, nu=NU, modes=512):
    r"""Exact solution from u0 = amplitude sin(2 pi x): u = -2 nu phi_x / phi with
    phi the heat equation's solution from phi0 = exp(-amplitude (1 - cos 2 pi x) /
    (4 pi nu)), summed from phi0's Fourier series (FFT on `modes` points; its
    coefficients, modified Bessel functions, fall below round-off long before)."""
    grid = np.arange(modes) / modes
    phi0 = np.exp(-amplitude * (1 - np.cos(2 * np.pi * grid)) / (4 * np.pi * nu))
    k = np.fft.fftfreq(modes, 1 / modes)
    c = np.fft.fft(phi0) / modes * np.exp(-nu * (2 * np.pi * k) ** 2 * t)
    waves = np.exp(2j * np.pi * np.outer(x, k))
    return -2 * nu * (waves @ (2j * np.pi * k * c)).real / (waves @ c).real


def _solve(n, t_end, steps, amplitude=A, nu=NU):
    grid = solvers.Grid(n, points="nodes")
    x = grid.axes[0]
    stepper = solvers.SpectralBurgers1D(grid, t_end / steps, nu)
    u0 = jnp.asarray(amplitude * np.sin(2 * np.pi * x))[None]
    return x, np.asarray(_advance(stepper, u0, jnp.asarray(steps))[0])


def test_cole_hopf_spectral_convergence():
    """u0 = sin(2 pi x)/2 to t = 1/2 (500 steps): relative max errors 6.9e-3,
    5.4e-5, 3.4e-9 on 32, 64, 128 nodes. The error ratios grow (128, then 16 000):
    faster than any power of N, as a spectral method on an analytic solution."""
    errors = []
    with jax.enable_x64(True):
        for n in (32, 64, 128):
            x, u = _solve(n, 0.5, 500)
            exact = cole_hopf(A, x, 0.5)
            errors.append(np.abs(u - exact).max() / np.abs(exact).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert rates[1] > 1.5 * rates[0] > 9, (errors, rates)
    assert errors[-1] < 1e-8, errors


def test_fourth_order_in_time():
    """50, 100, 200 steps to t = 1/2 on 64 nodes against 3200: errors 3.6e-8,
    2.2e-9, 1.4e-10 (orders 4.02, 4.01)."""
    with jax.enable_x64(True):
        reference = _solve(64, 0.5, 3200)[1]
        errors = [
            np.abs(_solve(64, 0.5, n)[1] - reference).max() for n in (50, 100, 200)
        ]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 3.8).all(), (errors, orders)


@eqx.filter_jit
def _trajectory_and_steps(stepper, u0):
    return stepper.trajectory(u0, 4, 5), _advance(stepper, u0, jnp.asarray(15))


def test_mean_maximum_principle_and_trajectory():
    """A random state: the mean is conserved to round-off (the k = 0 mode of the
    conservative flux is 0), max|u| does not grow, and `trajectory` equals
    repeated steps."""
    grid = solvers.Grid(64, points="nodes")
    family = solvers.PeriodicMaternGRF(n_modes=16, zero_mean=False)
    with jax.enable_x64(True):
        u0 = family(grid, key=jax.random.key(4))
        dt = solvers.SpectralBurgers1D.max_dt(grid, float(jnp.abs(u0).max()))
        stepper = solvers.SpectralBurgers1D(grid, dt, NU)
        frames, stepped = map(np.asarray, _trajectory_and_steps(stepper, u0))
    u0 = np.asarray(u0)
    np.testing.assert_allclose(frames[0], u0)
    np.testing.assert_allclose(frames[-1], stepped, rtol=1e-12, atol=1e-14)
    means = frames.mean(axis=(1, 2))
    np.testing.assert_allclose(means, means[0], rtol=0, atol=1e-14)
    assert abs(means[0]) > 1e-3  # the test has a mean to keep
    assert np.abs(frames).max(axis=(1, 2)).max() <= np.abs(u0).max() * (1 + 1e-12)


def test_max_dt_and_bad_input(no_typecheck):
    grid = solvers.Grid(96, points="nodes")
    assert solvers.SpectralBurgers1D.max_dt(grid, 2.0, cfl=0.5) == pytest.approx(
        0.5 / (2.0 * 2 * np.pi * 32)
    )
    assert solvers.SpectralBurgers1D.max_dt(grid, 0.0) == np.inf
    with pytest.raises(ValueError, match="1-D periodic Grid"):
        solvers.SpectralBurgers1D(solvers.Grid((8, 8)), 0.1)
    with pytest.raises(ValueError, match="even number"):
        solvers.SpectralBurgers1D(solvers.Grid(63, points="nodes"), 0.1)
    with pytest.raises(ValueError, match="nu must be >= 0"):
        solvers.SpectralBurgers1D(grid, 0.1, -1.0)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solvers.SpectralBurgers1D(grid, 0.0)
    with pytest.raises(ValueError, match="channel-first field"):
        solvers.SpectralBurgers1D(grid, 0.1)(jnp.zeros(96))


# --- jit, vmap, grad ----------------------------------------------------------

NX = 16
WEIGHTS = np.linspace(1.0, 2.0, NX)
H = 1e-6


def _loss(args):
    stepper, u0 = args
    frames = stepper.trajectory(u0, 3, 2)
    return jnp.sum(WEIGHTS * frames[-1, 0] ** 2), frames


_batched_value_and_grad = references.batched_value_and_grad(_loss)


def _stepper(nu):
    return solvers.SpectralBurgers1D(solvers.Grid(NX, points="nodes"), 0.02, nu)


@pytest.fixture(scope="module")
def batch():
    """Steppers built by `eqx.filter_vmap` over the constructor: the gradient's
    point, central differences in nu and along a direction v of the field."""
    with jax.enable_x64(True):
        x = jnp.asarray(solvers.Grid(NX, points="nodes").axes[0])
        u0 = (0.5 * jnp.sin(2 * jnp.pi * x) + 0.2 * jnp.cos(4 * jnp.pi * x))[None]
        v = jax.random.normal(jax.random.key(0), u0.shape, jnp.float64)
        nus = jnp.array([NU, NU + H, NU - H, NU, NU])
        u0s = jnp.stack([u0, u0, u0, u0 + H * v, u0 - H * v])
        stepper_batch = eqx.filter_vmap(_stepper)(nus)
        (values, frames), grads = _batched_value_and_grad((stepper_batch, u0s))
        values, frames, v, grads = jax.tree.map(np.asarray, (values, frames, v, grads))
        return types.SimpleNamespace(
            nus=nus, u0s=u0s, v=v, values=values, frames=frames, grads=grads
        )


def test_vmap_equals_single_solves(batch):
    with jax.enable_x64(True):
        for i in (0, 1, 3):
            single = _advance(
                _stepper(float(batch.nus[i])), batch.u0s[i], jnp.asarray(4)
            )
            np.testing.assert_allclose(
                batch.frames[i, -1], single, rtol=1e-13, atol=1e-15
            )


def test_grad_matches_central_differences(batch):
    values, (grad_stepper, grad_u0) = batch.values, batch.grads
    np.testing.assert_allclose(
        grad_stepper.nu[0], (values[1] - values[2]) / (2 * H), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.sum(grad_u0[0] * batch.v), (values[3] - values[4]) / (2 * H), rtol=1e-6
    )


def test_new_parameters_do_not_recompile(batch):
    with jax.enable_x64(True):
        stepper_batch = eqx.filter_vmap(_stepper)(2 * batch.nus)
        (values, _), _ = _batched_value_and_grad((stepper_batch, batch.u0s))
    assert np.isfinite(values).all()


def test_etdrk4_amplification_limits():
    """The amplification of the step that runs: with no linear part it is RK4's
    polynomial, with no nonlinear term the exponential (float64)."""
    from sciml.solvers._etdrk import etdrk4_amplification

    z = np.array([0.3j, -1.0 + 2.0j, 2.8j, -0.2])
    hl = np.array([-0.5, -3.0, -40.0])
    with jax.enable_x64(True):
        rk4 = etdrk4_amplification(np.zeros_like(z.real), z)
        exponential = etdrk4_amplification(hl, np.zeros(3, complex))
    polynomial = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    np.testing.assert_allclose(np.asarray(rk4), polynomial, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(exponential), np.exp(hl), rtol=1e-13)


def test_stable_dt_is_the_frozen_coefficient_limit(no_typecheck):
    """Without viscosity the limit is RK4's 2 sqrt 2 on the imaginary axis; with it
    the limit is larger, every step below it amplifies no mode and 3 % above it one
    does (the viscosity of the benchmark file, nu = 0.01 / pi, on 192 cells)."""
    from sciml.solvers._etdrk import etdrk4_amplification

    grid = solvers.Grid(192)
    inviscid = solvers.SpectralBurgers1D.stable_dt(grid, 2.0, 0.0, safety=1.0)
    rk4 = solvers.SpectralBurgers1D.max_dt(grid, 2.0, cfl=2 * np.sqrt(2))
    assert inviscid == pytest.approx(rk4, rel=1e-6)
    nu = 0.01 / np.pi
    limit = solvers.SpectralBurgers1D.stable_dt(grid, 2.0, nu, safety=1.0)
    assert limit > 1.2 * rk4
    assert solvers.SpectralBurgers1D.stable_dt(grid, 2.0, nu) == pytest.approx(
        0.9 * limit
    )
    k = 2 * np.pi * np.arange(1, 65)[:, None]
    u = np.linspace(0.0, 2.0, 101)[None, :]

    def worst(h):
        with jax.enable_x64(True):
            r = etdrk4_amplification(-h * nu * k**2, -1j * h * u * k)
            return float(jnp.max(jnp.abs(r)))

    assert max(worst(f * limit) for f in np.linspace(0.05, 1.0, 20)) <= 1 + 1e-8
    assert worst(1.03 * limit) > 1 + 1e-4
    assert solvers.SpectralBurgers1D.stable_dt(grid, 0.0, nu) == np.inf
    with pytest.raises(ValueError, match="safety"):
        solvers.SpectralBurgers1D.stable_dt(grid, 2.0, nu, safety=1.5)
