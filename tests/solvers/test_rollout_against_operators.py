"""A solver is a one-step map like a neural operator: `sciml.operators.rollout`
rolls it out exactly as its own `trajectory` does."""

import jax
import jax.numpy as jnp
import numpy as np

from sciml import operators, solvers


def test_rollout_of_a_stepper_is_its_trajectory():
    grid = solvers.Grid(32)
    u0 = solvers.PDEBenchSines()(grid, key=jax.random.key(3))
    stepper = solvers.Burgers(grid, 1e-3, 0.05)
    both = jax.jit(lambda s, u: (operators.rollout(s, u, 5), s.trajectory(u, 6)[1:]))
    rolled, frames = both(stepper, u0)
    assert rolled.shape == (5, 1, 32)
    np.testing.assert_array_equal(np.asarray(rolled), np.asarray(frames))
    assert not jnp.allclose(rolled[-1], u0)
