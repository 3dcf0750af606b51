"""Equinox's default initialisation of many layers from one flat random draw."""

import functools
import math

import equinox as eqx
import jax
from jaxtyping import Array, PRNGKeyArray


def uniform_init(tree, key: PRNGKeyArray):
    r"""`tree` with the weight and bias of every `eqx.nn.Conv`,
    `eqx.nn.ConvTranspose` and `eqx.nn.Linear` in it (built shape-only, `eqx.filter_eval_shape`) drawn
    uniform in $\pm 1/\sqrt{\text{fan-in}}$ (fan-in: input channels times kernel
    points), equinox's default initialisation, from one flat draw: drawn layer by
    layer, eagerly, a U-Net's draws compile for seconds on a CPU."""
    is_layer = lambda x: isinstance(
        x, eqx.nn.Conv | eqx.nn.ConvTranspose | eqx.nn.Linear
    )

    def targets(t):
        layers = [x for x in jax.tree.leaves(t, is_leaf=is_layer) if is_layer(x)]
        return [a for x in layers for a in (x.weight, x.bias) if a is not None]

    pieces = []
    for x in jax.tree.leaves(tree, is_leaf=is_layer):
        if is_layer(x):
            lim = 1 / math.sqrt(math.prod(x.weight.shape[1:]))
            pieces += [(a.shape, lim) for a in (x.weight, x.bias) if a is not None]
    dtype = targets(tree)[0].dtype
    return eqx.tree_at(targets, tree, _uniform_pieces(key, tuple(pieces), dtype))


@functools.partial(jax.jit, static_argnums=(1, 2))
def _uniform_pieces(key, pieces, dtype) -> list[Array]:
    sizes = [math.prod(shape) for shape, _ in pieces]
    flat = jax.random.uniform(key, (sum(sizes),), dtype, minval=-1.0, maxval=1.0)
    out, start = [], 0
    for (shape, lim), n in zip(pieces, sizes, strict=True):
        out.append(lim * flat[start : start + n].reshape(shape))
        start += n
    return out


def shaped(layer_class, *args, **kwargs):
    """`layer_class(*args, **kwargs)` built shape-only, for `uniform_init`."""
    return eqx.filter_eval_shape(layer_class, *args, key=jax.random.key(0), **kwargs)
