"""Finite differences along one axis of a grid field (the hard constraints'
derivatives, applied once to the whole basis)."""

import jax.numpy as jnp
from jaxtyping import Array


def central_difference(f: Array, h: float, axis: int, edge_order: int = 1) -> Array:
    r"""First derivative along `axis`: $(f_{i+1} - f_{i-1})/2h$ inside; at the two
    ends one-sided, of first order ($(f_1 - f_0)/h$) or, with `edge_order=2`, of
    second order ($(-3f_0 + 4f_1 - f_2)/2h$)."""
    f = jnp.moveaxis(f, axis, 0)
    inner = (f[2:] - f[:-2]) / (2 * h)
    if edge_order == 1:
        first, last = (f[1] - f[0]) / h, (f[-1] - f[-2]) / h
    else:
        first = (-3 * f[0] + 4 * f[1] - f[2]) / (2 * h)
        last = (3 * f[-1] - 4 * f[-2] + f[-3]) / (2 * h)
    out = jnp.concatenate([first[None], inner, last[None]], axis=0)
    return jnp.moveaxis(out, 0, axis)


def second_difference(f: Array, h: float, axis: int) -> Array:
    r"""Second derivative along `axis`: $(f_{i-1} - 2f_i + f_{i+1})/h^2$ inside; at
    each end the same three-point stencil shifted inwards (one-sided, first
    order)."""
    f = jnp.moveaxis(f, axis, 0)
    inner = (f[:-2] - 2.0 * f[1:-1] + f[2:]) / h**2
    out = jnp.concatenate([inner[:1], inner, inner[-1:]], axis=0)
    return jnp.moveaxis(out, 0, axis)
