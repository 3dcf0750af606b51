"""Held-out validation in `fit`: the logged loss, the best model, resume."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_testlib import Regressor, mse_loss, noisy_loss, param_leaves

from sciml.training import Checkpoints, fit, init_train_state, load_model


def _batch(seed, target, n=8):
    """Inputs in [-1, 1] and a constant target."""
    x = jax.random.uniform(jax.random.key(seed), (n, 1), minval=-1.0, maxval=1.0)
    return x, jnp.full((n, 1), target)


# Trained towards 1.0 and validated against 0.4: the validation loss falls while
# the output passes 0.4 (best at step 6) and rises after, so the best model is
# neither the first nor the last one evaluated.
TRAIN = [_batch(i, 1.0) for i in range(20)]
VALIDATION = [_batch(100, 0.4), _batch(101, 0.4)]


def _model_and_key():
    """Fixed keys: the shape of the validation curve above depends on them."""
    return Regressor(1, 4, key=jax.random.key(1)), jax.random.key(3)


def _assert_same_leaves(a, b):
    a, b = param_leaves(a), param_leaves(b)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _by_hand(loss_fn, model, batches, key):
    """The documented validation: batch j gets fold_in(fold_in(key, 2**32-1), j)."""
    base = jax.random.fold_in(key, 2**32 - 1)
    loss = eqx.filter_jit(loss_fn)
    outs = [loss(model, b, jax.random.fold_in(base, j)) for j, b in enumerate(batches)]
    return (
        np.mean([float(v) for v, _ in outs]),
        {k: np.mean([float(m[k]) for _, m in outs]) for k in outs[0][1]},
    )


def test_val_loss_is_the_loss_fn_on_the_validation_batches(tmp_path):
    model, key = _model_and_key()
    optimizer = optax.adam(0.05)
    # A one-shot generator is read once, so both evaluations see both batches.
    result = fit(
        model,
        noisy_loss,
        TRAIN,
        optimizer,
        steps=6,
        key=key,
        run_dir=tmp_path,
        log_every=2,
        checkpoint_every=3,
        validation=(b for b in VALIDATION),
        validate_every=3,
        progress=False,
    )
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert [r["step"] for r in records] == [2, 3, 4, 6]  # validations are logged
    assert [r["step"] for r in result.history] == [2, 3, 4, 6]
    assert ["val_loss" in r for r in records] == [False, True, False, True]
    template = init_train_state(model, optimizer)
    at_3 = Checkpoints(tmp_path / "checkpoints", keep=3).restore(template, 3).model
    for step, trained in ((3, at_3), (6, result.model)):
        (record,) = [r for r in records if r["step"] == step]
        val_loss, val_metrics = _by_hand(noisy_loss, trained, VALIDATION, key)
        np.testing.assert_allclose(record["val_loss"], val_loss, rtol=1e-6)
        assert set(record["val_metrics"]) == {"mse", "noise_draw"}
        for name, value in val_metrics.items():
            np.testing.assert_allclose(record["val_metrics"][name], value, rtol=1e-6)
    assert records[1]["val_loss"] != records[3]["val_loss"]
    # The evaluation key is fixed: the same draw at every validation.
    draws = [r["val_metrics"]["noise_draw"] for r in records if "val_loss" in r]
    assert draws[0] == draws[1]


def test_best_model_is_the_model_at_the_best_step(tmp_path):
    model, key = _model_and_key()
    common = dict(key=key, log_every=100, progress=False)
    result = fit(
        model,
        noisy_loss,
        TRAIN,
        optax.adam(0.05),
        steps=20,
        run_dir=tmp_path,
        validation=lambda: VALIDATION,  # a callable, called at every evaluation
        validate_every=3,
        **common,
    )
    val = {r["step"]: r["val_loss"] for r in result.history}
    assert sorted(val) == [3, 6, 9, 12, 15, 18, 20]
    assert result.best_step == min(val, key=val.get)
    assert result.best_val_loss == min(val.values())
    assert result.best_step not in (3, 20)  # the test means something
    assert result.step == 20  # the returned model stays the final one
    stopped = fit(
        model, noisy_loss, TRAIN, optax.adam(0.05), steps=result.best_step, **common
    )
    _assert_same_leaves(result.best_model, stopped.model)
    # On disk: the best model in save_model format, its step and loss beside it.
    assert result.best_model_path == tmp_path / "best_model.eqx"
    _assert_same_leaves(load_model(result.best_model_path), stopped.model)
    info = json.loads((tmp_path / "best.json").read_text())
    assert info == {"step": result.best_step, "val_loss": result.best_val_loss}
    _assert_same_leaves(load_model(tmp_path / "model.eqx"), result.model)


def test_resume_with_validation_is_bit_identical(tmp_path):
    model, key = _model_and_key()
    optimizer = optax.adam(0.05)
    common = dict(
        key=key,
        log_every=100,
        checkpoint_every=5,
        validation=VALIDATION,
        validate_every=3,
        progress=False,
    )
    straight = fit(model, noisy_loss, TRAIN, optimizer, steps=20, **common)
    assert straight.best_step < 10  # so the resumed run must restore it
    first = fit(
        model, noisy_loss, TRAIN, optimizer, steps=10, run_dir=tmp_path, **common
    )
    assert first.best_step == straight.best_step
    resumed = fit(
        model,
        noisy_loss,
        TRAIN,
        optimizer,
        steps=20,
        run_dir=tmp_path,
        resume=True,
        return_best=True,
        **common,
    )
    assert resumed.num_traces == 1
    assert resumed.best_step == straight.best_step
    assert resumed.best_val_loss == straight.best_val_loss
    _assert_same_leaves(resumed.best_model, straight.best_model)
    _assert_same_leaves(resumed.model, straight.best_model)  # return_best=True
    _assert_same_leaves(resumed.state.model, straight.model)  # state stays final

    def logged(history):
        return [(r["step"], r["val_loss"], r["val_metrics"]) for r in history]

    assert logged(resumed.history) == logged(straight.history[3:])
    _assert_same_leaves(load_model(resumed.best_model_path), straight.best_model)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"validate_every": 2}, ValueError, "`validate_every` without `validation`"),
        ({"return_best": True}, ValueError, "`return_best=True` without"),
        ({"validation": 3}, TypeError, "Expected `validation` to be a list"),
        ({"validation": jnp.zeros(3)}, TypeError, "a single batch goes in a list"),
        ({"validation": [], "validate_every": 0}, ValueError, "validate_every"),
        ({"validation": [], "return_best": 1}, TypeError, "return_best must be"),
    ],
)
def test_validation_arguments_are_checked(getkey, no_typecheck, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit(
            Regressor(1, 4, key=getkey()),
            mse_loss,
            TRAIN,
            optax.sgd(0.1),
            steps=1,
            **kwargs,
        )


def test_validation_batches_must_look_like_training_batches(getkey, no_typecheck):
    model = Regressor(1, 4, key=getkey())
    # A bare (x, y) pair is two "batches" of one array each: a clear error.
    with pytest.raises(ValueError, match=r"a single batch goes in a list"):
        fit(
            model,
            mse_loss,
            TRAIN,
            optax.sgd(0.1),
            steps=1,
            validation=VALIDATION[0],
            progress=False,
        )
    with pytest.raises(ValueError, match="gave no batches"):
        fit(
            model,
            mse_loss,
            TRAIN,
            optax.sgd(0.1),
            steps=1,
            validation=lambda: [],
            progress=False,
        )
