"""The `on_non_finite` policies of `make_step` and `fit`: "stop" and "skip"."""

import json
import logging
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_testlib import Regressor, noisy_loss, param_leaves, regression_data

from sciml.training import (
    NON_FINITE_POLICIES,
    Checkpoints,
    NonFiniteLossError,
    fit,
    init_train_state,
    make_step,
)

GOOD, NAN_LOSS, NAN_GRAD = 0, 1, 2


def flaky_loss(model, batch, key):
    """`noisy_loss`, made non-finite by the batch's `kind`: NAN_LOSS gives a NaN
    loss, NAN_GRAD a finite loss with a NaN gradient (sqrt at 0 times a zero
    derivative); GOOD adds exactly 0."""
    x, y, kind = batch
    loss, metrics = noisy_loss(model, (x, y), key)
    w = model.mlp.layers[0].weight[0, 0]
    u = jnp.where(kind == NAN_GRAD, jnp.abs(w) - jnp.abs(w), 1.0)
    nan = jnp.where(kind == NAN_LOSS, jnp.nan, 0.0)
    return loss + (jnp.sqrt(u) - 1.0) + nan, metrics


def _batches(kinds: dict[int, int], n: int = 8):
    """`step -> batch`: batch `i` has its own data and the kind `kinds.get(i)`."""

    def batch(step):
        x, y = regression_data(n, seed=step)
        return x, y, jnp.asarray(kinds.get(step, GOOD), dtype=jnp.int32)

    return batch


def _arrays(state):
    return [np.asarray(x) for x in param_leaves((state.model, state.opt_state))]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_policies_and_bad_option(getkey, no_typecheck):
    assert NON_FINITE_POLICIES == ("stop", "skip")
    model = Regressor(1, 4, key=getkey())
    with pytest.raises(ValueError, match="make_step: on_non_finite must be one of"):
        make_step(flaky_loss, optax.sgd(1e-2), on_non_finite="zero")
    with pytest.raises(ValueError, match="fit: on_non_finite must be one of 'stop'"):
        fit(
            model,
            flaky_loss,
            _batches({}),
            optax.sgd(1e-2),
            steps=2,
            on_non_finite="ignore",
            progress=False,
        )
    state = init_train_state(model, optax.sgd(1e-2))
    assert state.skipped.dtype == jnp.int32 and int(state.skipped) == 0


def test_make_step_skip_skips_exactly_the_non_finite_updates(getkey):
    optimizer = optax.adam(1e-2)
    base = getkey()
    kinds = {2: NAN_LOSS, 3: NAN_GRAD, 6: NAN_LOSS}
    batches = _batches(kinds)
    model = Regressor(1, 8, key=getkey())

    step = make_step(flaky_loss, optimizer, on_non_finite="skip")
    state = init_train_state(model, optimizer, key=base)
    for i in range(9):
        before = _arrays(state)
        state, loss, metrics = step(batches(i), state)
        after = _arrays(state)
        # the step counter and the key advance on every step, skipped or not
        assert int(state.step) == i + 1
        expected_draw = jax.random.uniform(jax.random.fold_in(base, i))
        assert float(metrics["noise_draw"]) == float(expected_draw)
        if i in kinds:
            assert _same(before, after), f"step {i} was applied"
            assert np.isfinite(float(loss)) == (kinds[i] == NAN_GRAD)
        else:
            assert np.isfinite(float(loss))
            assert not _same(before, after), f"step {i} was not applied"
        assert int(state.skipped) == sum(1 for j in kinds if j <= i)
        assert int(state.bad_step) == (-1 if i < 2 else 2)  # the first stays
    assert all(np.all(np.isfinite(x)) for x in _arrays(state))

    # "stop" (the default) on the same batches: frozen at the first bad step.
    stop = make_step(flaky_loss, optimizer)
    state = init_train_state(model, optimizer, key=base)
    for i in range(5):
        state, _, _ = stop(batches(i), state)
        if i == 1:
            good = _arrays(state)
    assert int(state.step) == 2 and int(state.bad_step) == 2
    assert int(state.skipped) == 0
    assert _same(good, _arrays(state))


def test_fit_skip_counts_reports_and_trains_to_the_end(getkey, tmp_path, caplog):
    optimizer = optax.adam(1e-2)
    key = getkey()
    model = Regressor(1, 8, key=getkey())
    kinds = {3: NAN_LOSS, 5: NAN_GRAD, 6: NAN_LOSS, 7: NAN_LOSS}
    batches = _batches(kinds)
    with caplog.at_level(logging.WARNING, logger="sciml.training"):
        result = fit(
            model,
            flaky_loss,
            batches,
            optimizer,
            steps=12,
            key=key,
            run_dir=tmp_path,
            log_every=4,
            checkpoint_every=4,
            progress=False,
            on_non_finite="skip",
        )
    assert result.step == 12 and result.num_traces == 1
    assert int(result.state.skipped) == 4 and int(result.state.bad_step) == 3
    assert all(np.all(np.isfinite(x)) for x in _arrays(result.state))
    assert [r["skipped_steps"] for r in result.history] == [1, 4, 4]

    # The records are the means over the finite losses of each interval, the same
    # losses a plain make_step loop gives.
    step = make_step(flaky_loss, optimizer, on_non_finite="skip")
    state = init_train_state(model, optimizer, key=key)
    losses, mses = [], []
    for i in range(12):
        state, loss, metrics = step(batches(i), state)
        losses.append(float(loss))
        mses.append(float(metrics["mse"]))
    assert _same(_arrays(state), _arrays(result.state))
    for r, lo in zip(result.history, (0, 4, 8), strict=True):
        kept = [i for i in range(lo, lo + 4) if np.isfinite(losses[i])]
        assert kept == [i for i in range(lo, lo + 4) if kinds.get(i) != NAN_LOSS]
        assert r["loss"] == float(np.mean(np.float32([losses[i] for i in kept])))
        assert r["metrics"]["mse"] == float(
            np.mean(np.float32([mses[i] for i in kept]))
        )
        assert np.isfinite(r["loss"])

    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["skipped_steps"] for line in lines] == [1, 4, 4]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert "skipped 1 step(s)" in warned[0] and "steps 0-3" in warned[0]
    assert "1 in all so far" in warned[0] and "first at step 3" in warned[0]
    assert "skipped 3 step(s)" in warned[1] and "4 in all so far" in warned[1]
    assert Checkpoints(tmp_path / "checkpoints", keep=3).steps() == [4, 8, 12]


def test_fit_stop_still_raises(getkey):
    with pytest.raises(NonFiniteLossError) as info:
        fit(
            Regressor(1, 4, key=getkey()),
            flaky_loss,
            _batches({2: NAN_LOSS, 4: NAN_LOSS}),
            optax.sgd(1e-2),
            steps=8,
            log_every=4,
            progress=False,
            on_non_finite="stop",
        )
    err = info.value
    assert err.step == 2 and int(err.state.step) == 2
    assert int(err.state.skipped) == 0
    assert 'on_non_finite="skip"' in str(err)


def test_resume_with_skip_is_bit_identical(getkey, tmp_path):
    optimizer = optax.adam(1e-2)
    model = Regressor(1, 8, key=getkey())
    kinds = {3: NAN_LOSS, 9: NAN_GRAD, 10: NAN_LOSS}
    common = dict(
        key=getkey(),
        log_every=4,
        checkpoint_every=4,
        progress=False,
        on_non_finite="skip",
    )
    straight = fit(model, flaky_loss, _batches(kinds), optimizer, steps=16, **common)
    split_dir = tmp_path / "split"
    fit(
        model,
        flaky_loss,
        _batches(kinds),
        optimizer,
        steps=8,
        run_dir=split_dir,
        **common,
    )
    # The checkpoint keeps the count and the first bad step.
    ckpts = Checkpoints(split_dir / "checkpoints", keep=3)
    restored = ckpts.restore(init_train_state(model, optimizer))
    ckpts.close()
    assert int(restored.step) == 8
    assert int(restored.skipped) == 1 and int(restored.bad_step) == 3
    shutil.copytree(split_dir, tmp_path / "stop")

    resumed = fit(
        model,
        flaky_loss,
        _batches(kinds),
        optimizer,
        steps=16,
        run_dir=split_dir,
        resume=True,
        **common,
    )
    assert resumed.step == 16 and resumed.num_traces == 1
    assert _same(_arrays(straight.state), _arrays(resumed.state))
    for field in ("step", "skipped", "bad_step"):
        a, b = getattr(straight.state, field), getattr(resumed.state, field)
        assert int(a) == int(b)
    assert int(resumed.state.skipped) == 3 and int(resumed.state.bad_step) == 3

    def logged(history):
        return [
            (r["step"], r["loss"], r["metrics"], r["skipped_steps"]) for r in history
        ]

    assert logged(resumed.history) == logged(straight.history[2:])
    lines = (split_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["skipped_steps"] for line in lines] == [1, 1, 3, 3]

    # The same checkpoint resumed under "stop": the guard starts afresh there and
    # stops at the next non-finite step.
    with pytest.raises(NonFiniteLossError) as info:
        fit(
            model,
            flaky_loss,
            _batches(kinds),
            optimizer,
            steps=16,
            run_dir=tmp_path / "stop",
            resume=True,
            **(common | {"on_non_finite": "stop"}),
        )
    assert info.value.step == 9 and int(info.value.state.skipped) == 1
