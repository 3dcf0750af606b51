"""Open PDEBench-layout HDF5 files (ours and PDEBench's own) lazily."""

import errno
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sciml.datasets._hdf5 import (
    PROVENANCE_PREFIX,
    T_CONVENTION,
    T_COORD,
    TENSOR,
    X_COORD,
    Y_COORD,
)
from sciml.datasets._lazy import LazyArray

_NAME_PARAM = re.compile(r"^([A-Za-z]+)([-+]?(?:\d|\.\d).*)$")
_CHECK_BYTES = 64 * 2**20
_HDF5_SUFFIXES = {".hdf5", ".h5", ".hdf", ".he5"}


def params_from_filename(name: str | os.PathLike) -> dict[str, float]:
    """Read the PDE parameters PDEBench puts in a file name.

    `1D_Advection_Sols_beta0.4.hdf5` gives `{"beta": 0.4}`, `ReacDiff_Nu0.5_Rho1.0.hdf5`
    gives `{"nu": 0.5, "rho": 1.0}`: every `_`-separated token made of letters then a
    number; names are lower-cased.

    **Arguments:**

    - `name`: a file name or path.

    **Returns:**

    A dict from lower-case parameter name to value.
    """
    file = Path(name)
    stem = file.stem if file.suffix.lower() in _HDF5_SUFFIXES else file.name
    params: dict[str, float] = {}
    for token in stem.split("_"):
        match = _NAME_PARAM.match(token)
        if match is None:
            continue
        try:
            params[match.group(1).lower()] = float(match.group(2))
        except ValueError:
            continue
    return params


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class PDEBenchDataset:
    """An open PDEBench-layout file; use `load` to make one.

    Attributes: `u` (a lazy `(samples, t, x[, y], channels)` view), `x`, `y` (or
    `None`), `t` (numpy arrays; `t` has one entry per saved frame; a steady file
    without `t-coordinate`, e.g. Darcy's `(N, 1, X, Y)`, gets `t = [0.]`), `fields`
    (lazy views of the other root datasets with one entry per sample, in their
    stored shape: Darcy's `nu`, per-sample `params`), `params`, `provenance`, `path`,
    `n_samples`, `n_t`, `spatial_shape`, `n_channels`. Close it with `.close()` or
    use it as a context manager.

    PDEBench's group-per-sample layout (diffusion-sorption: groups `0000`, ...,
    each with `data` `(T, X, C)`, `grid/x`, `grid/t`; 2-D diffusion-reaction: `data`
    `(T, X, Y, C)` and `grid/y` too) is read through the same lazy `u`: indexing it
    reads only the groups selected.

    **Arguments:**

    - `path`: the file's path (for messages and parameters from its name).
    - `file`: the open `h5py.File`, already checked to hold the PDEBench keys.
    """

    def __init__(self, path: Path, file: h5py.File):
        self.path = path
        self._file = file
        groups = _sample_groups(file)
        if groups and TENSOR not in file:
            # Group-per-sample layout (diffusion-sorption): `NNNN/data` (T, X, C).
            tensor: Any = _GroupStack(file, groups)
            n_space = tensor.ndim - 3
            first = file[groups[0]]
            x_values = self._values(first, "grid/x", tensor.shape[2])
            y_values = (
                self._values(first, "grid/y", tensor.shape[3]) if n_space == 2 else None
            )
            t_values = self._values(first, "grid/t", tensor.shape[1])
        else:
            tensor = file[TENSOR]
            n_space = 2 if Y_COORD in file else 1
            x_values = None
            t_values = np.asarray(file[T_COORD][()]) if T_COORD in file else None
        if tensor.ndim not in (2 + n_space, 3 + n_space):
            raise ValueError(
                f"{path}: `{TENSOR}` has shape {tensor.shape}; a "
                f"{n_space}-D file (judging by the coordinates present) needs rank "
                f"{2 + n_space} or {3 + n_space} (samples, t, space..., [channels])."
            )
        if isinstance(tensor, _GroupStack):
            self.u: LazyArray = _GroupLazyArray(tensor)
        else:
            self.u = LazyArray(tensor, has_channel_axis=tensor.ndim == 3 + n_space)
        if x_values is None:
            x_values = self._coordinate(X_COORD, self.u.shape[2])
            y_values = (
                self._coordinate(Y_COORD, self.u.shape[3]) if n_space == 2 else None
            )
        self.x = x_values
        self.y = y_values
        n_t = self.u.shape[1]
        if t_values is None:  # a steady file (Darcy) has no t-coordinate
            t_values = np.zeros(n_t)
        t = t_values
        if t.ndim != 1 or t.shape[0] not in (n_t, n_t + 1):
            raise ValueError(
                f"{path}: `{T_COORD}` has shape {t.shape} but `{TENSOR}` has {n_t} "
                f"frames; expected {n_t} (exact) or {n_t + 1} (PDEBench) entries."
            )
        self.t = t[:n_t]
        # Other root datasets with one entry per sample (Darcy's `nu`, per-sample
        # PDE parameters `params`), as lazy views in their stored shape.
        self.fields: dict[str, LazyArray] = {}
        for key, item in file.items():
            if key in (TENSOR, X_COORD, Y_COORD, T_COORD):
                continue
            if isinstance(item, h5py.Dataset) and item.ndim >= 1:
                if item.shape[0] == self.u.shape[0]:
                    self.fields[key] = LazyArray(item, has_channel_axis=True)
        self.provenance: dict[str, Any] = {}
        attr_params: dict[str, Any] = {}
        for key, value in file.attrs.items():
            value = _plain(value)
            if key.startswith(PROVENANCE_PREFIX):
                name = key[len(PROVENANCE_PREFIX) :]
                if name == "params" and isinstance(value, str):
                    value = json.loads(value)
                self.provenance[name] = value
            elif key != T_CONVENTION:
                attr_params[key.lower()] = value
        self.params = params_from_filename(path)
        for key, value in attr_params.items():
            named = self.params.get(key)
            if isinstance(named, float) and isinstance(value, int | float):
                if not np.isclose(named, value, rtol=1e-3):
                    warnings.warn(
                        f"{path}: the file name says {key}={named} but the attribute "
                        f"says {value}; using the attribute.",
                        stacklevel=3,
                    )
            self.params[key] = value

    def _values(self, group: Any, key: str, n: int) -> np.ndarray:
        if key not in group:
            raise ValueError(
                f"{self.path}: group {group.name!r} has no `{key}`; a group-per-sample "
                "file needs `data`, `grid/x` and `grid/t` in every group."
            )
        values = np.asarray(group[key][()])
        if values.shape != (n,):
            raise ValueError(
                f"{self.path}: `{group.name}/{key}` has shape {values.shape}, but "
                f"`data` has {n} points on that axis."
            )
        return values

    def _coordinate(self, key: str, n: int) -> np.ndarray:
        values = np.asarray(self._file[key][()])
        if values.shape != (n,):
            raise ValueError(
                f"{self.path}: `{key}` has shape {values.shape}, but `{TENSOR}` has "
                f"{n} points on that axis."
            )
        return values

    @property
    def n_samples(self) -> int:
        """The number of samples (the first axis of `u`)."""
        return self.u.shape[0]

    @property
    def n_t(self) -> int:
        """The number of saved times (the second axis of `u`)."""
        return self.u.shape[1]

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """The grid's shape, `(X,)` or `(X, Y)`."""
        return self.u.shape[2:-1]

    @property
    def n_channels(self) -> int:
        """The number of channels (the last axis of `u`)."""
        return self.u.shape[-1]

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        return (
            f"PDEBenchDataset({str(self.path)!r}, n_samples={self.n_samples}, "
            f"n_t={self.n_t}, spatial_shape={self.spatial_shape}, "
            f"n_channels={self.n_channels}, params={self.params})"
        )

    def close(self) -> None:
        """Close the file; the lazy view `u` cannot be read afterwards."""
        self._file.close()

    def __enter__(self) -> "PDEBenchDataset":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def windows(self, input_steps: int, output_steps: int = 1, **kwargs: Any) -> Any:
        """Autoregressive training batches; see `sciml.datasets.windows`."""
        from sciml.datasets._views import windows

        return windows(self, input_steps, output_steps, **kwargs)

    def operator_pairs(self, n_sensors: Any, n_points: int, **kwargs: Any) -> Any:
        """DeepONet training batches; see `sciml.datasets.operator_pairs`."""
        from sciml.datasets._views import operator_pairs

        return operator_pairs(self, n_sensors, n_points, **kwargs)

    def check_finite(self) -> None:
        """Read `u` and the `fields` block by block (about 64 MiB each): every value
        must be finite and every stored block readable (sciml's files carry
        Fletcher-32 checksums, so corrupted bytes on disk fail to read).

        **Raises:**

        `ValueError` naming the file and the first sample holding a non-finite value,
        or the samples of a block that cannot be read (each re-read alone).
        """
        for name, view in {"u": self.u, **self.fields}.items():
            sample_bytes = view.dtype.itemsize * max(1, int(np.prod(view.shape[1:])))
            step = max(1, _CHECK_BYTES // sample_bytes)
            for start in range(0, self.n_samples, step):
                block = view[start : start + step]
                if view.dtype.kind != "f":
                    continue
                finite = np.isfinite(block.reshape(block.shape[0], -1)).all(axis=1)
                if not finite.all():
                    bad = start + int(np.argmin(finite))
                    of = "" if name == "u" else f" of `{name}`"
                    raise ValueError(
                        f"{self.path}: sample {bad}{of} contains NaN or inf (first "
                        "such sample). Regenerate the file or drop that sample."
                    )


def _sample_groups(file: h5py.File) -> list[str]:
    """The names of the per-sample groups (digits, holding `data`), in sample order."""
    names = [
        key
        for key, item in file.items()
        if key.isdigit() and isinstance(item, h5py.Group) and "data" in item
    ]
    return sorted(names, key=int)


class _GroupStack:
    """A read-only, h5py-dataset-like stack of the `data` of per-sample groups.

    Supports what `LazyArray` asks of a dataset: `shape`, `ndim`, `dtype`, `id.valid`,
    `file`, `name` and a tuple selection whose first entry is an integer, a slice
    with positive step, or a sorted array of unique indices.
    """

    name = "NNNN/data"

    def __init__(self, file: h5py.File, names: list[str]):
        self._file = self.file = file
        self._names = names
        first = file[names[0]]["data"]
        self.shape: tuple[int, ...] = (len(names), *first.shape)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(first.dtype)

    @property
    def id(self) -> Any:
        return self._file.id

    def _read(self, i: int, rest: tuple[Any, ...]) -> np.ndarray:
        data = self._file[self._names[i]]["data"]
        if data.shape != self.shape[1:]:
            raise ValueError(
                f"group {self._names[i]!r} holds `data` of shape {data.shape}, "
                f"but the first group's is {self.shape[1:]}; the file is inconsistent."
            )
        return np.asarray(data[rest])

    def __getitem__(self, selection: tuple[Any, ...]) -> np.ndarray:
        head, rest = selection[0], tuple(selection[1:])
        if isinstance(head, int | np.integer):
            return self._read(int(head), rest)
        if isinstance(head, slice):
            indices: Any = range(*head.indices(self.shape[0]))
        else:
            indices = np.asarray(head).tolist()
        return np.stack([self._read(i, rest) for i in indices])


class _GroupLazyArray(LazyArray):
    """`LazyArray` over a `_GroupStack` (whose `data` carry the channel axis)."""

    def __init__(self, stack: _GroupStack):
        self._dataset = stack
        self._has_channel_axis = True
        self.shape = stack.shape
        self.dtype = stack.dtype


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such PDEBench file", str(path))
    if path.is_dir():
        raise ValueError(f"{path} is a directory; pass the path of an .hdf5 file.")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path} is not an HDF5 file (wrong format or corrupted).")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ValueError(
            f"{path} could not be opened as HDF5 (truncated or corrupted?): {error}"
        ) from error


def load(path: str | os.PathLike, *, check_finite: bool = False) -> PDEBenchDataset:
    """Open a PDEBench-layout HDF5 file without reading its `tensor`.

    Reads both sciml's files and PDEBench's (whose `t-coordinate` has T + 1 entries;
    the first T are kept). Parameters come from the root attributes merged with the
    file name (`1D_Burgers_Sols_Nu0.01.hdf5` gives `{"nu": 0.01}`); the attributes
    win where both exist.

    **Arguments:**

    - `path`: the `.hdf5` file.
    - `check_finite`: read every per-sample dataset now, checking for NaN/inf and
        for corrupted blocks (slow on big files); `ds.check_finite()` does the same
        later.

    **Returns:**

    An open `PDEBenchDataset`; close it, or use it in a `with` block.
    """
    path = Path(path)
    file = _open(path)
    try:
        keys = sorted(file.keys())
        grouped = TENSOR not in file and bool(_sample_groups(file))
        required = [TENSOR, X_COORD]
        steady = (
            TENSOR in file and file[TENSOR].ndim >= 2 and file[TENSOR].shape[1] == 1
        )
        if not steady:
            required.append(T_COORD)
        missing = [key for key in required if key not in file]
        if missing and not grouped:
            raise ValueError(
                f"{path} is HDF5 but not in the PDEBench layout: it has keys {keys}, "
                f"missing {missing}. Expected datasets {[TENSOR, X_COORD, T_COORD]} "
                f"(plus {Y_COORD!r} for 2-D) at the root, or one group per sample "
                "holding `data`, `grid/x`, `grid/t`. Fix: write the file with "
                "sciml.datasets.write, or rename/add those datasets."
            )
        dataset = PDEBenchDataset(path, file)
        if check_finite:
            dataset.check_finite()
    except BaseException:
        file.close()
        raise
    return dataset
