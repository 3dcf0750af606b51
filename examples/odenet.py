"""Learn the pendulum's dynamics with an ODE-Net: a network f(y) inside a fixed-step
RK4 integrator, trained on exact trajectories sampled every dt = 0.1 up to t = 2, then
rolled out five times longer on new initial states and compared with the truth.

Run: python examples/odenet.py  (--tiny: a few steps, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 20 if TINY else 3000  # training steps
DT = 0.1  # the sampling interval of the data, and the model's step

# Trajectories y = (angle, angular velocity) of a pendulum released at 45 to 135
# degrees, from the exact solution (Jacobi's elliptic functions), in float64
pendulum = sciml.solvers.Pendulum(g=1.0, length=1.0)
rng = np.random.default_rng(0)
y0 = rng.uniform([np.pi / 4, -0.5], [3 * np.pi / 4, 0.5], (80, 2))  # 64 + 16 held out
data = pendulum.trajectories(y0[:64], DT * np.arange(21))  # (64, 21 times, 2)
y_now = data[:, :-1].reshape(-1, 2).astype(np.float32)  # the states at t_k ...
y_next = data[:, 1:].reshape(-1, 2).astype(np.float32)  # ... and at t_k + DT

# The model: y_{k+1} = one RK4 step of size DT of dy/dt = MLP(y)
mlp = sciml.nn.MLP(2, 2, width=64, depth=2, activation="tanh", key=jax.random.key(0))
model = sciml.operators.ODENet(mlp, solver="rk4", dt=DT)


def loss(model, batch, key):  # one-step mean squared error
    now, target = batch
    return jnp.mean((jax.vmap(model)(now) - target) ** 2), {}


# sciml.training's compiled step (with a NaN guard) in a plain Python loop
optimizer = optax.adam(optax.cosine_decay_schedule(3e-3, STEPS, alpha=0.01))
step = sciml.training.make_step(loss, optimizer)
state = sciml.training.init_train_state(model, optimizer, key=jax.random.key(1))
for _ in range(STEPS):
    i = rng.integers(0, len(y_now), 128)
    state, train_loss, _ = step((y_now[i], y_next[i]), state)
model = state.model
print(f"one-step training loss {train_loss:.1e}")

# The held-out initial states, rolled out to t = 10 (100 steps), against the truth
truth = pendulum.trajectories(y0[64:], DT * np.arange(101))[:, 1:]  # (16, 100, 2)
starts = jnp.asarray(y0[64:], jnp.float32)
rollouts = jax.vmap(model.trajectory, in_axes=(0, None))(starts, 100)
error = np.sqrt(np.mean((rollouts - truth) ** 2, axis=(0, 2)))  # RMSE at each time
print(
    f"held-out RMSE {error[19]:.4f} at t = 2 (the training horizon), "
    f"{error[-1]:.4f} at t = 10"
)

# The learned vector field itself, against the pendulum's, at the held-out states
states = jnp.asarray(truth.reshape(-1, 2), jnp.float32)
f_true = jax.vmap(pendulum.vector_field, in_axes=(None, 0, None))(0.0, states, None)
f_model = jax.vmap(model.vector_field)(states)
relative = jnp.linalg.norm(f_model - f_true) / jnp.linalg.norm(f_true)
print(f"relative error of the learned vector field: {relative:.4f}")
