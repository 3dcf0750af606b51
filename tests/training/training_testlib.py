"""Tiny models and losses shared by the training tests (no sciml model code)."""

import equinox as eqx
import jax
import jax.numpy as jnp


class Regressor(eqx.Module):
    """A small MLP regressor following the sciml constructor convention."""

    in_size: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    mlp: eqx.nn.MLP

    def __init__(self, in_size, width, activation="tanh", *, key):
        self.in_size = in_size
        self.width = width
        self.activation = activation
        self.mlp = eqx.nn.MLP(
            in_size, 1, width, 1, activation=getattr(jax.nn, activation), key=key
        )

    def __call__(self, x):
        return self.mlp(x)


def regression_data(n=32, seed=0):
    x = jax.random.uniform(jax.random.key(seed), (n, 1), minval=-1.0, maxval=1.0)
    return x, jnp.sin(3.0 * x)


def mse_loss(model, batch, key):
    x, y = batch
    pred = jax.vmap(model)(x)
    loss = jnp.mean((pred - y) ** 2)
    return loss, {"mse": loss}


def noisy_loss(model, batch, key):
    """Uses the per-step key, so resume must reproduce the key sequence too."""
    x, y = batch
    x = x + 0.01 * jax.random.normal(key, x.shape)
    pred = jax.vmap(model)(x)
    loss = jnp.mean((pred - y) ** 2)
    return loss, {"mse": loss, "noise_draw": jax.random.uniform(key)}


def param_leaves(tree):
    return jax.tree.leaves(eqx.filter(tree, eqx.is_array))
