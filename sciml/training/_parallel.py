"""Data parallelism: batches split over the devices of a mesh, the training
state replicated (`DataParallel`), and the k-step loop that runs several steps
per dispatch (`stack_batches`, `scan_steps`). Both are plain JAX: a
`jax.sharding.Mesh`, `NamedSharding`s and `lax.scan`; the compiled step is
partitioned by XLA (GSPMD), so a loss that averages over the batch gets its
all-reduce without any code here."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from .. import _sharding
from ._log import logger


def data_mesh(mesh: Mesh | None) -> Mesh | None:
    """The mesh `fit` shards its batches over: `mesh` itself, or with `None` one
    axis `"data"` over every device (every process's, after
    `start_distributed`); `None` when that is a single device (nothing to
    shard, and no placement cost)."""
    return _sharding.default_mesh(mesh, jax.devices(), owner="fit")


def _put(x: Any, sharding: NamedSharding) -> jax.Array:
    """One leaf across processes: `jax.device_put` takes a host value, the same
    on every process (each sends only its devices' part), so a device array is
    read back first, and a PRNG key goes as its key data."""
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        data = _put(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    return jax.device_put(np.asarray(x), sharding)


def _place(tree: Any, shardings: Any) -> Any:
    """The array leaves of `tree` on their `shardings` (a matching pytree, None
    at the other leaves): one `jax.device_put` in one process."""
    arrays, rest = eqx.partition(tree, eqx.is_array)
    if jax.process_count() == 1:
        return eqx.combine(jax.device_put(arrays, shardings), rest)
    return eqx.combine(jax.tree.map(_put, arrays, shardings), rest)


class DataParallel:
    """Batches split along their batch axis over every device of `mesh` (all of
    its axes together), a state replicated on each: what `sciml.training.fit`
    does with `mesh=`, for a loop of your own.

    A batch leaf whose length along the batch axis is not a multiple of the
    device count (points shared by every sample, a scalar) is replicated, with a
    warning the first time; if no leaf can be split the batch size is wrong and
    `shard` raises. The shardings of a batch structure are worked out once and
    reused. Placement never changes what a step computes, only where. On a
    one-device mesh every leaf goes to that device as a `SingleDeviceSharding`:
    the same placement, which `jax.device_put` makes in less host time than a
    `NamedSharding` (measured on the CPU: a 1.5 ms DeepONet step placed through
    a one-device `NamedSharding` took 1.13x the unplaced step, this way 1.01x).

    ```python
    dp = DataParallel(jax.sharding.Mesh(jax.devices(), ("data",)))
    state = dp.replicate(state)
    for batch in batches:
        state, loss, metrics = step(dp.shard(batch), state)
    ```

    **Arguments:**

    - `mesh`: a `jax.sharding.Mesh`.
    """

    def __init__(self, mesh: Mesh):
        self.mesh = mesh
        self._plans: dict = {}
        devices = mesh.devices.flat
        self._one = SingleDeviceSharding(devices[0]) if mesh.size == 1 else None

    def replicate(self, tree: Any) -> Any:
        """Every array leaf of `tree` copied to every device of the mesh."""
        whole = self._one or NamedSharding(self.mesh, PartitionSpec())
        arrays = eqx.filter(tree, eqx.is_array)
        return _place(tree, jax.tree.map(lambda _: whole, arrays))

    def shard(self, batch: Any, axis: int = 0, *, step: int = 0) -> Any:
        """`batch` with its array leaves split along `axis` (0; 1 for a stack of
        batches, `stack_batches`); `step` names the batch in errors."""
        leaves, treedef = jax.tree.flatten(batch)
        key = (axis, treedef, tuple(getattr(x, "shape", None) for x in leaves))
        if key not in self._plans:
            self._plans[key] = self._plan(batch, axis, step)
        return _place(batch, self._plans[key])

    def _plan(self, batch: Any, axis: int, step: int) -> Any:
        if self._one is not None:  # one device: nothing to split
            return jax.tree.map(lambda _: self._one, eqx.filter(batch, eqx.is_array))
        n = self.mesh.size
        split = NamedSharding(
            self.mesh, PartitionSpec(*([None] * axis), self.mesh.axis_names)
        )
        whole = NamedSharding(self.mesh, PartitionSpec())
        arrays = eqx.filter(batch, eqx.is_array)
        named = jax.tree_util.tree_flatten_with_path(arrays)[0]
        ok = {
            jax.tree_util.keystr(p) or "<batch>": x.ndim > axis
            and x.shape[axis] % n == 0
            for p, x in named
        }
        if named and not any(ok.values()):
            shapes = ", ".join(f"{name} {tuple(x.shape)}" for name, (_, x) in
                               zip(ok, named, strict=True))  # fmt: skip
            raise ValueError(
                f"fit: the batch of step {step} cannot be split over the mesh's "
                f"{n} devices: no leaf has a batch axis of a multiple of {n} rows "
                f"({shapes}). Fix: a batch size that is a multiple of {n}, or a "
                f"smaller mesh, e.g. `mesh=jax.sharding.Mesh(jax.devices()[:1], "
                f"('data',))` for one device."
            )
        kept = [name for name, good in ok.items() if not good]
        if kept:
            logger.warning(
                "fit: replicating %s on every device (its axis %d is not a "
                "multiple of the mesh's %d devices); the other batch leaves are "
                "split.",
                ", ".join(kept),
                axis,
                n,
            )
        return jax.tree_util.tree_map_with_path(
            lambda p, x: split if ok[jax.tree_util.keystr(p) or "<batch>"] else whole,
            arrays,
        )


def stack_batches(batches: list) -> Any:
    """`k` batches of one structure as one, each array leaf stacked on a new
    leading axis (NumPy arrays on the host, others with `jnp.stack`); non-array
    leaves are the first batch's: the input of a step built with
    `make_step(..., steps_per_call=k)`."""

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
