"""The classical solvers of `sciml.solvers` as differentiable simulators: step Burgers'
equation from a PDEBench initial condition and differentiate the result with respect
to the viscosity, solve 2-D diffusion-reaction with an adaptive solver, and steady
Darcy flow for a batch of permeabilities.

Run: python examples/solvers.py  (--tiny: smaller grids, for the test suite)
"""

import sys

import jax
import jax.numpy as jnp

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
NX, N2 = (64, 16) if TINY else (1024, 128)  # cells: the 1-D grid, each 2-D axis

# Burgers' equation u_t + (u^2/2)_x = (nu/pi) u_xx on the periodic unit interval, from
# a draw of PDEBench's initial conditions (random sines), m stable steps a frame
grid = sciml.solvers.Grid(NX)
u0 = sciml.solvers.PDEBenchSines()(grid, key=jax.random.key(0))  # (C=1, X)
m = sciml.solvers.substeps(0.1, sciml.solvers.Burgers.max_dt(grid, 0.01, cfl=0.9))
frames = sciml.solvers.Burgers(grid, dt=0.1 / m, nu=0.01).trajectory(u0, 21, m)
mass = frames.sum(axis=(1, 2)) * grid.spacing[0]  # finite volumes conserve it
print(f"Burgers: frames {frames.shape}, mass drift {abs(mass - mass[0]).max():.0e}")


def energy(nu):  # the energy left at t = 1, as a function of the viscosity
    u = sciml.solvers.Burgers(grid, 0.1 / m, nu).trajectory(u0, 11, m)[-1]
    return 0.5 * jnp.sum(u**2) * grid.spacing[0]


# Its derivative by autodiff through the solver, and by a central difference
energy_and_derivative = jax.jit(jax.value_and_grad(energy))
derivative = energy_and_derivative(0.01)[1]
difference = energy_and_derivative(0.0101)[0] - energy_and_derivative(0.0099)[0]
print(f"dE/dnu: autodiff {derivative:.4f}, central difference {difference / 2e-4:.4f}")


# 2-D FitzHugh-Nagumo diffusion-reaction (by default PDEBench's parameters), from
# random values to t = 5 by adaptive Runge-Kutta steps (Tsit5); one compiled call
@jax.jit
def diffusion_reaction(key):
    grid = sciml.solvers.Grid((N2, N2), -1.0, 1.0)
    uv0 = sciml.solvers.StandardNormal(channels=2)(grid, key=key)  # u, v: (2, X, Y)
    return sciml.solvers.DiffusionReaction2D(grid).solve(uv0, jnp.linspace(0, 5, 11))


solution = diffusion_reaction(jax.random.key(1))  # the fields at t = 0, 0.5, ..., 5
start, end = abs(solution.ys[0]).max(), abs(solution.ys[-1]).max()
print(
    f"diffusion-reaction: reached t = 5: {bool(solution.successful)}, max |u|, |v| "
    f"{start:.2f} -> {end:.2f}"
)


# Steady Darcy flow -div(a grad p) = 1, p = 0 on the boundary, for a = 1 and for
# four permeabilities of PDEBench's family (0.1 or 1), solved together by jax.vmap
@jax.jit
def darcy(key):
    grid = sciml.solvers.Grid((N2, N2))
    a = sciml.solvers.BinaryBumps().batch(grid, 4, key=key)  # (4, 1, X, Y)
    a = jnp.concatenate([jnp.ones_like(a[:1]), a])
    return jax.vmap(sciml.solvers.Darcy(grid).solve)(a)


with jax.enable_x64(True):  # in float64, as sciml.datasets' Darcy generator solves
    pressure, residual = darcy(jax.random.key(2))
    peak, residual = pressure.max(axis=(1, 2, 3)).tolist(), float(residual.max())
print(f"Darcy: max pressure {peak[0]:.4f} for a = 1 (continuum: 0.0737), then")
print(f"  {' '.join(f'{p:.3f}' for p in peak[1:])}; CG residual {residual:.0e}")
