r"""Training batches streamed from a PDEBench file: autoregressive windows and
DeepONet operator pairs, shuffled by a PRNG key and prefetched to the device.

Reading is bounded: an epoch permutes the selected samples with the key and reads
them in blocks of `buffer_samples` (each sample read whole, strided, copied into
the block); it shuffles the items of a block (windows or samples) and cuts them
into batches, completing a batch that spans two blocks from the next one. A
background thread reads the next block while the current one is served, so host
memory holds at most **two blocks** (default about 128 MiB each) plus one
full-resolution sample being read and about two batches being assembled; the
device holds at most `prefetch + 2` batches (see `prefetch_to_device`). Every
sample is read exactly once per epoch.
"""

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from sciml._checks import boolean, integer, integers, real
from sciml.datasets._prefetch import prefetch_to_device

_BUFFER_BYTES = 128 * 2**20  # default host block: about this many bytes of samples

Samples = slice | range | Sequence[int] | np.ndarray | None


def pdebench_split(n_samples: int, test_fraction: float = 0.1) -> tuple[range, range]:
    """PDEBench's train/test split: the first `int(n * test_fraction)` samples test.

    **Arguments:**

    - `n_samples`: the number of samples in the file (`len(ds)`).
    - `test_fraction`: PDEBench uses 0.1.

    **Returns:**

    `(train, test)` as `range`s of sample indices, e.g. `(range(1000, 10000),
    range(0, 1000))` for 10 000 samples; pass either as `samples=`.
    """
    owner = "pdebench_split"
    n_samples = integer("n_samples", n_samples, minimum=0, owner=owner)
    test_fraction = real(
        "test_fraction", test_fraction, minimum=0.0, maximum=1.0, owner=owner
    )
    n_test = int(n_samples * test_fraction)
    return range(n_test, n_samples), range(0, n_test)


def _sample_indices(ds: Any, samples: Samples) -> np.ndarray:
    n = ds.n_samples
    where = f"{ds.path}: samples={samples!r}"
    if samples is None:
        indices = np.arange(n)
    elif isinstance(samples, slice):
        for bound in (samples.start, samples.stop):
            if bound is not None and not -n <= bound <= n:
                raise ValueError(
                    f"{where} asks for samples up to {bound}, but the file holds "
                    f"only {n} samples (0 .. {n - 1}). Request fewer samples."
                )
        indices = np.arange(n)[samples]
    else:
        indices = np.asarray(samples)
        if indices.ndim != 1 or (
            indices.size and not np.issubdtype(indices.dtype, np.integer)
        ):
            raise TypeError(f"{where}: pass a slice, a range or 1-D integer indices.")
        indices = indices.astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            bad = int(indices.max() if indices.max() >= n else indices.min())
            raise ValueError(
                f"{where} asks for sample {bad}, but the file holds {n} samples "
                f"(0 .. {n - 1}). Request fewer samples."
            )
    if indices.size == 0:
        raise ValueError(f"{where} selects no samples (the file holds {n}).")
    return indices


def _numpy_rng(epoch: int, *, key: PRNGKeyArray) -> np.random.Generator:
    """A host-side generator seeded by the key and the epoch (deterministic)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be one PRNG key, got shape {key.shape}.")
        key = jax.random.key_data(key)
    words = np.asarray(key, dtype=np.uint32).ravel().tolist()
    return np.random.default_rng([*words, epoch])


def _numeric_params(ds: Any) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in sorted(ds.params.items())
        if isinstance(value, int | float | np.number) and not isinstance(value, bool)
    }


def _strided(ds: Any, t_stride: int, x_stride: int) -> tuple[int, tuple[int, ...]]:
    n_t = len(range(0, ds.n_t, t_stride))
    space = tuple(len(range(0, n, x_stride)) for n in ds.spatial_shape)
    return n_t, space


def _default_buffer(ds: Any, t_stride: int, x_stride: int) -> int:
    n_t, space = _strided(ds, t_stride, x_stride)
    sample_bytes = 4 * n_t * math.prod(space) * ds.n_channels
    return max(1, _BUFFER_BYTES // max(1, sample_bytes))


def _read_block(ds: Any, ids: np.ndarray, t_stride: int, x_stride: int) -> np.ndarray:
    """Samples `ids` (rows in that order; read in file order), strided, float32."""
    n_space = len(ds.spatial_shape)
    select = (slice(None, None, t_stride),) + (slice(None, None, x_stride),) * n_space
    block = None
    for row in np.argsort(ids, kind="stable"):
        index = int(ids[row])
        try:
            sample = np.asarray(ds.u[index])[select]
        except (OSError, RuntimeError, KeyError) as error:
            raise ValueError(
                f"{ds.path}: reading sample {index} failed ({error}); the file is "
                "probably truncated or corrupted. Regenerate or re-download it."
            ) from error
        if block is None:
            block = np.empty((len(ids), *sample.shape), np.float32)
        block[row] = sample
    assert block is not None
    return block


def _blocks(
    ds: Any,
    order: np.ndarray,
    buffer: int,
    t_stride: int,
    x_stride: int,
    read_ahead: bool,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`(ids, block)` for consecutive runs of `buffer` ids of `order`. With
    `read_ahead`, a thread reads the next block while the caller uses the current
    one; a semaphore keeps at most two blocks alive (the caller must drop its
    reference to a block before asking for the next)."""
    runs = [order[low : low + buffer] for low in range(0, len(order), buffer)]
    if not read_ahead:
        for ids in runs:
            yield ids, _read_block(ds, ids, t_stride, x_stride)
        return
    slots = threading.Semaphore(2)
    stop = threading.Event()
    ready: list[Any] = [None] * len(runs)
    done = [threading.Event() for _ in runs]

    def read() -> None:
        for k, ids in enumerate(runs):
            while not slots.acquire(timeout=0.05):
                if stop.is_set():
                    return
            if stop.is_set():
                return
            try:
                ready[k] = (ids, _read_block(ds, ids, t_stride, x_stride))
            except BaseException as error:  # raised in the caller
                ready[k] = error
                done[k].set()
                return
            done[k].set()

    thread = threading.Thread(target=read, name="sciml-read-ahead", daemon=True)
    thread.start()
    try:
        for k in range(len(runs)):
            done[k].wait()
            item, ready[k] = ready[k], None
            if isinstance(item, BaseException):
                raise item
            yield item
            del item
            slots.release()  # the caller has moved on: the block may be freed
    finally:
        stop.set()
        thread.join()


def _rows(piece: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    return jax.tree.map(lambda a: a[start:stop], piece)


def _rebatch(
    pieces: Iterator[dict[str, Any]], batch_size: int, drop_remainder: bool
) -> Iterator[dict[str, Any]]:
    """Cut a stream of item blocks (dicts of arrays, items on axis 0) into batches of
    exactly `batch_size` (the last smaller unless `drop_remainder`)."""
    held: list[dict[str, Any]] = []
    n_held = 0

    def join(parts: list[dict[str, Any]]) -> dict[str, Any]:
        if len(parts) == 1:
            return parts[0]
        return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)

    for piece in pieces:
        n = len(piece["target"])
        start = 0
        while start < n:
            take = min(batch_size - n_held, n - start)
            held.append(piece if take == n else _rows(piece, start, start + take))
            n_held += take
            start += take
            if n_held == batch_size:
                yield join(held)
                held, n_held = [], 0
    if n_held and not drop_remainder:
        yield join(held)


class Batches:
    """An iterable of device-ready batches from a PDEBench file; make it with
    `windows` or `operator_pairs`.

    Each `iter()` replays the same batches: epoch `e` is shuffled by
    `fold(key, e)`, so the stream is deterministic for a key (and for
    `buffer_samples`). `len()` is the number of batches in all epochs
    (`batches_per_epoch` for one).

    **Arguments:**

    - `epoch`: `epoch(rng)` yields item blocks for one epoch, shuffled by `rng`.
    - `n_items`, `batch_size`, `drop_remainder`, `key`, `epochs`, `prefetch`,
        `device`: as in `windows`.
    """

    def __init__(
        self,
        epoch: Callable[[np.random.Generator], Iterator[dict[str, Any]]],
        n_items: int,
        batch_size: int,
        *,
        key: PRNGKeyArray,
        drop_remainder: bool,
        epochs: int | None,
        prefetch: int,
        device: Any,
    ):
        self._epoch = epoch
        self.n_items = n_items
        self.batch_size = batch_size
        self.drop_remainder = drop_remainder
        self._key = key
        self.epochs = epochs
        self.prefetch = prefetch
        self.device = device
        if drop_remainder:
            self.batches_per_epoch = n_items // batch_size
        else:
            self.batches_per_epoch = -(-n_items // batch_size)

    def __len__(self) -> int:
        if self.epochs is None:
            raise TypeError("An endless stream (epochs=None) has no length.")
        return self.batches_per_epoch * self.epochs

    def host_batches(self) -> Iterator[dict[str, Any]]:
        """The batches as numpy arrays, read and shuffled in this thread."""
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            pieces = self._epoch(_numpy_rng(epoch, key=self._key))
            yield from _rebatch(pieces, self.batch_size, self.drop_remainder)
            epoch += 1

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return prefetch_to_device(
            self.host_batches(), self.prefetch, device=self.device
        )


def _check_common(
    ds: Any,
    *,
    key: Any,
    batch_size: Any,
    t_stride: Any,
    x_stride: Any,
    epochs: Any,
    buffer_samples: Any,
    drop_remainder: Any,
    read_ahead: Any,
    prefetch: Any,
) -> tuple[int, int, int, int | None, int]:
    """Check the arguments `windows` and `operator_pairs` share (a `TypeError` for a
    wrong type, a `ValueError` for a wrong value, naming the file); return
    `batch_size`, `t_stride`, `x_stride`, `epochs` and the block size in samples
    (`buffer_samples` or its default)."""
    owner = str(ds.path)
    if not isinstance(key, jax.Array | np.ndarray):
        raise TypeError(
            f"{owner}: key must be a JAX PRNG key, got {type(key).__name__} {key!r}; "
            "e.g. key=jax.random.key(0)."
        )
    _numpy_rng(0, key=key)  # its shape, checked now rather than at the first batch
    batch_size = integer("batch_size", batch_size, minimum=1, owner=owner)
    t_stride = integer("t_stride", t_stride, minimum=1, owner=owner)
    x_stride = integer("x_stride", x_stride, minimum=1, owner=owner)
    if epochs is not None:
        epochs = integer("epochs", epochs, minimum=1, owner=owner)
    boolean("drop_remainder", drop_remainder, owner=owner)
    boolean("read_ahead", read_ahead, owner=owner)
    integer("prefetch", prefetch, minimum=0, owner=owner)
    if buffer_samples is None:
        buffer = _default_buffer(ds, t_stride, x_stride)
    else:
        buffer = integer("buffer_samples", buffer_samples, minimum=1, owner=owner)
    return batch_size, t_stride, x_stride, epochs, buffer


def _too_few(path: Path, n_items: int, what: str, batch_size: int) -> ValueError:
    return ValueError(
        f"{path}: the selection gives {n_items} {what}, fewer than batch_size="
        f"{batch_size}, so drop_remainder=True leaves no batch. Use a smaller "
        f"batch_size, more samples, or drop_remainder=False."
    )


def windows(
    ds: Any,
    input_steps: int,
    output_steps: int = 1,
    *,
    t_stride: int = 1,
    x_stride: int = 1,
    batch_size: int,
    key: PRNGKeyArray,
    samples: Samples = None,
    drop_remainder: bool = True,
    epochs: int | None = 1,
    buffer_samples: int | None = None,
    read_ahead: bool = True,
    prefetch: int = 2,
    device: Any = None,
) -> Batches:
    r"""Autoregressive training pairs: `input_steps` frames, then the next
    `output_steps` frames, from every sample and every start time.

    Frames are first subsampled: time by `t_stride`, every spatial axis by
    `x_stride` (PDEBench's protocol, 201 -> 41 frames and 1024 -> 256 cells, is
    `t_stride=5, x_stride=4`). On the strided frames $0..T'-1$ a window starts at
    every frame $s$ with $s + $ `input_steps + output_steps` $\le T'$, so a
    sample gives $T' -$ `input_steps` $-$ `output_steps` $+ 1$ windows, and an
    epoch visits every (sample, start) window once, in an order shuffled by `key`.

    Batch layout (channel-first, as every sciml grid model takes it): frames are
    stacked on the channel axis, frame-major, channel $k C + c$ holding channel
    $c$ of frame $k$. A model such as `FNO(input_steps * C, output_steps * C)`
    then takes `batch["input"][b]` directly, and `x.reshape(B, steps, C, ...)`
    recovers the frames. A batch is a dict:

    - `"input"`: `(B, input_steps * C, X[, Y])` float32;
    - `"target"`: `(B, output_steps * C, X[, Y])` float32;
    - `"params"`: `{name: (B,) float32}`, the file's numeric PDE parameters;
    - `"sample"`: `(B,)` int32, the sample index in the file;
    - `"start"`: `(B,)` int32, the file frame of the first input frame.

    **Arguments:**

    - `ds`: an open `PDEBenchDataset` (`sciml.datasets.load`).
    - `input_steps`, `output_steps`: frames in and out (PDEBench's
        `initial_step` = 10, one output).
    - `t_stride`, `x_stride`: keep every `t_stride`-th frame and every
        `x_stride`-th point along each spatial axis, starting at 0.
    - `batch_size`: windows per batch.
    - `key`: a JAX PRNG key; it seeds host-side shuffling (numpy).
    - `samples`: which samples, e.g. `slice(1000, None)` or the ranges of
        `pdebench_split`; default all.
    - `drop_remainder`: drop the last, smaller batch of each epoch (every batch
        then has the same shape, so a jitted step never recompiles).
    - `epochs`: epochs per iteration, or `None` for an endless stream.
    - `buffer_samples`: samples read per block (default: about 128 MiB of strided
        samples); windows are shuffled within a block, and host memory holds at
        most two blocks.
    - `read_ahead`: read the next block in a background thread while the current
        one is served (`False`: read it when needed; one block in memory).
    - `prefetch`: batches put on the device ahead in a background thread (0: none).
    - `device`: a `jax.Device` or sharding for the batches.

    **Returns:**

    A `Batches` iterable; each pass yields the same batches.
    """
    batch_size, t_stride, x_stride, epochs, buffer = _check_common(
        ds,
        key=key,
        batch_size=batch_size,
        t_stride=t_stride,
        x_stride=x_stride,
        epochs=epochs,
        buffer_samples=buffer_samples,
        drop_remainder=drop_remainder,
        read_ahead=read_ahead,
        prefetch=prefetch,
    )
    input_steps = integer("input_steps", input_steps, minimum=1, owner=str(ds.path))
    output_steps = integer("output_steps", output_steps, minimum=1, owner=str(ds.path))
    ids = _sample_indices(ds, samples)
    n_frames, _ = _strided(ds, t_stride, x_stride)
    need = input_steps + output_steps
    if n_frames < need:
        if t_stride > 1:
            why = (
                f"t_stride={t_stride} leaves {n_frames} of its {ds.n_t} frames, "
                f"fewer than the {need} a window needs (input_steps + output_steps)."
                f" Use a smaller t_stride or a shorter window."
            )
        else:
            why = (
                f"a window of input_steps + output_steps = {need} frames is longer "
                f"than the file's {ds.n_t} frames. Use a shorter window."
            )
        raise ValueError(f"{ds.path}: {why}")
    n_windows = n_frames - need + 1
    n_items = len(ids) * n_windows
    if drop_remainder and n_items < batch_size:
        raise _too_few(ds.path, n_items, "windows", batch_size)
    params = _numeric_params(ds)
    offsets = np.arange(need)

    def gather(block: np.ndarray, block_ids: np.ndarray, items: np.ndarray) -> dict:
        row, start = np.divmod(items, n_windows)
        frames = block[row[:, None], start[:, None] + offsets]  # (b, need, *S, C)
        frames = np.moveaxis(frames, -1, 2)  # (b, need, C, *S)
        b, _, c, *space = frames.shape
        return {
            "input": frames[:, :input_steps].reshape(b, input_steps * c, *space),
            "target": frames[:, input_steps:].reshape(b, output_steps * c, *space),
            "params": {k: np.full(b, v, np.float32) for k, v in params.items()},
            "sample": block_ids[row].astype(np.int32),
            "start": (start * t_stride).astype(np.int32),
        }

    def epoch(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
        order = rng.permutation(ids)
        blocks = _blocks(ds, order, buffer, t_stride, x_stride, read_ahead)
        for block_ids, block in blocks:
            items = rng.permutation(len(block_ids) * n_windows)
            for k in range(0, len(items), batch_size):
                yield gather(block, block_ids, items[k : k + batch_size])
            del block  # before asking for the next one: at most two blocks

    return Batches(
        epoch,
        n_items,
        batch_size,
        key=key,
        drop_remainder=drop_remainder,
        epochs=epochs,
        prefetch=prefetch,
        device=device,
    )


def _sensor_indices(n_sensors: Any, space: tuple[int, ...], path: Path) -> list:
    if isinstance(n_sensors, tuple | list) and len(n_sensors) != len(space):
        raise ValueError(
            f"{path}: n_sensors={n_sensors!r} names {len(n_sensors)} axes, the file "
            f"has {len(space)} spatial axes."
        )
    counts = integers("n_sensors", n_sensors, length=len(space), owner=str(path))
    out = []
    for m, n in zip(counts, space, strict=True):
        if m > n:
            raise ValueError(
                f"{path}: n_sensors={m} exceeds the {n} grid points on a spatial "
                f"axis (after x_stride). Use at most {n} sensors."
            )
        out.append((np.arange(m) * n) // m)
    return out


def operator_pairs(
    ds: Any,
    n_sensors: int | tuple[int, ...],
    n_points: int,
    *,
    batch_size: int,
    key: PRNGKeyArray,
    samples: Samples = None,
    t_stride: int = 1,
    x_stride: int = 1,
    drop_remainder: bool = True,
    epochs: int | None = 1,
    buffer_samples: int | None = None,
    read_ahead: bool = True,
    prefetch: int = 2,
    device: Any = None,
) -> Batches:
    r"""DeepONet training triples: the initial condition at fixed sensors, random
    $(t, x)$ query points, and the solution there.

    On the strided grid (as in `windows`), sensor $j$ of $m$ on an axis of $n$
    points is grid point $\lfloor j n / m \rfloor$ (evenly spaced, the same for
    every sample); the query points of a sample are `n_points` distinct grid points
    $(t_k, x_i[, y_j])$ drawn uniformly from all strided frames and points (frame 0
    included), fresh every epoch. An epoch visits every sample once. A batch is a
    dict:

    - `"branch"`: `(B, C * M)` float32, the frame-0 field at the $M$ sensors
        (`M = prod(n_sensors)`), channel-major: `reshape(B, C, *n_sensors)` gives
        the channel-first sensor grid;
    - `"trunk"`: `(B, n_points, 1 + d)` float32, the query coordinates
        $(t, x[, y])$ in the file's units;
    - `"target"`: `(B, n_points, C)` float32, $u$ at those points;
    - `"params"`: `{name: (B,) float32}`; `"sample"`: `(B,)` int32.

    A DeepONet (branch input, query points `(P, d)`) -> `(P, k)` takes
    `(batch["branch"][b], batch["trunk"][b])` and is compared with
    `batch["target"][b]`.

    **Arguments:**

    - `ds`: an open `PDEBenchDataset`.
    - `n_sensors`: sensors per spatial axis (an int for every axis, or one per
        axis; a 2-D file with `n_sensors=16` has 256 sensors).
    - `n_points`: query points per sample (at most the strided grid's size).
    - `batch_size`, `key`, `samples`, `t_stride`, `x_stride`, `drop_remainder`,
        `epochs`, `buffer_samples`, `read_ahead`, `prefetch`, `device`: as in
        `windows`
        (`batch_size` counts samples).

    **Returns:**

    A `Batches` iterable; each pass yields the same batches.
    """
    batch_size, t_stride, x_stride, epochs, buffer = _check_common(
        ds,
        key=key,
        batch_size=batch_size,
        t_stride=t_stride,
        x_stride=x_stride,
        epochs=epochs,
        buffer_samples=buffer_samples,
        drop_remainder=drop_remainder,
        read_ahead=read_ahead,
        prefetch=prefetch,
    )
    n_points = integer("n_points", n_points, minimum=1, owner=str(ds.path))
    ids = _sample_indices(ds, samples)
    n_frames, space = _strided(ds, t_stride, x_stride)
    sensors = _sensor_indices(n_sensors, space, ds.path)
    n_grid = n_frames * math.prod(space)
    if n_points > n_grid:
        raise ValueError(
            f"{ds.path}: n_points={n_points} exceeds the {n_grid} points of the "
            f"strided grid ({n_frames} frames x {space}). Ask for fewer points."
        )
    if drop_remainder and len(ids) < batch_size:
        raise _too_few(ds.path, len(ids), "samples", batch_size)
    params = _numeric_params(ds)
    axes = [np.asarray(ds.t, np.float32)[::t_stride]]
    axes.append(np.asarray(ds.x, np.float32)[::x_stride])
    if len(space) == 2:
        axes.append(np.asarray(ds.y, np.float32)[::x_stride])
    grid_shape = (n_frames, *space)

    def piece(block: np.ndarray, block_ids: np.ndarray, rows: slice, rng) -> dict:
        part = block[rows]  # (b, T', *S, C)
        b, c = part.shape[0], part.shape[-1]
        initial = part[:, 0][(slice(None), *np.ix_(*sensors))]  # (b, *m, C)
        branch = np.moveaxis(initial, -1, 1).reshape(b, -1)
        flat = np.stack([rng.choice(n_grid, n_points, replace=False) for _ in range(b)])
        where = np.unravel_index(flat, grid_shape)  # per axis (b, P)
        trunk = np.stack([axis[i] for axis, i in zip(axes, where, strict=True)], -1)
        target = part.reshape(b, n_grid, c)[np.arange(b)[:, None], flat]
        return {
            "branch": branch,
            "trunk": trunk,
            "target": target,
            "params": {k: np.full(b, v, np.float32) for k, v in params.items()},
            "sample": block_ids[rows].astype(np.int32),
        }

    def epoch(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
        order = rng.permutation(ids)
        blocks = _blocks(ds, order, buffer, t_stride, x_stride, read_ahead)
        for block_ids, block in blocks:
            for k in range(0, len(block_ids), batch_size):
                yield piece(block, block_ids, slice(k, k + batch_size), rng)
            del block

    return Batches(
        epoch,
        len(ids),
        batch_size,
        key=key,
        drop_remainder=drop_remainder,
        epochs=epochs,
        prefetch=prefetch,
        device=device,
    )


def channel_first(u: Any) -> np.ndarray:
    """Map the file layout to the model layout: `(..., T, X[, Y], C)` -> `(..., T, C,
    X[, Y])`.

    Files (and `PDEBenchDataset.u`) keep the channel axis last, as PDEBench does;
    every sciml grid model takes channel-first fields `(C, X[, Y])`. For a block of
    samples `(N, T, X, C)` this gives `(N, T, C, X)`, so `u[:, k]` is a batch of
    frames a model takes and `sciml.metrics` scores with `spatial_axes=-1` (1-D) or
    `(-2, -1)` (2-D).

    **Arguments:**

    - `u`: samples in the file layout `(N, T, X[, Y], C)` (an array, or a slice of
        the lazy `ds.u`).

    **Returns:**

    A numpy array `(N, T, C, X[, Y])`.
    """
    u = np.asarray(u)
    if u.ndim not in (4, 5):
        raise ValueError(
            f"channel_first expects samples (N, T, X[, Y], C) as `load` returns "
            f"them, got shape {u.shape}."
        )
    return np.moveaxis(u, -1, 2)
