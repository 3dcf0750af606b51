"""One batch axis split over the devices of a mesh, for the compiled batch
computations that have no communication at all: the generation pipeline's
chunks and the convergence sweep. Each device runs the same vmapped function on
its slice of the batch (`jax.shard_map`), so what a sample computes does not
depend on where it runs; the host then reads the whole batch back.

Training shards differently (`sciml.training.DataParallel`: GSPMD partitions a
step whose loss averages over the batch); both take the same `mesh`.
"""

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, PartitionSpec


def local_mesh(mesh: Mesh | None, *, owner: str) -> Mesh | None:
    """`mesh`, or with `None` one axis `"data"` over this process's devices;
    `None` when that is one device (nothing to split). A mesh with devices of
    other processes is refused: the host reads every sample back."""
    if mesh is None:
        devices = jax.local_devices()
        return None if len(devices) == 1 else Mesh(np.array(devices), ("data",))
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"{owner}: `mesh` must be a jax.sharding.Mesh or None, got "
            f"{type(mesh).__name__}. Fix: e.g. "
            f"`jax.sharding.Mesh(jax.local_devices(), ('data',))`."
        )
    mine = set(jax.local_devices())
    if any(d not in mine for d in mesh.devices.flat):
        raise ValueError(
            f"{owner}: the mesh has devices of other processes; a batch here is "
            "read back on this host, so its mesh must hold local devices only. "
            "Fix: `jax.sharding.Mesh(jax.local_devices(), ('data',))`, and split "
            "the work between processes yourself."
        )
    return None if mesh.size == 1 else mesh


def padded(n: int, mesh: Mesh | None) -> int:
    """`n` rounded up to a multiple of the mesh's device count."""
    d = 1 if mesh is None else mesh.size
    return -(-n // d) * d


def over_batch(
    fn: Callable,
    mesh: Mesh | None,
    batched: Sequence[bool],
    out_axis: int = 0,
) -> Callable:
    """`fn(*args)` with the arguments flagged in `batched` split along their
    axis 0 over every axis of `mesh` and the others copied to each device; the
    output is joined along `out_axis` of every leaf. `fn` must treat the rows of
    its batched arguments independently (a `vmap`), and their length must be a
    multiple of the device count (`padded`). With no mesh, `fn` itself. Call it
    inside `jit`; non-array leaves (an equinox module's functions) stay static."""
    if mesh is None:
        return fn
    rows = PartitionSpec(mesh.axis_names)
    out = PartitionSpec(*([None] * out_axis), mesh.axis_names)

    def split(*args: Any) -> Any:
        arrays, static = eqx.partition(args, eqx.is_array)

        def local(arrays):
            return fn(*eqx.combine(arrays, static))

        specs = tuple(rows if b else PartitionSpec() for b in batched)
        # no collectives here, so nothing for the varying-axes check to guard;
        # it also trips over solvers that mix replicated and per-device values
        # inside their loops (lineax's CG)
        mapped = jax.shard_map(
            local, mesh=mesh, in_specs=(specs,), out_specs=out, check_vma=False
        )
        return mapped(arrays)

    return split
