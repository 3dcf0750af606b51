"""A floating-point array that no optimizer sees."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

_UNSIGNED = {2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}


class Constant(eqx.Module):
    """A fixed float array inside a model (a POD basis, a normalisation), stored as
    its bits in unsigned integers.

    So it is no inexact-array leaf: `eqx.filter(model, eqx.is_inexact_array)`
    leaves it out, no gradient reaches it and no optimizer (weight decay included)
    moves it, while `save_model` and checkpoints store it like any other array.
    `value` gives the array back, bit for bit.

    **Arguments:**

    - `value`: a floating-point array.
    """

    bits: Array
    dtype: str = eqx.field(static=True)

    def __init__(self, value: ArrayLike):
        value = jnp.asarray(value)
        if not jnp.issubdtype(value.dtype, jnp.floating):
            raise ValueError(
                f"Constant holds a floating-point array, got dtype {value.dtype}."
            )
        self.dtype = value.dtype.name
        self.bits = jax.lax.bitcast_convert_type(value, _UNSIGNED[value.dtype.itemsize])

    @property
    def value(self) -> Array:
        """The array."""
        return jax.lax.bitcast_convert_type(self.bits, jnp.dtype(self.dtype))
