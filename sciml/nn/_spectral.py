"""N-dimensional spectral convolution, the core of the Fourier neural operator."""

import itertools
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import integer, integers
from .._random import flat_draw


class SpectralConv(eqx.Module):
    r"""Spectral convolution $v \mapsto \mathcal{F}^{-1}(R \cdot \mathcal{F}v)$ on a
    periodic grid, keeping the lowest `modes` frequencies (Li et al., "Fourier Neural
    Operator for Parametric PDEs", ICLR 2021).

    A real FFT runs over the $d$ spatial axes. Along the last axis the first $m_d$
    non-negative frequencies are kept; along each other axis the $m_i$ lowest positive
    and the $m_i$ lowest negative frequencies, i.e. $2^{d-1}$ corner blocks, each with
    its own complex weights $R \in \mathbb{C}^{C_{in} \times C_{out} \times m_1 \times
    \dots \times m_d}$. Higher frequencies are set to zero. The layer works on any grid
    with at least $2m_i$ points per axis (resolution invariance: the same weights act on
    the same Fourier coefficients at any resolution).

    **Arguments:**

    - `in_channels`, `out_channels`: channel counts.
    - `modes`: modes kept per spatial axis: an int for 1-D, or a sequence with one
      entry per axis (its length sets the number of spatial dimensions).
    - `key`: PRNG key; weights are $\frac{1}{C_{in}C_{out}}\,U[0,1)$ in their real
      and imaginary parts, as in the reference FNO.

    Input `(in_channels, *grid)`, output `(out_channels, *grid)`.
    """

    weights_real: Float[Array, "corners cin cout ..."]
    weights_imag: Float[Array, "corners cin cout ..."]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: int | Sequence[int],
        *,
        key: PRNGKeyArray,
    ):
        owner = "SpectralConv"
        self.in_channels = integer("in_channels", in_channels, minimum=1, owner=owner)
        self.out_channels = integer(
            "out_channels", out_channels, minimum=1, owner=owner
        )
        self.modes = integers("modes", modes, owner=owner)
        n_corners = 2 ** (len(self.modes) - 1)
        shape = (n_corners, self.in_channels, self.out_channels, *self.modes)
        scale = 1.0 / (self.in_channels * self.out_channels)
        kr, ki = jax.random.split(key)
        self.weights_real = scale * flat_draw(jax.random.uniform, kr, shape)
        self.weights_imag = scale * flat_draw(jax.random.uniform, ki, shape)

    @property
    def n_dims(self) -> int:
        """Number of spatial dimensions."""
        return len(self.modes)

    def _corners(self) -> list[tuple[slice, ...]]:
        """Index blocks of the kept frequencies, one per corner, over the spatial axes."""
        per_axis = [(slice(0, m), slice(-m, None)) for m in self.modes[:-1]]
        last = (slice(0, self.modes[-1]),)
        return [tuple(c) for c in itertools.product(*per_axis, last)]

    def __call__(self, x: Float[Array, " cin *grid"]) -> Float[Array, " cout *grid"]:
        d = self.n_dims
        if x.ndim != d + 1 or x.shape[0] != self.in_channels:
            raise ValueError(
                f"SpectralConv expected one unbatched field of shape (C={self.in_channels},"
                f" {d} spatial axes), got {x.shape}. Grids are channel-first; use "
                "jax.vmap for a batch."
            )
        grid = x.shape[1:]
        for n, m, last in zip(
            grid, self.modes, [False] * (d - 1) + [True], strict=True
        ):
            limit = n // 2 + 1 if last else n // 2
            if m > limit:
                raise ValueError(
                    f"SpectralConv with modes={self.modes} needs at least 2*modes points "
                    f"per axis; got a grid of {grid}. Use a finer grid or fewer modes."
                )
        axes = tuple(range(1, d + 1))
        x_ft = jnp.fft.rfftn(x, axes=axes)
        weights = self.weights_real + 1j * self.weights_imag
        out_ft = jnp.zeros((self.out_channels, *x_ft.shape[1:]), dtype=x_ft.dtype)
        for c, corner in enumerate(self._corners()):
            idx = (slice(None), *corner)
            block = jnp.einsum("i...,io...->o...", x_ft[idx], weights[c])
            out_ft = out_ft.at[idx].set(block)
        return jnp.fft.irfftn(out_ft, s=grid, axes=axes).astype(x.dtype)
