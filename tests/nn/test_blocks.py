import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import references

from sciml.nn import MLP, FourierFeatures, SpectralConv, get_activation
from sciml.training import fit, load_model, save_model


def _jit_vmap_grad(model, x_batch):
    """The block jits, vmaps over a batch, and gives finite non-zero gradients."""
    out = eqx.filter_jit(jax.vmap(model))(x_batch)
    assert np.all(np.isfinite(out))
    loss = lambda m: jnp.sum((jax.vmap(m)(x_batch) - 0.3) ** 2)
    grads = eqx.filter_jit(eqx.filter_grad(loss))(model)  # one compile, not per op
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
    with pytest.raises(TypeError, match="width must be an integer"):
        MLP(2, 2, width=2.5, key=getkey())
    with pytest.raises(ValueError, match="depth must be >= 0"):
        MLP(2, 2, depth=-1, key=getkey())
    with pytest.raises(TypeError, match="layer_norm must be True or False"):
        MLP(2, 2, layer_norm="yes", key=getkey())
    with pytest.raises(ValueError, match="Unknown activation"):
        MLP(2, 2, activation="nope", key=getkey())
    with pytest.raises(TypeError, match="activation"):
        get_activation(3)
    # The input check runs before any weight is used: a shape-only model meets it
    # without compiling the weight draws.
    mlp = eqx.filter_eval_shape(MLP, 2, 2, key=getkey())
    with pytest.raises(ValueError, match=r"shape \(2,\).*vmap"):
        mlp(jnp.ones((4, 2)))


def test_fourier_features_fixed_and_trainable(getkey):
    x = jax.random.normal(getkey(), (4, 2))
    fixed = FourierFeatures(2, 8, scale=2.0, key=getkey())
    out = eqx.filter_jit(jax.vmap(fixed))(x)
    assert out.shape == (4, 16)
    # cos^2 + sin^2 = 1 for every frequency.
    np.testing.assert_allclose(out[:, :8] ** 2 + out[:, 8:] ** 2, 1.0, rtol=1e-5)
    assert fixed.frequencies.shape == (8, 2)
    # Frozen frequencies are no inexact-array leaf: nothing to differentiate.
    assert not jax.tree.leaves(eqx.filter(fixed, eqx.is_inexact_array))
    trainable = FourierFeatures(2, 8, trainable=True, key=getkey())
    _jit_vmap_grad(trainable, x)
    assert trainable.frequencies.shape == (8, 2)


def test_fourier_features_bad_input(getkey, no_typecheck):
    with pytest.raises(ValueError, match="n_features must be >= 1"):
        FourierFeatures(2, 0, key=getkey())
    with pytest.raises(ValueError, match="scale must be > 0"):
        FourierFeatures(2, 4, scale=0.0, key=getkey())
    with pytest.raises(TypeError, match="trainable must be True or False"):
        FourierFeatures(2, 4, trainable=1, key=getkey())
    with pytest.raises(TypeError, match="positional"):  # `key` is keyword-only
        FourierFeatures(2, 4, 1.0, False, getkey())


class _Features(eqx.Module):
    """Fourier features and a linear head, to train."""

    features: FourierFeatures
    head: eqx.nn.Linear

    def __init__(self, trainable, *, key):
        k1, k2 = jax.random.split(key)
        self.features = FourierFeatures(2, 8, scale=2.0, trainable=trainable, key=k1)
        self.head = eqx.nn.Linear(16, 1, key=k2)

    def __call__(self, x):
        return self.head(self.features(x))


def _features_loss(model, batch, key):
    del key
    x, y = batch
    loss = jnp.mean((jax.vmap(model)(x) - y) ** 2)
    return loss, {}


def _own_loop(model, optimizer, batch, steps):
    """The plain equinox + optax loop a user writes."""
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, opt_state):
        grads = eqx.filter_grad(lambda m: _features_loss(m, batch, None)[0])(model)
        params = eqx.filter(model, eqx.is_inexact_array)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state

    for _ in range(steps):
        model, opt_state = step(model, opt_state)
    return model


def _fit_loop(model, optimizer, batch, steps):
    return fit(
        model, _features_loss, lambda i: batch, optimizer, steps=steps, progress=False
    ).model


@pytest.mark.parametrize("loop", [_own_loop, _fit_loop])
@pytest.mark.parametrize("trainable", [False, True])
def test_frozen_fourier_features_survive_weight_decay(getkey, loop, trainable):
    """Decoupled weight decay shrinks every parameter it sees, gradient or not:
    frozen frequencies stay bitwise unchanged, trainable ones move."""
    model = _Features(trainable, key=getkey())
    x = jax.random.normal(getkey(), (16, 2))
    batch = (x, jnp.sin(x[:, :1]))
    before = np.asarray(model.features.frequencies)
    trained = loop(model, optax.adamw(1e-2, weight_decay=0.1), batch, 5)
    after = np.asarray(trained.features.frequencies)
    assert not np.array_equal(trained.head.weight, model.head.weight)
    if trainable:
        assert not np.array_equal(after, before)
    else:
        assert after.tobytes() == before.tobytes()


@pytest.mark.parametrize("trainable", [False, True])
def test_fourier_features_save_and_load(getkey, tmp_path, trainable):
    """A reload rebuilds with another key; the saved frequencies come back."""
    ff = FourierFeatures(3, 5, scale=1.5, trainable=trainable, key=getkey())
    loaded = load_model(save_model(tmp_path / "ff.eqx", ff))
    assert loaded.trainable is trainable
    assert loaded.frequencies.tobytes() == ff.frequencies.tobytes()
    x = jax.random.normal(getkey(), (3,))
    np.testing.assert_array_equal(loaded(x), ff(x))


@pytest.mark.parametrize("modes,grid", [(5, (32,)), ((4, 3), (16, 12))])
def test_spectral_conv_transforms(getkey, modes, grid):
    conv = SpectralConv(2, 3, modes, key=getkey())
    out = _jit_vmap_grad(conv, references.normal(getkey(), (4, 2, *grid)))
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
    np.testing.assert_allclose(eqx.filter_jit(conv)(x)[0], expected, atol=1e-5)


def test_spectral_conv_is_resolution_invariant(getkey):
    """A band-limited field gives the same output, sampled, on a coarse and fine grid."""
    conv = SpectralConv(1, 1, (3, 3), key=getkey())

    @functools.partial(jax.jit, static_argnums=0)  # one compile per grid
    def field(n):
        x = (jnp.arange(n) + 0.0) / n
        xx, yy = jnp.meshgrid(x, x, indexing="ij")
        return (
            jnp.sin(2 * jnp.pi * xx)
            + jnp.cos(4 * jnp.pi * yy) * jnp.sin(2 * jnp.pi * xx)
        )[None]

    call = eqx.filter_jit(conv)  # one compile per grid, not one per operation
    coarse, fine = call(field(16)), call(field(32))
    np.testing.assert_allclose(coarse, fine[:, ::2, ::2], atol=1e-5)


def test_spectral_conv_bad_input(getkey, no_typecheck):
    # a shape-only layer: the input checks run before any weight is used
    conv = eqx.filter_eval_shape(SpectralConv, 2, 2, 8, key=getkey())
    with pytest.raises(ValueError, match="channel-first"):
        conv(jnp.ones((3, 32)))
    with pytest.raises(ValueError, match="2\\*modes"):
        conv(jnp.ones((2, 10)))
    with pytest.raises(ValueError, match="modes"):
        SpectralConv(2, 2, (0, 3), key=getkey())
    with pytest.raises(TypeError, match="modes"):
        SpectralConv(2, 2, "8", key=getkey())
    with pytest.raises(TypeError, match="in_channels must be an integer"):
        SpectralConv(2.0, 2, 8, key=getkey())
