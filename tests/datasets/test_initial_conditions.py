"""The PDEBench initial-condition sampler: formula, determinism, distribution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets

X = (np.arange(128) + 0.5) / 128


def test_evaluate_matches_formula_by_hand():
    params = datasets.InitialConditionParams(
        amplitudes=jnp.array([0.5, 0.25]),
        wavenumbers=jnp.array([1, 3]),
        phases=jnp.array([0.0, np.pi / 2]),
        sign=jnp.array(-1.0),
        absolute=jnp.array(False),
        windowed=jnp.array(True),
        x1=jnp.array(0.1),
        x2=jnp.array(0.9),
    )
    x = jnp.array([0.25, 0.5, 0.99])
    got = datasets.evaluate_initial_condition(params, x)
    # x = 0.25: -(0.5 sin(pi/2) + 0.25 cos(3 pi/2)) = -0.5, window ~ 1
    # x = 0.5: -(0.5 sin(pi) + 0.25 cos(3 pi)) = 0.25, window ~ 1
    # x = 0.99: outside (0.1, 0.9), window = (tanh(15) - tanh(9))/2 < 1e-7
    np.testing.assert_allclose(got, [-0.5, 0.25, 0.0], atol=1e-6)
    absolute = datasets.evaluate_initial_condition(
        eqx_replace(params, absolute=jnp.array(True), windowed=jnp.array(False)), x
    )
    np.testing.assert_allclose(absolute[:2], [0.5, 0.25], atol=1e-6)


def eqx_replace(module, **changes):
    import dataclasses

    return dataclasses.replace(module, **changes)


def test_deterministic_and_chunk_independent():
    key = jax.random.key(3)
    whole = datasets.sample_initial_conditions(key, X, 6)
    again = datasets.sample_initial_conditions(jax.random.key(3), X, 6)
    tail = datasets.sample_initial_conditions(key, X, 2, start=4)
    other = datasets.sample_initial_conditions(jax.random.key(4), X, 6)
    assert whole.shape == (6, 128) and whole.dtype == jnp.float32
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_array_equal(whole[4:], tail)
    assert not np.allclose(whole, other)


def test_jit_and_vmap():
    sample = jax.jit(datasets.sample_initial_conditions, static_argnums=2)
    keys = jax.random.split(jax.random.key(0), 3)
    batched = jax.vmap(lambda k: datasets.sample_initial_conditions(k, X, 2))(keys)
    assert batched.shape == (3, 2, 128)
    np.testing.assert_allclose(
        batched[1], sample(keys[1], jnp.asarray(X), 2), rtol=1e-6, atol=1e-6
    )


def test_distribution():
    n = 4000
    key = jax.random.key(0)
    p = datasets.sample_initial_condition_params(key, n)
    u = np.asarray(datasets.sample_initial_conditions(key, X, n))
    assert np.abs(u).max() <= 2.0
    assert np.all((p.amplitudes >= 0) & (p.amplitudes < 1))
    assert np.all((p.phases >= 0) & (p.phases <= 2 * np.pi + 1e-6))
    counts = np.bincount(np.asarray(p.wavenumbers).ravel(), minlength=5)
    assert counts[0] == 0 and counts.sum() == 2 * n
    np.testing.assert_allclose(counts[1:] / (2 * n), 0.25, atol=0.02)
    assert np.all((p.x1 >= 0.1) & (p.x1 <= 0.45) & (p.x2 >= 0.55) & (p.x2 <= 0.9))
    # 3 sigma of a binomial(4000, 0.1) fraction is 0.014
    assert abs(float(np.mean(p.windowed)) - 0.1) < 0.015
    assert abs(float(np.mean(p.absolute)) - 0.1) < 0.015
    assert abs(float(np.mean(p.sign < 0)) - 0.5) < 0.025
    # the values agree with the flags: |u0| samples are >= 0, windowed vanish at x=0
    windowed = np.asarray(p.windowed)
    assert np.all(u[np.asarray(p.absolute)] >= 0)
    assert np.all(np.abs(u[windowed, 0]) < 1e-6)
    assert np.mean(np.abs(u[~windowed, 0]) > 1e-3) > 0.9


@pytest.mark.parametrize("enable", [False, True])
def test_same_values_with_float64_switched_on(enable):
    x32 = datasets.sample_initial_conditions(jax.random.key(1), X.astype(np.float32), 4)
    with jax.enable_x64(enable):
        p = datasets.sample_initial_condition_params(jax.random.key(1), 4)
        assert p.amplitudes.dtype == jnp.float32
        x64 = datasets.sample_initial_conditions(jax.random.key(1), X, 4)
    np.testing.assert_allclose(x64, x32, atol=2e-6)
