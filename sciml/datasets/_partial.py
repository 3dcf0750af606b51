"""The file a writer builds beside its target: atomic, and resumable for chunk sources.

One mechanism for every layout writer (`write`, `write_fields`, `write_groups`):
`PartialFile` owns the work file's name, the settings fingerprint and its check, the
count of finished samples, one open/write/close of the file per chunk, and the
final atomic rename. The writer supplies only what its layout puts in the file.

For a chunk source the work file is `.{name}.partial` (`partial_path`); its root
attributes `sciml_partial_done` (samples finished) and `sciml_partial_settings`
(the fingerprint, JSON) let a later `resume=True` continue it. It is kept when the
write stops with an exception. Any other source is built under a unique temporary
name that an exception removes.

Byte identity: the file is opened and closed once per chunk (plus once to create it
and once to finish it), so a write interrupted between chunks and resumed performs
the same sequence of HDF5 sessions as an uninterrupted one, and produces the same
bytes given the same chunk boundaries and the same `created` attribute.
"""

import contextlib
import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

PROVENANCE_PREFIX = "sciml_"
# Attributes of a partial file (removed from the finished file).
DONE = PROVENANCE_PREFIX + "partial_done"
SETTINGS = PROVENANCE_PREFIX + "partial_settings"

State = TypeVar("State")


def partial_path(path: str | os.PathLike) -> Path:
    """The partial file a resumable write of `path` fills: `.{name}.partial` beside it."""
    path = Path(path)
    return path.parent / f".{path.name}.partial"


def digest(values: Any) -> str | None:
    """A short fingerprint of an array (its float32 bytes and shape); None for None."""
    if values is None:
        return None
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
    return hashlib.sha256(array.tobytes()).hexdigest()[:16] + f"{array.shape}"


def fingerprint(
    params: Mapping[str, Any], attrs: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """What a resumed write must share with the interrupted one: the parameters, the
    provenance attributes except the creation time, and `extra` (e.g. coordinate
    digests)."""
    fixed = {k: v for k, v in attrs.items() if k != PROVENANCE_PREFIX + "created"}
    return {"params": dict(params), "provenance": fixed, **extra}


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Every leaf where two JSON-like values differ, as `key.path: old then, new now`."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{where}.{key}" if where else str(key)
            out += differences(old.get(key, "<absent>"), new.get(key, "<absent>"), name)
        return out
    if old != new:
        return [f"{where}: {old!r} then, {new!r} now"]
    return []


class PartialFile:
    """The work file of one write of `path`; a context manager.

    Use: `with PartialFile(...) as partial:` then `partial.resume(trim)` (the layout
    state of a resumed file, or None), `partial.create(attrs, fill)` once the first
    chunk says what to create, `with partial.chunk(n) as file:` per chunk, and
    `partial.finish(fill)`, which moves the file onto `path`. On an exception the
    work file is removed unless it is resumable.

    **Arguments:**

    - `path`: the target file (its parent directory is created).
    - `settings`: the fingerprint (see `fingerprint`), JSON-serialisable.
    - `resumable`: whether the source can restart at any sample (a chunk source);
        then the work file is `partial_path(path)` and is kept on an exception.
    - `resume`: continue an existing partial file; with `resume=False` a stale one
        is discarded with a warning.
    - `writer`: the writer's name, for messages (e.g. `"write_fields"`).
    - `stacklevel`: of the discard warning, counted from the writer's caller.
    """

    def __init__(
        self,
        path: Path,
        settings: Mapping[str, Any],
        *,
        resumable: bool,
        resume: bool,
        writer: str,
        stacklevel: int = 2,
    ):
        self.path = Path(path)
        self.settings = json.loads(json.dumps(dict(settings), sort_keys=True))
        self.resumable = resumable
        self.writer = writer
        self.done = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resumable:
            self.work = partial_path(self.path)
        else:  # a fresh unique name (not mkstemp, whose 0600 mode would reach the file)
            self.work = self.path.parent / f".{self.path.name}.{uuid.uuid4().hex}.tmp"
        self._resuming = False
        if resumable and self.work.exists():
            if resume:
                self._resuming = True
            else:
                warnings.warn(
                    f"Discarding {self.work}, the partial file of an interrupted "
                    f"write; pass resume=True to continue it instead.",
                    stacklevel=stacklevel + 1,
                )
                self.work.unlink()

    def __enter__(self) -> "PartialFile":
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None and not self.resumable:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.work)

    @property
    def exists(self) -> bool:
        """Whether the work file has been created (or is being resumed)."""
        return self.work.exists()

    def resume(self, trim: Callable[[h5py.File, int], State]) -> State | None:
        """Check a partial file being resumed against the settings and set `done`.

        `trim(file, done)` (the file open read-write) drops samples past `done` (left
        by an interruption midway through a chunk) and returns the layout's state,
        e.g. the shape of a sample; a `KeyError` from it means the file does not hold
        the layout. Returns None when not resuming (nothing to continue).
        """
        if not self._resuming:
            return None
        not_partial = (
            f"{self.work} is not a partial file of sciml.datasets.{self.writer} (no "
            f"progress record); delete it, or pass resume=False."
        )
        try:
            with h5py.File(self.work, "r+") as file:
                stored, done = file.attrs.get(SETTINGS), file.attrs.get(DONE)
                if stored is None or done is None:
                    raise ValueError(not_partial)
                diff = differences(json.loads(stored), self.settings)
                if diff:
                    raise ValueError(
                        f"Cannot resume {self.work}: it was written with different "
                        f"generation settings ({'; '.join(diff)}). Resume with the "
                        f"original settings, or pass resume=False to start over (the "
                        f"partial file is then discarded)."
                    )
                try:
                    state = trim(file, int(done))
                except KeyError as error:
                    raise ValueError(not_partial) from error
        except OSError as error:
            raise ValueError(
                f"The partial file {self.work} cannot be opened ({error}); delete it "
                f"to start over, or pass resume=False."
            ) from error
        self.done = int(done)
        return state

    def create(
        self, attrs: Mapping[str, Any], fill: Callable[[h5py.File], None] | None = None
    ) -> None:
        """Create the work file: `fill(file)`, then the root `attrs` and the progress
        record (0 samples done)."""
        with h5py.File(self.work, "w") as file:
            if fill is not None:
                fill(file)
            for name, value in attrs.items():
                file.attrs[name] = value
            file.attrs[SETTINGS] = json.dumps(self.settings, sort_keys=True)
            file.attrs[DONE] = 0

    @contextlib.contextmanager
    def chunk(self, n_new: int) -> Iterator[h5py.File]:
        """Open the work file for the next `n_new` samples (from `done`); they count
        as done only if the block exits without an exception."""
        with h5py.File(self.work, "r+") as file:
            yield file
            file.attrs[DONE] = self.done + n_new
        self.done += n_new

    def finish(self, fill: Callable[[h5py.File], None]) -> Path:
        """`fill(file)` (coordinates, closing attributes), drop the progress record,
        and move the file onto `path`."""
        with h5py.File(self.work, "r+") as file:
            fill(file)
            for name in (DONE, SETTINGS):
                if name in file.attrs:
                    del file.attrs[name]
        os.replace(self.work, self.path)
        return self.path
