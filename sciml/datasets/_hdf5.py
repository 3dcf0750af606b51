"""Write the PDEBench HDF5 layout atomically, with sciml provenance attributes.

Layout (spec §1): datasets `tensor` (float32; `(N, T, X)` or `(N, T, X, Y)` for one
channel, `(N, T, X[, Y], C)` for several), `x-coordinate`, optional `y-coordinate`,
and `t-coordinate` with exactly T entries (root attr `t_coordinate_convention =
"exact"`; PDEBench's own files carry T + 1). PDE parameters are root attributes.
"""

import contextlib
import datetime
import json
import os
import uuid
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


def _as_blocks(u: Any) -> Iterator[np.ndarray]:
    """Yield `u` in blocks of whole samples: split an array, pass chunks through, or
    call a chunk source `u(first_sample)` from sample 0."""
    if callable(u):
        u = u(0)
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


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh unique name (not mkstemp, whose 0600 mode would reach the final file).
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _provenance_attrs(
    params: Mapping[str, Any], provenance: Mapping[str, Any] | None
) -> dict[str, Any]:
    from sciml import __version__

    provenance = dict(provenance or {})
    attrs: dict[str, Any] = {
        "generator": provenance.pop("generator", "sciml.datasets.write"),
        "version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
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


def write(
    path: str | os.PathLike,
    u: Any,
    *,
    x: Any,
    t: Any,
    y: Any = None,
    params: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write fields to a PDEBench-layout HDF5 file, atomically.

    The file is built under a temporary name in the same directory and moved onto
    `path` with `os.replace` once complete; an exception (or `KeyboardInterrupt`)
    midway removes the temporary file and leaves `path` untouched.

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
    with _atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        tensor = None
        shape: tuple[int, ...] = ()
        n_written = 0
        for block in _as_blocks(u):
            block = _check_block(
                block, n_written, None if tensor is None else shape[1:], n_space
            )
            if tensor is None:
                shape = block.shape
                stored = shape[:-1] if shape[-1] == 1 else shape
                tensor = file.create_dataset(
                    TENSOR,
                    shape=(0, *stored[1:]),
                    maxshape=(None, *stored[1:]),
                    chunks=(1, *stored[1:]),
                    dtype=np.float32,
                )
            n_new = block.shape[0]
            tensor.resize(n_written + n_new, axis=0)
            tensor[n_written : n_written + n_new] = block.reshape(n_new, *stored[1:])
            n_written += n_new
        if tensor is None or n_written == 0:
            raise ValueError("`u` holds no samples; pass at least one.")
        file.create_dataset(X_COORD, data=_coordinate("x", x, shape[2], "x"))
        if y is not None:
            file.create_dataset(Y_COORD, data=_coordinate("y", y, shape[3], "y"))
        file.create_dataset(T_COORD, data=_coordinate("t", t, shape[1], "t"))
        file.attrs[T_CONVENTION] = "exact"
        for name, value in {**params, **attrs}.items():
            file.attrs[name] = value
    return path
