"""The convergence test of `sciml.convergence` (Krishnapriyan et al., "Learning
continuous models for continuous physics", 2023): integrate a vector field with
fixed-step solvers over a sweep of step sizes and ask whether its error falls at each
solver's order (a continuous model) or not (a map tied to one step size). First the
pendulum's own vector field, then ODE-Nets trained on it with forward Euler and RK4.

Run: python examples/convergence.py  (--tiny: a few steps, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 20 if TINY else 3000  # training steps of each ODE-Net
DT, T1 = 0.1, 1.6  # the training step; the horizon of the test
SOLVERS = ["euler", "rk4"]  # forward Euler (order 1) and classic Runge-Kutta (4)

pendulum = sciml.solvers.Pendulum()
field = pendulum.vector_field  # the true f(t, y, args), in diffrax's convention
rng = np.random.default_rng(0)
low, high = [np.pi / 4, -0.5], [3 * np.pi / 4, 0.5]  # initial angle, angular velocity
y0 = rng.uniform(low, high, (16, 2))  # the initial states of the tests
dts = DT * 2.0 ** np.arange(-5, 5)  # the step sizes, DT/32 ... 16 DT = T1

# The calibration: the true field through Euler and RK4, against the exact solution
# at T1 (`pendulum.state_at`), converges at orders 1 and 4
report = sciml.convergence.test(field, y0, T1, SOLVERS, dts, pendulum.state_at)
print("the pendulum's own field:", report.summary())

# Training data: 64 trajectories sampled every DT up to t = 2, as one-step pairs
data = pendulum.trajectories(rng.uniform(low, high, (64, 2)), DT * np.arange(21))
data = data.astype(np.float32)  # (64 trajectories, 21 times, 2)
i, k = rng.integers(0, 64, (STEPS, 128)), rng.integers(0, 20, (STEPS, 128))


def batches(step):
    return data[i[step], k[step]], data[i[step], k[step] + 1]


def loss(model, batch, key):  # one-step mean squared error
    now, target = batch
    return jnp.mean((jax.vmap(model)(now) - target) ** 2), {}


# ODE-Nets (an MLP in Euler or in RK4, step DT) are tested through their vector
# fields, with DT as dt_train, beside the true field through the same solvers.
# Trained with Euler, a net learns a map tied to DT and fails; trained with RK4 it
# learns the continuous field and passes, the error settling at its own error
adam = optax.adam(optax.cosine_decay_schedule(3e-3, STEPS, alpha=0.01))
for solver in SOLVERS:
    mlp = sciml.nn.MLP(2, 2, width=64, depth=2, key=jax.random.key(0))  # tanh
    model = sciml.operators.ODENet(mlp, solver=solver, dt=DT)
    trained = sciml.training.fit(
        model, loss, batches, adam, steps=STEPS, progress=False
    )
    report = sciml.convergence.test(
        trained.model, y0, T1, SOLVERS, dts, pendulum.state_at, true_vector_field=field
    )
    print(f"ODE-Net trained with {solver}: {report.summary()}\n    {report.reason}")
