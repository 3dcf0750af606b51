"""Writers for PDEBench layouts other than `tensor` `(N, T, X[, Y])`, atomically.

- `write_fields`: several per-sample root datasets (Darcy's `tensor` `(N, 1, X, Y)`
  and `nu` `(N, X, Y)`; per-sample PDE parameters `params` `(N, k)`).
- `write_groups`: one group per sample (diffusion-sorption: `0000/data`
  `(T, X, C)`, `0000/grid/x`, `0000/grid/t`, root attr `config`; 2-D
  diffusion-reaction: `0000/data` `(T, X, Y, C)` and `0000/grid/y` too).

Every per-sample dataset carries HDF5's Fletcher-32 checksum filter, as in `write`.
Both take the same sources as `write` and the same provenance attributes, and build
the file with the same mechanism (`sciml.datasets._partial.PartialFile`): the file
appears under its name only once complete, and a chunk source `chunks(first)` is
written resumably (`resume=True` continues the partial file `.{name}.partial` of an
interrupted write from its last finished chunk, byte-identically).
"""

import functools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sciml.datasets._hdf5 import (
    T_CONVENTION,
    T_COORD,
    _coordinate,
    _provenance_attrs,
    _scalar_attr,
)
from sciml.datasets._partial import PartialFile, digest, fingerprint


def _chunk_iter(chunks: Any, first: int) -> Iterator[Any]:
    return iter(chunks(first) if callable(chunks) else chunks)


def _finite_block(name: str, block: Any, first: int) -> np.ndarray:
    block = np.asarray(block, dtype=np.float32)
    if block.ndim < 1 or block.shape[0] == 0:
        raise ValueError(f"`{name}` chunk at sample {first} is empty: {block.shape}.")
    finite = np.isfinite(block.reshape(block.shape[0], -1)).all(axis=1)
    if not finite.all():
        bad = first + int(np.argmin(finite))
        raise ValueError(
            f"`{name}` contains NaN or inf (first in sample {bad}); the writer "
            "refuses non-finite data. Check the solver that produced it."
        )
    return block


def _static(coordinates: Mapping[str, Any]) -> dict[str, np.ndarray]:
    out = {}
    for name, values in coordinates.items():
        array = np.asarray(values, dtype=np.float32)
        if array.ndim != 1 or not np.all(np.isfinite(array)):
            raise ValueError(f"`{name}` must be 1-D and finite, got {array.shape}.")
        out[name] = array
    return out


def _trim_fields(file: h5py.File, done: int) -> dict[str, tuple[int, ...]]:
    """Drop samples past `done` from every per-sample dataset; return their sample
    shapes. (Coordinates left by an interrupted finish are not per-sample: fixed
    size, rewritten by the finish.)"""
    shapes = {}
    for name, item in file.items():
        if isinstance(item, h5py.Dataset) and item.maxshape[0] is None:
            if item.shape[0] != done:
                item.resize(done, axis=0)
            shapes[name] = tuple(item.shape[1:])
    if not shapes:
        raise KeyError("no per-sample datasets")
    return shapes


def _create_fields(arrays: Mapping[str, np.ndarray], file: h5py.File) -> None:
    for name, array in arrays.items():
        file.create_dataset(
            name,
            shape=(0, *array.shape[1:]),
            maxshape=(None, *array.shape[1:]),
            chunks=(1, *array.shape[1:]),
            dtype=np.float32,
            fletcher32=True,
        )


def _finish_fields(static: Mapping[str, np.ndarray], file: h5py.File) -> None:
    for name, array in static.items():
        if name in file:  # left by an interruption during an earlier finish
            del file[name]
        file.create_dataset(name, data=array)
    if T_COORD in static:
        file.attrs[T_CONVENTION] = "exact"


def write_fields(
    path: str | os.PathLike,
    chunks: Any,
    *,
    coordinates: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    resume: bool = False,
) -> Path:
    """Write several per-sample datasets (e.g. `tensor` and `nu`) at the root, atomically.

    Atomic and resumable as `sciml.datasets.write` (same partial file, settings
    check and byte identity; the settings are `params`, `provenance` and the
    coordinates).

    **Arguments:**

    - `path`: the file to write (parent directories are created).
    - `chunks`: a chunk source `chunks(first)` (or an iterable) yielding dicts
        `{name: block}` of float arrays whose first axis holds the same consecutive
        samples, starting at sample `first`; every chunk has the same names and
        trailing shapes.
    - `coordinates`: static 1-D datasets, e.g. `{"x-coordinate": x}`; when
        `t-coordinate` is among them it has one entry per frame and the root attr
        `t_coordinate_convention = "exact"` is written.
    - `params`: PDE parameters, written as root attributes.
    - `provenance`: as in `sciml.datasets.write`.
    - `resume`: continue the partial file of an interrupted write of a chunk
        source, if there is one (else start from sample 0), as in
        `sciml.datasets.write`. Ignored for other sources.

    **Returns:**

    The path written.
    """
    path = Path(path)
    params = {name: _scalar_attr(name, value) for name, value in (params or {}).items()}
    attrs = _provenance_attrs(params, provenance)
    static = _static(coordinates)
    digests = {name: digest(array) for name, array in static.items()}
    settings = fingerprint(params, attrs, coordinates=digests)
    with PartialFile(
        path, settings, resumable=callable(chunks), resume=resume, writer="write_fields"
    ) as work:
        shapes = work.resume(_trim_fields) or {}
        for blocks in _chunk_iter(chunks, work.done):
            if not isinstance(blocks, Mapping) or not blocks:
                raise ValueError(
                    "write_fields needs chunks that are dicts {name: array}, got "
                    f"{type(blocks).__name__}."
                )
            if shapes and set(blocks) != set(shapes):
                raise ValueError(
                    f"Every chunk must hold the datasets {sorted(shapes)}, got "
                    f"{sorted(blocks)} at sample {work.done}."
                )
            arrays = {k: _finite_block(k, v, work.done) for k, v in blocks.items()}
            sizes = {k: a.shape[0] for k, a in arrays.items()}
            if len(set(sizes.values())) != 1:
                raise ValueError(
                    "The datasets of one chunk must hold the same number of samples, "
                    f"got {sizes}."
                )
            for name, array in arrays.items():
                if shapes and shapes[name] != array.shape[1:]:
                    raise ValueError(
                        f"`{name}` chunks must have shape (n, *{shapes[name]}); "
                        f"the chunk at sample {work.done} has {array.shape}."
                    )
            if not shapes:
                shapes = {name: array.shape[1:] for name, array in arrays.items()}
            if not work.exists:
                work.create(
                    {**params, **attrs}, functools.partial(_create_fields, arrays)
                )
            n_new = next(iter(sizes.values()))
            with work.chunk(n_new) as file:
                for name, array in arrays.items():
                    dataset = file[name]
                    dataset.resize(work.done + n_new, axis=0)
                    dataset[work.done : work.done + n_new] = array
        if work.done == 0:
            raise ValueError("`chunks` holds no samples; pass at least one.")
        return work.finish(functools.partial(_finish_fields, static))


def _sample_groups(file: h5py.File) -> dict[int, str]:
    """Sample index -> group name (`0000`, ...; wider once finished past 9999)."""
    return {int(name): name for name in file if name.isdigit()}


def _trim_groups(file: h5py.File, done: int) -> tuple[int, ...] | None:
    """Drop the groups of samples past `done`; return the shape of a sample (None
    when there is none yet)."""
    groups = _sample_groups(file)
    for index, name in groups.items():
        if index >= done:
            del file[name]
    if done == 0:
        return None
    return tuple(file[groups[0]]["data"].shape)


def _append_groups(
    block: np.ndarray, coords: Mapping[str, np.ndarray], first: int, file: h5py.File
) -> None:
    for i, sample in enumerate(block, start=first):
        group = file.create_group(f"{i:04d}")
        # one chunk, so that the Fletcher-32 checksum filter can apply
        group.create_dataset(
            "data", data=sample, dtype=np.float32, chunks=sample.shape, fletcher32=True
        )
        for axis in coords:
            if i == 0:
                group.create_dataset(f"grid/{axis}", data=coords[axis])
            else:  # a hard link to sample 0's copy (named `0000` until the finish)
                group[f"grid/{axis}"] = file[f"{0:04d}/grid/{axis}"]


def _finish_groups(config: Mapping[str, Any], file: h5py.File) -> None:
    groups = _sample_groups(file)
    width = len(f"{max(groups):04d}")
    for name in groups.values():
        if len(name) < width:
            file.move(name, name.zfill(width))
    file.attrs["config"] = json.dumps(dict(config), sort_keys=True)
    file.attrs[T_CONVENTION] = "exact"


def write_groups(
    path: str | os.PathLike,
    chunks: Any,
    *,
    x: Any,
    t: Any,
    config: Mapping[str, Any],
    provenance: Mapping[str, Any] | None = None,
    resume: bool = False,
    y: Any = None,
) -> Path:
    """Write PDEBench's group-per-sample layout (diffusion-sorption, 2-D
    diffusion-reaction), atomically.

    Sample `i` goes to group `f"{i:04d}"` (zero-padded wider from 10 000 samples on,
    so that name order is sample order) holding `data` `(T, X, C)` or `(T, X, Y, C)`
    float32 and `grid/x` `(X,)`, `grid/t` `(T,)` and, in 2-D, `grid/y` `(Y,)` (hard
    links to one stored copy; readers see ordinary datasets). The root attr `config`
    is the generation config as JSON. Atomic and resumable as `sciml.datasets.write`
    (same partial file, settings check and byte identity; the settings are `config`,
    `provenance` and the coordinates).

    **Arguments:**

    - `path`: the file to write.
    - `chunks`: a chunk source `chunks(first)` (or an iterable) yielding blocks
        `(n, T, X, C)` (or `(n, T, X, Y, C)` with `y`) of consecutive samples,
        starting at sample `first`.
    - `x`, `t`: the coordinates.
    - `y`: the second coordinate of 2-D samples (`None` for 1-D).
    - `config`: JSON-serialisable settings, stored as the root attr `config`.
    - `provenance`: as in `sciml.datasets.write`.
    - `resume`: continue the partial file of an interrupted write of a chunk
        source, if there is one (else start from sample 0), as in
        `sciml.datasets.write`. Ignored for other sources.

    **Returns:**

    The path written.
    """
    path = Path(path)
    config = dict(config)
    attrs = _provenance_attrs(config, provenance)
    axes = {"x": x, "t": t} if y is None else {"x": x, "y": y, "t": t}
    settings = fingerprint(config, attrs, **{k: digest(v) for k, v in axes.items()})
    rank = 4 if y is None else 5
    with PartialFile(
        path, settings, resumable=callable(chunks), resume=resume, writer="write_groups"
    ) as work:
        shape = work.resume(_trim_groups)
        coords: dict[str, np.ndarray] | None = None
        for block in _chunk_iter(chunks, work.done):
            block = _finite_block("u", block, work.done)
            if block.ndim != rank:
                wanted = (
                    "(samples, t, x, channels)"
                    if y is None
                    else "(samples, t, x, y, channels)"
                )
                raise ValueError(
                    f"write_groups needs blocks {wanted}, got {block.shape}; add a "
                    "channel axis with `u[..., None]`, and pass `y` for 2-D samples."
                )
            if shape is None:
                shape = block.shape[1:]
            elif block.shape[1:] != shape:
                raise ValueError(
                    f"Every chunk must have shape (n, *{shape}); the chunk at sample "
                    f"{work.done} has {block.shape}."
                )
            if coords is None:  # checked before any sample reaches the disk
                sizes = {"t": shape[0], "x": shape[1], "y": shape[2]}
                coords = {k: _coordinate(k, v, sizes[k], k) for k, v in axes.items()}
            if not work.exists:
                work.create(attrs)
            with work.chunk(block.shape[0]) as file:
                _append_groups(block, coords, work.done, file)
        if work.done == 0:
            raise ValueError("`chunks` holds no samples; pass at least one.")
        return work.finish(functools.partial(_finish_groups, config))
