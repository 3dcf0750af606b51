"""Write the PDEBench HDF5 layout atomically, with sciml provenance attributes.

Layout (spec §1): datasets `tensor` (float32; `(N, T, X)` or `(N, T, X, Y)` for one
channel, `(N, T, X[, Y], C)` for several), `x-coordinate`, optional `y-coordinate`,
and `t-coordinate` with exactly T entries (root attr `t_coordinate_convention =
"exact"`; PDEBench's own files carry T + 1). PDE parameters are root attributes.

A chunk source is written resumably: progress lives in a partial file beside the
target (`.{name}.partial`, see `write`), which `resume=True` continues.
"""

import contextlib
import datetime
import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

TENSOR = "tensor"
X_COORD = "x-coordinate"
Y_COORD = "y-coordinate"
T_COORD = "t-coordinate"
T_CONVENTION = "t_coordinate_convention"
PROVENANCE_PREFIX = "sciml_"
_BLOCK_BYTES = 64 * 2**20
# Attributes of a partial file (removed from the finished file).
_DONE = PROVENANCE_PREFIX + "partial_done"
_SETTINGS = PROVENANCE_PREFIX + "partial_settings"


def _scalar_attr(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    raise ValueError(
        f"Attribute {name!r} must be a number or a string, got "
        f"{type(value).__name__} ({value!r}). Convert it, e.g. float(value)."
    )


def _coordinate(name: str, values: Any, expected: int, axis: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    if array.ndim != 1 or array.shape[0] != expected:
        raise ValueError(
            f"`{name}` must be 1-D with {expected} entries (the {axis} axis of `u`), "
            f"got shape {array.shape}. Pass one coordinate per grid point."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or inf; coordinates must be finite.")
    return array


def _as_blocks(u: Any, first: int = 0) -> Iterator[np.ndarray]:
    """Yield `u` in blocks of whole samples: split an array, pass chunks through, or
    call a chunk source `u(first)`."""
    if callable(u):
        u = u(first)
    if hasattr(u, "shape"):
        sample_bytes = 4 * max(1, int(np.prod(u.shape[1:])))
        step = max(1, _BLOCK_BYTES // sample_bytes)
        for start in range(0, max(1, u.shape[0]), step):
            yield np.asarray(u[start : start + step])
    else:
        for block in u:
            yield np.asarray(block)


def _check_block(
    block: np.ndarray, first: int, expected_tail: tuple[int, ...] | None, n_space: int
) -> np.ndarray:
    rank = 3 + n_space
    if block.ndim != rank:
        layout = (
            "(samples, t, x, y, channels)"
            if n_space == 2
            else ("(samples, t, x, channels)")
        )
        why = "`y` was given" if n_space == 2 else "`y` is None"
        raise ValueError(
            f"`u` must have rank {rank} {layout} because {why}, got shape "
            f"{block.shape}. Add a channel axis with `u[..., None]` or pass/omit `y`."
        )
    if 0 in block.shape[1:]:
        raise ValueError(f"`u` has an empty time/space/channel axis: {block.shape}.")
    if expected_tail is not None and block.shape[1:] != expected_tail:
        raise ValueError(
            f"Every chunk of `u` must have shape (n, *{expected_tail}); the chunk "
            f"starting at sample {first} has shape {block.shape}."
        )
    block = block.astype(np.float32, copy=False)
    if block.size == 0:
        return block
    finite = np.isfinite(block.reshape(block.shape[0], -1)).all(axis=1)
    if not finite.all():
        bad = first + int(np.argmin(finite))
        raise ValueError(
            f"`u` contains NaN or inf (first in sample {bad}); the writer refuses "
            "non-finite data. Check the solver that produced it."
        )
    return block


def partial_path(path: str | os.PathLike) -> Path:
    """The partial file a resumable write of `path` fills: `.{name}.partial` beside it."""
    path = Path(path)
    return path.parent / f".{path.name}.partial"


def _created() -> str:
    """The creation time: now (UTC), or `$SOURCE_DATE_EPOCH` for reproducible files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        if epoch
        else datetime.datetime.now(datetime.UTC)
    )
    return when.isoformat(timespec="seconds")


def _provenance_attrs(
    params: Mapping[str, Any], provenance: Mapping[str, Any] | None
) -> dict[str, Any]:
    from sciml import __version__

    provenance = dict(provenance or {})
    attrs: dict[str, Any] = {
        "generator": provenance.pop("generator", "sciml.datasets.write"),
        "version": __version__,
        "created": _created(),
        "params": json.dumps(provenance.pop("params", dict(params)), sort_keys=True),
    }
    seed = provenance.pop("seed", None)
    if seed is not None:
        attrs["seed"] = int(seed)
    for key, value in provenance.items():
        try:
            attrs[key] = _scalar_attr(key, value)
        except ValueError:
            attrs[key] = json.dumps(value, sort_keys=True)
    return {PROVENANCE_PREFIX + key: value for key, value in attrs.items()}


def _digest(values: Any) -> str | None:
    if values is None:
        return None
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
    return hashlib.sha256(array.tobytes()).hexdigest()[:16] + f"{array.shape}"


def _settings(params: dict, attrs: dict, x: Any, t: Any, y: Any) -> dict[str, Any]:
    """What a resumed write must share with the interrupted one (not the time)."""
    fixed = {k: v for k, v in attrs.items() if k != PROVENANCE_PREFIX + "created"}
    return {
        "params": params,
        "provenance": fixed,
        "x": _digest(x),
        "t": _digest(t),
        "y": _digest(y),
    }


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{where}.{key}" if where else str(key)
            out += _differences(
                old.get(key, "<absent>"), new.get(key, "<absent>"), name
            )
        return out
    if old != new:
        return [f"{where}: {old!r} then, {new!r} now"]
    return []


def _resume_point(
    work: Path, settings: dict[str, Any], n_space: int
) -> tuple[int, tuple[int, ...]]:
    """Check the partial file `work` against `settings`; return (samples done, the
    shape of a sample with its channel axis). Drops samples past the recorded count
    (left by an interruption midway through writing a block)."""
    try:
        with h5py.File(work, "r+") as file:
            stored = file.attrs.get(_SETTINGS)
            done = file.attrs.get(_DONE)
            if stored is None or done is None or TENSOR not in file:
                raise ValueError(
                    f"{work} is not a partial file of sciml.datasets.write (no "
                    f"progress record); delete it, or pass resume=False."
                )
            stored = json.loads(stored)
            diff = _differences(stored, json.loads(json.dumps(settings)))
            if diff:
                raise ValueError(
                    f"Cannot resume {work}: it was written with different generation "
                    f"settings ({'; '.join(diff)}). Resume with the original settings, "
                    f"or pass resume=False to start over (the partial file is then "
                    f"discarded)."
                )
            tensor = file[TENSOR]
            done = int(done)
            if tensor.shape[0] != done:
                tensor.resize(done, axis=0)
            sample = tuple(tensor.shape[1:])
            if tensor.ndim == 2 + n_space:
                sample = (*sample, 1)
            return done, sample
    except OSError as error:
        raise ValueError(
            f"The partial file {work} cannot be opened ({error}); delete it to start "
            f"over, or pass resume=False."
        ) from error


def _create(
    work: Path, sample: tuple[int, ...], attrs: dict[str, Any], settings: dict
) -> None:
    stored = sample[:-1] if sample[-1] == 1 else sample
    with h5py.File(work, "w") as file:
        file.create_dataset(
            TENSOR,
            shape=(0, *stored),
            maxshape=(None, *stored),
            chunks=(1, *stored),
            dtype=np.float32,
        )
        for name, value in attrs.items():
            file.attrs[name] = value
        file.attrs[_SETTINGS] = json.dumps(settings, sort_keys=True)
        file.attrs[_DONE] = 0


def _append(work: Path, block: np.ndarray, n_done: int) -> None:
    with h5py.File(work, "r+") as file:
        tensor = file[TENSOR]
        n_new = block.shape[0]
        tensor.resize(n_done + n_new, axis=0)
        tensor[n_done : n_done + n_new] = block.reshape(n_new, *tensor.shape[1:])
        file.attrs[_DONE] = n_done + n_new


def _finish(work: Path, coordinates: dict[str, np.ndarray]) -> None:
    with h5py.File(work, "r+") as file:
        for name, values in coordinates.items():
            if name in file:  # left by an interruption during an earlier finish
                del file[name]
            file.create_dataset(name, data=values)
        file.attrs[T_CONVENTION] = "exact"
        for name in (_DONE, _SETTINGS):
            del file.attrs[name]


def write(
    path: str | os.PathLike,
    u: Any,
    *,
    x: Any,
    t: Any,
    y: Any = None,
    params: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    resume: bool = False,
) -> Path:
    """Write fields to a PDEBench-layout HDF5 file, atomically and resumably.

    The file is built under another name in the same directory and moved onto `path`
    with `os.replace` once complete, so `path` never holds a partial file. For a
    chunk source (`u` callable) that name is `.{name}.partial` (see `partial_path`);
    its attributes record how many samples are finished and the generation
    settings, and an exception (or `KeyboardInterrupt`) keeps it, so that
    `resume=True` can continue from the last finished block by calling
    `u(n_done)`. A resume with different settings (params, provenance, library
    version, coordinates) is refused with a `ValueError`. Any other source is
    written under a unique temporary name, removed on an exception.

    Byte-identity: each block is appended in its own open/write/close of the file,
    so a write interrupted between blocks (e.g. while the generator computes) and
    resumed produces the same bytes as an uninterrupted one, given the same block
    boundaries and the same `created` time (set `$SOURCE_DATE_EPOCH` to fix it; a
    resume keeps the time the partial file was created). An interruption in the
    middle of an HDF5 write is recovered (extra samples are dropped) but may leave
    the file layout, not the data, different.

    Two processes must not write the same `path` with a chunk source at once.

    **Arguments:**

    - `path`: the file to write (parent directories are created).
    - `u`: the fields, shape `(samples, t, x[, y], channels)`; an array, or an
        iterable (list, generator) of such arrays holding consecutive samples, which
        are streamed so the whole dataset never sits in memory; or a chunk source,
        a function `u(first)` returning such an iterable that starts at sample
        `first` (generators pass one, so that an interrupted write can resume).
    - `x`, `t`, `y`: the coordinates, one entry per grid point / saved frame; `y`
        only for 2-D fields.
    - `params`: PDE parameters, written as root attributes (e.g. `{"beta": 0.4}`).
    - `provenance`: `generator`, `seed`, `params` (the full generation settings,
        stored as JSON) and any other key, written as `sciml_<key>` attributes.
    - `resume`: continue the partial file of an interrupted write of a chunk
        source, if there is one (else start from sample 0). With `resume=False` a
        stale partial file is discarded with a warning. Ignored for other sources.

    **Returns:**

    The path written.
    """
    path = Path(path)
    params = dict(params or {})
    for name in params:
        if name.startswith(PROVENANCE_PREFIX) or name == T_CONVENTION:
            raise ValueError(
                f"Parameter name {name!r} is reserved; rename it (no "
                f"{PROVENANCE_PREFIX!r} prefix, not {T_CONVENTION!r})."
            )
        params[name] = _scalar_attr(name, params[name])
    attrs = _provenance_attrs(params, provenance)
    n_space = 1 if y is None else 2
    resumable = callable(u)
    settings = _settings(params, attrs, x, t, y)
    path.parent.mkdir(parents=True, exist_ok=True)
    if resumable:
        work = partial_path(path)
    else:  # a fresh unique name (not mkstemp, whose 0600 mode would reach the file)
        work = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    n_done, sample = 0, None
    if resumable and work.exists():
        if resume:
            n_done, sample = _resume_point(work, settings, n_space)
        else:
            warnings.warn(
                f"Discarding {work}, the partial file of an interrupted write; pass "
                f"resume=True to continue it instead.",
                stacklevel=2,
            )
            work.unlink()

    def checked_coordinates(sample: tuple[int, ...]) -> dict[str, np.ndarray]:
        coordinates = {X_COORD: _coordinate("x", x, sample[1], "x")}
        if y is not None:
            coordinates[Y_COORD] = _coordinate("y", y, sample[2], "y")
        coordinates[T_COORD] = _coordinate("t", t, sample[0], "t")
        return coordinates

    coordinates = None if sample is None else checked_coordinates(sample)
    try:
        for block in _as_blocks(u, n_done):
            block = _check_block(block, n_done, sample, n_space)
            if sample is None:
                sample = block.shape[1:]
                # checked before any sample reaches the disk
                coordinates = checked_coordinates(sample)
            if not work.exists():
                _create(work, sample, {**params, **attrs}, settings)
            if block.shape[0]:
                _append(work, block, n_done)
                n_done += block.shape[0]
        if coordinates is None or n_done == 0:
            raise ValueError("`u` holds no samples; pass at least one.")
        _finish(work, coordinates)
        os.replace(work, path)
    except BaseException:
        if not resumable:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(work)
        raise
    return path
