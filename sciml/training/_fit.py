"""The `fit` loop: batches, logging, progress, validation, checkpoints, resume, NaN
guard."""

import dataclasses
import math
import pathlib
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import PyTree
from tqdm.auto import tqdm

from .._checks import boolean, choice, integer
from ._batches import _batch_source, _check_batch, _describe_leaves, _signature
from ._checkpoint import Checkpoints
from ._log import MetricsLog, Progress, logger
from ._parallel import DataParallel, data_mesh, stack_batches
from ._serialise import save_model
from ._step import (
    NON_FINITE_POLICIES,
    LossFn,
    TrainState,
    _make_step,
    init_train_state,
)
from ._summary import summary
from ._validate import BEST_MODEL_FILE, Best, Validator


class NonFiniteLossError(FloatingPointError):
    """The loss or a gradient became NaN/inf during `fit` (with
    `on_non_finite="stop"`, the default).

    **Arguments:**

    - `message`: the error text.
    - `step`: the first step whose loss or gradient was non-finite.
    - `checkpoint`: the folder of the last good checkpoint, or `None`.
    - `state`: the last good `TrainState` (the update of `step` was skipped).
    """

    def __init__(
        self,
        message: str,
        *,
        step: int,
        checkpoint: pathlib.Path | None,
        state: TrainState,
    ):
        super().__init__(message)
        self.step = step
        self.checkpoint = checkpoint
        self.state = state


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What `fit` returns.

    **Arguments:**

    - `model`: the trained model: the final one, or the best on validation if
        `fit` was called with `return_best=True`.
    - `opt_state`: the final optimizer state.
    - `step`: the final step (equal to `steps`).
    - `history`: the records logged by this call, as written to `metrics.jsonl`.
    - `num_traces`: how often the step function was traced (1 for a healthy run,
        0 if a resumed run had nothing left to do).
    - `state`: the final `TrainState` (to continue with `make_step`).
    - `checkpoint`: the folder of the last checkpoint, or `None`.
    - `model_path`: the `save_model` file of the final model, or `None`.
    - `best_model`: the model with the lowest validation loss, or `None` without
        `validation`.
    - `best_step`: the step `best_model` was evaluated at, or `None`.
    - `best_val_loss`: its validation loss, or `None`.
    - `best_model_path`: the `save_model` file of `best_model`
        (`run_dir/best_model.eqx`), or `None`.
    """

    model: PyTree
    opt_state: PyTree
    step: int
    history: list[dict[str, Any]]
    num_traces: int
    state: TrainState
    checkpoint: pathlib.Path | None = None
    model_path: pathlib.Path | None = None
    best_model: PyTree = None
    best_step: int | None = None
    best_val_loss: float | None = None
    best_model_path: pathlib.Path | None = None


def _non_finite_error(
    state: TrainState,
    losses: list,
    interval_start: int,
    ckpts: Checkpoints | None,
) -> NonFiniteLossError:
    bad = int(state.bad_step)
    what = "loss or gradient"
    losses = _per_step(losses, [])[0]
    if 0 <= bad - interval_start < len(losses):
        loss = float(losses[bad - interval_start])
        what = f"loss ({loss})" if not math.isfinite(loss) else "gradient"
    checkpoint = None
    if ckpts is None:
        kept = "No checkpoint was written (pass `run_dir` to keep one)."
    else:
        ckpts.wait()
        last = ckpts.latest_step()
        if last is None:
            kept = (
                f"No checkpoint had been written yet in {ckpts.directory} (lower "
                f"`checkpoint_every` to keep one)."
            )
        else:
            checkpoint = ckpts.path(last)
            kept = f"The last good checkpoint (step {last}) is kept at {checkpoint}."
    return NonFiniteLossError(
        f"The {what} became non-finite at step {bad}; that update and all later "
        f"ones were skipped. {kept} Fix: lower the learning rate, clip gradients "
        f"(e.g. `optax.clip_by_global_norm`), or check the batch of step {bad} "
        f"for NaN/inf; to skip such steps and train on, pass "
        f'`on_non_finite="skip"`.',
        step=bad,
        checkpoint=checkpoint,
        state=state,
    )


def _setup_run(
    ckpts: Checkpoints, state: TrainState, *, key: Any, resume: bool, steps: int
) -> tuple[TrainState, int, Best | None]:
    """Restore the latest checkpoint if asked to; return the state, the start step
    and the best-on-validation model stored with the checkpoint."""
    latest = ckpts.latest_step()
    run_dir = ckpts.directory.parent
    if latest is None:
        if resume:
            logger.info(
                "resume=True but no checkpoint in %s; starting from scratch.",
                ckpts.directory,
            )
        return state, 0, None
    if not resume:
        raise ValueError(
            f"{run_dir} already holds checkpoints (steps {ckpts.steps()}) and "
            f"`resume` is False. Fix: pass `resume=True` to continue that run, "
            f"or a new or empty `run_dir`."
        )
    given_key = state.key
    state, best = ckpts.restore_with_best(state, latest)
    start = int(state.step)
    if start > steps:
        raise ValueError(
            f"The latest checkpoint in {run_dir} is at step {start}, past "
            f"`steps={steps}`. Fix: pass `steps >= {start}`."
        )
    logger.info("Resuming from step %d (checkpoint in %s).", start, run_dir)
    if key is not None and not np.array_equal(
        jax.random.key_data(given_key), jax.random.key_data(state.key)
    ):
        logger.warning(
            "The `key` passed to fit differs from the one in the checkpoint; "
            "using the checkpoint's key so the run stays reproducible."
        )
    return state, start, best


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _per_step(losses: list, metrics: list) -> tuple[np.ndarray, dict]:
    """On the host, the losses and metrics of an interval's calls (one step's
    scalars, or a fused call's `k`-vectors) as one value per step."""
    host_losses, host_metrics = jax.device_get((losses, metrics))
    flat = np.concatenate([np.atleast_1d(v) for v in host_losses] or [[]])
    names = host_metrics[0] if host_metrics else {}
    per = {
        k: np.concatenate([np.atleast_1d(m[k]) for m in host_metrics]) for k in names
    }
    return flat, per


def _record(
    done: int,
    n: int,
    losses: list,
    metrics: list,
    begin: float,
    last: float,
    finite_only: bool = False,
) -> dict:
    """The log record of the `n` steps up to `done`, timed from `begin` (the start
    of the call) and `last` (the previous record). `finite_only`: the means are over
    the steps whose loss is finite (NaN if there are none)."""
    host_losses, host_metrics = _per_step(losses, metrics)
    now = time.perf_counter()  # after the transfer, which waits for the steps
    if finite_only:
        kept = np.isfinite(host_losses)
        host_losses = host_losses[kept]
        host_metrics = {k: v[kept] for k, v in host_metrics.items()}
    return {
        "step": done,
        "loss": _mean(host_losses),
        "metrics": {k: _mean(v) for k, v in host_metrics.items()},
        "steps_per_s": n / max(now - last, 1e-12),
        "elapsed_s": now - begin,
        "time": time.time(),
    }


def fit(
    model: PyTree,
    loss_fn: LossFn,
    batches: Iterable[Any] | Callable[[int], Any],
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    key: Any = None,
    run_dir: str | pathlib.Path | None = None,
    log_every: int = 100,
    checkpoint_every: int = 1000,
    keep: int = 3,
    resume: bool = False,
    progress: bool = True,
    validation: Any = None,
    validate_every: int | None = None,
    return_best: bool = False,
    trainable: Any = None,
    on_non_finite: str = "stop",
    mesh: jax.sharding.Mesh | None = None,
    steps_per_call: int = 1,
) -> FitResult:
    """Train an equinox model with optax: one compiled step, logs, checkpoints.

    Step `i` (counting from 0) uses batch `i` and the key
    `jax.random.fold_in(key, i)`, so a run is deterministic, and a resumed run is
    bit-identical to an uninterrupted one on CPU (given the same batches). At
    start the model's [`sciml.training.summary`][] (its parameter count) is
    printed to stderr above the progress bar (with `progress=False`, logged at
    INFO level on the `sciml.training` logger instead).

    Validation: with `validation`, every `validate_every` steps and at the end
    the model is evaluated on the held-out batches with the same `loss_fn`, by
    one compiled function that takes no gradient. Batch `j` gets the fixed key
    `jax.random.fold_in(jax.random.fold_in(key, 2**32 - 1), j)` (the same at
    every evaluation). `val_loss` and `val_metrics` are the means over the
    batches (each batch weighs the same). The model with the lowest `val_loss`
    so far is kept (a copy, on the device) and returned as `best_model`; the
    returned `model` stays the final one (the one whose test error is reported)
    unless `return_best=True`. A run resumed after a crash validates at the same
    steps as an uninterrupted one and ends with the same best; a run split on
    purpose into calls with growing `steps` also validates at the end of each
    call, as it also logs there.

    With a `run_dir`:

    - `run_dir/metrics.jsonl` gets one JSON line each `log_every` steps, each
        validation and at the end: `step`, `loss` (mean over the interval),
        `metrics` (means of the loss function's metrics), `steps_per_s`,
        `elapsed_s` (since this call started), `time` (Unix time), at
        validation steps `val_loss` and `val_metrics`, and with
        `on_non_finite="skip"` `skipped_steps`. A resumed run drops lines
        written after the checkpoint it resumes from and appends.
    - `run_dir/checkpoints/<step>` holds orbax checkpoints every
        `checkpoint_every` steps and at the end; the last `keep` are kept. Each is
        written to a temporary folder and renamed when complete. With validation,
        each also holds the best model so far with its step and loss, so a
        resumed run continues with the same best.
    - `run_dir/model.eqx` gets the final model via
        [`sciml.training.save_model`][] if the model follows its convention (a
        warning is logged otherwise).
    - With validation, `run_dir/best_model.eqx` (same format, load it with
        [`sciml.training.load_model`][]) is rewritten whenever the validation
        loss improves, and `run_dir/best.json` says its `step` and `val_loss`.

    NaN guard: a step with a non-finite loss or gradient is never applied (the
    parameters and optimizer state stay bitwise as they were; see
    [`sciml.training.make_step`][]). Then, by `on_non_finite`:

    - `"stop"` (the default): every later step is a no-op too. The host checks at
        each log, checkpoint and at the end, and raises
        [`sciml.training.NonFiniteLossError`][] naming the first bad step; no
        checkpoint of a state after that step is written.
    - `"skip"`: training goes on with the next batch and key; the skipped steps
        are counted in `state.skipped`. Every log record then also carries
        `skipped_steps`, the count so far, and a warning on the `sciml.training`
        logger names the count whenever it grew in the interval. The record's
        `loss` and `metrics` are the means over the interval's steps whose loss
        is finite (a NaN or inf loss is left out, not averaged in; a step
        skipped for a non-finite gradient alone still counts its finite loss),
        and `null` in `metrics.jsonl` if no loss of the interval was finite.
        Checkpoints keep the count and `bad_step`, so a resumed run is
        bit-identical to an uninterrupted one.

    Data parallelism: each batch is split along its leading axis over the
    devices of `mesh` (all of its axes together), and the state (parameters,
    optimizer state, key) is replicated on every device; XLA partitions the
    compiled step, so a loss that averages over the batch averages over all the
    devices. With `mesh=None` (the default) that is every device, and nothing
    is placed at all on a single one. The batch size must be a multiple of the
    device count (a leaf that is not, e.g. points shared by every sample, is
    replicated). Validation batches are not split. Across processes (after
    [`sciml.training.start_distributed`][]) every process makes the same `fit`
    call with the same batches.

    Fused steps: with `steps_per_call=k > 1`, `k` consecutive batches are
    stacked and their `k` steps run in one compiled `lax.scan`, one dispatch
    instead of `k`, the same batches, keys and guard per step (what the
    small, launch-bound steps of the papers' configurations need). The losses
    equal the one-step loop's to float rounding (XLA may fuse the loop body
    differently), not bitwise. `log_every`, `checkpoint_every` and
    `validate_every` must be multiples of `k`; steps left over at the end (or
    before the first multiple of `k` after a resume) run one at a time.

    **Arguments:**

    - `model`: the equinox module to train (not modified; its arrays are copied).
    - `loss_fn`: `loss_fn(model, batch, key) -> (scalar_loss, metrics)`, metrics
        a dict of scalar arrays.
    - `batches`: an iterable of batches (pytrees of arrays, all of the same
        shapes and dtypes; on resume the first `start_step` are skipped), or a
        callable `step -> batch`.
    - `optimizer`: an optax gradient transformation.
    - `steps`: the step to train up to (a resumed run continues to it).
    - `key`: base PRNG key (default `jax.random.key(0)`); on resume the key
        stored in the checkpoint is used.
    - `run_dir`: folder for metrics, checkpoints and the final model; `None`
        writes nothing.
    - `log_every`: steps between log records and progress updates (the loss is
        pulled from the device only then).
    - `checkpoint_every`: steps between checkpoints (needs `run_dir`).
    - `keep`: how many checkpoints to keep.
    - `resume`: continue from the latest checkpoint in `run_dir` (from scratch,
        with a log message, if there is none).
    - `progress`: show a tqdm progress bar.
    - `validation`: held-out batches, shaped like the training batches: a list
        (or other re-iterable) of them, a one-shot iterator (read once into a
        list), or a callable `() -> batches` called at every evaluation (to
        stream them). A single batch goes in a list: `[(x_val, y_val)]`. `None`
        (the default) validates nothing.
    - `validate_every`: steps between validations (default `log_every`).
    - `return_best`: return the best model on validation as `FitResult.model`
        (default `False`: the final model; `state` is the final state either
        way).
    - `trainable`: train only these parameters, e.g. the layers a transfer run
        fine-tunes (`None`: every inexact array; a filter spec such as
        [`sciml.training.trainable_only`][] makes). The others stay bitwise
        unchanged, whatever the optimizer does (weight decay included).
    - `on_non_finite`: what a step with a non-finite loss or gradient does,
        `"stop"` (raise at the next log) or `"skip"` (skip it, count it and train
        on); see the NaN guard above and [`sciml.training.NON_FINITE_POLICIES`][].
    - `mesh`: a `jax.sharding.Mesh` to split the batches over, or `None` (all
        devices); see data parallelism above.
    - `steps_per_call`: steps per compiled call, `k` (default 1); see fused
        steps above.

    **Returns:**

    A [`sciml.training.FitResult`][].
    """
    steps = integer("steps", steps, minimum=1, owner="fit")
    log_every = integer("log_every", log_every, minimum=1, owner="fit")
    checkpoint_every = integer(
        "checkpoint_every", checkpoint_every, minimum=1, owner="fit"
    )
    keep = integer("keep", keep, minimum=1, owner="fit")
    resume = boolean("resume", resume, owner="fit")
    progress = boolean("progress", progress, owner="fit")
    return_best = boolean("return_best", return_best, owner="fit")
    on_non_finite = choice(
        "on_non_finite", on_non_finite, NON_FINITE_POLICIES, owner="fit"
    )
    skip = on_non_finite == "skip"
    k = integer("steps_per_call", steps_per_call, minimum=1, owner="fit")
    mesh = data_mesh(mesh)
    parallel = None if mesh is None else DataParallel(mesh)
    if validate_every is not None:
        validate_every = integer(
            "validate_every", validate_every, minimum=1, owner="fit"
        )
    for name, every in (
        ("log_every", log_every),
        ("checkpoint_every", checkpoint_every),
        ("validate_every", validate_every),
    ):
        if every is not None and every % k:
            raise ValueError(
                f"fit: `{name}={every}` is not a multiple of `steps_per_call={k}`, "
                f"so a log, checkpoint or validation would fall inside a fused "
                f"call. Fix: `{name}={max(k, every - every % k)}`, or another "
                f"multiple of {k}."
            )
    if validation is None and (validate_every is not None or return_best):
        given = "validate_every" if validate_every is not None else "return_best=True"
        raise ValueError(
            f"fit: got `{given}` without `validation`, so there is nothing to "
            f"validate on. Fix: pass held-out batches, e.g. "
            f"`validation=[(x_val, y_val)]`, or drop `{given}`."
        )
    if not callable(loss_fn):
        raise TypeError(
            f"Expected `loss_fn` to be a function `loss_fn(model, batch, key) -> "
            f"(loss, metrics)`, got {type(loss_fn).__name__}."
        )
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            f"Expected `optimizer` to be an optax GradientTransformation, got "
            f"{type(optimizer).__name__}. Fix: pass e.g. `optax.adam(1e-3)`."
        )
    if resume and run_dir is None:
        raise ValueError(
            "Got `resume=True` without a `run_dir`, so there is nothing to resume "
            "from. Fix: pass the `run_dir` of the run to continue."
        )
    run_path = None if run_dir is None else pathlib.Path(run_dir)
    validator = None
    if validation is not None:
        validator = Validator(loss_fn, validation, run_path)
        validate_every = log_every if validate_every is None else validate_every

    state = init_train_state(model, optimizer, key=key, trainable=trainable)
    start, best = 0, None
    ckpts = None
    metrics_log = None
    if run_path is not None:
        ckpts = Checkpoints(run_path / "checkpoints", keep=keep)
        try:
            state, start, best = _setup_run(
                ckpts, state, key=key, resume=resume, steps=steps
            )
        except BaseException:
            ckpts.close()
            raise
        metrics_log = MetricsLog(
            run_path / "metrics.jsonl", resume_step=start if start > 0 else None
        )
    skipped_before = int(state.skipped)
    if not skip and int(state.bad_step) >= 0:
        # A checkpoint of a "skip" run resumed under "stop": the steps skipped
        # before stay counted, and the guard watches the steps from here on.
        logger.info(
            "fit: the checkpoint at step %d comes from an on_non_finite='skip' run "
            "that skipped %d step(s), the first at step %d; with 'stop' the next "
            "non-finite step stops the run.",
            start,
            skipped_before,
            int(state.bad_step),
        )
        state = eqx.tree_at(
            lambda s: s.bad_step, state, jnp.asarray(-1, dtype=jnp.int32)
        )
    if validator is not None:
        validator.start(state.key, best)
    if progress:  # printed above the bar, as the peers' trainers do
        tqdm.write(f"fit: {summary(state.model)}", file=sys.stderr)
    else:
        logger.info("fit: %s", summary(state.model))

    step_fn, traced = _make_step(
        loss_fn, optimizer, trainable, on_non_finite, owner="fit"
    )
    fused_fn, fused_traced = (None, None)
    if k > 1:
        fused_fn, fused_traced = _make_step(
            loss_fn, optimizer, trainable, on_non_finite, owner="fit", steps_per_call=k
        )
    if parallel is not None:
        state = parallel.replicate(state)
    history: list[dict[str, Any]] = []
    last_checkpoint = None
    if ckpts is not None and start > 0:
        last_checkpoint = ckpts.path(start)
    bar = Progress(total=steps, initial=start, enabled=progress)
    try:
        get_batch = _batch_source(batches, start)
        expected = first = None
        losses: list = []
        metric_values: list = []
        interval_start = start
        t_begin = t_last = time.perf_counter()
        done = start
        while done < steps:
            i = done
            n_call = k if k > 1 and i % k == 0 and i + k <= steps else 1
            chunk = [get_batch(j) for j in range(i, i + n_call)]
            for j, batch in enumerate(chunk, start=i):
                if expected is None:
                    expected, first = _signature(batch), _describe_leaves(batch)
                else:
                    _check_batch(j, expected, first, batch)
            if n_call == 1:
                batch, call = chunk[0], step_fn
                if parallel is not None:
                    batch = parallel.shard(batch, step=i)
            else:
                batch, call = stack_batches(chunk), fused_fn
                if parallel is not None:
                    batch = parallel.shard(batch, axis=1, step=i)
            state, loss, metrics = call(batch, state)
            losses.append(loss)
            metric_values.append(metrics)
            done = i + n_call
            do_val = validator is not None and (
                done % validate_every == 0 or done == steps
            )
            do_log = do_val or done % log_every == 0 or done == steps
            do_ckpt = ckpts is not None and (
                done % checkpoint_every == 0 or done == steps
            )
            if not (do_log or do_ckpt):
                continue
            if not skip and int(state.bad_step) >= 0:
                raise _non_finite_error(state, losses, interval_start, ckpts)
            if do_log:
                n = done - interval_start
                record = _record(
                    done, n, losses, metric_values, t_begin, t_last, finite_only=skip
                )
                if skip:
                    skipped_now = int(state.skipped)
                    record["skipped_steps"] = skipped_now
                    if skipped_now > skipped_before:
                        logger.warning(
                            "fit: skipped %d step(s) with a non-finite loss or "
                            "gradient in steps %d-%d (%d in all so far, the first "
                            "at step %d); their updates were not applied.",
                            skipped_now - skipped_before,
                            interval_start,
                            done - 1,
                            skipped_now,
                            int(state.bad_step),
                        )
                    skipped_before = skipped_now
                if do_val:
                    record.update(validator(state.model, done, expected[0]))
                history.append(record)
                if metrics_log is not None:
                    metrics_log.write(record)
                val_loss = record.get("val_loss")
                bar.update(n, record["loss"], record["steps_per_s"], val_loss)
                losses, metric_values = [], []
                interval_start, t_last = done, time.perf_counter()
            if do_ckpt:
                best = None if validator is None else validator.best
                last_checkpoint = ckpts.save(state, best=best)
    finally:
        bar.close()
        if ckpts is not None:
            ckpts.close()

    model_path = best_model_path = None
    if run_path is not None:
        try:
            model_path = save_model(run_path / "model.eqx", state.model)
        except (TypeError, ValueError) as e:
            logger.warning("Not writing %s: %s", run_path / "model.eqx", e)
    best = None if validator is None else validator.best
    if best is not None:
        best_model_path = validator.write_best()
        logger.info(
            "fit: best validation loss %.6g at step %d%s.",
            best.val_loss,
            best.step,
            "" if best_model_path is None else f" (in {run_path / BEST_MODEL_FILE})",
        )
    return FitResult(
        model=best.model if return_best and best is not None else state.model,
        opt_state=state.opt_state,
        step=int(state.step),
        history=history,
        num_traces=max(
            eqx.debug.get_num_traces(f) for f in (traced, fused_traced) if f
        ),
        state=state,
        checkpoint=last_checkpoint,
        model_path=model_path,
        best_model=None if best is None else best.model,
        best_step=None if best is None else best.step,
        best_val_loss=None if best is None else best.val_loss,
        best_model_path=best_model_path,
    )
