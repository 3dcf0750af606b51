"""`sciml.solvers.ReactionDiffusion`: the heat and logistic limits, the order of
the coupled splitting, bounds and the time step."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers


def loglog_slope(ns, errors):
    return -np.polyfit(np.log(ns), np.log(errors), 1)[0]


@eqx.filter_jit
def _evolve(stepper, u0, steps):
    return jax.lax.fori_loop(0, steps, lambda _, u: stepper(u), u0)


def solve(u0, nu, rho, t_end, cfl=0.25):
    """Integrate the field `u0` `(C, X)` to `t_end` with the generator's step rule:
    the fewest equal steps within `ReactionDiffusion.max_dt` (one compilation per
    grid and dtype: the parameters, the step and the count are traced)."""
    grid = solvers.Grid(u0.shape[-1])
    m = solvers.substeps(t_end, solvers.ReactionDiffusion.max_dt(grid, nu, cfl=cfl))
    stepper = solvers.ReactionDiffusion(grid, t_end / m, nu, rho)
    return np.asarray(_evolve(stepper, jnp.asarray(u0), jnp.asarray(m)))


def test_heat_limit_decays_a_fourier_mode_at_second_order():
    """rho = 0: u = 1/2 + 1/4 e^{-4 pi^2 nu t} sin(2 pi x) exactly. Measured max
    errors 2.1e-4, 5.3e-5, 1.3e-5, 3.3e-6 for n = 32 .. 256: order 2.00."""
    nu, t_end = 0.01, 1.0
    ns, errors = [32, 64, 128, 256], []
    with jax.enable_x64(True):
        for n in ns:
            x = solvers.Grid(n).axes[0]
            u = solve(0.5 + 0.25 * np.sin(2 * np.pi * x)[None], nu, 0.0, t_end)[0]
            decay = np.exp(-4 * np.pi**2 * nu * t_end)
            errors.append(np.abs(u - 0.5 - 0.25 * decay * np.sin(2 * np.pi * x)).max())
    assert 1.9 < loglog_slope(ns, errors) < 2.1, errors
    assert errors[-1] < 5e-6


def test_logistic_limit_is_exact():
    """nu = 0: every cell follows u(t) = u0 e^{rho t} / (1 - u0 + u0 e^{rho t});
    the logistic step is the exact flow, so only round-off remains, even in one
    step of dt = 1 (nothing limits the step: max_dt is inf)."""
    grid = solvers.Grid(16)
    assert solvers.ReactionDiffusion.max_dt(grid, 0.0) == np.inf
    with jax.enable_x64(True):
        u0 = np.linspace(0, 1, 16)
        exact = u0 * np.exp(5.0) / (1 - u0 + u0 * np.exp(5.0))
        np.testing.assert_allclose(solve(u0[None], 0.0, 5.0, 1.0)[0], exact, atol=1e-14)


def test_coupled_splitting_converges_at_second_order():
    """nu, rho > 0 has no closed form: measure the order from the differences of
    successive grids (fine cells averaged in pairs onto the coarse ones). Lie
    splitting is first order in dt, but dt ~ dx^2. Measured: L1 differences 1.5e-3,
    3.7e-4, 9.2e-5 (n = 32/64 .. 128/256): order 2.00."""
    nu, rho, t_end = 0.01, 5.0, 0.5
    ns, solutions = [32, 64, 128, 256], []
    with jax.enable_x64(True):
        for n in ns:
            x = solvers.Grid(n).axes[0]
            u0 = 0.2 + 0.15 * np.sin(2 * np.pi * x) + 0.1 * np.cos(4 * np.pi * x)
            solutions.append(solve(u0[None], nu, rho, t_end)[0])
    differences = [
        np.abs(coarse - 0.5 * (fine[0::2] + fine[1::2])).mean()
        for coarse, fine in zip(solutions[:-1], solutions[1:], strict=True)
    ]
    assert 1.9 < loglog_slope(ns[:-1], differences) < 2.1, differences
    assert all(0 < s.min() and s.max() < 1 for s in solutions)


@pytest.mark.parametrize("cfl", [0.25, 0.9])
def test_time_step_and_bounds(cfl):
    """dt <= c dx^2/(2 nu) (PDEBench: c = 0.25), the fewest equal substeps per save
    interval; at nu = 2, rho = 10 u stays finite and in [0, 1] (the update is a
    positive combination for c <= 1)."""
    grid, nu, interval = solvers.Grid(32), 2.0, 0.01
    limit = cfl * (1 / 32) ** 2 / (2 * nu)
    assert solvers.ReactionDiffusion.max_dt(grid, nu, cfl=cfl) == pytest.approx(limit)
    m = solvers.substeps(interval, limit)
    dt = interval / m
    assert dt <= limit * (1 + 1e-12) and interval / (m - 1) > limit
    x = grid.axes[0]
    u0 = np.stack([0.5 + 0.5 * np.sin(2 * np.pi * x), (x > 0.5).astype(float)])
    u = solve(u0.astype(np.float32), nu, 10.0, 2 * interval, cfl=cfl)
    assert np.isfinite(u).all() and u.min() >= 0 and u.max() <= 1
