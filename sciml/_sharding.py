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
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec


def default_mesh(mesh: Mesh | None, devices: list, *, owner: str) -> Mesh | None:
    """`mesh` if it is one, or with `None` one axis `"data"` over `devices` (None
    when that is a single device: nothing to split, no placement cost)."""
    if mesh is None:
        return None if len(devices) == 1 else Mesh(np.array(devices), ("data",))
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"{owner}: `mesh` must be a jax.sharding.Mesh or None, got "
            f"{type(mesh).__name__}. Fix: e.g. "
            f"`jax.sharding.Mesh(jax.local_devices(), ('data',))`."
        )
    return mesh


def local_mesh(mesh: Mesh | None, *, owner: str) -> Mesh | None:
    """`default_mesh` over this process's devices, `None` for one device. A mesh
    with devices of other processes is refused: the host reads every row back."""
    mesh = default_mesh(mesh, jax.local_devices(), owner=owner)
    if mesh is None:
        return None
    mine = set(jax.local_devices())
    if any(d not in mine for d in mesh.devices.flat):
        raise ValueError(
            f"{owner}: the mesh has devices of other processes; a batch here is "
            "read back on this host, so its mesh must hold local devices only. "
            "Fix: `jax.sharding.Mesh(jax.local_devices(), ('data',))`, and split "
            "the work between processes yourself."
        )
    return None if mesh.size == 1 else mesh


def _pad(x: Any, n: int) -> Any:
    """`x` with its last row repeated up to `n` rows."""
    return jnp.concatenate([x, jnp.repeat(x[-1:], n - x.shape[0], axis=0)])


def over_batch(
    fn: Callable,
    mesh: Mesh | None,
    batched: Sequence[bool],
    out_axis: int = 0,
) -> Callable:
    """`fn(*args)` with the arguments flagged in `batched` split along their
    axis 0 over every axis of `mesh` and the others copied to each device; the
    output is joined along `out_axis` of every leaf. `fn` must treat the rows of
    its batched arguments independently (a `vmap`); rows are padded up to a
    multiple of the device count (repeating the last one) and the padding is cut
    from the output. With no mesh, `fn` itself. Call it inside `jit`; non-array
    leaves (an equinox module's functions) stay static."""
    if mesh is None:
        return fn
    rows = PartitionSpec(mesh.axis_names)
    out = PartitionSpec(*([None] * out_axis), mesh.axis_names)

    def split(*args: Any) -> Any:
        arrays, static = eqx.partition(args, eqx.is_array)
        split_args = [a for a, b in zip(arrays, batched, strict=True) if b]
        n = jax.tree.leaves(split_args)[0].shape[0]
        whole = -(-n // mesh.size) * mesh.size
        if whole != n:
            arrays = tuple(
                jax.tree.map(lambda x: _pad(x, whole), a) if b else a
                for a, b in zip(arrays, batched, strict=True)
            )

        def local(arrays):
            return fn(*eqx.combine(arrays, static))

        specs = tuple(rows if b else PartitionSpec() for b in batched)
        # no collectives here, so nothing for the varying-axes check to guard;
        # it also trips over solvers that mix replicated and per-device values
        # inside their loops (lineax's CG)
        mapped = jax.shard_map(
            local, mesh=mesh, in_specs=(specs,), out_specs=out, check_vma=False
        )
        out_rows = mapped(arrays)
        if whole == n:
            return out_rows
        return jax.tree.map(
            lambda x: jax.lax.slice_in_dim(x, 0, n, axis=out_axis), out_rows
        )

    return split
