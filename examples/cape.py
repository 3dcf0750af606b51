"""Condition an FNO on the advection speed with CAPE, train it through rollouts
with the curriculum from teacher forcing to autoregressive steps, and score its
rollouts on a speed it never saw.

Run: python examples/cape.py  (--tiny: a few steps, for the test suite)
"""

import sys

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml
from sciml.operators import FNO, Conditioned, RolloutLoss, curriculum_steps

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
N, EPOCHS, T = (4, 2, 2) if TINY else (64, 30, 10)  # samples per speed, epochs, steps


def trajectories(beta, n):  # (n, 41, 1, 128): PDEBench's grid, subsampled
    path = sciml.datasets.generate(
        "advection", beta=beta, n_samples=n, nx=256, nt=201, out="runs/cape"
    )
    with h5py.File(path) as f:
        return np.asarray(f["tensor"])[:, ::5, None, ::2]


seen, unseen = (0.4, 2.0), 1.0
u = jnp.asarray(np.concatenate([trajectories(b, N) for b in seen]))
lam = jnp.repeat(jnp.asarray(seen)[:, None], N, axis=0)  # (2N, 1)

# The base maps [u, u_CAPE] (2 channels) to 2 channels; a pointwise map gives u
cin, cout = Conditioned.base_channels("cape", channels=1, n_params=1)
base = FNO(cin, cout, modes=12, width=20, padding=2, key=jax.random.key(0))
model = Conditioned(
    base, "cape", 1, 1, grid=128, train_range=(0.4, 2.0), key=jax.random.key(1)
)
# relL2 + CAPE's auxiliary term and gradient penalty (off when tiny: it compiles
# a forward-mode Jacobian of the model, most of the example's compile time)
loss = RolloutLoss(
    gradient_penalty=0.0 if TINY else 5.16e-4, param_low=0.4, param_high=2.0
)
optimizer = optax.adam(3e-3)
step = sciml.training.make_step(loss, optimizer)
state = sciml.training.init_train_state(model, optimizer, key=jax.random.key(2))
for epoch in range(1, EPOCHS):  # epoch 0 is CAPE's warm-up in the paper; skipped
    t_ar = curriculum_steps(epoch, EPOCHS, T, warmup=1)  # a traced scalar: no recompile
    for start in range(0, 41 - T, T):  # windows of T + 1 frames
        window = u[:, start : start + T + 1]
        batch = {"u": window, "params": lam, "t_ar": jnp.asarray(t_ar)}
        state, value, _ = step(batch, state)
model = state.model

# Roll out 40 frames at the unseen speed; the result says it lies inside the range
test = jnp.asarray(trajectories(unseen, 4))
rollout = jax.jit(jax.vmap(lambda a, p: model.rollout(a, p, 40)))
pred, outside = rollout(test[:, 0], jnp.full((4, 1), unseen))
nrmse = sciml.metrics.nrmse(pred, test[:, 1:], spatial_axes=-1)
print(
    f"beta = {unseen} (unseen, out of range: {bool(outside.any())}): nRMSE {nrmse:.3f}"
)
