"""U-Net (1-D, 2-D, 3-D), the convolutional baseline of PDEBench."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import choice, integer
from ._layout import canonical_conv, same_conv
from ._uniform import shaped, uniform_init

UNET_NORMS = ("none", "group")
UNET_CONVS = ("auto", "matmul", "xla")
LEVELS = 4  # encoder levels, each followed by a 2x max pooling


def conv(layer: eqx.nn.Conv, h: Float[Array, "*grid cin"], how: str) -> Array:
    """`layer` (an `eqx.nn.Conv`, stride 1, odd kernel, "same" zero padding)
    applied to a channels-last field `(*grid, cin)`, either as XLA's convolution
    op with its derivatives in canonical form (`how="xla"` or `"auto"`:
    `canonical_conv`) or as matrix products over the stacked taps (`"matmul"`,
    `same_conv`).

    Measured (XLA:CPU, jax 0.10.2, batch 16): the convolution op is about 2x
    faster forward and backward than the tap products (64 x 64 x 32 channels: 40
    against 90 ms), and with `canonical_conv`'s derivatives it stays so inside a
    loop (JAX's own transposed convolutions ran 40x to 80x slower there). The
    whole 2-D U-Net step of the operators benchmark: see docs/operators.md."""
    if how == "matmul":
        return same_conv(layer, h)
    w = jnp.moveaxis(layer.weight, (0, 1), (-1, -2))  # (*kernel, cin, cout)
    out = canonical_conv(h[None], w)[0]
    return out if layer.bias is None else out + layer.bias.reshape(-1)


def up_conv(layer: eqx.nn.ConvTranspose, h: Float[Array, "*grid cin"]) -> Array:
    r"""`layer` (an `eqx.nn.ConvTranspose`, kernel 2, stride 2) applied to a
    channels-last field: the windows do not overlap, so it is one matrix product,
    $y_{o,\,2i+s} = \sum_c W_{o,c,1-s}\, h_{c,i} + b_o$ per axis (equinox's kernel
    is flipped against PyTorch's), and an interleave of the $2^d$ results."""
    *grid, _ = h.shape
    d = len(grid)
    w = jnp.flip(layer.weight, axis=tuple(range(2, 2 + d)))  # (cout, cin, 2, ...)
    taps = "abc"[:d]
    y = jnp.einsum(f"...i,oi{taps}->...{taps}o", h, w)  # (*grid, 2, ..., cout)
    order = [a for i in range(d) for a in (i, d + i)] + [2 * d]
    y = y.transpose(order).reshape(*(2 * n for n in grid), -1)
    return y + layer.bias.reshape(-1)


def group_norm(layer: eqx.nn.GroupNorm, h: Float[Array, "*grid c"]) -> Array:
    r"""`layer` (an `eqx.nn.GroupNorm` with its channelwise affine map) on a
    channels-last field: mean $\mu_g$ and variance
    $\sigma_g^2 = \max(0,\, \overline{h^2} - \mu_g^2)$ over the grid and each
    group's channels, then one channelwise affine map $h\, s + (\beta - \mu\, s)$
    with $s = \gamma / \sqrt{\sigma^2 + \epsilon}$.

    Why this form (XLA:CPU, batch 16, measured): the two moments are independent
    reductions of $h$, which the compiler runs in one pass; the two-pass variance
    $\overline{(h - \mu)^2}$ runs its second reduction over a broadcast of the
    mean, 6x slower forward on 64 x 64 x 32 (5 against 0.8 ms), and normalising
    the grouped field before scaling it made the backward pass 1.4x to 2.4x
    slower than this affine map, whose gradient is a few channel vectors. The
    one-pass variance is Flax's `GroupNorm` default (`use_fast_variance`); in
    float32 it loses digits only where a group's mean is far above its spread,
    which the clamp at 0 keeps from going negative."""
    *grid, c = h.shape
    k = c // layer.groups
    g = h.reshape(-1, layer.groups, k)
    mean = g.mean((0, 2))
    var = jnp.maximum(jnp.mean(g * g, (0, 2)) - mean**2, 0.0)
    scale = jnp.repeat(jax.lax.rsqrt(var + layer.eps), k) * layer.weight
    return h * scale + (layer.bias - jnp.repeat(mean, k) * scale)


def max_pool(h: Float[Array, "*grid c"]) -> Array:
    """Max pooling, window 2 and stride 2 on every axis of a channels-last field
    with even axis lengths: a reshape and a max, whose gradient is elementwise
    (`lax.reduce_window`'s is a scatter)."""
    *grid, c = h.shape
    split = [m for n in grid for m in (n // 2, 2)]
    return h.reshape(*split, c).max(axis=tuple(range(1, 2 * len(grid), 2)))


class _Block(eqx.Module):
    """[3-point (3x3, ...) convolution without bias, optional GroupNorm, tanh] x 2,
    on a channels-last field."""

    conv1: eqx.nn.Conv
    norm1: eqx.nn.GroupNorm | None
    conv2: eqx.nn.Conv
    norm2: eqx.nn.GroupNorm | None

    def __init__(self, dims, cin, cout, norm, groups):
        """Shape-only convolutions (see `uniform_init`)."""
        self.conv1 = shaped(eqx.nn.Conv, dims, cin, cout, 3, padding=1, use_bias=False)
        self.conv2 = shaped(eqx.nn.Conv, dims, cout, cout, 3, padding=1, use_bias=False)
        if norm == "group":
            self.norm1 = eqx.nn.GroupNorm(min(groups, cout), cout)
            self.norm2 = eqx.nn.GroupNorm(min(groups, cout), cout)
        else:
            self.norm1 = self.norm2 = None

    def __call__(
        self, h: Float[Array, "*grid cin"], how: str
    ) -> Float[Array, "*grid cout"]:
        """The block on `h`, its convolutions run as `how` says (see `conv`)."""
        for layer, norm in ((self.conv1, self.norm1), (self.conv2, self.norm2)):
            h = conv(layer, h, how)
            h = jnp.tanh(h if norm is None else group_norm(norm, h))
        return h


class UNet(eqx.Module):
    r"""U-Net of Ronneberger et al. ("U-Net: Convolutional Networks for Biomedical
    Image Segmentation", MICCAI 2015) in PDEBench's form (Takamoto et al.,
    "PDEBench", NeurIPS 2022 Datasets and Benchmarks; its `UNet1d` / `UNet2d` /
    `UNet3d`): a one-frame-to-one-frame map of channel-first fields.

    Four encoder levels and a bottleneck with $f, 2f, 4f, 8f$ and $16f$ channels
    ($f$ = `features`). Each level is a block
    $B(h) = \tanh(N_2(C_2 \tanh(N_1(C_1 h))))$ of two 3-point ($3 \times 3$, ...)
    convolutions $C_i$ without bias and normalisations $N_i$; a $2\times$ max pooling
    leads to the next level. The decoder goes back up: a transposed convolution
    $U_l$ (kernel 2, stride 2, with bias) doubles the grid and halves the channels,
    the result is concatenated with the encoder's output $e_l$ at that level, in
    that order, and a block follows, $d_l = B_l([U_l\, d_{l+1},\; e_l])$; a pointwise
    convolution with bias maps $d_1$ to the output channels.

    [D] Normalisation: PDEBench uses BatchNorm, whose statistics run over the batch
    and whose running averages make training and evaluation different modes.
    sciml's modules are stateless and map one sample, and a per-sample
    normalisation (group, instance or layer norm) makes this network, whose first
    convolution has no bias, invariant to the input's amplitude:
    $N_1(C_1 (a u)) = N_1(C_1 u)$ up to the normalisation's $\epsilon$, so
    $\mathrm{UNet}(a u) = \mathrm{UNet}(u)$ for every $a > 0$, which is wrong for
    a PDE state. So `norm="none"` is the default ($N_i$ = identity: conv, tanh,
    conv, tanh, the convolutions still without bias as in PDEBench, where
    BatchNorm's shift stood in for one; the biases are those of the transposed and
    the output convolutions); `norm="group"` is GroupNorm with a channelwise affine
    map, for users who want a normalised block and accept that invariance. With
    it, the parameter count equals PDEBench's (GroupNorm's affine weights where
    BatchNorm's are); without, it is PDEBench's less those.

    **Arguments:**

    - `in_channels`, `out_channels`: channel counts of the input and output fields.
    - `dims`: the number of spatial axes, 1, 2 or 3.
    - `features`: $f$, the channels of the first level (PDEBench's
      `init_features`, 32).
    - `norm`: `"none"` or `"group"` (see [D] above).
    - `groups`: with `norm="group"`, the number of groups of a block with $c$
      channels is `min(groups, c)`; it must divide $c$.
    - `conv`: how the 3-point convolutions run, `"auto"` (default) or `"xla"`:
      XLA's convolution op, whose derivatives are written in the canonical form
      that stays fast inside loops on XLA:CPU (`canonical_conv`); or
      `"matmul"`: matrix products over the stacked taps, slower on every shape
      measured, kept as the reference form. The weights and the result are the
      same either way.
    - `key`: PRNG key (equinox's default initialisation, uniform in
      $\pm 1/\sqrt{\text{fan-in}}$, from one flat draw: see `uniform_init`).

    Input `(in_channels, *grid)`, output `(out_channels, *grid)`; `jax.vmap` for a
    batch. Every axis length must be a multiple of 16 (four poolings by 2). The
    layers are equinox's (`eqx.nn.Conv`, `eqx.nn.ConvTranspose`,
    `eqx.nn.GroupNorm`), their weights in equinox's layout; inside, the fields are
    channels-last: `up_conv`, `group_norm` and the pointwise head are matrix
    products and reductions over the channels, the 3-point convolutions run as
    `conv` chooses.
    """

    encoders: tuple[_Block, ...]
    bottleneck: _Block
    upconvs: tuple[eqx.nn.ConvTranspose, ...]
    decoders: tuple[_Block, ...]
    head: eqx.nn.Conv
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    dims: int = eqx.field(static=True)
    features: int = eqx.field(static=True)
    norm: str = eqx.field(static=True)
    groups: int = eqx.field(static=True)
    conv: str = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dims: int = 1,
        features: int = 32,
        norm: str = "none",
        groups: int = 32,
        conv: str = "auto",
        *,
        key: PRNGKeyArray,
    ):
        owner = "UNet"
        self.in_channels = integer("in_channels", in_channels, minimum=1, owner=owner)
        self.out_channels = integer(
            "out_channels", out_channels, minimum=1, owner=owner
        )
        self.dims = integer("dims", dims, minimum=1, maximum=3, owner=owner)
        self.features = integer("features", features, minimum=1, owner=owner)
        self.norm = choice("norm", norm, UNET_NORMS, owner=owner)
        self.conv = choice("conv", conv, UNET_CONVS, owner=owner)
        self.groups = integer("groups", groups, minimum=1, owner=owner)
        d, f = self.dims, self.features
        widths = [f * 2**level for level in range(LEVELS + 1)]  # f ... 16f
        if self.norm == "group":
            bad = [c for c in widths if c % min(self.groups, c)]
            if bad:
                raise ValueError(
                    f"UNet: with norm='group' the groups of a block with c channels "
                    f"are min(groups, c), which must divide c; groups={self.groups} "
                    f"does not divide {bad} (features={f}). Fix: a power of two "
                    f"that divides features, e.g. groups={f & -f}."
                )

        def block(cin, cout):
            return _Block(d, cin, cout, self.norm, self.groups)

        enc_in = [self.in_channels, *widths[: LEVELS - 1]]
        encoders = tuple(
            block(cin, cout) for cin, cout in zip(enc_in, widths[:LEVELS], strict=True)
        )
        bottleneck = block(widths[LEVELS - 1], widths[LEVELS])
        # decoder, deepest level first: up from 2c to c, concatenate to 2c, block to c
        deep = widths[LEVELS - 1 :: -1]  # 8f, 4f, 2f, f
        upconvs = tuple(
            shaped(eqx.nn.ConvTranspose, d, 2 * c, c, 2, stride=2) for c in deep
        )
        decoders = tuple(block(2 * c, c) for c in deep)
        head = shaped(eqx.nn.Conv, d, f, self.out_channels, 1)
        (
            self.encoders,
            self.bottleneck,
            self.upconvs,
            self.decoders,
            self.head,
        ) = uniform_init((encoders, bottleneck, upconvs, decoders, head), key)

    def __call__(self, u: Float[Array, " cin *grid"]) -> Float[Array, " cout *grid"]:
        d = self.dims
        if u.ndim != d + 1 or u.shape[0] != self.in_channels:
            axes = ("X", "X, Y", "X, Y, Z")[d - 1]
            raise ValueError(
                f"UNet expected one unbatched field of shape (C={self.in_channels}, "
                f"{axes}), {d} spatial axes, got {u.shape}. Fields are channel-first;"
                " use jax.vmap for a batch."
            )
        step = 2**LEVELS
        if any(n % step for n in u.shape[1:]):
            raise ValueError(
                f"UNet pools every spatial axis {LEVELS} times by 2, so each axis "
                f"length must be a multiple of {step}; got the grid {u.shape[1:]}. "
                f"Fix: pad or resample the grid, e.g. to "
                f"{tuple(max(step, n - n % step) for n in u.shape[1:])}."
            )
        # channels-last inside (one transpose in, one out), see `conv`
        h = jnp.moveaxis(u, 0, -1)
        skips = []
        for encoder in self.encoders:
            h = encoder(h, self.conv)
            skips.append(h)
            h = max_pool(h)
        h = self.bottleneck(h, self.conv)
        for up, decoder, skip in zip(
            self.upconvs, self.decoders, reversed(skips), strict=True
        ):
            h = decoder(jnp.concatenate([up_conv(up, h), skip], axis=-1), self.conv)
        return jnp.moveaxis(same_conv(self.head, h), -1, 0)  # pointwise
