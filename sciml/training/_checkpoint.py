"""Checkpoints of a `TrainState` with orbax: array leaves plus JSON metadata.

The pytree structure is not stored: on restore it comes from the live model and
optimizer, and the stored leaves are checked against it (count, shapes, dtypes).
A checkpoint may also hold the best-on-validation model so far (its arrays, step
and validation loss), so that a resumed `fit` continues with the same best.
"""

import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

import sciml

from .._checks import integer
from ._step import TrainState
from ._validate import Best

_FORMAT = "sciml-train-state"
# 2 adds `skipped` and `bad_step` to the metadata; a version-1 checkpoint restores
# with `skipped = 0` and `bad_step = -1`.
_FORMAT_VERSION = 2


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _leaf_spec(x: Any) -> list:
    if _is_key(x):
        return [list(x.shape), f"key<{jax.random.key_impl(x)}>"]
    return [list(np.shape(x)), str(x.dtype)]


def _to_host(x: Any) -> np.ndarray:
    # A real copy: the step donates device buffers, and on CPU `device_get` may
    # return a view of one.
    if _is_key(x):
        x = jax.random.key_data(x)
    return np.array(x, copy=True)


def _state_leaves(state: TrainState) -> tuple[list, Any]:
    arrays, rest = eqx.partition((state.model, state.opt_state), eqx.is_array)
    leaves, treedef = jax.tree.flatten(arrays)
    return leaves, (treedef, rest)


class Checkpoints:
    """Keep the last `keep` checkpoints of a `TrainState` in a directory.

    Saves are atomic: orbax writes each step into `<step>.orbax-checkpoint-tmp`
    and renames it to `<step>` when complete, so a crash mid-save never leaves a
    directory that looks like a finished checkpoint.

    **Arguments:**

    - `directory`: where the step folders live (created if missing).
    - `keep`: how many of the most recent checkpoints to keep.
    """

    def __init__(self, directory: str | pathlib.Path, keep: int):
        self.directory = pathlib.Path(directory).absolute()
        keep = integer("keep", keep, minimum=1, owner="Checkpoints")
        options = dict(max_to_keep=keep, create=True, cleanup_tmp_directories=True)
        rename = getattr(
            getattr(getattr(ocp, "path", None), "atomicity", None),
            "AtomicRenameTemporaryPath",
            None,
        )
        if rename is not None:
            # Explicit, rather than relying on orbax's default for local paths.
            options["temporary_path_class"] = rename
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(**options),
            item_names=("state", "meta"),
        )

    def steps(self) -> list[int]:
        """Return the steps of the finished checkpoints, ascending."""
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        """Return the step of the newest finished checkpoint, or `None`."""
        return self._manager.latest_step()

    def path(self, step: int) -> pathlib.Path:
        """Return the folder of the checkpoint at `step`."""
        return self.directory / str(step)

    def save(self, state: TrainState, *, best: Best | None = None) -> pathlib.Path:
        """Write `state` (asynchronously; arrays are copied to the host first).

        **Arguments:**

        - `state`: a finite train state; the caller checks `bad_step` (under the
            `"skip"` policy a state with `bad_step >= 0` is finite too: its
            `bad_step` and `skipped` are stored with it).
        - `best`: the best-on-validation model so far, as `(model, step,
            val_loss)` with `model` of the same structure as `state.model`, or
            `None` (nothing is stored).

        **Returns:**

        The folder the checkpoint will have once written.
        """
        leaves, _ = _state_leaves(state)
        step = int(state.step)
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "step": step,
            "skipped": int(state.skipped),
            "bad_step": int(state.bad_step),
            "key_impl": str(jax.random.key_impl(state.key)),
            "leaves": [_leaf_spec(x) for x in leaves],
            "sciml_version": sciml.__version__,
            "best": None,
        }
        arrays = {
            "leaves": [_to_host(x) for x in leaves],
            "key": _to_host(state.key),
        }
        if best is not None:
            best_leaves = jax.tree.leaves(eqx.filter(best.model, eqx.is_array))
            meta["best"] = {
                "step": int(best.step),
                "val_loss": float(best.val_loss),
                "leaves": [_leaf_spec(x) for x in best_leaves],
            }
            arrays["best"] = [_to_host(x) for x in best_leaves]
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(arrays), meta=ocp.args.JsonSave(meta)
            ),
        )
        return self.path(step)

    def restore(self, template: TrainState, step: int | None = None) -> TrainState:
        """Load a checkpoint into the structure of `template`.

        **Arguments:**

        - `template`: a state built from the same model class, hyper-parameters
            and optimizer as the run that wrote the checkpoint.
        - `step`: which checkpoint (default the latest).

        **Returns:**

        The restored `TrainState`, with `bad_step` and `skipped` as saved (`-1`
        and `0` unless a `"skip"` run skipped steps before it).
        """
        return self.restore_with_best(template, step)[0]

    def restore_with_best(
        self, template: TrainState, step: int | None = None
    ) -> tuple[TrainState, Best | None]:
        """Load a checkpoint and the best-on-validation model stored with it.

        **Arguments:**

        - `template`: as for `restore`.
        - `step`: which checkpoint (default the latest).

        **Returns:**

        `(state, best)`: the restored `TrainState` (`bad_step` and `skipped` as
        saved) and `best = (model, step, val_loss)`, or `None` if the checkpoint
        holds no best model.
        """
        if step is None:
            step = self.latest_step()
        if step is None:
            raise FileNotFoundError(f"No checkpoint found in {self.directory}.")
        out = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(), meta=ocp.args.JsonRestore()
            ),
        )
        meta, arrays = out["meta"], out["state"]
        if meta.get("format") != _FORMAT:
            raise ValueError(
                f"Expected a {_FORMAT!r} checkpoint in {self.path(step)}, got format "
                f"{meta.get('format')!r}. Fix: point `run_dir` at a folder written "
                f"by `sciml.training.fit`."
            )
        leaves, (treedef, rest) = _state_leaves(template)
        expected = [_leaf_spec(x) for x in leaves]
        got = [list(s) for s in meta["leaves"]]
        if [[list(s), d] for s, d in got] != expected:
            raise ValueError(
                f"The checkpoint at {self.path(step)} does not fit the given model "
                f"and optimizer: it holds {len(got)} arrays "
                f"{_describe(got)}, the model and optimizer state have "
                f"{len(expected)} arrays {_describe(expected)}. Fix: resume with "
                f"the same model hyper-parameters and optimizer as the run that "
                f"wrote it, or use a new `run_dir`."
            )
        new_leaves = _from_host(expected, leaves, arrays["leaves"])
        model, opt_state = eqx.combine(jax.tree.unflatten(treedef, new_leaves), rest)
        key = jax.random.wrap_key_data(
            jnp.asarray(arrays["key"]), impl=meta["key_impl"]
        )
        state = TrainState(
            model=model,
            opt_state=opt_state,
            step=jnp.asarray(meta["step"], dtype=jnp.int32),
            key=key,
            bad_step=jnp.asarray(meta.get("bad_step", -1), dtype=jnp.int32),
            skipped=jnp.asarray(meta.get("skipped", 0), dtype=jnp.int32),
        )
        return state, self._best(meta, arrays, template.model, step)

    def _best(self, meta: dict, arrays: dict, like: Any, step: int) -> Best | None:
        stored = meta.get("best")
        if stored is None:
            return None
        like_arrays, like_rest = eqx.partition(like, eqx.is_array)
        like_leaves, treedef = jax.tree.flatten(like_arrays)
        expected = [_leaf_spec(x) for x in like_leaves]
        if [[list(s), d] for s, d in stored["leaves"]] != expected:
            raise ValueError(
                f"The best model stored in the checkpoint at {self.path(step)} does "
                f"not fit the given model ({_describe(stored['leaves'])} against "
                f"{_describe(expected)}). Fix: resume with the same model "
                f"hyper-parameters as the run that wrote it, or use a new `run_dir`."
            )
        new_leaves = _from_host(expected, like_leaves, arrays["best"])
        model = eqx.combine(jax.tree.unflatten(treedef, new_leaves), like_rest)
        return Best(model=model, step=stored["step"], val_loss=stored["val_loss"])

    def wait(self) -> None:
        """Block until pending saves are on disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Finish pending saves and release the manager."""
        self._manager.wait_until_finished()
        self._manager.close()


def _from_host(specs: list, like: list, stored: list) -> list:
    out = []
    for spec, template, array in zip(specs, like, stored, strict=True):
        if spec[1].startswith("key<"):
            impl = jax.random.key_impl(template)
            out.append(jax.random.wrap_key_data(jnp.asarray(array), impl=impl))
        else:
            out.append(jnp.asarray(array, dtype=template.dtype))
    return out


def _describe(specs: list, limit: int = 4) -> str:
    shown = ", ".join(f"{tuple(s)}:{d}" for s, d in specs[:limit])
    more = f", ... ({len(specs) - limit} more)" if len(specs) > limit else ""
    return f"[{shown}{more}]"
