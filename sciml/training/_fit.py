"""The `fit` loop: batches, logging, progress, checkpoints, resume, NaN guard."""

import dataclasses
import itertools
import math
import pathlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import equinox as eqx
import jax
import numpy as np
import optax
from jaxtyping import PyTree

from .._checks import boolean, integer
from ._checkpoint import Checkpoints
from ._log import MetricsLog, Progress, logger
from ._serialise import save_model
from ._step import LossFn, TrainState, _make_step, init_train_state


class NonFiniteLossError(FloatingPointError):
    """The loss or a gradient became NaN/inf during `fit`.

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

    - `model`: the trained model.
    - `opt_state`: the final optimizer state.
    - `step`: the final step (equal to `steps`).
    - `history`: the records logged by this call, as written to `metrics.jsonl`.
    - `num_traces`: how often the step function was traced (1 for a healthy run,
        0 if a resumed run had nothing left to do).
    - `state`: the final `TrainState` (to continue with `make_step`).
    - `checkpoint`: the folder of the last checkpoint, or `None`.
    - `model_path`: the `save_model` file written at the end, or `None`.
    """

    model: PyTree
    opt_state: PyTree
    step: int
    history: list[dict[str, Any]]
    num_traces: int
    state: TrainState
    checkpoint: pathlib.Path | None = None
    model_path: pathlib.Path | None = None


def _signature(batch: Any) -> tuple:
    # Cheap enough to run every step: no key paths unless there is a mismatch.
    leaves, treedef = jax.tree.flatten(batch)
    return treedef, tuple(
        (x.shape, x.dtype) if eqx.is_array(x) else (type(x), x) for x in leaves
    )


def _describe_leaves(batch: Any) -> list[tuple[str, str]]:
    out = []
    for path, x in jax.tree_util.tree_flatten_with_path(batch)[0]:
        name = jax.tree_util.keystr(path) or "<batch>"
        if eqx.is_array(x):
            out.append((name, f"{x.dtype}{list(x.shape)}"))
        else:
            out.append((name, f"non-array {type(x).__name__} {x!r}"))
    return out


def _check_batch(
    step: int, expected: tuple, first: list[tuple[str, str]], batch: Any
) -> None:
    got = _signature(batch)
    if got == expected:
        return
    if expected[0] != got[0]:
        detail = f"expected structure {expected[0]}, got {got[0]}"
        got_spec = _describe_leaves(batch)
    else:
        got_spec = _describe_leaves(batch)
        diffs = [
            f"{name}: expected {e}, got {g}"
            for (name, e), (_, g) in zip(first, got_spec, strict=True)
            if e != g
        ]
        detail = "; ".join(diffs)
    fix = (
        "use equal-sized batches, e.g. drop the remainder so every batch has the "
        "same leading size"
    )
    if any("non-array" in s for _, s in got_spec):
        fix += ", and pass numbers that change between batches as arrays"
    raise ValueError(
        f"The batch at step {step} differs from the first batch ({detail}). Every "
        f"batch must have the same structure, shapes and dtypes, or the step would "
        f"recompile. Fix: {fix}."
    )


def _batch_source(
    batches: Iterable[Any] | Callable[[int], Any], start: int
) -> Callable[[int], Any]:
    if hasattr(batches, "__iter__"):
        iterator: Iterator[Any] = iter(batches)
        skipped = sum(1 for _ in itertools.islice(iterator, start))
        if skipped < start:
            raise ValueError(
                f"Resuming at step {start} needs to skip {start} batches, but "
                f"`batches` ran out after {skipped}. Fix: pass the same iterable as "
                f"the original run (a deterministic one, rebuilt from the start)."
            )

        def get(step: int) -> Any:
            try:
                return next(iterator)
            except StopIteration:
                raise ValueError(
                    f"`batches` ran out at step {step}. Fix: provide at least "
                    f"`steps` batches, e.g. loop over epochs in a generator, or "
                    f"pass a callable `step -> batch`."
                ) from None

        return get
    if callable(batches):
        return batches
    raise TypeError(
        f"Expected `batches` to be an iterable of batches or a callable "
        f"`step -> batch`, got {type(batches).__name__}. Fix: pass a list, a "
        f"generator or a function."
    )


def _non_finite_error(
    state: TrainState,
    losses: list,
    interval_start: int,
    ckpts: Checkpoints | None,
) -> NonFiniteLossError:
    bad = int(state.bad_step)
    what = "loss or gradient"
    if 0 <= bad - interval_start < len(losses):
        loss = float(jax.device_get(losses[bad - interval_start]))
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
        f"for NaN/inf.",
        step=bad,
        checkpoint=checkpoint,
        state=state,
    )


def _setup_run(
    ckpts: Checkpoints, state: TrainState, *, key: Any, resume: bool, steps: int
) -> tuple[TrainState, int]:
    """Restore the latest checkpoint if asked to; return the state and start step."""
    latest = ckpts.latest_step()
    run_dir = ckpts.directory.parent
    if latest is None:
        if resume:
            logger.info(
                "resume=True but no checkpoint in %s; starting from scratch.",
                ckpts.directory,
            )
        return state, 0
    if not resume:
        raise ValueError(
            f"{run_dir} already holds checkpoints (steps {ckpts.steps()}) and "
            f"`resume` is False. Fix: pass `resume=True` to continue that run, "
            f"or a new or empty `run_dir`."
        )
    given_key = state.key
    state = ckpts.restore(state, latest)
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
    return state, start


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
) -> FitResult:
    """Train an equinox model with optax: one compiled step, logs, checkpoints.

    Step `i` (counting from 0) uses batch `i` and the key
    `jax.random.fold_in(key, i)`, so a run is deterministic, and a resumed run is
    bit-identical to an uninterrupted one on CPU (given the same batches).

    With a `run_dir`:

    - `run_dir/metrics.jsonl` gets one JSON line each `log_every` steps and at
        the end: `step`, `loss` (mean over the interval), `metrics` (means of the
        loss function's metrics), `steps_per_s`, `elapsed_s` (since this call
        started) and `time` (Unix time). A resumed run drops lines written after
        the checkpoint it resumes from and appends.
    - `run_dir/checkpoints/<step>` holds orbax checkpoints every
        `checkpoint_every` steps and at the end; the last `keep` are kept. Each is
        written to a temporary folder and renamed when complete.
    - `run_dir/model.eqx` gets the final model via
        [`sciml.training.save_model`][] if the model follows its convention (a
        warning is logged otherwise).

    NaN guard: a step with a non-finite loss or gradient is skipped inside the
    compiled step. The host checks at each log, checkpoint and at the end, and
    raises [`sciml.training.NonFiniteLossError`][] naming the step; no checkpoint
    of a state after that step is written.

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

    state = init_train_state(model, optimizer, key=key)
    start = 0
    ckpts = None
    metrics_log = None
    run_path = None if run_dir is None else pathlib.Path(run_dir)
    if run_path is not None:
        ckpts = Checkpoints(run_path / "checkpoints", keep=keep)
        try:
            state, start = _setup_run(ckpts, state, key=key, resume=resume, steps=steps)
        except BaseException:
            ckpts.close()
            raise
        metrics_log = MetricsLog(
            run_path / "metrics.jsonl", resume_step=start if start > 0 else None
        )

    step_fn, traced = _make_step(loss_fn, optimizer)
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
        for i in range(start, steps):
            batch = get_batch(i)
            if expected is None:
                expected, first = _signature(batch), _describe_leaves(batch)
            else:
                _check_batch(i, expected, first, batch)
            state, loss, metrics = step_fn(batch, state)
            losses.append(loss)
            metric_values.append(metrics)
            done = i + 1
            do_log = done % log_every == 0 or done == steps
            do_ckpt = ckpts is not None and (
                done % checkpoint_every == 0 or done == steps
            )
            if not (do_log or do_ckpt):
                continue
            if int(state.bad_step) >= 0:
                raise _non_finite_error(state, losses, interval_start, ckpts)
            if do_log:
                host_losses, host_metrics = jax.device_get((losses, metric_values))
                now = time.perf_counter()
                n = done - interval_start
                record = {
                    "step": done,
                    "loss": float(np.mean(host_losses)),
                    "metrics": {
                        k: float(np.mean([m[k] for m in host_metrics]))
                        for k in (host_metrics[0] if host_metrics else {})
                    },
                    "steps_per_s": n / max(now - t_last, 1e-12),
                    "elapsed_s": now - t_begin,
                    "time": time.time(),
                }
                history.append(record)
                if metrics_log is not None:
                    metrics_log.write(record)
                bar.update(n, record["loss"], record["steps_per_s"])
                losses, metric_values = [], []
                interval_start, t_last = done, now
            if do_ckpt:
                last_checkpoint = ckpts.save(state)
    finally:
        bar.close()
        if ckpts is not None:
            ckpts.close()

    model_path = None
    if run_path is not None:
        try:
            model_path = save_model(run_path / "model.eqx", state.model)
        except (TypeError, ValueError) as e:
            logger.warning("Not writing %s: %s", run_path / "model.eqx", e)
    return FitResult(
        model=state.model,
        opt_state=state.opt_state,
        step=int(state.step),
        history=history,
        num_traces=eqx.debug.get_num_traces(traced),
        state=state,
        checkpoint=last_checkpoint,
        model_path=model_path,
    )
