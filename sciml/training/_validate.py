"""Held-out validation in `fit`: one compiled evaluation, and the best model so far."""

import json
import math
import os
import pathlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from ._log import logger
from ._serialise import save_model
from ._step import LossFn, _check_loss_output, _fresh_copy

# Training step `i` folds `i` (an int32 step count) into the run's key, so this
# value never collides with a training key.
_VALIDATION_FOLD = 2**32 - 1

BEST_MODEL_FILE = "best_model.eqx"
BEST_INFO_FILE = "best.json"


class Best(NamedTuple):
    """The best-on-validation model so far: `(model, step, val_loss)`."""

    model: PyTree
    step: int
    val_loss: float


def validation_key(key: Any) -> Any:
    """The base key of the validation: batch `j` uses `fold_in(this, j)`."""
    return jax.random.fold_in(key, _VALIDATION_FOLD)


def _source(validation: Any) -> Callable[[], Iterable[Any]]:
    if isinstance(validation, str | bytes) or eqx.is_array(validation):
        pass  # an array iterates over its rows: never what is meant
    elif hasattr(validation, "__iter__"):
        if iter(validation) is validation:  # a one-shot iterator, e.g. a generator
            validation = list(validation)
        return lambda: validation
    elif callable(validation):
        return validation
    raise TypeError(
        f"Expected `validation` to be a list of batches or a callable `() -> "
        f"batches`, got {type(validation).__name__}. Fix: pass e.g. "
        f"`validation=[(x_val, y_val)]` (a single batch goes in a list)."
    )


def _make_evaluate(loss_fn: LossFn) -> Callable:
    @eqx.filter_jit
    def evaluate(model, batch, key, index):
        # The forward pass of the loss only: no gradient is taken.
        key = jax.random.fold_in(key, index)
        return _check_loss_output(loss_fn(model, batch, key))

    return evaluate


class Validator:
    """Evaluates `loss_fn` on the validation batches and keeps the best model.

    **Arguments:**

    - `loss_fn`: the training loss function.
    - `validation`: a list (or other re-iterable) of batches, a one-shot iterator
        (read once into a list), or a callable `() -> batches` called at every
        evaluation.
    - `run_dir`: where `best_model.eqx` and `best.json` go, or `None`.
    """

    def __init__(
        self, loss_fn: LossFn, validation: Any, run_dir: pathlib.Path | None
    ) -> None:
        self._batches = _source(validation)
        self._evaluate = _make_evaluate(loss_fn)
        self._run_dir = run_dir
        self._key = None
        self._can_save = True
        self._written_step: int | None = None
        self.best: Best | None = None

    def start(self, key: Any, best: Best | None) -> None:
        """Set the run's base key and the best model restored on resume."""
        self._key = validation_key(key)
        self.best = best

    def __call__(self, model: PyTree, step: int, batch_treedef: Any) -> dict:
        """Evaluate `model` after `step` steps; keep it if it is the best so far.

        **Returns:**

        `{"val_loss": ..., "val_metrics": {...}}`: means over the batches.
        """
        losses, metrics = [], []
        for j, batch in enumerate(self._batches()):
            _check_structure(j, batch, batch_treedef)
            index = jnp.asarray(j, dtype=jnp.uint32)
            loss, values = self._evaluate(model, batch, self._key, index)
            losses.append(loss)
            metrics.append(values)
        if not losses:
            raise ValueError(
                "`validation` gave no batches. Fix: pass at least one batch, e.g. "
                "`validation=[(x_val, y_val)]`."
            )
        losses, metrics = jax.device_get((losses, metrics))
        val_loss = float(np.mean(np.asarray(losses, dtype=np.float64)))
        val_metrics = {
            k: float(np.mean(np.asarray([m[k] for m in metrics], dtype=np.float64)))
            for k in metrics[0]
        }
        if math.isfinite(val_loss) and (
            self.best is None or val_loss < self.best.val_loss
        ):
            self.best = Best(model=_fresh_copy(model), step=step, val_loss=val_loss)
            self.write_best()
        return {"val_loss": val_loss, "val_metrics": val_metrics}

    def write_best(self) -> pathlib.Path | None:
        """Write the best model to `run_dir/best_model.eqx` (with `best.json`)
        unless it is already there; return the file, or `None` if there is none."""
        if self._run_dir is None or self.best is None or not self._can_save:
            return None
        path = self._run_dir / BEST_MODEL_FILE
        if self._written_step == self.best.step:
            return path
        try:
            save_model(path, self.best.model)
        except (TypeError, ValueError) as e:
            logger.warning("Not writing %s: %s", path, e)
            self._can_save = False
            return None
        info = {"step": self.best.step, "val_loss": self.best.val_loss}
        tmp = self._run_dir / (BEST_INFO_FILE + ".tmp")
        tmp.write_text(json.dumps(info) + "\n")
        os.replace(tmp, self._run_dir / BEST_INFO_FILE)
        self._written_step = self.best.step
        return path


def _check_structure(index: int, batch: Any, treedef: Any) -> None:
    got = jax.tree.structure(batch)
    if got.num_leaves != treedef.num_leaves:
        raise ValueError(
            f"Validation batch {index} has {got.num_leaves} leaves ({got}), the "
            f"training batches have {treedef.num_leaves} ({treedef}); both go "
            f"through the same `loss_fn`. Fix: pass a list of batches shaped like "
            f"the training ones; a single batch goes in a list, e.g. "
            f"`validation=[(x_val, y_val)]`."
        )
