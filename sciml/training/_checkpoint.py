"""Checkpoints of a `TrainState` with orbax: array leaves plus JSON metadata.

The pytree structure is not stored: on restore it comes from the live model and
optimizer, and the stored leaves are checked against it (count, shapes, dtypes).
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

_FORMAT = "sciml-train-state"
_FORMAT_VERSION = 1


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

    def save(self, state: TrainState) -> pathlib.Path:
        """Write `state` (asynchronously; arrays are copied to the host first).

        **Arguments:**

        - `state`: a finite train state; the caller checks `bad_step`.

        **Returns:**

        The folder the checkpoint will have once written.
        """
        leaves, _ = _state_leaves(state)
        step = int(state.step)
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "step": step,
            "key_impl": str(jax.random.key_impl(state.key)),
            "leaves": [_leaf_spec(x) for x in leaves],
            "sciml_version": sciml.__version__,
        }
        arrays = {
            "leaves": [_to_host(x) for x in leaves],
            "key": _to_host(state.key),
        }
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

        The restored `TrainState`, with `bad_step = -1`.
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
        new_leaves = []
        for spec, like, stored in zip(expected, leaves, arrays["leaves"], strict=True):
            if spec[1].startswith("key<"):
                new_leaves.append(
                    jax.random.wrap_key_data(
                        jnp.asarray(stored), impl=jax.random.key_impl(like)
                    )
                )
            else:
                new_leaves.append(jnp.asarray(stored, dtype=like.dtype))
        model, opt_state = eqx.combine(jax.tree.unflatten(treedef, new_leaves), rest)
        key = jax.random.wrap_key_data(
            jnp.asarray(arrays["key"]), impl=meta["key_impl"]
        )
        return TrainState(
            model=model,
            opt_state=opt_state,
            step=jnp.asarray(meta["step"], dtype=jnp.int32),
            key=key,
            bad_step=jnp.asarray(-1, dtype=jnp.int32),
        )

    def wait(self) -> None:
        """Block until pending saves are on disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Finish pending saves and release the manager."""
        self._manager.wait_until_finished()
        self._manager.close()


def _describe(specs: list, limit: int = 4) -> str:
    shown = ", ".join(f"{tuple(s)}:{d}" for s, d in specs[:limit])
    more = f", ... ({len(specs) - limit} more)" if len(specs) > limit else ""
    return f"[{shown}{more}]"
