"""Named weight initialisations (`sciml.nn.initialise`, `MLP(init=...)`)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.nn import INITIALISATIONS, MLP, initialise
from sciml.operators import DeepONet
from sciml.training import load_model, save_model


@pytest.mark.parametrize(
    "scheme, std",
    [
        ("glorot_normal", np.sqrt(2 / (300 + 500))),
        ("glorot_uniform", np.sqrt(6 / (300 + 500)) / np.sqrt(3)),
        ("he_normal", np.sqrt(2 / 300)),
        ("lecun_normal", np.sqrt(1 / 300)),
    ],
)
def test_linear_weights_have_the_scheme_variance_and_zero_bias(scheme, std, getkey):
    layer = initialise(eqx.nn.Linear(300, 500, key=getkey()), scheme, key=getkey())
    w = np.asarray(layer.weight)
    assert w.shape == (500, 300)
    # 150000 draws: the sample std is within 1% of the scheme's
    np.testing.assert_allclose(w.std(), std, rtol=0.01)
    assert abs(w.mean()) < 3 * std / np.sqrt(w.size)
    np.testing.assert_array_equal(np.asarray(layer.bias), 0.0)


def test_conv_fans_count_the_kernel(getkey):
    conv = eqx.nn.Conv2d(20, 40, kernel_size=5, key=getkey())
    conv = initialise(conv, "glorot_normal", key=getkey())
    # fan-in 20 * 25, fan-out 40 * 25
    np.testing.assert_allclose(
        np.asarray(conv.weight).std(), np.sqrt(2 / (500 + 1000)), rtol=0.02
    )


def test_every_affine_layer_changes_and_nothing_else(getkey):
    model = DeepONet(
        8, 1, latent=16, width=16, depth=2, fourier_features=4, key=getkey()
    )
    new = initialise(model, "glorot_normal", key=getkey())
    assert jax.tree.structure(new) == jax.tree.structure(model)
    is_linear = lambda x: isinstance(x, eqx.nn.Linear)
    old_layers = [x for x in jax.tree.leaves(model, is_leaf=is_linear) if is_linear(x)]
    new_layers = [x for x in jax.tree.leaves(new, is_leaf=is_linear) if is_linear(x)]
    assert len(new_layers) == len(old_layers) == 6
    for a, b in zip(old_layers, new_layers, strict=True):
        assert not np.array_equal(np.asarray(a.weight), np.asarray(b.weight))
        np.testing.assert_array_equal(np.asarray(b.bias), 0.0)
    # the Fourier-feature matrix and the output bias are not affine layers
    leaves = lambda m: jax.tree.leaves(
        eqx.filter(m, lambda x: not is_linear(x), is_leaf=is_linear)
    )
    for a, b in zip(leaves(model), leaves(new), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    out = jax.jit(lambda m, u, y: m.cartesian(u, y))(
        new, jnp.ones((3, 8)), jnp.linspace(0, 1, 5)[:, None]
    )
    assert out.shape == (3, 5, 1) and np.all(np.isfinite(out))


def test_same_key_same_weights(getkey):
    key = getkey()
    mlp = MLP(4, 3, width=8, depth=2, key=getkey())
    a = initialise(mlp, "he_normal", key=key)
    b = initialise(mlp, "he_normal", key=key)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_mlp_init_argument_and_round_trip(tmp_path, getkey):
    mlp = MLP(5, 2, width=64, depth=2, init="glorot_normal", key=getkey())
    assert mlp.init == "glorot_normal"
    for layer in mlp.layers:
        np.testing.assert_array_equal(np.asarray(layer.bias), 0.0)
    # the hidden 64 x 64 layer: std sqrt(2 / 128)
    np.testing.assert_allclose(
        np.asarray(mlp.layers[1].weight).std(), np.sqrt(2 / 128), rtol=0.1
    )
    loaded = load_model(save_model(tmp_path / "mlp.eqx", mlp))
    assert loaded.init == "glorot_normal"
    x = jnp.arange(5.0)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(mlp(x)))
    # the default stays equinox's (nonzero biases)
    plain = MLP(5, 2, width=8, depth=1, key=getkey())
    assert plain.init is None and float(jnp.abs(plain.layers[0].bias).sum()) > 0


def test_unknown_scheme_is_a_clear_error(getkey):
    with pytest.raises(ValueError, match="unknown scheme 'xavier'.*glorot_normal"):
        initialise(MLP(2, 2, key=getkey()), "xavier", key=getkey())
    with pytest.raises(ValueError, match="unknown scheme"):
        MLP(2, 2, init="kaiming", key=getkey())
    assert set(INITIALISATIONS) == {
        "glorot_normal",
        "glorot_uniform",
        "he_normal",
        "lecun_normal",
    }
