"""Train a Fourier neural operator to advance Burgers' equation by one frame, then
score autoregressive rollouts of 40 frames on held-out samples with PDEBench's nRMSE.

Run: python examples/fno_rollout.py  (--tiny: a few steps, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp
import optax

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
N, NX, STEPS = (20, 64, 20) if TINY else (200, 256, 1500)  # samples, cells, steps

# Burgers (nu = 0.01) on PDEBench's training grid, 256 cells x 41 frames up to t = 2
path = sciml.datasets.generate(
    "burgers", nu=0.01, cfl=0.9, n_samples=N, nx=NX, nt=41, out="runs/fno_rollout"
)
ds = sciml.datasets.load(path)
train, test = sciml.datasets.pdebench_split(len(ds))  # the first 10 % test

# Batches of one-step pairs (frame k -> k + 1) of the training samples, shuffled
batches = ds.windows(
    1, 1, batch_size=16, samples=train, epochs=None, key=jax.random.key(0)
)


def loss(model, batch, key):  # the one-step mean squared error
    mse = jnp.mean((jax.vmap(model)(batch["input"]) - batch["target"]) ** 2)
    return mse, {}


# Burgers' equation on a periodic interval is translation invariant, so the FNO is
# not given the grid's coordinates as extra input channels (PDEBench's FNO is)
model = sciml.operators.FNO(
    1, 1, modes=16, width=24, append_grid=False, key=jax.random.key(1)
)
optimizer = optax.adam(optax.cosine_decay_schedule(1e-3, STEPS))
model = sciml.training.fit(model, loss, batches, optimizer, steps=STEPS).model

# From frame 0 of each held-out sample, feed each prediction back in for 40 frames
u = sciml.datasets.channel_first(ds.u[test.start : test.stop])  # (N_test, T, C, X)
ds.close()
predict = jax.jit(jax.vmap(lambda u0: sciml.operators.rollout(model, u0, 40)))
nrmse = sciml.metrics.nrmse(predict(u[:, 0]), u[:, 1:], spatial_axes=-1)
print(f"held-out nRMSE of 40-frame FNO rollouts: {nrmse:.3f} (predicting 0 scores 1)")
