"""Random draws that compile fast: shared by the subpackages that draw weights."""

import math
from collections.abc import Callable

import jax


def flat_draw(
    sampler: Callable[..., jax.Array], key: jax.Array, shape: tuple[int, ...], **kwargs
) -> jax.Array:
    """`sampler(key, shape, **kwargs)` (e.g. `jax.random.uniform`), bit for bit,
    drawn as one flat vector and reshaped.

    JAX's threefry generates the bits of any shape flat and reshapes them, so the
    values are identical; but XLA on a CPU compiles a draw of rank 4 in about 1.5 s
    and a flat one in about 0.15 s, which is most of the time it takes to build a
    model eagerly.
    """
    return sampler(key, (math.prod(shape),), **kwargs).reshape(shape)
