"""`sciml.solvers.PDEBenchSines`, PDEBench's random 1-D initial condition: the
formula, determinism, jit and vmap, the distribution of its draws."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers

FAMILY = solvers.PDEBenchSines()
GRID = solvers.Grid(128)  # cell centres (i + 1/2)/128
X = GRID.axes[0]
# jitted once here: eager JAX compiles every small operation on first use
batch = eqx.filter_jit(FAMILY.batch)  # (grid, n, key=..., start=...)
one = eqx.filter_jit(FAMILY)  # (grid, key=...)
draws = jax.jit(lambda key: FAMILY.params(key=key))
evaluate = jax.jit(FAMILY.evaluate, static_argnames="length")


def test_grid_is_the_cell_centres():
    np.testing.assert_allclose(X, (np.arange(128) + 0.5) / 128, rtol=1e-15)


def test_evaluate_matches_formula_by_hand():
    params = solvers.InitialConditionParams(
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
    got = evaluate(params, x)
    # x = 0.25: -(0.5 sin(pi/2) + 0.25 cos(3 pi/2)) = -0.5, window ~ 1
    # x = 0.5: -(0.5 sin(pi) + 0.25 cos(3 pi)) = 0.25, window ~ 1
    # x = 0.99: outside (0.1, 0.9), window = (tanh(15) - tanh(9))/2 < 1e-7
    np.testing.assert_allclose(got, [-0.5, 0.25, 0.0], atol=1e-6)
    absolute = evaluate(
        dataclasses.replace(
            params, absolute=jnp.array(True), windowed=jnp.array(False)
        ),
        x,
    )
    np.testing.assert_allclose(absolute[:2], [0.5, 0.25], atol=1e-6)


@jax.jit
def _draws_and_fields(key):
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(4000))
    params = jax.vmap(lambda k: FAMILY.params(key=k))(keys)
    return params, FAMILY.batch(GRID, 4000, key=key)[:, 0]


@pytest.fixture(scope="module")
def many():
    """The draws and the fields of samples 0 .. 3999 of key(0)."""
    return jax.tree.map(np.asarray, _draws_and_fields(jax.random.key(0)))


def test_one_field_is_evaluate_of_its_draws(many):
    params, fields = many
    key = jax.random.fold_in(jax.random.key(0), 7)  # sample 7
    field = one(GRID, key=key)
    assert field.shape == (1, 128) and field.dtype == jnp.float32
    np.testing.assert_allclose(field[0], fields[7], rtol=1e-6, atol=1e-6)
    draws_7 = jax.tree.map(lambda a: a[7], params)
    expected = evaluate(draws_7, jnp.asarray(X, jnp.float32))
    np.testing.assert_allclose(field[0], expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="PDEBenchSines is 1-D"):
        FAMILY(solvers.Grid((8, 8)), key=key)


def test_deterministic_and_chunk_independent():
    key = jax.random.key(3)
    whole = batch(GRID, 6, key=key)
    again = batch(GRID, 6, key=jax.random.key(3))
    tail = batch(GRID, 6, key=key, start=3)  # samples 3 .. 8
    other = batch(GRID, 6, key=jax.random.key(4))
    assert whole.shape == (6, 1, 128) and whole.dtype == jnp.float32
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_array_equal(whole[3:], tail[:3])
    assert not np.allclose(whole, other)
    np.testing.assert_allclose(  # sample i is drawn from fold_in(key, i)
        whole[5], one(GRID, key=jax.random.fold_in(key, 5)), rtol=1e-6, atol=1e-6
    )


def test_jit_and_vmap():
    keys = jax.random.split(jax.random.key(0), 3)
    batched = jax.jit(jax.vmap(lambda k: FAMILY.batch(GRID, 6, key=k)))(keys)
    assert batched.shape == (3, 6, 1, 128)
    np.testing.assert_allclose(
        batched[1], batch(GRID, 6, key=keys[1]), rtol=1e-6, atol=1e-6
    )


def test_distribution(many):
    n = 4000
    p, u = many
    assert np.abs(u).max() <= 2.0
    assert np.all((p.amplitudes >= 0) & (p.amplitudes < 1))
    assert np.all((p.phases >= 0) & (p.phases <= 2 * np.pi + 1e-6))
    counts = np.bincount(p.wavenumbers.ravel(), minlength=5)
    assert counts[0] == 0 and counts.sum() == 2 * n
    np.testing.assert_allclose(counts[1:] / (2 * n), 0.25, atol=0.02)
    assert np.all((p.x1 >= 0.1) & (p.x1 <= 0.45) & (p.x2 >= 0.55) & (p.x2 <= 0.9))
    # 3 sigma of a binomial(4000, 0.1) fraction is 0.014
    assert abs(float(np.mean(p.windowed)) - 0.1) < 0.015
    assert abs(float(np.mean(p.absolute)) - 0.1) < 0.015
    assert abs(float(np.mean(p.sign < 0)) - 0.5) < 0.025
    # the values agree with the flags: |u0| samples are >= 0, windowed vanish at x=0
    assert np.all(u[p.absolute] >= 0)
    assert np.all(np.abs(u[p.windowed, 0]) < 1e-6)
    assert np.mean(np.abs(u[~p.windowed, 0]) > 1e-3) > 0.9


@pytest.mark.parametrize("enable", [False, True])
def test_same_values_with_float64_switched_on(enable):
    x32 = batch(GRID, 6, key=jax.random.key(1))  # (the shape compiled above)
    with jax.enable_x64(enable):
        p = draws(jax.random.key(1))
        assert p.amplitudes.dtype == jnp.float32
        x64 = batch(GRID, 6, key=jax.random.key(1))
        assert x64.dtype == (jnp.float64 if enable else jnp.float32)
    np.testing.assert_allclose(x64, x32, atol=2e-6)
