"""Convolutions of `eqx.nn.Conv` weights applied to channels-last fields.

The modules keep their weights as `eqx.nn.Conv` (channel-first, PyTorch's layout),
but compute on fields `(*grid, C)`: there a convolution is a matrix product over
the last axis, which XLA:CPU runs several times faster than the channel-first
convolution op and the transposes around it, above all in the backward pass.
"""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.core import ShapedArray
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir
from jaxtyping import Array, Float


def pointwise(conv: eqx.nn.Conv, v: Float[Array, "*grid cin"]) -> Array:
    """A kernel-size-1 convolution on a channels-last field `(*grid, cin)`, as the
    matrix product it is: `v @ W.T + b`."""
    w = conv.weight.reshape(conv.weight.shape[:2])
    out = jnp.tensordot(v, w, axes=([-1], [1]))
    return out if conv.bias is None else out + conv.bias.reshape(-1)


def _shifts(v: Array, kernel: tuple[int, ...]) -> list[Array]:
    """The field seen through each tap of a kernel with "same" zero padding:
    `(*lead, *grid, C)` fields, one per tap, in the row-major order of the kernel's
    axes; the grid is the `len(kernel)` axes before the channels."""
    d = len(kernel)
    grid = v.shape[-1 - d : -1]
    lead = [(0, 0)] * (v.ndim - 1 - d)
    padded = jnp.pad(v, lead + [(k // 2, k - 1 - k // 2) for k in kernel] + [(0, 0)])
    return [
        padded[
            (
                ...,
                *(slice(o, o + n) for o, n in zip(offset, grid, strict=True)),
                slice(None),
            )
        ]
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


def _xla_same(x: Array, w: Array) -> Array:
    """XLA's convolution op in its canonical form: stride 1, "same" zero padding,
    `x` channels-last with a leading batch axis (`NWC`, `NHWC`, `NDHWC`), `w`
    `(*kernel, cin, cout)`."""
    axes = "WHD"[: x.ndim - 2]
    return jax.lax.conv_general_dilated(
        x, w, (1,) * (x.ndim - 2), "SAME",
        dimension_numbers=(f"N{axes}C", f"{axes}IO", f"N{axes}C"),
    )  # fmt: skip


def _weight_gradient(x: Array, g: Array, kernel: tuple[int, ...]) -> Array:
    """The kernel's gradient `(*kernel, cin, cout)` of `_xla_same(x, w)` for the
    output cotangent `g`, as one canonical convolution: the batch axis plays the
    channels, `x` moved to `(cin, *grid, n)`, `g` to `(*grid, n, cout)`."""
    axes = "WHD"[: x.ndim - 2]
    out = jax.lax.conv_general_dilated(
        jnp.moveaxis(x, (0, -1), (-1, 0)), jnp.moveaxis(g, 0, -2),
        (1,) * (x.ndim - 2), [(k // 2, k // 2) for k in kernel],
        dimension_numbers=(f"N{axes}C", f"{axes}IO", f"N{axes}C"),
    )  # fmt: skip
    return jnp.moveaxis(out, 0, -2)


canonical_conv_p = Primitive("sciml_canonical_conv")
r"""`canonical_conv_p.bind(x, w)`: a stride-1 convolution with odd kernel and
"same" zero padding, `x` `(n, *grid, cin)`, `w` `(*kernel, cin, cout)`, lowered to
XLA's convolution op, whose derivatives are written in the same canonical form.

Why a primitive (XLA:CPU, jax 0.10.2): the CPU compiler's convolution
canonicalization rewrites only the convolutions of the entry computation into
the layout its fast kernels take. JAX's transposes of a convolution (the input
gradient, a convolution with the kernel's input and output axes swapped; the
weight gradient, one with batch and channels swapped) are not in that layout,
so inside a loop body (`lax.scan`: a rollout, a curriculum, a fused k-step
training loop) they fall to a naive loop nest: the gradient of two 3x3 layers
of 32 channels on 16 x 64 x 64 took 3.8 s in a two-step scan against 0.1 s
outside it. Here the input gradient is the canonical convolution of the
cotangent $g$ with the flipped kernel, $\partial x = g \star \mathrm{flip}(W)^	op$,
and the weight gradient one canonical convolution with the batch as channels
(`_weight_gradient`). A `jax.custom_vjp` would do the same for `jax.grad` alone,
but under `jax.vmap` its weight gradient becomes one per sample (a grouped
convolution, 1.5x to 5x slower), and it has no forward mode; this primitive
folds a vmapped batch into its own (`_batch`), is bilinear, so `jax.jvp`,
`jax.jacfwd` and every order of `jax.grad` work, and its transposes are
itself."""


def _transpose_x(g, x, w):
    d = w.ndim - 2
    return canonical_conv_p.bind(g, jnp.flip(w, tuple(range(d))).swapaxes(-1, -2))


def _transpose_w(g, x, w):
    return _weight_gradient(x, g, w.aval.shape[: w.aval.ndim - 2])


def _batch(args, dims):
    (x, w), (bx, bw) = args, dims
    if bw is not None:  # per-sample kernels: JAX's own batching
        return jax.vmap(_xla_same, in_axes=(bx, bw))(x, w), 0
    x = jnp.moveaxis(x, bx, 0)
    v, n = x.shape[:2]
    out = canonical_conv_p.bind(x.reshape(v * n, *x.shape[2:]), w)
    return out.reshape(v, n, *out.shape[1:]), 0


canonical_conv_p.def_impl(_xla_same)
canonical_conv_p.def_abstract_eval(
    lambda x, w: ShapedArray((*x.shape[:-1], w.shape[-1]), x.dtype)
)
mlir.register_lowering(canonical_conv_p, mlir.lower_fun(_xla_same, False))
ad.defbilinear(canonical_conv_p, _transpose_x, _transpose_w)
batching.primitive_batchers[canonical_conv_p] = _batch


def canonical_conv(
    x: Float[Array, "n *grid cin"], w: Float[Array, "*kernel cin cout"]
) -> Float[Array, "n *grid cout"]:
    """A stride-1 convolution with odd kernel and "same" zero padding, `x`
    `(n, *grid, cin)` channels-last, `w` `(*kernel, cin, cout)`: XLA's convolution
    op with every derivative in its canonical form (see `canonical_conv_p`)."""
    return canonical_conv_p.bind(x, w)


def depthwise_conv(conv: eqx.nn.Conv, v: Float[Array, "*grid cin"]) -> Array:
    """A depthwise "same" convolution (`groups = cin`, `cout = m * cin`) on a
    channels-last field: output channel `m * g + j` filters input channel `g`, as in
    PyTorch's grouped convolution, as the weighted sum of shifted copies.

    Why this form (XLA:CPU, measured): XLA's grouped convolution op took 5.4 s
    forward and backward (2-D, batch 16, 25 taps x 32 channels). The dense
    convolution with the block-diagonal kernel does `cin` times the arithmetic
    in one matrix product: in 2-D 67 against 10 ms forward; in 1-D (CAPE's
    benchmark setting, batch 50, 128 points, 5 taps x 32 channels) it trained
    9 % faster (CAPE-FNO step 36 against 39 ms) but made CAPE's forward 1.6x
    slower (2.9 against 1.8 ms), and with it a rollout: CAPE added 21 % to the
    base FNO's rollout time, 9 % with this form. Inference is the cost CAPE is
    judged by (issue 12), so this is the one form."""
    cout, _, *kernel = conv.weight.shape
    cin = v.shape[-1]
    w = conv.weight.reshape(cin, cout // cin, -1)  # (cin, m, T)
    out = sum(s[..., None] * w[..., t] for t, s in enumerate(_shifts(v, tuple(kernel))))
    out = out.reshape(*v.shape[:-1], cout)
    return out if conv.bias is None else out + conv.bias.reshape(-1)
