"""Data parallelism for `fit`: batches split over the devices of a mesh, the
training state replicated, and the k-step loop that runs several steps per
dispatch. Both are plain JAX: a `jax.sharding.Mesh`, `NamedSharding`s and
`lax.scan`; the compiled step is partitioned by XLA (GSPMD), so a loss that
averages over the batch gets its all-reduce without any code here."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._log import logger


def data_mesh(mesh: Mesh | None) -> Mesh | None:
    """The mesh `fit` shards its batches over: `mesh` itself, or with `None` one
    axis `"data"` over every device (every process's, after
    `start_distributed`); `None` when that is a single device (nothing to
    shard, and no placement cost)."""
    if mesh is None:
        devices = jax.devices()
        return None if len(devices) == 1 else Mesh(np.array(devices), ("data",))
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"fit: `mesh` must be a jax.sharding.Mesh or None, got "
            f"{type(mesh).__name__}. Fix: e.g. "
            f"`jax.sharding.Mesh(jax.devices(), ('data',))`."
        )
    return mesh


def put(x: Any, sharding: NamedSharding) -> jax.Array:
    """`x` placed on `sharding`. Across processes `jax.device_put` takes a host
    value, the same on every process (each sends only its devices' part), so a
    device array is read back first, and a PRNG key goes as its key data."""
    if jax.process_count() == 1:
        return jax.device_put(x, sharding)
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        data = put(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    return jax.device_put(np.asarray(x), sharding)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Every array leaf of `tree` copied to every device of `mesh`."""
    sharding = NamedSharding(mesh, PartitionSpec())
    arrays, rest = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.tree.map(lambda x: put(x, sharding), arrays), rest)


def shard_batch(batch: Any, mesh: Mesh, axis: int = 0, *, step: int) -> Any:
    """The array leaves of `batch` split along `axis` (the batch axis; 1 for a
    stack of batches) over all the devices of `mesh`. A leaf whose length there
    is not a multiple of the device count (points shared by every sample, a
    scalar) is replicated instead, with a warning at step 0; if no leaf can be
    split, the batch size is wrong and this raises. Placement never changes the
    result (the step computes the same values on any sharding), only where the
    work runs."""
    n = mesh.size
    split = NamedSharding(mesh, PartitionSpec(*([None] * axis), mesh.axis_names))
    whole = NamedSharding(mesh, PartitionSpec())
    leaves = jax.tree_util.tree_flatten_with_path(batch)[0]
    splits = {
        jax.tree_util.keystr(p) or "<batch>": x.ndim > axis and x.shape[axis] % n == 0
        for p, x in leaves
        if eqx.is_array(x)
    }
    if splits and not any(splits.values()):
        shapes = ", ".join(
            f"{jax.tree_util.keystr(p) or '<batch>'} {tuple(x.shape)}"
            for p, x in leaves
            if eqx.is_array(x)
        )
        raise ValueError(
            f"fit: the batch of step {step} cannot be split over the mesh's {n} "
            f"devices: no leaf has a batch axis of a multiple of {n} rows "
            f"({shapes}). Fix: a batch size that is a multiple of {n}, or a "
            f"smaller mesh, e.g. `mesh=jax.sharding.Mesh(jax.devices()[:1], "
            f"('data',))` for one device."
        )
    kept = [name for name, ok in splits.items() if not ok]
    if kept and step == 0:
        logger.warning(
            "fit: replicating %s on every device (its axis %d is not a multiple "
            "of the mesh's %d devices); the other batch leaves are split.",
            ", ".join(kept),
            axis,
            n,
        )

    def place(path, x):
        if not eqx.is_array(x):
            return x
        ok = splits[jax.tree_util.keystr(path) or "<batch>"]
        return put(x, split if ok else whole)

    return jax.tree_util.tree_map_with_path(place, batch)


def stack_batches(batches: list) -> Any:
    """`k` batches of one structure as one, each array leaf stacked on a new
    leading axis (NumPy arrays on the host, others with `jnp.stack`); non-array
    leaves are the first batch's (`fit` has checked that they agree)."""

    def stack(*xs):
        if not eqx.is_array(xs[0]) and not isinstance(xs[0], np.ndarray):
            return xs[0]
        if all(isinstance(x, np.ndarray) for x in xs):
            return np.stack(xs)
        return jnp.stack(xs)

    return jax.tree.map(stack, *batches)


def scan_steps(step):
    """`step(batch, state) -> (state, loss, metrics)` as a function of a stack
    of `k` batches that runs the `k` steps in one `lax.scan` and returns the final
    state, the `k` losses and the metrics stacked along a leading axis. The state's
    and the batches' non-array leaves stay out of the loop's carry."""

    def steps(batches, state):
        dynamic, static = eqx.partition(state, eqx.is_array)
        xs, batch_static = eqx.partition(batches, eqx.is_array)

        def body(carry, x):
            new, loss, metrics = step(
                eqx.combine(x, batch_static), eqx.combine(carry, static)
            )
            return eqx.filter(new, eqx.is_array), (loss, metrics)

        dynamic, (losses, metrics) = jax.lax.scan(body, dynamic, xs)
        return eqx.combine(dynamic, static), losses, metrics

    return steps
