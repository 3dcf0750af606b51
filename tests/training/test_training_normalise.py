"""Per-channel normalisation: statistics, the wrapper, training and saving."""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_testlib import Regressor, mse_loss, param_leaves, regression_data

from sciml.training import (
    Normalised,
    Normaliser,
    _normalise,
    count_parameters,
    fit,
    load_model,
    save_model,
)


def _fields(n=40, seed=0):
    """(N, C, X) float32 samples whose 3 channels have very different scales."""
    rng = np.random.default_rng(seed)
    mean = np.array([5.0, -300.0, 1e4])[None, :, None]
    scale = np.array([0.1, 20.0, 3.0])[None, :, None]
    return (mean + scale * rng.standard_normal((n, 3, 16))).astype(np.float32)


def test_normalised_data_has_mean_zero_std_one_per_channel():
    u = _fields()
    norm = Normaliser.from_data(u)
    assert norm.channels == 3 and norm.channel_axis == 0
    # The statistics are float64 ones over samples and space.
    u64 = u.astype(np.float64)
    np.testing.assert_allclose(norm.mean, u64.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(norm.std, u64.std(axis=(0, 2)), rtol=1e-12)
    z = np.asarray(jax.vmap(norm.normalise)(u))  # one sample (C, X) at a time
    assert z.dtype == np.float32
    z = z.astype(np.float64)
    np.testing.assert_allclose(z.mean(axis=(0, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=(0, 2)), 1.0, atol=1e-6)
    back = np.asarray(jax.vmap(norm.denormalise)(z))
    np.testing.assert_allclose(back, u, rtol=1e-6)


def test_streamed_statistics_match_the_whole_array(monkeypatch):
    u = _fields(n=50)
    whole = Normaliser.from_data(u)
    chunks = Normaliser.from_data([u[:7], u[7:30], u[30:]])  # e.g. batches
    monkeypatch.setattr(_normalise, "_BLOCK_ELEMENTS", 100)  # many small blocks
    blocks = Normaliser.from_data(u)
    for other in (chunks, blocks):
        np.testing.assert_allclose(other.mean, whole.mean, rtol=1e-12)
        np.testing.assert_allclose(other.std, whole.std, rtol=1e-12)


def test_channel_last_and_points():
    u = np.moveaxis(_fields(), 1, -1)  # (N, X, C)
    last = Normaliser.from_data(u, channel_axis=-1)
    first = Normaliser.from_data(_fields())
    np.testing.assert_allclose(last.mean, first.mean, rtol=1e-12)
    z = np.asarray(last.normalise(u))  # a negative axis also fits a batch
    np.testing.assert_allclose(z.astype(np.float64).mean(axis=(0, 1)), 0.0, atol=1e-6)
    points = Normaliser.from_data(np.arange(12.0).reshape(6, 2))  # (N, d)
    assert points.mean == (5.0, 6.0)
    np.testing.assert_allclose(points.std, np.std(np.arange(0.0, 12.0, 2.0)))


def test_constant_channel_is_only_shifted(caplog):
    u = _fields()
    u[:, 1] = 7.0
    with caplog.at_level(logging.WARNING, logger="sciml.training"):
        norm = Normaliser.from_data(u)
    assert norm.mean[1] == 7.0 and norm.std[1] == 1.0
    assert "channels [1]" in caplog.text and "constant" in caplog.text
    assert np.all(np.asarray(jax.vmap(norm.normalise)(u))[:, 1] == 0.0)


def test_statistics_are_not_trained_and_survive_save_load(getkey, tmp_path):
    x, y = regression_data(32)
    in_norm, out_norm = Normaliser.from_data(x), Normaliser.from_data(y)
    model = Normalised(Regressor(1, 4, key=getkey()), in_norm, out_norm)
    # The statistics are no parameters: the optimiser never sees them.
    assert count_parameters(model) == count_parameters(model.model)
    assert len(param_leaves(model)) == len(param_leaves(model.model))
    stats = (in_norm.mean, in_norm.std, out_norm.mean, out_norm.std)
    result = fit(
        model,
        mse_loss,
        lambda step: (x, y),
        optax.adamw(0.05, weight_decay=0.5),  # decay would move any leaf
        steps=5,
        progress=False,
    )
    trained = result.model
    after = (trained.in_norm.mean, trained.in_norm.std)
    after += (trained.out_norm.mean, trained.out_norm.std)
    assert after == stats  # bit for bit (Python floats)
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(param_leaves(model), param_leaves(trained), strict=True)
    ]
    assert all(changed)
    # The wrapper computes denormalise(model(normalise(x))).
    apply = eqx.filter_jit(jax.vmap(lambda m, x: m(x), in_axes=(None, 0)))
    pred = apply(trained, x)
    inner = jax.vmap(
        lambda s: out_norm.denormalise(trained.model(in_norm.normalise(s)))
    )
    np.testing.assert_allclose(np.asarray(pred), np.asarray(inner(x)), rtol=1e-6)

    loaded = load_model(save_model(tmp_path / "normalised.eqx", trained))
    assert isinstance(loaded, Normalised) and isinstance(loaded.in_norm, Normaliser)
    assert (loaded.in_norm.mean, loaded.in_norm.std) == stats[:2]
    assert (loaded.out_norm.mean, loaded.out_norm.std) == stats[2:]
    np.testing.assert_array_equal(np.asarray(apply(loaded, x)), np.asarray(pred))


def test_one_side_may_be_left_alone(getkey):
    inner = Regressor(1, 4, key=getkey())
    x = jnp.array([0.3])
    only_out = Normalised(inner, out_norm=Normaliser([1.0], [2.0]))
    assert only_out.in_norm is None
    np.testing.assert_allclose(only_out(x), inner(x) * 2.0 + 1.0, rtol=1e-6)
    np.testing.assert_allclose(Normalised(inner)(x), inner(x), rtol=0)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((["a"], [1.0]), {}, TypeError, "mean must hold real numbers"),
        (("0.0", [1.0]), {}, TypeError, "mean must be a sequence"),
        (([0.0, 1.0], [1.0]), {}, ValueError, "2 means and 1 stds"),
        (([0.0], [0.0]), {}, ValueError, "every std must be > 0"),
        (([0.0], [np.nan]), {}, ValueError, "std must be finite"),
        (([], []), {}, ValueError, "non-empty flat sequence"),
        (([0.0], [1.0]), {"channel_axis": 0.5}, TypeError, "channel_axis must be"),
    ],
)
def test_normaliser_checks_its_arguments(no_typecheck, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        Normaliser(*args, **kwargs)


def test_bad_data_and_inputs_are_clear_errors(getkey, no_typecheck):
    with pytest.raises(TypeError, match="must be an array of samples"):
        Normaliser.from_data(3.0)
    with pytest.raises(ValueError, match="leading sample axis"):
        Normaliser.from_data(np.zeros(5))
    bad = _fields()
    bad[3, 2, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        Normaliser.from_data(bad)
    with pytest.raises(TypeError, match="real numbers"):
        Normaliser.from_data(np.zeros((4, 2), dtype=complex))
    with pytest.raises(ValueError, match="holds no samples"):
        Normaliser.from_data([])
    norm = Normaliser.from_data(_fields())
    with pytest.raises(ValueError, match="expected an array with 3 channels on axis 0"):
        norm.normalise(jnp.zeros((2, 16)))
    with pytest.raises(TypeError, match="callable eqx.Module"):
        Normalised(lambda x: x)
    with pytest.raises(TypeError, match="in_norm must be a Normaliser"):
        Normalised(Regressor(1, 4, key=getkey()), in_norm=(0.0, 1.0))
