"""Random Fourier features."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, UInt32

from .._checks import boolean, integer, real
from .._random import flat_draw


class FourierFeatures(eqx.Module):
    r"""Random Fourier features $\gamma(x) = [\cos(2\pi Bx), \sin(2\pi Bx)]$,
    $B_{ij} \sim \mathcal{N}(0, s^2)$ (Tancik et al., NeurIPS 2020).

    Frozen frequencies (`trainable=False`) are not stored as floats: the module keeps
    the integer data of the PRNG key they were drawn with and draws them again when
    needed. So they are no inexact-array leaf, and no optimiser, weight decay
    included, can move them (`eqx.filter(model, eqx.is_inexact_array)` leaves them
    out); `save_model` stores the key data, so a loaded model has the same
    frequencies. Trainable ones are an ordinary float leaf.

    **Arguments:**

    - `in_size`: input dimension $d$.
    - `n_features`: number of frequencies $m$; the output has $2m$ entries.
    - `scale`: standard deviation $s$ of the frequencies.
    - `trainable`: if False (default) the frequencies are fixed; if True they are
        learned.
    - `key`: PRNG key for sampling $B$.

    Input `(in_size,)`, output `(2 * n_features,)`.
    """

    learned: Float[Array, "m d"] | None
    frozen_key: UInt32[Array, " _"] | None
    in_size: int = eqx.field(static=True)
    n_features: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    trainable: bool = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    key_impl: str = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        n_features: int,
        scale: float = 1.0,
        trainable: bool = False,
        *,
        key: PRNGKeyArray,
    ):
        owner = "FourierFeatures"
        self.in_size = integer("in_size", in_size, minimum=1, owner=owner)
        self.n_features = integer("n_features", n_features, minimum=1, owner=owner)
        self.scale = real("scale", scale, above=0.0, owner=owner)
        self.trainable = boolean("trainable", trainable, owner=owner)
        self.dtype = jnp.result_type(float).name  # float64 under jax_enable_x64
        if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.wrap_key_data(key)  # a legacy uint32 key
        self.key_impl = str(jax.random.key_impl(key))
        self.frozen_key = None if self.trainable else jax.random.key_data(key)
        self.learned = self._draw(key=key) if self.trainable else None

    def _draw(self, *, key: PRNGKeyArray) -> Float[Array, "m d"]:
        shape = (self.n_features, self.in_size)
        return self.scale * flat_draw(jax.random.normal, key, shape, dtype=self.dtype)

    @property
    def frequencies(self) -> Float[Array, "m d"]:
        """The frequencies $B$, shape `(n_features, in_size)`."""
        if self.trainable:
            return self.learned
        key = jax.random.wrap_key_data(self.frozen_key, impl=self.key_impl)
        return self._draw(key=key)

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
        z = 2 * jnp.pi * (self.frequencies @ x)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)])
