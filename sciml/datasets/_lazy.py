"""A lazy, read-only view of an HDF5 `tensor` with a channel axis always last."""

import operator
from typing import Any

import h5py
import numpy as np


def _is_integer(index: Any) -> bool:
    is_bool = isinstance(index, bool | np.bool_)
    return isinstance(index, int | np.integer) and not is_bool


def _sample_text(samples: Any) -> str:
    """`sample 3`, `samples 0 to 7` (a run), `samples 3, 5` (at most 5 listed)."""
    samples = list(samples)
    if len(samples) == 1:
        return f"sample {samples[0]}"
    if samples == list(range(samples[0], samples[-1] + 1)):
        return f"samples {samples[0]} to {samples[-1]}"
    shown = ", ".join(str(i) for i in samples[:5])
    more = f", ... ({len(samples)} in all)" if len(samples) > 5 else ""
    return f"samples {shown}{more}"


class LazyArray:
    """An array-like view of a PDEBench `tensor` that reads only what is indexed.

    Its shape is `(samples, t, x[, y], channels)` whether or not the file stores the
    channel axis. Indexing with integers, slices (any step) and `...` on any axis,
    or a 1-D integer array on the sample axis, reads just that selection through
    h5py and returns a `numpy.ndarray`; `np.asarray(view)` reads everything. A read
    that fails (a chunk failing its checksum, a truncated file) raises a `ValueError`
    naming the file and the samples that cannot be read, each re-read alone.

    **Arguments:**

    - `dataset`: the open h5py dataset.
    - `has_channel_axis`: whether the stored tensor carries the channel axis.
    """

    def __init__(self, dataset: h5py.Dataset, has_channel_axis: bool):
        self._dataset = dataset
        self._has_channel_axis = has_channel_axis
        stored = tuple(dataset.shape)
        self.shape: tuple[int, ...] = stored if has_channel_axis else (*stored, 1)
        self.dtype = np.dtype(dataset.dtype)

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of entries."""
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyArray(shape={self.shape}, dtype={self.dtype})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self[...]
        return array if dtype is None else array.astype(dtype)

    def _unreadable(self, selection: list[Any], error: OSError) -> ValueError:
        """The error for a read of `selection` that failed: it names the file and
        the samples that fail when re-read one by one (else the samples selected)."""
        head, rest = selection[0], tuple(selection[1:])
        if _is_integer(head):
            samples: Any = [head]
        elif isinstance(head, slice):
            samples = range(*head.indices(self.shape[0]))
        else:
            samples = np.asarray(head).tolist()
        bad = []
        for i in samples:
            try:
                self._dataset[(i, *rest)]
            except OSError:
                bad.append(i)
        file = self._dataset.file.filename
        name = self._dataset.name.lstrip("/")
        fix = "Regenerate or re-download the file."
        read = _sample_text(samples)
        if not bad:
            return ValueError(
                f"{file}: reading {read} of `{name}` failed ({error}); the file is "
                f"corrupted or truncated. {fix}"
            )
        where = "" if list(samples) == bad else f" (reading {read} failed)"
        return ValueError(
            f"{file}: {_sample_text(bad)} of `{name}` cannot be read{where}: the "
            f"data on disk is corrupted or truncated ({error}). {fix}"
        )

    def _expand(self, index: Any) -> tuple[Any, ...]:
        index = index if isinstance(index, tuple) else (index,)
        ellipses = [i for i, item in enumerate(index) if item is Ellipsis]
        if len(ellipses) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        if ellipses:
            at = ellipses[0]
            fill = (slice(None),) * (self.ndim - len(index) + 1)
            index = index[:at] + fill + index[at + 1 :]
        if len(index) > self.ndim:
            raise IndexError(
                f"too many indices: the view has {self.ndim} axes "
                f"{self.shape}, got {len(index)} indices"
            )
        return index + (slice(None),) * (self.ndim - len(index))

    def __getitem__(self, index: Any) -> np.ndarray:
        if not self._dataset.id.valid:
            raise ValueError("The dataset is closed; load the file again to read it.")
        selection: list[Any] = []  # what h5py reads, per stored axis
        after: list[Any] = []  # numpy index applied to the read array, per kept axis
        out_shape: list[int] = []
        for axis, (item, n) in enumerate(
            zip(self._expand(index), self.shape, strict=True)
        ):
            stored = self._has_channel_axis or axis < self.ndim - 1
            if _is_integer(item):
                i = operator.index(item)
                if not -n <= i < n:
                    raise IndexError(
                        f"index {i} is out of bounds for axis {axis}, n={n}"
                    )
                if stored:
                    selection.append(i % n)
            elif isinstance(item, slice):
                positions = range(*item.indices(n))
                out_shape.append(len(positions))
                if len(positions) == 0:
                    selection.append(slice(0, 0))
                    after.append(slice(None))
                    continue
                step = positions.step
                low = min(positions[0], positions[-1])
                high = max(positions[0], positions[-1])
                if stored:
                    selection.append(slice(low, high + 1, abs(step)))
                after.append(slice(None) if step > 0 else slice(None, None, -1))
            elif axis == 0 and not isinstance(item, str) and np.ndim(item) == 1:
                indices = np.asarray(item)
                if indices.size and not np.issubdtype(indices.dtype, np.integer):
                    raise IndexError("sample indices must be integers")
                indices = indices.astype(np.int64)
                if np.any((indices < -n) | (indices >= n)):
                    raise IndexError(f"a sample index is out of bounds (n={n})")
                unique, inverse = np.unique(indices % n, return_inverse=True)
                selection.append(unique)
                after.append(inverse)
                out_shape.append(len(indices))
            else:
                raise IndexError(
                    f"unsupported index {item!r} on axis {axis}: use integers, "
                    "slices, '...', or a 1-D integer array on the sample axis"
                )
        if 0 in out_shape:
            return np.zeros(out_shape, dtype=self.dtype)
        try:
            array = np.asarray(self._dataset[tuple(selection)])
        except OSError as error:  # a failed checksum, a truncated file
            raise self._unreadable(selection, error) from error
        if not self._has_channel_axis and len(after) > array.ndim:
            array = array[..., np.newaxis]
        return array[tuple(after)] if after else array
