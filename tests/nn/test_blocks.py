import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.nn import MLP, FourierFeatures, SpectralConv


def _jit_vmap_grad(model, x_batch):
    """The block jits, vmaps over a batch, and gives finite non-zero gradients."""
    out = eqx.filter_jit(jax.vmap(model))(x_batch)
    assert np.all(np.isfinite(out))
    grads = eqx.filter_grad(lambda m: jnp.sum((jax.vmap(m)(x_batch) - 0.3) ** 2))(model)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert leaves and all(np.all(np.isfinite(g)) for g in leaves)
    assert any(float(jnp.abs(g).sum()) > 0 for g in leaves)
    return out


def test_mlp_shapes_and_transforms(getkey):
    mlp = MLP(3, 2, width=16, depth=2, activation="gelu", layer_norm=True, key=getkey())
    out = _jit_vmap_grad(mlp, jax.random.normal(getkey(), (5, 3)))
    assert out.shape == (5, 2)
    assert len(mlp.layers) == 3 and len(mlp.norms) == 2


def test_mlp_depth_zero_is_affine(getkey):
    mlp = MLP(2, 2, depth=0, key=getkey())
    x, y = jnp.array([1.0, 2.0]), jnp.array([-3.0, 0.5])
    # An affine map satisfies f(x) + f(y) - f(0) = f(x + y).
    lhs = mlp(x) + mlp(y) - mlp(jnp.zeros(2))
    np.testing.assert_allclose(lhs, mlp(x + y), rtol=1e-5, atol=1e-6)


def test_mlp_bad_input(getkey, no_typecheck):
    with pytest.raises(ValueError, match="width"):
        MLP(2, 2, width=0, key=getkey())
    with pytest.raises(ValueError, match="Unknown activation"):
        MLP(2, 2, activation="nope", key=getkey())
    mlp = MLP(2, 2, key=getkey())
    with pytest.raises(ValueError, match=r"shape \(2,\).*vmap"):
        mlp(jnp.ones((4, 2)))


def test_fourier_features_fixed_and_trainable(getkey):
    x = jax.random.normal(getkey(), (4, 2))
    fixed = FourierFeatures(2, 8, scale=2.0, key=getkey())
    out = eqx.filter_jit(jax.vmap(fixed))(x)
    assert out.shape == (4, 16)
    # cos^2 + sin^2 = 1 for every frequency.
    np.testing.assert_allclose(out[:, :8] ** 2 + out[:, 8:] ** 2, 1.0, rtol=1e-5)
    g_fixed = eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(x)))(fixed)
    assert float(jnp.abs(g_fixed.frequencies).sum()) == 0.0
    trainable = FourierFeatures(2, 8, trainable=True, key=getkey())
    _jit_vmap_grad(trainable, x)


@pytest.mark.parametrize("modes,grid", [(5, (32,)), ((4, 3), (16, 12))])
def test_spectral_conv_transforms(getkey, modes, grid):
    conv = SpectralConv(2, 3, modes, key=getkey())
    out = _jit_vmap_grad(conv, jax.random.normal(getkey(), (4, 2, *grid)))
    assert out.shape == (4, 3, *grid)


def test_spectral_conv_matches_direct_fourier_multiplier(getkey):
    """With one channel, the layer multiplies each kept Fourier mode by its weight."""
    n, m = 32, 4
    conv = SpectralConv(1, 1, m, key=getkey())
    x = jax.random.normal(getkey(), (1, n))
    w = conv.weights_real[0, 0, 0] + 1j * conv.weights_imag[0, 0, 0]
    x_hat = np.fft.rfft(np.asarray(x[0]))
    expected = np.fft.irfft(
        np.concatenate([x_hat[:m] * w, np.zeros(n // 2 + 1 - m)]), n
    )
    np.testing.assert_allclose(conv(x)[0], expected, atol=1e-5)


def test_spectral_conv_is_resolution_invariant(getkey):
    """A band-limited field gives the same output, sampled, on a coarse and fine grid."""
    conv = SpectralConv(1, 1, (3, 3), key=getkey())

    def field(n):
        x = (jnp.arange(n) + 0.0) / n
        xx, yy = jnp.meshgrid(x, x, indexing="ij")
        return (
            jnp.sin(2 * jnp.pi * xx)
            + jnp.cos(4 * jnp.pi * yy) * jnp.sin(2 * jnp.pi * xx)
        )[None]

    coarse, fine = conv(field(16)), conv(field(32))
    np.testing.assert_allclose(coarse, fine[:, ::2, ::2], atol=1e-5)


def test_spectral_conv_bad_input(getkey, no_typecheck):
    conv = SpectralConv(2, 2, 8, key=getkey())
    with pytest.raises(ValueError, match="channel-first"):
        conv(jnp.ones((3, 32)))
    with pytest.raises(ValueError, match="2\\*modes"):
        conv(jnp.ones((2, 10)))
    with pytest.raises(ValueError, match="modes"):
        SpectralConv(2, 2, (0, 3), key=getkey())
