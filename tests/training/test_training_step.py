import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_testlib import Regressor, mse_loss, param_leaves, regression_data

from sciml.training import TrainState, init_train_state, make_step


def test_make_step_in_a_plain_user_loop(getkey):
    model = Regressor(1, 16, key=getkey())
    optimizer = optax.adam(1e-2)
    step = make_step(mse_loss, optimizer)
    state = init_train_state(model, optimizer, key=getkey())
    batch = regression_data()
    first, _ = mse_loss(model, batch, None)
    for _ in range(60):
        state, loss, metrics = step(batch, state)
    assert isinstance(state, TrainState)
    assert int(state.step) == 60 and int(state.bad_step) == -1
    assert float(loss) < 0.5 * float(first)
    assert set(metrics) == {"mse"}
    # The state is donated, but the caller's model was copied and is still usable.
    assert all(not x.is_deleted() for x in param_leaves(model))
    mse_loss(model, batch, None)
    # A batch of another shape would recompile: that is an error, not a slowdown.
    x, y = batch
    with pytest.raises(RuntimeError, match="traced"):
        step((x[:5], y[:5]), state)


def test_per_step_key_is_fold_in_of_base_key(getkey):
    def loss_fn(model, batch, key):
        loss, _ = mse_loss(model, batch, key)
        return loss, {"draw": jax.random.uniform(key)}

    optimizer = optax.sgd(1e-3)
    step = make_step(loss_fn, optimizer)
    base = jax.random.key(42)
    state = init_train_state(Regressor(1, 4, key=getkey()), optimizer, key=base)
    batch = regression_data(8)
    for i in range(3):
        state, _, metrics = step(batch, state)
        expected = jax.random.uniform(jax.random.fold_in(base, i))
        assert float(metrics["draw"]) == float(expected)


def _snapshot(state):
    return [np.asarray(x) for x in param_leaves((state.model, state.opt_state))]


def test_nan_guard_skips_update_and_freezes_state(getkey):
    optimizer = optax.adam(1e-2)
    step = make_step(mse_loss, optimizer)
    state = init_train_state(Regressor(1, 8, key=getkey()), optimizer)
    x, y = regression_data(8)
    for _ in range(3):
        state, _, _ = step((x, y), state)
    good = _snapshot(state)
    state, loss, _ = step((x.at[0, 0].set(jnp.nan), y), state)
    assert not np.isfinite(float(loss))
    assert int(state.bad_step) == 3 and int(state.step) == 3
    # Later (finite) steps are no-ops: the state stays the last good one.
    state, loss, _ = step((x, y), state)
    assert np.isfinite(float(loss))
    assert int(state.bad_step) == 3 and int(state.step) == 3
    for a, b in zip(good, _snapshot(state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nan_guard_catches_non_finite_gradient_with_finite_loss(getkey):
    def loss_fn(model, batch, key):
        x, y, flag = batch
        loss, metrics = mse_loss(model, (x, y), key)
        w = model.mlp.layers[0].weight[0, 0]
        # flag 1: adds sqrt(0) = 0 with gradient 0.5 / sqrt(0) * 0 = NaN.
        # flag 0: adds sqrt(1) with gradient 0.
        u = flag * (jnp.abs(w) - jnp.abs(w)) + (1.0 - flag)
        return loss + jnp.sqrt(u), metrics

    optimizer = optax.sgd(1e-2)
    step = make_step(loss_fn, optimizer)
    state = init_train_state(Regressor(1, 4, key=getkey()), optimizer)
    x, y = regression_data(8)
    state, _, _ = step((x, y, jnp.array(0.0)), state)
    state, loss, _ = step((x, y, jnp.array(1.0)), state)
    assert np.isfinite(float(loss))
    assert int(state.bad_step) == 1


def test_loss_fn_must_return_scalar_and_metrics(getkey):
    optimizer = optax.sgd(1e-2)
    model = Regressor(1, 4, key=getkey())
    batch = regression_data(8)

    def no_metrics(model, batch, key):
        return mse_loss(model, batch, key)[0]

    def not_scalar(model, batch, key):
        x, y = batch
        return (jax.vmap(model)(x) - y) ** 2, {}

    for loss_fn, match in [(no_metrics, "pair"), (not_scalar, "scalar")]:
        step = make_step(loss_fn, optimizer)
        state = init_train_state(model, optimizer)
        with pytest.raises(ValueError, match=match):
            step(batch, state)


def test_init_train_state_rejects_bad_key_and_paramless_model(getkey):
    optimizer = optax.sgd(1e-2)
    model = Regressor(1, 4, key=getkey())
    with pytest.raises(ValueError, match="PRNG key"):
        init_train_state(model, optimizer, key=jnp.zeros(3))
    with pytest.raises(TypeError, match="PRNG key"):
        init_train_state(model, optimizer, key=0)
    with pytest.raises(ValueError, match="step must be >= 0"):
        init_train_state(model, optimizer, step=-1)
    # Legacy uint32 keys are accepted and wrapped.
    state = init_train_state(model, optimizer, key=jax.random.PRNGKey(0))
    assert jnp.issubdtype(state.key.dtype, jax.dtypes.prng_key)
    with pytest.raises(ValueError, match="floating-point array"):
        init_train_state(eqx.nn.Lambda(jnp.sin), optimizer)


def test_a_line_search_optimizer_gets_the_loss_of_the_step(getkey):
    # optax.lbfgs needs value, grad and value_fn: the step passes them, and on a
    # least-squares fit it goes far below what the same number of Adam steps do.
    model = Regressor(1, 16, key=getkey())
    batch = regression_data()
    first, _ = mse_loss(model, batch, None)
    final = {}
    for name, optimizer in [("lbfgs", optax.lbfgs()), ("adam", optax.adam(1e-2))]:
        step = make_step(mse_loss, optimizer)
        state = init_train_state(model, optimizer, key=getkey())
        for _ in range(40):
            state, loss, _ = step(batch, state)
        assert int(state.bad_step) == -1
        final[name], _ = mse_loss(state.model, batch, None)
    assert float(final["lbfgs"]) < 0.1 * float(final["adam"]) < 0.1 * float(first)

    # a plain GradientTransformation (no extra arguments) still works
    plain = optax.GradientTransformation(
        lambda p: optax.EmptyState(),
        lambda g, s, p=None: (jax.tree.map(lambda x: -1e-2 * x, g), s),
    )
    state = init_train_state(model, plain, key=getkey())
    state, loss, _ = make_step(mse_loss, plain)(batch, state)
    assert np.isfinite(float(loss))
