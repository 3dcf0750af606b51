"""Write the PDEBench HDF5 layout atomically, with sciml provenance attributes.

Layout (spec §1): datasets `tensor` (float32; `(N, T, X)` or `(N, T, X, Y)` for one
channel, `(N, T, X[, Y], C)` for several), `x-coordinate`, optional `y-coordinate`,
and `t-coordinate` with exactly T entries (root attr `t_coordinate_convention =
"exact"`; PDEBench's own files carry T + 1). PDE parameters are root attributes.

Every per-sample dataset is chunked one sample a chunk, with HDF5's Fletcher-32
checksum filter (any HDF5 reader opens such files), so that bytes corrupted on disk
fail to read instead of returning wrong values.

A chunk source is written resumably: progress lives in a partial file beside the
target (`.{name}.partial`, see `write`), which `resume=True` continues.
"""

import datetime
import functools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sciml.datasets._partial import (
    PROVENANCE_PREFIX,
    PartialFile,
    digest,
    fingerprint,
    partial_path as partial_path,
)

TENSOR = "tensor"
X_COORD = "x-coordinate"
Y_COORD = "y-coordinate"
T_COORD = "t-coordinate"
T_CONVENTION = "t_coordinate_convention"
_BLOCK_BYTES = 64 * 2**20


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


def _create(sample: tuple[int, ...], file: h5py.File) -> None:
    stored = sample[:-1] if sample[-1] == 1 else sample
    file.create_dataset(
        TENSOR,
        shape=(0, *stored),
        maxshape=(None, *stored),
        chunks=(1, *stored),
        dtype=np.float32,
        fletcher32=True,
    )


def _trim_tensor(n_space: int, file: h5py.File, done: int) -> tuple[int, ...]:
    """Drop samples past `done` (a block interrupted midway); return the shape of a
    sample with its channel axis."""
    tensor = file[TENSOR]
    if tensor.shape[0] != done:
        tensor.resize(done, axis=0)
    sample = tuple(tensor.shape[1:])
    return (*sample, 1) if tensor.ndim == 2 + n_space else sample


def _append(file: h5py.File, block: np.ndarray, n_done: int) -> None:
    tensor = file[TENSOR]
    n_new = block.shape[0]
    tensor.resize(n_done + n_new, axis=0)
    tensor[n_done : n_done + n_new] = block.reshape(n_new, *tensor.shape[1:])


def _finish(coordinates: dict[str, np.ndarray], file: h5py.File) -> None:
    for name, values in coordinates.items():
        if name in file:  # left by an interruption during an earlier finish
            del file[name]
        file.create_dataset(name, data=values)
    file.attrs[T_CONVENTION] = "exact"


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

    Byte-identity (the mechanism is `sciml.datasets._partial.PartialFile`, shared
    with `write_fields` and `write_groups`): each block is appended in its own
    open/write/close of the file, so a write interrupted between blocks (e.g. while the generator computes) and
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
    settings = fingerprint(params, attrs, x=digest(x), t=digest(t), y=digest(y))

    def checked_coordinates(sample: tuple[int, ...]) -> dict[str, np.ndarray]:
        coordinates = {X_COORD: _coordinate("x", x, sample[1], "x")}
        if y is not None:
            coordinates[Y_COORD] = _coordinate("y", y, sample[2], "y")
        coordinates[T_COORD] = _coordinate("t", t, sample[0], "t")
        return coordinates

    with PartialFile(
        path, settings, resumable=callable(u), resume=resume, writer="write"
    ) as work:
        sample = work.resume(functools.partial(_trim_tensor, n_space))
        coordinates = None if sample is None else checked_coordinates(sample)
        for block in _as_blocks(u, work.done):
            block = _check_block(block, work.done, sample, n_space)
            if sample is None:
                sample = block.shape[1:]
                # checked before any sample reaches the disk
                coordinates = checked_coordinates(sample)
            if not work.exists:
                work.create({**params, **attrs}, functools.partial(_create, sample))
            if block.shape[0]:
                with work.chunk(block.shape[0]) as file:
                    _append(file, block, work.done)
        if coordinates is None or work.done == 0:
            raise ValueError("`u` holds no samples; pass at least one.")
        return work.finish(functools.partial(_finish, coordinates))
