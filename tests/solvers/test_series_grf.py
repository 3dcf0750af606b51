"""`sciml.solvers.SquaredExponentialSeries` and `PeriodicMaternGRF`: the covariance
of the series against the kernel, the closed-form antiderivative against composite
Simpson rules on refined grids (fourth order, converging to it) and against
autodiff, sample statistics, one function at every resolution, periodicity, the
truncated variance, and bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers


@pytest.mark.parametrize("length_scale", [0.2, 0.01])
def test_series_covariance_is_the_squared_exponential_kernel(length_scale):
    """sum_j A_j^2 cos(omega_j r) = exp(-r^2 / (2 l^2)) on every lag of [0, 1].
    Measured: 3.3e-16 (l = 0.2), 2.1e-15 (l = 0.01), the round-off of the sum."""
    family = solvers.SquaredExponentialSeries(length_scale, sigma=1.5)
    r = np.linspace(0.0, 1.0, 4001)
    exact = 1.5**2 * np.exp(-(r**2) / (2 * length_scale**2))
    assert np.abs(family.covariance(r) - exact).max() < 1e-14
    assert family.period == pytest.approx(1.0 + 9 * length_scale)
    # the last mode kept has omega l >= 9.2, so the dropped ones are below e^-42
    assert family.frequencies[-1] * length_scale >= 9.2
    assert family.frequencies[-2] * length_scale < 9.2 + 2 * np.pi * length_scale


@eqx.filter_jit
def _evaluate_both(family, key, x, sensors):
    """One draw's u at `x` and its closed-form antiderivative at `sensors`."""
    params = family.params(key=key)
    return family.evaluate(params, x), family.antiderivative(params, sensors)


def _simpson_cumulative(values, n_fine, refine):
    """Composite Simpson over each of the coarse intervals (each `refine` fine
    intervals, `refine` even), accumulated from 0: the integral at the coarse
    points."""
    h = 1.0 / n_fine
    v = values.reshape(-1)
    pieces = []
    for c in range(n_fine // refine):
        w = v[c * refine : (c + 1) * refine + 1]
        pieces.append(
            h / 3 * (w[0] + 4 * w[1:-1:2].sum() + 2 * w[2:-1:2].sum() + w[-1])
        )
    return np.concatenate([[0.0], np.cumsum(pieces)])


@pytest.mark.parametrize(
    "length_scale, refines, finest",
    # measured: l = 0.2: 2.5e-10, 1.6e-11, 9.9e-13 (orders 4.00, 4.00);
    #           l = 0.01: 1.6e-8, 1.0e-9, 6.4e-11 (orders 4.00, 4.00)
    [(0.2, (4, 8, 16), 1e-11), (0.01, (20, 40, 80), 1e-9)],
)
def test_antiderivative_is_the_limit_of_refined_simpson_rules(
    length_scale, refines, finest
):
    """u drawn once, integrated by composite Simpson on grids 4-80 times finer than
    the 100 sensors: the relative error against the closed form falls at order 4,
    far below 1e-6 (the brief's bar), so the closed form is the integral."""
    family = solvers.SquaredExponentialSeries(length_scale)
    m = 100
    sensors = np.arange(m) / (m - 1)
    n_finest = (m - 1) * refines[-1]
    fine = np.arange(n_finest + 1) / n_finest
    with jax.enable_x64(True):
        u, s = map(np.asarray, _evaluate_both(family, jax.random.key(3), fine, sensors))
    errors = []
    for refine in refines:
        n_fine = (m - 1) * refine
        simpson = _simpson_cumulative(u[:: refines[-1] // refine], n_fine, refine)
        errors.append(np.abs(simpson - s).max() / np.abs(s).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 3.8).all(), (errors, orders)
    assert errors[-1] < finest, errors


@eqx.filter_jit
def _derivative_check(family, key, x):
    """s, s' (forward mode) and u at `x` for one draw."""
    params = family.params(key=key)
    ones = jnp.ones_like(x)
    s, ds = jax.jvp(lambda y: family.antiderivative(params, y), (x,), (ones,))
    return s, ds, family.evaluate(params, x)


def test_antiderivative_derivative_and_start():
    """s(a) = 0 and s' = u (forward-mode autodiff of the closed form), to round-off."""
    family = solvers.SquaredExponentialSeries(0.05, sigma=2.0, lower=-1.0, upper=2.0)
    with jax.enable_x64(True):
        x = jnp.asarray(np.linspace(-1.0, 2.0, 301))
        s, ds, u = map(np.asarray, _derivative_check(family, jax.random.key(0), x))
    assert s[0] == 0.0
    np.testing.assert_allclose(ds, u, atol=1e-12 * np.abs(u).max())


@eqx.filter_jit
def _draws(family, keys, x):
    """`family.evaluate` of one draw per key at the points `x`."""
    return jax.vmap(lambda k: family.evaluate(family.params(key=k), x))(keys)


def test_sample_statistics():
    """4000 draws: the pointwise variance is sigma^2 and the covariance at a lag of
    one length scale is sigma^2 e^{-1/2} (within five standard errors)."""
    family = solvers.SquaredExponentialSeries(0.2, sigma=0.7)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(1), 4000)
        u = np.asarray(_draws(family, keys, jnp.asarray([0.0, 0.2, 0.5, 1.0])))
    var = 0.49
    se = var * math.sqrt(2 / 4000)
    np.testing.assert_allclose(u.var(axis=0), var, atol=5 * se)
    np.testing.assert_allclose(
        np.mean(u[:, 0] * u[:, 1]), var * np.exp(-0.5), atol=5 * se
    )
    assert np.abs(u.mean(axis=0)).max() < 5 * math.sqrt(var / 4000)


@eqx.filter_jit
def _on_grids(family, key, grids, x, lower, length):
    """The field on each grid, a batch on the first, and `evaluate` at `x`."""
    fields = [family(grid, key=key) for grid in grids]
    batch = family.batch(grids[0], 3, key=key, start=2)
    single = family(grids[0], key=jax.random.fold_in(key, 3))
    if isinstance(family, solvers.PeriodicMaternGRF):
        direct = family.evaluate(family.params(key=key), x, lower=lower, length=length)
    else:
        direct = family.evaluate(family.params(key=key), x)
    return fields, batch, single, direct


def test_one_function_at_every_resolution():
    """`family(grid, key=key)` on a grid and on its 4x refinement agree at the shared
    points, and equal `evaluate`; `batch` draws sample i from `fold_in(key, i)`."""
    family = solvers.SquaredExponentialSeries(0.1)
    grids = (solvers.Grid(25, points="nodes"), solvers.Grid(100, points="nodes"))
    with jax.enable_x64(True):
        x = jnp.asarray(np.arange(25) / 25)
        fields, batch, single, direct = _on_grids(
            family, jax.random.key(7), grids, x, 0.0, 1.0
        )
        coarse, fine, batch, single, direct = map(
            np.asarray, (*fields, batch, single, direct)
        )
    np.testing.assert_allclose(coarse[0], fine[0, ::4], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(coarse[0], direct)
    np.testing.assert_array_equal(batch[1], single)
    assert batch.shape == (3, 1, 25) and batch.dtype == np.float64


def test_matern_amplitudes_variance_and_tail():
    """A_k = sqrt(2) sigma ((2 pi k)^2 + tau^2)^{-gamma/2}; the pointwise variance of
    4000 draws is sum A_k^2; the tail bound matches a direct sum."""
    family = solvers.PeriodicMaternGRF()
    k = np.arange(129)
    expected = np.sqrt(2) * 625 * ((2 * np.pi * k) ** 2 + 25) ** -2.0
    expected[0] = 0.0
    np.testing.assert_allclose(family.amplitudes(), expected, rtol=1e-14)
    # the sheet's literal scale and the code's: standard deviations 8.6e-3 and 0.214
    assert solvers.PeriodicMaternGRF(sigma=25.0).variance() ** 0.5 == pytest.approx(
        8.573e-3, rel=1e-3
    )
    assert family.variance() ** 0.5 == pytest.approx(0.21434, rel=1e-4)
    k_tail = np.arange(129, 10**6, dtype=float)
    direct = np.sum(2 * 625.0**2 * ((2 * np.pi * k_tail) ** 2 + 25) ** -4.0)
    assert family.tail_variance() == pytest.approx(direct, rel=1e-6)
    assert family.tail_variance() / family.variance() < 2e-15
    with_mean = solvers.PeriodicMaternGRF(zero_mean=False, n_modes=4)
    assert with_mean.amplitudes()[0] == pytest.approx(625 * 5.0**-4)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(2), 4000)
        u = np.asarray(_draws(family, keys, jnp.asarray([0.0, 0.3])))
    se = family.variance() * math.sqrt(2 / 4000)
    np.testing.assert_allclose(u.var(axis=0), family.variance(), atol=5 * se)


def test_matern_is_periodic_and_grid_independent():
    """The field on 64 nodes of [-1, 1) is every 4th node of the field on 256 and
    `evaluate` there, also one period on (periodic), with zero mean over the
    nodes."""
    family = solvers.PeriodicMaternGRF(n_modes=16)
    grids = (
        solvers.Grid(64, -1.0, 1.0, points="nodes"),
        solvers.Grid(256, -1.0, 1.0, points="nodes"),
    )
    with jax.enable_x64(True):
        x = jnp.asarray(np.linspace(-1, 1, 64, endpoint=False) + 2.0)
        fields, batch, single, direct = _on_grids(
            family, jax.random.key(5), grids, x, -1.0, 2.0
        )
        coarse, fine, batch, single, direct = map(
            np.asarray, (*fields, batch, single, direct)
        )
    np.testing.assert_allclose(coarse[0], fine[0, ::4], atol=1e-13)
    np.testing.assert_allclose(coarse[0], direct, atol=1e-12)
    np.testing.assert_array_equal(batch[1], single)
    # zero mean: the mean over N nodes of a trigonometric polynomial of degree < N/2
    assert abs(coarse.mean()) < 1e-14


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="length_scale must be > 0"):
        solvers.SquaredExponentialSeries(0.0)
    with pytest.raises(ValueError, match="upper must be > 0"):
        solvers.SquaredExponentialSeries(0.1, lower=0.0, upper=0.0)
    with pytest.raises(ValueError, match="must lie in"):
        solvers.SquaredExponentialSeries(0.1)(
            solvers.Grid(8, 0.0, 2.0), key=jax.random.key(0)
        )
    with pytest.raises(ValueError, match="is 1-D"):
        solvers.SquaredExponentialSeries(0.1)(
            solvers.Grid((4, 4)), key=jax.random.key(0)
        )
    with pytest.raises(ValueError, match="points of shape"):
        family = solvers.SquaredExponentialSeries(0.1)
        family.evaluate(family.params(key=jax.random.key(0)), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="gamma must be > 0.5"):
        solvers.PeriodicMaternGRF(gamma=0.5)
    with pytest.raises(ValueError, match="infinite variance"):
        solvers.PeriodicMaternGRF(tau=0.0, zero_mean=False)
    with pytest.raises(TypeError, match="n_modes must be an integer"):
        solvers.PeriodicMaternGRF(n_modes=4.0)
    with pytest.raises(ValueError, match="is 1-D"):
        solvers.PeriodicMaternGRF()(solvers.Grid((4, 4)), key=jax.random.key(0))
