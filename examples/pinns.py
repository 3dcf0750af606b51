"""Physics-informed training with `sciml.pinns`: write a PDE once, pointwise, and
train a model on its residual in `sciml.training.fit`. Here the Klein-Gordon problem
of the PIG paper, u_tt - (u_xx + u_yy) + u^2 = f, with physics-informed Gaussians
(PIG) and the MLP PINN baseline, scored by the final relative L2 error on the
problem's 50^3 test grid.

Run: python examples/pinns.py  (--tiny: a few steps, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp
import optax

import sciml
from sciml import pinns

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 10 if TINY else 2000

problem = pinns.problems.KleinGordon()  # domain, residual, conditions, exact solution
box = problem.domain  # t in [0, 10], (x, y) in [-1, 1]^2


# A residual is ordinary maths on a pointwise field u: (d,) -> () at one point x,
# with the derivatives it needs; this one is the problem's own, written out again
def residual(u, x):
    D = pinns.Derivatives(u, x, names=box.names)
    exact = problem.exact(x)
    return D.d("t", "t") - D.laplacian() + D.value**2 - (exact**2 - 4 * exact)


x = jnp.array([1.0, 0.3, -0.2])
print(f"residual of the exact solution: {float(residual(problem.exact, x)):.1e}")

# Collocation points, drawn afresh every 100 steps; the loss sums the mean squared
# residual and the initial value, initial velocity and boundary terms
points = pinns.Collocation(
    problem, 4096 if not TINY else 256, 256, key=jax.random.key(0)
)
loss = pinns.PINNLoss(problem)
optimizer = optax.adam(optax.exponential_decay(1e-2, 2000, 0.9))  # the sheet's recipe

models = {
    "PIG": pinns.PIG(3, 1, 100, lower=box.lower, upper=box.upper, sigma0=0.5,
                     key=jax.random.key(1)),  # N = 100 Gaussians in each of 4 channels
    "MLP PINN": pinns.MLPPINN(3, 1, width=64, depth=4, lower=box.lower,
                              upper=box.upper, scale_to=(-1.0, 1.0), key=jax.random.key(1)),
}  # fmt: skip
for name, model in models.items():
    run = sciml.training.fit(
        model, loss, points, optimizer, steps=STEPS, log_every=max(STEPS // 5, 1),
        progress=False,
    )  # fmt: skip
    error = pinns.relative_l2(run.model, problem)  # the FINAL model's error
    print(f"{name}: {sciml.training.count_parameters(model)} parameters, "
          f"final loss {run.history[-1]['loss']:.2e}, test rel. L2 {error:.2e}")  # fmt: skip
