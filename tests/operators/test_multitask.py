"""MT-DeepONet's inputs, masked losses and partial fine-tuning."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import references

from sciml.nn import CNN
from sciml.operators import (
    DeepONet,
    masked_mse,
    masked_relative_l2,
    task_input,
    with_mask_channel,
)
from sciml.training import fit, trainable_only


def test_masked_losses():
    mask = jnp.array([[1.0, 0.0], [1.0, 1.0]])
    pred = jnp.array([[[1.0, 5.0], [2.0, 3.0]]])
    true = jnp.array([[[0.0, 0.0], [2.0, 1.0]]])
    assert float(masked_mse(pred, true, mask)) == pytest.approx((1 + 4) / 3)
    assert float(masked_mse(pred, true, mask, normalise="all")) == pytest.approx(5 / 4)
    want = np.sqrt(1 + 4) / np.sqrt(0 + 4 + 1)
    assert float(masked_relative_l2(pred, true, mask)) == pytest.approx(want)


def test_inputs():
    field, mask = jnp.ones((4, 4)), jnp.zeros((4, 4)).at[1:3, 1:3].set(1.0)
    x = with_mask_channel(field, mask)
    assert x.shape == (2, 4, 4) and float(x[1].sum()) == 4
    assert task_input(jnp.ones((5, 4)), jnp.zeros((5, 64))).shape == (5, 68)


def test_mask_errors(no_typecheck):
    with pytest.raises(ValueError, match="does not match"):
        with_mask_channel(jnp.ones((4, 4)), jnp.ones((4, 5)))
    with pytest.raises(Exception, match="not binary"):
        with_mask_channel(jnp.ones((4, 4)), 0.5 * jnp.ones((4, 4)))
    with pytest.raises(Exception, match="not binary"):
        jax.jit(masked_mse)(jnp.ones((2, 3)), jnp.ones((2, 3)), 2 * jnp.ones(3))
    with pytest.raises(ValueError, match="does not match"):
        masked_relative_l2(jnp.ones((2, 3)), jnp.ones((2, 3)), jnp.ones(4))


def test_cnn_branch_and_dropout(getkey, no_typecheck):
    cnn = CNN(
        (2, 16, 16),
        12,
        channels=(4, 8),
        kernel_size=3,
        mlp_width=16,
        dropout=0.5,
        key=getkey(),
    )
    x = references.normal(getkey(), (2, 16, 16))
    call = eqx.filter_jit(lambda m, x, key=None: m(x, key=key))
    assert call(cnn, x).shape == (12,)
    np.testing.assert_array_equal(call(cnn, x), call(cnn, x))  # no key: no dropout
    assert not np.allclose(call(cnn, x, key=getkey()), call(cnn, x))
    model = DeepONet((2, 16, 16), 2, latent=12, branch=cnn, key=getkey())
    out = eqx.filter_jit(model.cartesian)(
        jnp.stack([x, x]), jnp.ones((5, 2)), key=getkey()
    )
    assert out.shape == (2, 5, 1)
    with pytest.raises(ValueError, match=r"shape \(2, 16, 16\)"):
        model(jnp.ones((1, 16, 16)), jnp.ones((5, 2)))


def test_frozen_layers_stay_bitwise_through_adamw(getkey):
    """Transfer: fine-tune the branch's first conv layer and the trunk's last layer
    only; every other leaf is bitwise unchanged, weight decay included."""
    cnn = CNN((2, 8, 8), 6, channels=(4, 4), kernel_size=3, mlp_width=8, key=getkey())
    model = DeepONet((2, 8, 8), 2, latent=6, width=8, depth=2, branch=cnn, key=getkey())
    spec = trainable_only(model, lambda m: (m.branch.convs[0], m.trunk.layers[-1]))
    x = references.normal(getkey(), (4, 2, 8, 8))
    y = jax.random.uniform(getkey(), (10, 2))
    target = references.normal(getkey(), (4, 10, 1))

    def loss(m, batch, key):
        return jnp.mean((m.cartesian(batch[0], y) - batch[1]) ** 2), {}

    result = fit(
        model,
        loss,
        [(x, target)] * 5,
        optax.adamw(1e-2, weight_decay=0.1),
        steps=5,
        progress=False,
        trainable=spec,
    )
    new = result.model
    chosen = jax.tree.leaves(eqx.filter(spec, lambda s: s))
    flags = jax.tree.leaves(spec)
    old_leaves, new_leaves = jax.tree.leaves(model), jax.tree.leaves(new)
    assert len(flags) == len(old_leaves) and chosen
    for flag, a, b in zip(flags, old_leaves, new_leaves, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        if flag:
            assert not np.array_equal(a, b)
        else:
            assert a.tobytes() == b.tobytes()
