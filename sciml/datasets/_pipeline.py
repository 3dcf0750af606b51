"""The one generation pipeline: a recipe (initial condition -> solver -> fields) run
in compiled chunks of samples, with the next chunk computing while the current one
is written.

A generator is a `Recipe` (what ONE sample is, in pure JAX, from its PRNG key) plus
a writer call; `chunk_source` turns the recipe into the chunk source
`chunks(first)` that `write`, `write_fields` and `write_groups` stream and resume:

- sample $i$ is drawn from `jax.random.fold_in(key, i)`, so its values depend on
  the key and its index only (not on the chunk size, nor on where a write resumed);
- chunks start at multiples of `chunk` (the first one cut to begin at `first`), so
  a resumed write has the same block boundaries as an uninterrupted one;
- one chunk is one call of a single `eqx.filter_jit`-compiled function, `vmap` of
  the recipe over the chunk's keys: it compiles once per recipe structure and chunk
  shape, whatever the PDE parameters (they are array leaves of the recipe);
- the next chunk is dispatched before the current one is copied to the host,
  checked and written, so the device computes while the host writes;
- with several local devices (or a `mesh`), a chunk's samples are split over
  them, each device running the same vmapped recipe on its share
  (`jax.shard_map`, a short last share padded); since sample $i$ depends on
  its key only, the file is the one a single device writes.
"""

import abc
from collections.abc import Callable, Iterator
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, Int, PRNGKeyArray

from .. import _sharding

Block = dict[str, np.ndarray]


class Recipe(eqx.Module):
    """What one sample of a data set is: `recipe(key, inputs)` draws the sample's
    initial condition (and coefficients) from its key, runs the solver, and returns
    the sample's fields as a dict of arrays (plus any diagnostics, e.g. a solver's
    success flag).

    A recipe is an equinox module: its solver and its PDE parameters are leaves,
    so the pipeline traces them instead of compiling them in.
    """

    @abc.abstractmethod
    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        """One sample from its key (and its host inputs, or None)."""

    def inputs(self, start: int, n: int) -> Any:
        """Per-sample inputs of samples `start .. start + n - 1` computed on the host
        before the chunk runs (a pytree with a leading axis of `n`), or None."""
        del start, n
        return None

    def check(self, block: Block, start: int) -> None:
        """Raise (e.g. `RuntimeError` for a failed solve) if the finished samples
        `start ..` of `block` are unusable."""
        del block, start

    def finish(self, block: Block) -> Any:
        """The block as the writer takes it (e.g. `block["u"]` channel-last)."""
        return block


def _solve_samples(recipe: Recipe, key: PRNGKeyArray, index, inputs):
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(index)
    return jax.vmap(recipe)(keys, inputs)


@eqx.filter_jit
def _solve_chunk(
    recipe: Recipe,
    key: PRNGKeyArray,
    start: Int[Array, ""],
    inputs: Any,
    n: int,
    mesh: Mesh | None,
) -> dict[str, Array]:
    solve = _sharding.over_batch(_solve_samples, mesh, (False, False, True, True))
    return solve(recipe, key, start + jnp.arange(n), inputs)


def chunk_source(
    recipe: Recipe | Callable[[], Recipe],
    *,
    key: PRNGKeyArray,
    n_samples: int,
    chunk: int,
    float64: bool = False,
    mesh: Mesh | None = None,
) -> Callable[..., Iterator[Any]]:
    """The chunk source `chunks(first=0)` of a recipe, for the writers.

    **Arguments:**

    - `recipe`: the `Recipe`, or a function that builds it (called under
        `jax.enable_x64(float64)`, so that its parameters get that precision).
    - `key`: the seed's PRNG key.
    - `n_samples`: samples in the file.
    - `chunk`: samples per compiled call.
    - `float64`: run the recipe with float64 switched on.
    - `mesh`: the devices a chunk's samples are split over (a
        `jax.sharding.Mesh` of this process's devices, all its axes together);
        default all local devices.

    **Returns:**

    `chunks(first=0)`, an iterator of `recipe.finish(block)` for the blocks of
    samples `first .. n_samples - 1`, each checked by `recipe.check`.
    """
    with jax.enable_x64(float64):
        built = recipe() if not isinstance(recipe, Recipe) else recipe
    mesh = _sharding.local_mesh(mesh, owner="chunk_source")

    def compute(start: int) -> dict[str, Array]:
        with jax.enable_x64(float64):
            inputs = jax.tree.map(jnp.asarray, built.inputs(start, chunk))
            return _solve_chunk(built, key, jnp.asarray(start), inputs, chunk, mesh)

    def chunks(first: int = 0) -> Iterator[Any]:
        if first >= n_samples:
            return
        starts = range((first // chunk) * chunk, n_samples, chunk)
        pending = compute(starts[0])
        for k, start in enumerate(starts):
            current = pending
            if k + 1 < len(starts):
                pending = compute(starts[k + 1])
            low, high = max(first - start, 0), n_samples - start
            block = {name: np.asarray(v)[low:high] for name, v in current.items()}
            del current
            built.check(block, start + low)
            yield built.finish(block)

    return chunks


def chunk_length(chunk_size: int | None, n_samples: int, per_chunk: int) -> int:
    """Samples per compiled call: `chunk_size`, or `per_chunk` (a generator's
    default, about 2**25 output values for the 1-D files), at most `n_samples`."""
    return min(chunk_size or max(1, per_chunk), n_samples)
