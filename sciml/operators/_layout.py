"""Convolutions of `eqx.nn.Conv` weights applied to channels-last fields.

The modules keep their weights as `eqx.nn.Conv` (channel-first, PyTorch's layout),
but compute on fields `(*grid, C)`: there a convolution is a matrix product over
the last axis, which XLA:CPU runs several times faster than the channel-first
convolution op and the transposes around it, above all in the backward pass.
"""

import itertools

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


def pointwise(conv: eqx.nn.Conv, v: Float[Array, "*grid cin"]) -> Array:
    """A kernel-size-1 convolution on a channels-last field `(*grid, cin)`, as the
    matrix product it is: `v @ W.T + b`."""
    w = conv.weight.reshape(conv.weight.shape[:2])
    out = jnp.tensordot(v, w, axes=([-1], [1]))
    return out if conv.bias is None else out + conv.bias.reshape(-1)


def _shifts(v: Array, kernel: tuple[int, ...]) -> list[Array]:
    """The field seen through each tap of a kernel with "same" zero padding:
    `(*grid, C)` fields, one per tap, in the row-major order of the kernel's axes."""
    grid = v.shape[:-1]
    pads = [(k // 2, k - 1 - k // 2) for k in kernel] + [(0, 0)]
    padded = jnp.pad(v, pads)
    return [
        padded[tuple(slice(o, o + n) for o, n in zip(offset, grid, strict=True))]
        for offset in itertools.product(*(range(k) for k in kernel))
    ]


def same_conv(conv: eqx.nn.Conv, v: Float[Array, "*grid cin"]) -> Array:
    """A stride-1 convolution with odd kernel and "same" zero padding (one group) on
    a channels-last field: the neighbourhoods times the flattened kernel."""
    cout, cin, *kernel = conv.weight.shape
    taps = jnp.concatenate(_shifts(v, tuple(kernel)), axis=-1)  # (*grid, T * cin)
    w = jnp.moveaxis(conv.weight, (0, 1), (-1, -2)).reshape(-1, cout)
    out = taps @ w
    return out if conv.bias is None else out + conv.bias.reshape(-1)


DENSE_DEPTHWISE_LIMIT = 256
"""`depthwise_conv` runs as a dense convolution while taps x channels is at most
this, and as a weighted sum of shifted copies above it."""


def depthwise_conv(conv: eqx.nn.Conv, v: Float[Array, "*grid cin"]) -> Array:
    """A depthwise "same" convolution (`groups = cin`, `cout = m * cin`) on a
    channels-last field: output channel `m * g + j` filters input channel `g`, as in
    PyTorch's grouped convolution.

    Two forms, chosen by size (XLA:CPU, batch 16, measured): the dense
    convolution with the block-diagonal kernel (`cin` times the arithmetic, but
    one matrix product forward and backward: in 1-D, 5 taps x 32 channels, the
    training step's depthwise part ran about 4x faster than the other form), or
    the weighted sum of shifted copies (in 2-D, 25 taps x 32 channels, the dense
    form's arithmetic dominates: 67 against 10 ms forward, 94 against 79 ms
    forward and backward). XLA's grouped convolution op took 5.4 s forward and
    backward there."""
    cout, _, *kernel = conv.weight.shape
    cin = v.shape[-1]
    w = conv.weight.reshape(cin, cout // cin, -1)  # (cin, m, T)
    shifts = _shifts(v, tuple(kernel))
    if len(shifts) * cin <= DENSE_DEPTHWISE_LIMIT:
        dense = jnp.einsum("gjt,gh->thgj", w, jnp.eye(cin, dtype=w.dtype))
        out = jnp.concatenate(shifts, axis=-1) @ dense.reshape(-1, cout)
    else:
        out = sum(s[..., None] * w[..., t] for t, s in enumerate(shifts))
        out = out.reshape(*v.shape[:-1], cout)
    return out if conv.bias is None else out + conv.bias.reshape(-1)
