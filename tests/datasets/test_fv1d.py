"""The shared 1-D finite-volume scheme: limiter, fluxes, conservation, order, steps."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.datasets import _fv1d
from sciml.datasets._advection import advection_flux, advection_fv


def loglog_slope(ns, errors):
    """The order p of error ~ C n^-p, fitted over all grids."""
    return -np.polyfit(np.log(ns), np.log(errors), 1)[0]


def test_mc_slope_limits():
    minus = jnp.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    centre = jnp.array([1.0, 1.0, 2.0, 1.0, 0.1, 0.0])
    plus = jnp.array([2.0, 1.1, 1.0, 3.0, 1.0, 0.0])
    slope = np.asarray(_fv1d.mc_slope(minus, centre, plus))
    # smooth: central difference; steep on one side: twice the gentler side;
    # extremum: zero; 0.5 * (1 + sign(ab)) kills a flat side (ab = 0) as well
    np.testing.assert_allclose(slope, [1.0, 0.2, 0.0, 1.5, 0.2, 0.0], rtol=1e-6)


def test_reconstruction_is_exact_for_linear_data():
    u = jnp.arange(10.0)  # periodic wrap makes the two end cells extrema
    faces = _fv1d.reconstruct(u)
    assert faces.left.shape == (11,)
    interior = slice(2, 9)  # interfaces 1/2 .. 8 - 1/2 see linear neighbourhoods
    np.testing.assert_allclose(faces.left[interior], np.arange(1, 8) + 0.5)
    np.testing.assert_allclose(faces.right[interior], np.arange(1, 8) + 0.5)
    np.testing.assert_allclose(faces.cell_left[interior], np.arange(1, 8))


@pytest.mark.parametrize("beta", [0.7, -0.7])
def test_corrected_rusanov_flux_is_upwind(beta):
    faces = _fv1d.Interfaces(
        left=jnp.array([1.0, -2.0]),
        right=jnp.array([3.0, 0.5]),
        cell_left=jnp.zeros(2),
        cell_right=jnp.zeros(2),
    )
    upwind = faces.left if beta > 0 else faces.right
    # with the factor 1/2 on the dissipation; PDEBench's bug (#46) doubled it
    np.testing.assert_allclose(advection_flux(beta)(faces), beta * upwind)


def test_every_flux_conserves_mass_to_round_off(getkey):
    with jax.enable_x64(True):
        u = jax.random.normal(getkey(), (64,), jnp.float64)
        burgers_like = _fv1d.add_fluxes(
            _fv1d.rusanov_flux(lambda v: 0.5 * v**2, lambda a, b: jnp.abs(a + b) / 2),
            _fv1d.diffusive_flux(0.3, 1 / 64),
        )
        for flux in (advection_flux(-1.3), burgers_like):
            rhs = jax.jit(_fv1d.flux_divergence, static_argnums=1)(u, flux, 1 / 64)
            assert abs(float(jnp.sum(rhs))) < 1e-12 * float(jnp.sum(jnp.abs(rhs)))


def test_advection_converges_at_second_order_in_l1():
    """MUSCL-MC is 2nd order on smooth data away from extrema; at the two extrema of
    sin(2 pi x) the limiter clips the slope, costing accuracy in O(dx) cells, so the
    L1 error (which weights those cells by dx) shows the design order while the
    max error does not (measured here: L1 1.92, max 1.25 over n = 32 .. 256)."""
    beta, t_end = 1.0, 0.5
    ns = [32, 64, 128, 256]
    l1, linf = [], []
    with jax.enable_x64(True):
        solve = jax.jit(advection_fv, static_argnums=(4, 5))
        for n in ns:
            x = (np.arange(n) + 0.5) / n
            m = _fv1d.substeps(t_end, 0.4 / n / beta, "test")
            u = solve(jnp.sin(2 * np.pi * x), beta, 1 / n, t_end / m, 2, m)[-1]
            error = np.abs(np.asarray(u) - np.sin(2 * np.pi * (x - beta * t_end)))
            l1.append(error.mean())
            linf.append(error.max())
    assert 1.85 < loglog_slope(ns, l1) < 2.2, l1
    assert loglog_slope(ns, linf) > 1.0, linf  # limiter clipping at the extrema
    assert l1[-1] < 3e-4


def test_substeps_hit_every_save_time_within_the_bound():
    for interval, dt_max in [(0.01, 0.4 / 1024 / 0.4), (0.01, 0.003), (0.5, 0.7)]:
        m = _fv1d.substeps(interval, dt_max, "test")
        assert interval / m <= dt_max * (1 + 1e-12)
        assert m == 1 or interval / (m - 1) > dt_max  # the fewest steps that fit
    assert _fv1d.substeps(0.01, 0.4 * (1 / 1024) / 0.4, "test") == 11  # 10.24 -> 11
    assert _fv1d.substeps(0.01, 0.0025, "test") == 4  # exactly 4, not 5
    assert _fv1d.substeps(0.01, math.inf, "test") == 1


def test_substeps_refuse_a_run_that_would_not_end():
    with pytest.raises(ValueError, match=r"needs \d+ steps per save interval.*reduce"):
        _fv1d.substeps(1.0, 1e-9, "dx^2/nu")


def test_chunk_source_starts_blocks_at_multiples_of_the_chunk():
    calls = []

    def compute(start):
        calls.append(start)
        return np.arange(start, start + 4, dtype=np.float32)[:, None, None]

    chunks = _fv1d.chunk_source(compute, n_samples=10, chunk=4)
    blocks = list(chunks(5))
    assert [b[:, 0, 0, 0].tolist() for b in blocks] == [[5, 6, 7], [8, 9]]
    assert calls == [4, 8]
    assert np.concatenate(list(chunks()))[:, 0, 0, 0].tolist() == list(range(10))
    assert list(chunks(10)) == []
