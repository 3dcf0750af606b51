"""Random Fourier features."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ._checks import positive_int


class FourierFeatures(eqx.Module):
    r"""Random Fourier features $\gamma(x) = [\cos(2\pi Bx), \sin(2\pi Bx)]$,
    $B_{ij} \sim \mathcal{N}(0, s^2)$ (Tancik et al., NeurIPS 2020).

    **Arguments:**

    - `in_size`: input dimension $d$.
    - `n_features`: number of frequencies $m$; the output has $2m$ entries.
    - `scale`: standard deviation $s$ of the frequencies.
    - `trainable`: if False (default) the frequencies are fixed (no gradient flows
      to them); if True they are learned.
    - `key`: PRNG key for sampling $B$.

    Input `(in_size,)`, output `(2 * n_features,)`.
    """

    frequencies: Float[Array, "m d"]
    in_size: int = eqx.field(static=True)
    n_features: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    trainable: bool = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        n_features: int,
        scale: float = 1.0,
        trainable: bool = False,
        *,
        key: PRNGKeyArray,
    ):
        self.in_size = positive_int("in_size", in_size, "FourierFeatures")
        self.n_features = positive_int("n_features", n_features, "FourierFeatures")
        if not (float(scale) > 0):
            raise ValueError(f"FourierFeatures: expected scale > 0, got {scale!r}.")
        self.scale = float(scale)
        self.trainable = bool(trainable)
        self.frequencies = self.scale * jax.random.normal(key, (n_features, in_size))

    @property
    def out_size(self) -> int:
        """Output dimension, `2 * n_features`."""
        return 2 * self.n_features

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " two_m"]:
        if x.shape != (self.in_size,):
            raise ValueError(
                f"FourierFeatures expected one input of shape ({self.in_size},), got "
                f"{x.shape}. Use jax.vmap for a batch."
            )
        b = (
            self.frequencies
            if self.trainable
            else jax.lax.stop_gradient(self.frequencies)
        )
        z = 2 * jnp.pi * (b @ x)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)])
