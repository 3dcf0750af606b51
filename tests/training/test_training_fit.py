import json
import logging

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_testlib import (
    Regressor,
    mse_loss,
    noisy_loss,
    param_leaves,
    regression_data,
)

from sciml.training import Checkpoints, NonFiniteLossError, fit, load_model


def _batches(n_steps, n=16):
    """A deterministic list of distinct batches (rebuilt identically on resume)."""
    return [regression_data(n, seed=i) for i in range(n_steps)]


def test_fit_decreases_loss_with_one_trace_and_logs(getkey, tmp_path):
    model = Regressor(1, 16, key=getkey())
    batch = regression_data(64)
    loss = eqx.filter_jit(mse_loss)  # one compile, not one per operation
    before, _ = loss(model, batch, None)
    result = fit(
        model,
        mse_loss,
        lambda step: batch,
        optax.adam(1e-2),
        steps=150,
        run_dir=tmp_path,
        log_every=50,
        checkpoint_every=1000,
        progress=True,
    )
    after, _ = loss(result.model, batch, None)
    assert float(after) < 0.2 * float(before)
    assert result.step == 150
    assert result.num_traces == 1
    assert [r["step"] for r in result.history] == [50, 100, 150]
    assert result.history[-1]["loss"] < result.history[0]["loss"]

    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["step"] for r in records] == [50, 100, 150]
    for r in records:
        assert set(r) == {"step", "loss", "metrics", "steps_per_s", "elapsed_s", "time"}
        assert set(r["metrics"]) == {"mse"}
        assert r["steps_per_s"] > 0
    # The final checkpoint and a self-describing model file are written.
    assert Checkpoints(tmp_path / "checkpoints", keep=3).steps() == [150]
    loaded = load_model(result.model_path)
    x = batch[0]
    apply = eqx.filter_jit(lambda m, x: m(x))
    np.testing.assert_array_equal(
        np.asarray(apply(result.model, x[0])), np.asarray(apply(loaded, x[0]))
    )


def test_batch_shape_change_is_a_clear_error(getkey):
    x, y = regression_data(20)
    batches = [(x[:8], y[:8]), (x[8:16], y[8:16]), (x[16:], y[16:])]
    with pytest.raises(ValueError) as info:
        fit(
            Regressor(1, 4, key=getkey()),
            mse_loss,
            batches,
            optax.sgd(1e-2),
            steps=3,
            progress=False,
        )
    msg = str(info.value)
    assert "step 2" in msg
    assert "float32[8, 1]" in msg and "float32[4, 1]" in msg
    assert "drop the remainder" in msg


def test_iterable_running_out_is_a_clear_error(getkey):
    with pytest.raises(ValueError, match="ran out at step 2"):
        fit(
            Regressor(1, 4, key=getkey()),
            mse_loss,
            _batches(2),
            optax.sgd(1e-2),
            steps=5,
            progress=False,
        )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"steps": 0}, ValueError, "fit: steps must be >= 1"),
        ({"steps": True}, TypeError, "fit: steps must be an integer"),
        ({"steps": 2.0}, TypeError, "fit: steps must be an integer"),
        ({"steps": 5, "log_every": 0}, ValueError, "log_every must be >= 1"),
        ({"steps": 5, "keep": 0}, ValueError, "keep must be >= 1"),
        ({"steps": 5, "resume": "no"}, TypeError, "resume must be True or False"),
        ({"steps": 5, "resume": True}, ValueError, "without a `run_dir`"),
    ],
)
def test_fit_validates_inputs(getkey, no_typecheck, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit(Regressor(1, 4, key=getkey()), mse_loss, [], optax.sgd(1e-2), **kwargs)


def test_fit_rejects_wrong_types(getkey, no_typecheck):
    model = Regressor(1, 4, key=getkey())
    with pytest.raises(TypeError, match="loss_fn"):
        fit(model, "mse", [], optax.sgd(1e-2), steps=1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, mse_loss, [], "adam", steps=1)
    with pytest.raises(TypeError, match="batches"):
        fit(model, mse_loss, 3, optax.sgd(1e-2), steps=1, progress=False)


def test_resume_is_bit_identical_and_metrics_append(getkey, tmp_path):
    model = Regressor(1, 8, key=getkey())
    optimizer = optax.adam(1e-2)
    key = getkey()
    common = dict(key=key, log_every=5, checkpoint_every=5, progress=False)
    straight = fit(model, noisy_loss, _batches(20), optimizer, steps=20, **common)
    split_dir = tmp_path / "split"
    first = fit(
        model,
        noisy_loss,
        _batches(20),
        optimizer,
        steps=10,
        run_dir=split_dir,
        **common,
    )
    assert first.step == 10
    with pytest.raises(ValueError, match="resume=True"):
        fit(
            model,
            noisy_loss,
            _batches(20),
            optimizer,
            steps=20,
            run_dir=split_dir,
            **common,
        )
    # Resume: the first 10 batches of the (rebuilt) list are skipped, and the key
    # stored in the checkpoint wins over a different one passed here.
    resumed = fit(
        model,
        noisy_loss,
        _batches(20),
        optimizer,
        steps=20,
        key=getkey(),
        run_dir=split_dir,
        resume=True,
        log_every=5,
        checkpoint_every=5,
        progress=False,
    )
    assert resumed.step == 20 and resumed.num_traces == 1
    a = param_leaves((straight.model, straight.opt_state))
    b = param_leaves((resumed.model, resumed.opt_state))
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))

    def logged(history):
        return [(r["step"], r["loss"], r["metrics"]) for r in history]

    assert logged(resumed.history) == logged(straight.history[2:])

    # The metrics file reads like one run: no duplicated steps.
    lines = (split_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [5, 10, 15, 20]


def test_resume_bit_identical_with_same_key_and_callable_batches(getkey, tmp_path):
    model = Regressor(1, 8, key=getkey())
    optimizer = optax.adam(1e-2)
    data = _batches(20)
    common = dict(key=getkey(), log_every=4, checkpoint_every=4, progress=False)
    straight = fit(model, noisy_loss, data.__getitem__, optimizer, steps=20, **common)
    fit(
        model,
        noisy_loss,
        data.__getitem__,
        optimizer,
        steps=12,
        run_dir=tmp_path,
        **common,
    )
    resumed = fit(
        model,
        noisy_loss,
        data.__getitem__,
        optimizer,
        steps=20,
        run_dir=tmp_path,
        resume=True,
        **common,
    )
    for x, y in zip(
        param_leaves(straight.model), param_leaves(resumed.model), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert [r["loss"] for r in straight.history[3:]] == [
        r["loss"] for r in resumed.history
    ]


def test_resume_without_checkpoint_starts_from_scratch(getkey, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="sciml.training"):
        result = fit(
            Regressor(1, 4, key=getkey()),
            mse_loss,
            _batches(3),
            optax.sgd(1e-2),
            steps=3,
            run_dir=tmp_path,
            resume=True,
            progress=False,
        )
    assert result.step == 3
    assert "starting from scratch" in caplog.text


def test_keeps_last_k_checkpoints(getkey, tmp_path):
    result = fit(
        Regressor(1, 4, key=getkey()),
        mse_loss,
        _batches(12, n=8),
        optax.sgd(1e-2),
        steps=12,
        run_dir=tmp_path,
        log_every=4,
        checkpoint_every=2,
        keep=3,
        progress=False,
    )
    ckpt_dir = tmp_path / "checkpoints"
    assert Checkpoints(ckpt_dir, keep=3).steps() == [8, 10, 12]
    assert sorted(p.name for p in ckpt_dir.iterdir()) == ["10", "12", "8"]
    assert result.checkpoint == ckpt_dir / "12"


def test_nan_guard_names_step_and_keeps_last_good_checkpoint(getkey, tmp_path):
    model = Regressor(1, 8, key=getkey())
    optimizer = optax.adam(1e-2)
    x, y = regression_data(16)

    def batches(step):
        return (x.at[0, 0].set(jnp.nan) if step == 7 else x, y)

    with pytest.raises(NonFiniteLossError) as info:
        fit(
            model,
            mse_loss,
            batches,
            optimizer,
            steps=20,
            run_dir=tmp_path,
            log_every=5,
            checkpoint_every=5,
            progress=False,
        )
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert err.step == 7
    assert "non-finite at step 7" in str(err) and "loss (nan)" in str(err)
    assert err.checkpoint == tmp_path / "checkpoints" / "5"
    assert str(err.checkpoint) in str(err)

    ckpts = Checkpoints(tmp_path / "checkpoints", keep=3)
    assert ckpts.steps() == [5]
    template = err.state
    restored = ckpts.restore(template)
    assert int(restored.step) == 5
    for leaf in param_leaves((restored.model, restored.opt_state)):
        assert np.all(np.isfinite(np.asarray(leaf)))
    # The in-memory state is the last good one (step 7 and later were skipped).
    assert int(err.state.step) == 7
    records = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in records] == [5]
    assert not (tmp_path / "model.eqx").exists()


def test_nan_guard_without_run_dir(getkey):
    x, y = regression_data(8)
    with pytest.raises(NonFiniteLossError, match="step 2.*No checkpoint was written"):
        fit(
            Regressor(1, 4, key=getkey()),
            mse_loss,
            lambda step: (x * jnp.where(step >= 2, jnp.inf, 1.0), y),
            optax.sgd(1e-2),
            steps=4,
            log_every=100,
            progress=False,
        )


def test_restore_into_wrong_model_is_a_clear_error(getkey, tmp_path):
    fit(
        Regressor(1, 4, key=getkey()),
        mse_loss,
        _batches(2),
        optax.sgd(1e-2),
        steps=2,
        run_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(ValueError, match="does not fit the given model"):
        fit(
            Regressor(1, 6, key=getkey()),
            mse_loss,
            _batches(4),
            optax.sgd(1e-2),
            steps=4,
            run_dir=tmp_path,
            resume=True,
            progress=False,
        )


def test_crashed_save_is_not_a_checkpoint(getkey, tmp_path):
    """orbax writes `<step>.orbax-checkpoint-tmp` and renames it when complete."""
    model = Regressor(1, 4, key=getkey())
    fit(
        model,
        mse_loss,
        _batches(2),
        optax.sgd(1e-2),
        steps=2,
        run_dir=tmp_path,
        progress=False,
    )
    crashed = tmp_path / "checkpoints" / "4.orbax-checkpoint-tmp"
    (crashed / "state").mkdir(parents=True)
    (crashed / "state" / "half-written").write_bytes(b"...")
    result = fit(
        model,
        mse_loss,
        _batches(4),
        optax.sgd(1e-2),
        steps=4,
        run_dir=tmp_path,
        resume=True,
        log_every=1,
        progress=False,
    )
    # Resumed from step 2: the torn save of step 4 was ignored.
    assert [r["step"] for r in result.history] == [3, 4]
    assert not crashed.exists()
    assert Checkpoints(tmp_path / "checkpoints", keep=3).steps() == [2, 4]


def test_checkpoint_past_steps_is_a_clear_error(getkey, tmp_path):
    model = Regressor(1, 4, key=getkey())
    fit(
        model,
        mse_loss,
        _batches(3),
        optax.sgd(1e-2),
        steps=3,
        run_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(ValueError, match="at step 3, past `steps=2`"):
        fit(
            model,
            mse_loss,
            _batches(3),
            optax.sgd(1e-2),
            steps=2,
            run_dir=tmp_path,
            resume=True,
            progress=False,
        )
