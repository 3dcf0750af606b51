"""Train an FNO basis under the diffusion-sorption hard constraint with four
experts (PI-HC-MoE) on the physics alone, then score it on held-out initial values
against our finite-volume solver.

Run: python examples/hard_constraints.py  (--tiny: a few steps, for the test suite)
"""

import sys

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml
from sciml import operators, pinns, training

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
# frames every 5 s over 500 s (tiny: every 50 s), cells, steps, points per expert
NT, NX, STEPS, POINTS = (11, 16, 2, 20) if TINY else (101, 128, 200, 500)
GRID = (NT, NX)


class Basis(eqx.Module):  # the initial condition on the grid -> (*grid, N)
    fno: operators.FNO

    def __call__(self, ic):
        return jnp.moveaxis(self.fno(ic[None]), 0, -1)


def loss(model, u0, key):  # u0: (batch, NX) initial values
    keys = jax.random.split(key, (u0.shape[0], 2))

    def one(a, k):
        out = model(jnp.broadcast_to(a, GRID), a, key=k[0])
        value, _ = pinns.physics_loss(
            model.constraint, out.u, a, points=4 * POINTS, key=k[1]
        )
        return value, out.info.converged.all()

    values, ok = jax.vmap(one)(u0, keys)
    mean, failed = pinns.converged_mean(values, ok)  # drops non-converged solves
    return mean, {"unconverged": failed}


with jax.enable_x64(True):  # the normal equations need float64
    path = sciml.datasets.generate(
        "diffusion_sorption", n_samples=8, nx=NX, nt=NT, out="runs/hard_constraints"
    )
    with h5py.File(path) as f:
        u = np.stack([f[k]["data"][..., 0] for k in sorted(f)]).astype(np.float64)
    train, test = jnp.asarray(u[:6, 0]), u[6:]

    fno = operators.FNO(
        1,
        16,
        (4, 4) if TINY else (8, 8),
        width=8 if TINY else 16,
        padding=4,
        key=jax.random.key(0),
    )
    layer = pinns.HardConstraintMoE(
        Basis(fno),
        pinns.DiffusionSorptionConstraint(dt=500 / (NT - 1)),
        GRID,
        experts=(1, 4),
        points=POINTS,
    )
    result = training.fit(
        layer,
        loss,
        lambda i: train[jnp.array([i % 6, (i + 3) % 6])],
        optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3)),
        steps=STEPS,
        on_non_finite="skip",
        progress=False,
    )

    @eqx.filter_jit
    def predict(model, a):  # u on the grid, the solves' info, the interface jump
        field = jnp.broadcast_to(a, GRID)
        out = model(field, a, key=jax.random.key(1))
        return out.u, out.info.converged.all(), model.interface_jump(out, field, a)

    for sample in test:
        u, converged, jump = predict(result.model, jnp.asarray(sample[0]))
        error = np.linalg.norm(u - sample) / np.linalg.norm(sample)
        print(
            f"u0 = {sample[0, 0]:.3f}: relative L2 {100 * error:.1f} %, "
            f"converged {bool(converged)}, interface jump {float(jump[1]):.2g}"
        )
