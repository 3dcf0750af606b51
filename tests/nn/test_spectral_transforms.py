"""SpectralConv's two computations of the same map: the FFT with the corner blocks
scattered into a zero spectrum, and the truncated DFTs as matrix products."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml.nn import DFT_LIMIT, SpectralConv


@pytest.mark.parametrize(
    "modes,grid",
    [
        (5, (16,)),
        (5, (17,)),  # odd length
        (9, (16,)),  # the Nyquist frequency kept
        ((3, 4), (8, 9)),
        ((4, 5), (8, 8)),  # both: m = n / 2 on the full axis, Nyquist on the last
        ((2, 3, 4), (6, 7, 8)),
    ],
)
def test_dft_and_fft_agree_in_values_and_gradients(getkey, modes, grid):
    key = getkey()
    fft = SpectralConv(3, 2, modes, transform="fft", key=key)
    dft = SpectralConv(3, 2, modes, transform="dft", key=key)
    x = references.normal(getkey(), (4, 3, *grid))
    call = eqx.filter_jit(lambda m, x: jax.vmap(m)(x))
    a, b = call(fft, x), call(dft, x)
    np.testing.assert_allclose(b, a, atol=1e-5 * float(jnp.abs(a).max()))

    def loss(m, x):
        return jnp.sum(jnp.sin(jax.vmap(m)(x)))

    grad = eqx.filter_jit(jax.grad(loss, argnums=(0, 1)))
    (ga, gxa), (gb, gxb) = grad(fft, x), grad(dft, x)
    np.testing.assert_allclose(gb.weights_real, ga.weights_real, atol=1e-4)
    np.testing.assert_allclose(gb.weights_imag, ga.weights_imag, atol=1e-4)
    np.testing.assert_allclose(gxb, gxa, atol=1e-4)


def test_channels_last_is_the_same_map(getkey):
    conv = SpectralConv(3, 2, (3, 4), key=getkey())
    x = references.normal(getkey(), (3, 8, 10))
    first = conv(x)
    last = conv.channels_last(jnp.moveaxis(x, 0, -1))
    np.testing.assert_allclose(jnp.moveaxis(last, -1, 0), first, atol=1e-6)
    with pytest.raises(ValueError, match="channels_last expected"):
        conv.channels_last(x)


def test_auto_picks_the_matrix_form_for_small_transforms(getkey):
    conv = SpectralConv(1, 1, 16, key=getkey())
    assert conv._use_dft((256,)) and 2 * 16 * 256 <= DFT_LIMIT
    assert not conv._use_dft((DFT_LIMIT,))
    with pytest.raises(ValueError, match="transform must be one of"):
        SpectralConv(1, 1, 4, transform="matmul", key=getkey())
