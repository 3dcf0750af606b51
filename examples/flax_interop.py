"""Train sciml's FNO in a Flax NNX loop (`nnx.Optimizer`, `nnx.jit`) through
`sciml.interop`, then take the trained equinox model back out. The task: one step
of periodic advection, u(x) -> u(x - 2h) on 64 cells, from random smooth fields.

Needs Flax: pip install 'sciml-jax[flax]'.
Run: python examples/flax_interop.py  (--tiny: a few steps, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp
import optax
from flax import nnx

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 5 if TINY else 300

x, k = jnp.arange(64) / 64, jnp.arange(1, 5)[:, None]  # grid, wavenumbers
a, b = jax.random.normal(jax.random.key(0), (2, 256, 4, 1)) / k
u = jnp.sum(a * jnp.sin(2 * jnp.pi * k * x) + b * jnp.cos(2 * jnp.pi * k * x), axis=1)
u_now, u_next = u[:, None], jnp.roll(u, 2, axis=-1)[:, None]  # (N, C=1, X)

fno = sciml.operators.FNO(1, 1, modes=8, width=16, n_layers=2, key=jax.random.key(1))
model = sciml.interop.to_nnx(fno)  # an nnx.Module; the FNO's arrays are nnx.Param
optimizer = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)


@nnx.jit
def step(model, optimizer, u0, u1):
    mse = lambda m: jnp.mean((jax.vmap(m)(u0) - u1) ** 2)
    loss, grads = nnx.value_and_grad(mse)(model)
    optimizer.update(model, grads)
    return loss


for i in range(STEPS):
    batch = jax.random.randint(jax.random.key(i), (32,), 0, len(u))
    loss = step(model, optimizer, u_now[batch], u_next[batch])
    if i % max(1, STEPS // 10) == 0 or i == STEPS - 1:
        print(f"step {i:4d}  loss {float(loss):.3e}")

trained = sciml.interop.from_nnx(model)  # an equinox FNO again, e.g. for save_model
error = sciml.metrics.nrmse(jax.vmap(trained)(u_now), u_next, spatial_axes=-1)
print(f"one-step nRMSE of the trained FNO: {float(error):.3f}")
