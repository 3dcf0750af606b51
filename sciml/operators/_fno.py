"""Fourier neural operator (N-d)."""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, choice, integer, integers
from ..nn import SPECTRAL_TRANSFORMS, SpectralConv, get_activation
from ._layout import pointwise


def grid_coordinates(
    grid: tuple[int, ...], dtype=jnp.float32
) -> Float[Array, " d *grid"]:
    r"""Cell-centre coordinates $x_i = (i + \tfrac12)/n$ of a unit grid, channel-first.

    Resolution-consistent: the same physical point has the same coordinate on every
    grid, which the spatial-refinement test of a trained FNO relies on.

    **Arguments:**

    - `grid`: the number of cells per axis, e.g. `(64,)` or `(32, 32)`.
    - `dtype`: the floating-point type of the coordinates.

    **Returns:**

    An array of shape `(len(grid), *grid)`: channel `i` holds the coordinate along
    axis `i`.
    """
    axes = [(jnp.arange(n, dtype=dtype) + 0.5) / n for n in grid]
    return jnp.stack(jnp.meshgrid(*axes, indexing="ij"))


PDEBENCH_PRESETS: dict[str, dict] = {
    "advection": dict(dims=1, channels=1, initial_step=10, modes=12, width=20),
    "burgers": dict(dims=1, channels=1, initial_step=10, modes=12, width=20),
    "reaction_diffusion": dict(dims=1, channels=1, initial_step=5, modes=12, width=20),
    "diffusion_sorption": dict(dims=1, channels=1, initial_step=10, modes=16, width=64),
    "cfd_1d": dict(dims=1, channels=3, initial_step=10, modes=12, width=20),
    "diffusion_reaction": dict(dims=2, channels=2, initial_step=10, modes=12, width=20),
    "shallow_water": dict(dims=2, channels=1, initial_step=10, modes=12, width=20),
    "cfd_2d": dict(dims=2, channels=4, initial_step=10, modes=12, width=20),
}
"""PDEBench's FNO settings per problem (its `config/args/config_*.yaml`: Adv, Bgs,
ReacDiff, diff-sorp, 1DCFD, diff-react, rdb, 2DCFD): spatial dimensions, field
channels, input frames (`initial_step`), modes per axis and width. Its FNO1d /
FNO2d also pad each axis by 2 and project through 128 channels; see
`FNO.pdebench`."""


class FNO(eqx.Module):
    r"""Fourier neural operator on a periodic (or zero-padded) N-d grid.

    $v_0 = P(a)$, $v_{l+1} = \sigma(K_l v_l + W_l v_l)$, $u = Q(v_L)$, where $P$ lifts
    the input channels (plus grid coordinates, if `append_grid`) to `width` channels
    pointwise, $K_l$ is a `SpectralConv`, $W_l$ a pointwise linear skip, and $Q$ a
    pointwise two-layer projection. No activation follows the last Fourier layer
    (Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021).

    **Arguments:**

    - `in_channels`, `out_channels`: channel counts of input and output fields.
    - `modes`: Fourier modes per spatial axis; an int means a 1-D model, a sequence
      gives one entry per axis (e.g. `(12, 12)` for 2-D).
    - `width`: channels of the hidden fields.
    - `n_layers`: number of Fourier layers $L$.
    - `activation`: name from `sciml.nn.ACTIVATIONS` or a callable (default GELU).
    - `append_grid`: append cell-centre coordinates in $[0, 1)$ as input channels.
    - `padding`: zero-pad each spatial axis by this many points on the right before
      the Fourier layers, for non-periodic problems (0 for periodic).
    - `projection_width`: hidden width of the projection $Q$.
    - `transform`: how each `SpectralConv` computes its truncated transforms
      (`"auto"`, `"fft"` or `"dft"`; see `sciml.nn.SpectralConv`).
    - `key`: PRNG key.

    Input `(in_channels, *grid)`, output `(out_channels, *grid)`; `jax.vmap` for a
    batch. The same model runs on any grid with at least `2 * modes` points per axis.
    """

    lift: eqx.nn.Conv
    spectral: tuple[SpectralConv, ...]
    skips: tuple[eqx.nn.Conv, ...]
    proj_hidden: eqx.nn.Conv
    proj_out: eqx.nn.Conv
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    n_layers: int = eqx.field(static=True)
    activation: str | Callable = eqx.field(static=True)
    append_grid: bool = eqx.field(static=True)
    padding: int = eqx.field(static=True)
    projection_width: int = eqx.field(static=True)
    transform: str = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: int | Sequence[int],
        width: int = 32,
        n_layers: int = 4,
        activation: str | Callable = "gelu",
        append_grid: bool = True,
        padding: int = 0,
        projection_width: int = 128,
        transform: str = "auto",
        *,
        key: PRNGKeyArray,
    ):
        self.in_channels = integer("in_channels", in_channels, minimum=1, owner="FNO")
        self.out_channels = integer(
            "out_channels", out_channels, minimum=1, owner="FNO"
        )
        self.modes = integers("modes", modes, owner="FNO")
        self.width = integer("width", width, minimum=1, owner="FNO")
        self.n_layers = integer("n_layers", n_layers, minimum=1, owner="FNO")
        self.projection_width = integer(
            "projection_width", projection_width, minimum=1, owner="FNO"
        )
        self.padding = integer("padding", padding, minimum=0, owner="FNO")
        self.append_grid = boolean("append_grid", append_grid, owner="FNO")
        self.transform = choice(
            "transform", transform, SPECTRAL_TRANSFORMS, owner="FNO"
        )
        get_activation(activation)
        self.activation = activation
        d = len(self.modes)
        width, n_layers = self.width, self.n_layers
        lifted = self.in_channels + (d if self.append_grid else 0)
        k_lift, k_spec, k_skip, k_p1, k_p2 = jax.random.split(key, 5)

        def conv1x1(cin, cout, k):
            return eqx.nn.Conv(d, cin, cout, kernel_size=1, key=k)

        self.lift = conv1x1(lifted, width, k_lift)
        self.spectral = tuple(
            SpectralConv(width, width, self.modes, transform=transform, key=k)
            for k in jax.random.split(k_spec, n_layers)
        )
        self.skips = tuple(
            conv1x1(width, width, k) for k in jax.random.split(k_skip, n_layers)
        )
        self.proj_hidden = conv1x1(width, self.projection_width, k_p1)
        self.proj_out = conv1x1(self.projection_width, self.out_channels, k_p2)

    @classmethod
    def pdebench(cls, problem: str, *, key: PRNGKeyArray) -> "FNO":
        """PDEBench's FNO for one of its problems (`PDEBENCH_PRESETS`): input the
        last `initial_step` frames of every channel stacked, `(initial_step *
        channels, *grid)`; output the next frame `(channels, *grid)`; `modes` and
        `width` from its configuration, padding 2, a 128-channel projection,
        exact GELU, grid coordinates appended.

        **Arguments:**

        - `problem`: a key of `PDEBENCH_PRESETS`, e.g. `"advection"`.
        - `key`: PRNG key.
        """
        preset = PDEBENCH_PRESETS.get(problem)
        if preset is None:
            raise ValueError(
                f"FNO.pdebench: unknown problem {problem!r}; choose one of "
                f"{sorted(PDEBENCH_PRESETS)}."
            )
        c, d = preset["channels"], preset["dims"]
        return cls(
            preset["initial_step"] * c,
            c,
            (preset["modes"],) * d,
            width=preset["width"],
            padding=2,
            projection_width=128,
            key=key,
        )

    def __call__(self, a: Float[Array, " cin *grid"]) -> Float[Array, " cout *grid"]:
        d = len(self.modes)
        if a.ndim != d + 1 or a.shape[0] != self.in_channels:
            raise ValueError(
                f"FNO expected one unbatched field of shape (C={self.in_channels}, "
                f"{d} spatial axes), got {a.shape}. Fields are channel-first (C, X[, Y]);"
                " use jax.vmap for a batch."
            )
        act = get_activation(self.activation)
        grid = a.shape[1:]
        # channels-last inside (one transpose in, one out): every pointwise map is
        # then a plain matrix product over the last axis
        v = jnp.moveaxis(a, 0, -1)
        if self.append_grid:
            coords = jnp.moveaxis(grid_coordinates(grid, a.dtype), 0, -1)
            v = jnp.concatenate([v, coords], axis=-1)
        v = pointwise(self.lift, v)
        if self.padding:
            v = jnp.pad(v, [(0, self.padding)] * d + [(0, 0)])
        for i, (spec, skip) in enumerate(zip(self.spectral, self.skips, strict=True)):
            v = spec.channels_last(v) + pointwise(skip, v)
            if i < self.n_layers - 1:
                v = act(v)
        if self.padding:
            v = v[tuple(slice(0, n) for n in grid)]
        out = pointwise(self.proj_out, act(pointwise(self.proj_hidden, v)))
        return jnp.moveaxis(out, -1, 0)
