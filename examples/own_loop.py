"""Train sciml's FNO inside your own optax loop, on advection data sciml generates:
the README's first code block, as a script (tests/test_examples.py keeps the two
identical, and tests/test_readme.py runs the block).

Run: python examples/own_loop.py
"""

import tempfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml

# 100 advection trajectories by PDEBench's finite-volume recipe, 128 cells x 21 frames
path = sciml.datasets.generate(
    "advection", beta=0.4, nx=128, nt=21, out=tempfile.mkdtemp()
)
with sciml.datasets.load(path) as ds:  # the file is channel-last
    u = sciml.datasets.channel_first(ds.u[:])  # (N, T, C=1, X), as models take it
test, train = u[:10], u[10:]  # PDEBench: the first 10 % test

model = sciml.operators.FNO(1, 1, modes=12, width=20, key=jax.random.key(0))
opt = optax.adam(1e-3)
opt_state = opt.init(eqx.filter(model, eqx.is_inexact_array))


@eqx.filter_jit
def step(model, opt_state, u_now, u_next):
    loss, grads = eqx.filter_value_and_grad(
        lambda m: jnp.mean((jax.vmap(m)(u_now) - u_next) ** 2)
    )(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    updates, opt_state = opt.update(grads, opt_state, params)
    return eqx.apply_updates(model, updates), opt_state, loss


rng = np.random.default_rng(0)
for _ in range(300):  # one-step pairs (frame k -> k+1)
    i, k = rng.integers(0, len(train), 16), rng.integers(0, train.shape[1] - 1, 16)
    model, opt_state, loss = step(model, opt_state, train[i, k], train[i, k + 1])

rollout = jax.vmap(lambda u0: sciml.operators.rollout(model, u0, test.shape[1] - 1))
nrmse = sciml.metrics.nrmse(rollout(test[:, 0]), test[:, 1:], spatial_axes=-1)
print(f"held-out rollout nRMSE: {float(nrmse):.3f}")
