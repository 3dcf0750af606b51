"""Writers for PDEBench layouts other than `tensor` `(N, T, X[, Y])`, atomically.

- `write_fields`: several per-sample root datasets (Darcy's `tensor` `(N, 1, X, Y)`
  and `nu` `(N, X, Y)`; per-sample PDE parameters `params` `(N, k)`).
- `write_groups`: one group per sample (diffusion-sorption: `0000/data`
  `(T, X, C)`, `0000/grid/x`, `0000/grid/t`, root attr `config`).

Both take the same chunk sources as `write` (`chunks(first)` from sample 0) and the
same provenance attributes; the file appears under its name only once complete.
"""

import contextlib
import json
import os
import uuid
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


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _chunk_iter(chunks: Any) -> Iterator[Any]:
    return iter(chunks(0) if callable(chunks) else chunks)


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


def write_fields(
    path: str | os.PathLike,
    chunks: Any,
    *,
    coordinates: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write several per-sample datasets (e.g. `tensor` and `nu`) at the root, atomically.

    **Arguments:**

    - `path`: the file to write (parent directories are created).
    - `chunks`: a chunk source `chunks(first)` (or an iterable) yielding dicts
        `{name: block}` of float arrays whose first axis holds the same consecutive
        samples; every chunk has the same names and trailing shapes.
    - `coordinates`: static 1-D datasets, e.g. `{"x-coordinate": x}`; when
        `t-coordinate` is among them it has one entry per frame and the root attr
        `t_coordinate_convention = "exact"` is written.
    - `params`: PDE parameters, written as root attributes.
    - `provenance`: as in `sciml.datasets.write`.

    **Returns:**

    The path written.
    """
    path = Path(path)
    params = {name: _scalar_attr(name, value) for name, value in (params or {}).items()}
    attrs = _provenance_attrs(params, provenance)
    with _atomic(path) as tmp, h5py.File(tmp, "w") as file:
        created: dict[str, h5py.Dataset] = {}
        n_written = 0
        for blocks in _chunk_iter(chunks):
            if not isinstance(blocks, Mapping) or not blocks:
                raise ValueError(
                    "write_fields needs chunks that are dicts {name: array}, got "
                    f"{type(blocks).__name__}."
                )
            if created and set(blocks) != set(created):
                raise ValueError(
                    f"Every chunk must hold the datasets {sorted(created)}, got "
                    f"{sorted(blocks)} at sample {n_written}."
                )
            arrays = {k: _finite_block(k, v, n_written) for k, v in blocks.items()}
            sizes = {k: a.shape[0] for k, a in arrays.items()}
            if len(set(sizes.values())) != 1:
                raise ValueError(
                    "The datasets of one chunk must hold the same number of samples, "
                    f"got {sizes}."
                )
            n_new = next(iter(sizes.values()))
            for name, array in arrays.items():
                if name not in created:
                    created[name] = file.create_dataset(
                        name,
                        shape=(0, *array.shape[1:]),
                        maxshape=(None, *array.shape[1:]),
                        chunks=(1, *array.shape[1:]),
                        dtype=np.float32,
                    )
                dataset = created[name]
                if dataset.shape[1:] != array.shape[1:]:
                    raise ValueError(
                        f"`{name}` chunks must have shape (n, *{dataset.shape[1:]}); "
                        f"the chunk at sample {n_written} has {array.shape}."
                    )
                dataset.resize(n_written + n_new, axis=0)
                dataset[n_written : n_written + n_new] = array
            n_written += n_new
        if n_written == 0:
            raise ValueError("`chunks` holds no samples; pass at least one.")
        for name, values in coordinates.items():
            array = np.asarray(values, dtype=np.float32)
            if array.ndim != 1 or not np.all(np.isfinite(array)):
                raise ValueError(f"`{name}` must be 1-D and finite, got {array.shape}.")
            file.create_dataset(name, data=array)
        if T_COORD in coordinates:
            file.attrs[T_CONVENTION] = "exact"
        for name, value in {**params, **attrs}.items():
            file.attrs[name] = value
    return path


def write_groups(
    path: str | os.PathLike,
    chunks: Any,
    *,
    x: Any,
    t: Any,
    config: Mapping[str, Any],
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write PDEBench's group-per-sample layout (diffusion-sorption), atomically.

    Sample `i` goes to group `f"{i:04d}"` (zero-padded wider from 10 000 samples on,
    so that name order is sample order) holding `data` `(T, X, C)` float32 and
    `grid/x` `(X,)`, `grid/t` `(T,)` (hard links to one stored copy; readers see
    ordinary datasets). The root attr `config` is the generation config as JSON.

    **Arguments:**

    - `path`: the file to write.
    - `chunks`: a chunk source `chunks(first)` (or an iterable) yielding blocks
        `(n, T, X, C)` of consecutive samples.
    - `x`, `t`: the coordinates.
    - `config`: JSON-serialisable settings, stored as the root attr `config`.
    - `provenance`: as in `sciml.datasets.write`.

    **Returns:**

    The path written.
    """
    path = Path(path)
    attrs = _provenance_attrs(dict(config), provenance)
    with _atomic(path) as tmp, h5py.File(tmp, "w") as file:
        n_written = 0
        shape: tuple[int, ...] = ()
        grid: dict[str, h5py.Dataset] = {}
        names: list[str] = []
        for block in _chunk_iter(chunks):
            block = _finite_block("u", block, n_written)
            if block.ndim != 4:
                raise ValueError(
                    "write_groups needs blocks (samples, t, x, channels), got "
                    f"{block.shape}; add a channel axis with `u[..., None]`."
                )
            if not shape:
                shape = block.shape[1:]
                coords = {
                    "x": _coordinate("x", x, shape[1], "x"),
                    "t": _coordinate("t", t, shape[0], "t"),
                }
            elif block.shape[1:] != shape:
                raise ValueError(
                    f"Every chunk must have shape (n, *{shape}); the chunk at sample "
                    f"{n_written} has {block.shape}."
                )
            for sample in block:
                name = f"{n_written:04d}"
                group = file.create_group(name)
                group.create_dataset("data", data=sample, dtype=np.float32)
                for axis in ("x", "t"):
                    if axis in grid:
                        group[f"grid/{axis}"] = grid[axis]  # a hard link
                    else:
                        grid[axis] = group.create_dataset(
                            f"grid/{axis}", data=coords[axis]
                        )
                names.append(name)
                n_written += 1
        if n_written == 0:
            raise ValueError("`chunks` holds no samples; pass at least one.")
        width = len(names[-1])
        for name in names:
            if len(name) < width:
                file.move(name, name.zfill(width))
        file.attrs["config"] = json.dumps(dict(config), sort_keys=True)
        file.attrs[T_CONVENTION] = "exact"
        for name, value in attrs.items():
            file.attrs[name] = value
    return path
