r"""CAPE: channel attention guided by PDE-parameter embeddings (Takamoto, Alesiani
and Niepert, "Learning Neural PDE Solvers with Parameter-Guided Channel Attention",
ICML 2023)."""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import choice, integer, integers
from ..nn import SpectralConv, get_activation
from ._layout import depthwise_conv, pointwise, same_conv
from ._uniform import shaped, uniform_init

gelu = get_activation("gelu")

PARAM_TRANSFORMS = ("identity", "sigmoid_log", "log")
r"""How `CAPE` (and the `"channels"` baseline of `Conditioned`) feeds the PDE
parameters $\lambda$ to its networks: `"identity"` ($\tilde\lambda = \lambda$, the
reference's 1-D choice), `"sigmoid_log"` ($\tilde\lambda = \mathrm{sigmoid}(\log
\lambda) = \lambda/(1+\lambda)$, its 2-D choice, for positive $\lambda$ only) and
`"log"` ($\tilde\lambda = \log\lambda$, [D]: for parameters spanning decades, e.g.
a viscosity of order $10^{-4}$ that the other two leave indistinguishably small)."""


def transform_params(params: Array, transform: str) -> Array:
    r"""$\tilde\lambda$ from $\lambda$ by one of `PARAM_TRANSFORMS`."""
    if transform == "identity":
        return params
    if transform == "sigmoid_log":
        return params / (1 + params)
    return jnp.log(params)


class _Embedding(eqx.Module):
    """$a = W_2\\,\\mathrm{GELU}(W_1 \\tilde\\lambda + b_1) + b_2$: one channel gain
    per output channel of a branch; unbounded (no softmax, no sigmoid)."""

    hidden: eqx.nn.Linear
    out: eqx.nn.Linear

    def __init__(self, n_params: int, width: int):
        """Shape-only layers (drawn by `uniform_init`)."""
        self.hidden = shaped(eqx.nn.Linear, n_params, width // 2)
        self.out = shaped(eqx.nn.Linear, width // 2, width)

    def __call__(self, lam: Array) -> Array:
        return self.out(gelu(self.hidden(lam)))


class CAPE(eqx.Module):
    r"""The CAPE module: a parameter-aware guess $u_\mathrm{CAPE}$ of the next state,
    fed with the current state to a base solver (see `Conditioned`).

    With $h = \mathrm{GELU}(\mathrm{Conv}_5(u))$ ($d/2$ channels, no bias, "same"
    padding) and three embeddings $a_j(\tilde\lambda) \in \mathbb{R}^d$ of the
    parameters (two-layer GELU MLPs $p \to d/2 \to d$), four branches give $d$
    channels each:

    $$\begin{aligned}
    s &= \mathrm{Up}_{\times P}\big(K(\mathrm{AvgPool}_P(h))\big) \odot a_0, &
    q_1 &= W_1 h \odot a_1, \\
    q_2 &= \mathrm{DWConv}_5(h) \odot a_2, &
    r &= W_r h,
    \end{aligned}$$

    with $K$ a `SpectralConv`, $W_1, W_r$ pointwise, $\mathrm{DWConv}_5$ a depthwise
    convolution ($d/2$ groups, 2 outputs each) and nearest upsampling. Then
    $z = W_o\,\mathrm{GELU}(s + q_1 + q_2 + r)$ ($c\ell$ channels) and, with a layer
    norm $\mathrm{LN}$ over the spatial axes (per channel, elementwise affine of the
    grid's shape),

    - 1-D (additive): $u_\mathrm{CAPE} = \mathrm{tile}(u, \ell) + \mathrm{LN}(z)$;
    - 2-D (multiplicative): $u_\mathrm{CAPE} = \mathrm{tile}(u, \ell) \odot
      (1 + \mathrm{LN}(z))$.

    The three convolutions act like finite-difference stencils of growing reach, and
    the gains $a_j$ weight them as a PDE coefficient weights its derivative terms.
    The layer norm's affine has the grid's shape, so a module serves the resolution
    it was built for only; another grid raises a `ValueError`.

    Following the official code where the paper is silent ([C] of the method
    sheet): $d = 64$, $\ell = 1$, kernel 5, pooling $P = 4$, 16 modes in 1-D and 9
    per axis in 2-D, one block. Decisions [D]: in 2-D the 9 modes are clipped to
    what the pooled grid holds (at $64^2$ the pooled $16^2$ grid holds 8 modes on
    the first axis and 9 on the last; the reference's PyTorch slicing lets the two
    corner blocks overlap there instead); `n_blocks > 1` (the configs' unused
    `num_PrmEmb_Pre = 3`) applies further blocks in sequence, each adding its
    correction to the previous block's output.

    **Arguments:**

    - `channels`: the channels $c$ of the state $u$ (fields times input frames).
    - `n_params`: the number $p$ of PDE parameters.
    - `grid`: the spatial grid, e.g. `(128,)` or `(64, 64)`; fixes the layer norm.
    - `width`: the widening factor $d$ (even).
    - `frames_out`: $\ell$, the frames $u_\mathrm{CAPE}$ holds.
    - `kernel_size`: of the lift and depthwise convolutions (odd).
    - `pool`: $P$, the average-pooling (and upsampling) factor of the spectral
      branch; must divide every grid axis.
    - `modes`: modes per axis of the spectral branch (`None`: 16 in 1-D, 9 in 2-D,
      clipped to the pooled grid).
    - `n_blocks`: CAPE blocks in sequence.
    - `param_transform`: one of `PARAM_TRANSFORMS` (`None`: `"identity"` in 1-D,
      `"sigmoid_log"` in 2-D, as the reference).
    - `key`: PRNG key.

    Call with one state `(channels, *grid)` and its parameters `(n_params,)`;
    returns $u_\mathrm{CAPE}$ of shape `(channels * frames_out, *grid)`.
    """

    lifts: tuple[eqx.nn.Conv, ...]
    embeddings: tuple[tuple[_Embedding, _Embedding, _Embedding], ...]
    spectral: tuple[SpectralConv, ...]
    pointwise: tuple[eqx.nn.Conv, ...]
    depthwise: tuple[eqx.nn.Conv, ...]
    skip: tuple[eqx.nn.Conv, ...]
    outs: tuple[eqx.nn.Conv, ...]
    norms: tuple[eqx.nn.LayerNorm, ...]
    channels: int = eqx.field(static=True)
    n_params: int = eqx.field(static=True)
    grid: tuple[int, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    frames_out: int = eqx.field(static=True)
    pool: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)
    param_transform: str = eqx.field(static=True)

    def __init__(
        self,
        channels: int,
        n_params: int,
        grid: int | Sequence[int],
        width: int = 64,
        frames_out: int = 1,
        kernel_size: int = 5,
        pool: int = 4,
        modes: int | Sequence[int] | None = None,
        n_blocks: int = 1,
        param_transform: str | None = None,
        *,
        key: PRNGKeyArray,
    ):
        owner = "CAPE"
        self.channels = integer("channels", channels, minimum=1, owner=owner)
        self.n_params = integer("n_params", n_params, minimum=1, owner=owner)
        self.grid = integers("grid", grid, owner=owner)
        d = len(self.grid)
        if d not in (1, 2):
            raise ValueError(f"CAPE is 1-D or 2-D; got a grid {self.grid}.")
        self.width = integer("width", width, minimum=2, owner=owner)
        if self.width % 2:
            raise ValueError(
                f"CAPE: width must be even (d/2 lifted channels); got {width}."
            )
        self.frames_out = integer("frames_out", frames_out, minimum=1, owner=owner)
        kernel_size = integer("kernel_size", kernel_size, minimum=1, owner=owner)
        if kernel_size % 2 == 0:
            raise ValueError(f"CAPE: kernel_size must be odd; got {kernel_size}.")
        self.pool = integer("pool", pool, minimum=1, owner=owner)
        if any(n % self.pool for n in self.grid):
            raise ValueError(
                f"CAPE: pool={self.pool} must divide every grid axis; got grid "
                f"{self.grid}. Choose a pool that divides it."
            )
        pooled = tuple(n // self.pool for n in self.grid)
        limits = tuple(n // 2 for n in pooled[:-1]) + (pooled[-1] // 2 + 1,)
        if modes is None:
            self.modes = tuple(min(16 if d == 1 else 9, m) for m in limits)
        else:
            self.modes = integers(
                "modes", (modes,) * d if isinstance(modes, int) else modes, owner=owner
            )
            if len(self.modes) != d or any(
                m > k for m, k in zip(self.modes, limits, strict=True)
            ):
                raise ValueError(
                    f"CAPE: modes={self.modes} do not fit the pooled grid {pooled} "
                    f"(at most {limits}); use fewer modes or a smaller pool."
                )
        n_blocks = integer("n_blocks", n_blocks, minimum=1, owner=owner)
        if param_transform is None:
            param_transform = "identity" if d == 1 else "sigmoid_log"
        self.param_transform = choice(
            "param_transform", param_transform, PARAM_TRANSFORMS, owner=owner
        )
        half, full = self.width // 2, self.width
        out_c = self.channels * self.frames_out

        def block(cin, k):
            same = kernel_size // 2

            def conv(cin, cout, **kw):  # shape-only, drawn by `uniform_init`
                return shaped(eqx.nn.Conv, d, cin, cout, **kw)

            return dict(
                lift=conv(
                    cin,
                    half,
                    kernel_size=kernel_size,
                    padding=same,
                    use_bias=False,
                ),
                emb=tuple(_Embedding(self.n_params, full) for _ in range(3)),
                spec=SpectralConv(half, full, self.modes, key=k),
                pw=conv(half, full, kernel_size=1),
                dw=conv(
                    half,
                    full,
                    kernel_size=kernel_size,
                    padding=same,
                    groups=half,
                ),
                skip=conv(half, full, kernel_size=1),
                out=conv(full, out_c, kernel_size=1),
                norm=eqx.nn.LayerNorm(self.grid),
            )

        k_draw, k_spec = jax.random.split(key)
        blocks = [
            block(self.channels if i == 0 else out_c, k)
            for i, k in enumerate(jax.random.split(k_spec, n_blocks))
        ]
        # equinox's default initialisation of every conv and linear layer, from
        # one flat draw (layer by layer, eagerly, it compiled for seconds)
        blocks = uniform_init(blocks, k_draw)
        self.lifts = tuple(b["lift"] for b in blocks)
        self.embeddings = tuple(b["emb"] for b in blocks)
        self.spectral = tuple(b["spec"] for b in blocks)
        self.pointwise = tuple(b["pw"] for b in blocks)
        self.depthwise = tuple(b["dw"] for b in blocks)
        self.skip = tuple(b["skip"] for b in blocks)
        self.outs = tuple(b["out"] for b in blocks)
        self.norms = tuple(b["norm"] for b in blocks)

    @property
    def n_blocks(self) -> int:
        """The number of CAPE blocks in sequence."""
        return len(self.lifts)

    def check(self, u: Array, params: Array) -> None:
        """Raise a `ValueError` unless `u` is one state `(channels, *grid)` of this
        module's grid and `params` a vector `(n_params,)`."""
        if u.shape != (self.channels, *self.grid):
            raise ValueError(
                f"CAPE was built for one state of shape (C={self.channels}, grid "
                f"{self.grid}); got {u.shape}. Its layer norm is tied to the grid: "
                "build a CAPE for this resolution (or resample the state); use "
                "jax.vmap for a batch."
            )
        if params.shape != (self.n_params,):
            raise ValueError(
                f"CAPE expected a parameter vector of shape ({self.n_params},), got "
                f"{params.shape}."
            )

    def _block(self, i: int, v: Array, lam: Array) -> Array:
        """Block `i`'s correction $\\mathrm{LN}(z)$ of a channels-last state `v`."""
        a0, a1, a2 = (emb(lam) for emb in self.embeddings[i])
        h = gelu(same_conv(self.lifts[i], v))
        s = self.spectral[i].channels_last(_avg_pool(h, self.pool))
        s = _upsample(s, self.pool) * a0
        q1 = pointwise(self.pointwise[i], h) * a1
        q2 = depthwise_conv(self.depthwise[i], h) * a2
        r = pointwise(self.skip[i], h)
        z = pointwise(self.outs[i], gelu(s + q1 + q2 + r))
        return _layer_norm(self.norms[i], z)

    def __call__(
        self, u: Float[Array, " C *grid"], params: Float[Array, " p"]
    ) -> Float[Array, " Cl *grid"]:
        self.check(u, params)
        lam = transform_params(params.astype(u.dtype), self.param_transform)
        v = jnp.moveaxis(u, 0, -1)  # channels-last inside, as the FNO
        out = jnp.tile(v, (1,) * len(self.grid) + (self.frames_out,))
        for i in range(self.n_blocks):
            z = self._block(i, v if i == 0 else out, lam)
            out = out + z if len(self.grid) == 1 else out * (1 + z)
        return jnp.moveaxis(out, -1, 0)


def _layer_norm(norm: eqx.nn.LayerNorm, z: Array) -> Array:
    """`norm` (over the grid, elementwise affine of the grid's shape) applied to
    every channel of a channels-last field `(*grid, C)`."""
    axes = tuple(range(z.ndim - 1))
    mean = jnp.mean(z, axis=axes)
    var = jnp.mean((z - mean) ** 2, axis=axes)
    z = (z - mean) * jax.lax.rsqrt(var + norm.eps)
    return z * norm.weight[..., None] + norm.bias[..., None]


def _avg_pool(v: Array, p: int) -> Array:
    """Average over non-overlapping windows of `p` along every grid axis of a
    channels-last field."""
    *grid, c = v.shape
    shape = []
    for n in grid:
        shape += [n // p, p]
    return v.reshape(*shape, c).mean(axis=tuple(range(1, 2 * len(grid), 2)))


def _upsample(v: Array, p: int) -> Array:
    """Nearest-neighbour upsampling by `p` along every grid axis."""
    for axis in range(v.ndim - 1):
        v = jnp.repeat(v, p, axis=axis)
    return v
