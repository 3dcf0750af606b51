"""Operator learning with the DeepONet family: learn u -> s = int_0^x u from data
(DeepONet, cartesian-product form) and from the equation alone (physics-informed:
the residual s' - u of `sciml.pinns.problems.Antiderivative` on the trunk
coordinate), scored by the final model's mean relative L2 error on held-out inputs.

Run: python examples/deeponet.py  (--tiny: a few steps, for the test suite)
"""

import sys
import tempfile

import h5py
import jax
import jax.numpy as jnp
import optax

import sciml
from sciml import operators, pinns

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 10 if TINY else 3000

# 1000 inputs u ~ GRF(l = 0.2) at 100 sensors and their exact antiderivatives s
with tempfile.TemporaryDirectory() as tmp:
    path = sciml.datasets.generate_antiderivative(out=tmp, n_samples=1000)
    with h5py.File(path) as f:
        u, s, x = (jnp.asarray(f[k][()]) for k in ("u", "tensor", "x-coordinate"))
s = s.reshape(len(s), -1, 1)  # (N, P, 1): one output at each of the P points
y = x[:, None]  # the query points (P, 1): here the sensors
train, test = slice(0, 800), slice(800, None)

# G(u)(y) = sum_k b_k(u) t_k(y) + b0; `cartesian` runs a batch of inputs at all points
model = operators.DeepONet(100, 1, latent=64, width=64, depth=3, key=jax.random.key(0))


def data_loss(model, batch, key):
    inputs, outputs = batch
    return jnp.mean((model.cartesian(inputs, y) - outputs) ** 2), {}


def batches(step):  # 64 random training functions a step
    idx = jax.random.choice(jax.random.key(step), 800, (64,), replace=False)
    return u[train][idx], s[train][idx]


# physics-informed: the residual s'(x) - u(x) at the sensors and s(0) = 0, no outputs
physics = pinns.OperatorPINNLoss(lambda v: pinns.problems.Antiderivative(v, x))


def physics_batches(step):
    inputs, _ = batches(step)
    return {"inputs": inputs, "interior": y, "conditions": (jnp.zeros((1, 1)),)}


optimizer = optax.adam(optax.exponential_decay(1e-3, 1000, 0.9))
for name, loss, data in (("data", data_loss, batches),
                         ("physics", physics, physics_batches)):  # fmt: skip
    run = sciml.training.fit(model, loss, data, optimizer, steps=STEPS, progress=False)
    prediction = run.model.cartesian(u[test], y)
    error = jnp.mean(
        jnp.linalg.norm(prediction - s[test], axis=(1, 2))
        / jnp.linalg.norm(s[test], axis=(1, 2))
    )  # the FINAL model's mean per-sample relative L2 on held-out inputs
    print(f"DeepONet trained on {name}: test rel. L2 {float(error):.2e}")
