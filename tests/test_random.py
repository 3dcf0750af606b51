"""`sciml._random.flat_draw` is the draw it stands for, bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml._random import flat_draw


@pytest.mark.parametrize("shape", [(), (3, 7), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_flat_draw_is_the_same_draw(shape, dtype):
    key = jax.random.key(5)
    with jax.enable_x64(True):
        for sampler, kwargs in [
            (jax.random.uniform, dict(minval=-0.3, maxval=2.0)),
            (jax.random.normal, {}),
        ]:
            direct = sampler(key, shape, dtype, **kwargs)
            flat = flat_draw(sampler, key, shape, dtype=dtype, **kwargs)
            assert flat.shape == direct.shape and flat.dtype == direct.dtype
            np.testing.assert_array_equal(flat, direct)
