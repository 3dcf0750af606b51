"""ODE systems: the pendulum against analytic facts, and the shared integrator."""

import jax.numpy as jnp
import numpy as np
import pytest

from sciml.datasets import systems


def _period(theta0, g, length):
    """Exact pendulum period $4K(\\sin(\\theta_0/2))/\\sqrt{g/L}$, K via the AGM."""
    a, b = 1.0, np.sqrt(1.0 - np.sin(theta0 / 2) ** 2)
    for _ in range(30):
        a, b = (a + b) / 2, np.sqrt(a * b)
    return 4 * (np.pi / (2 * a)) / np.sqrt(g / length)


def test_pendulum_against_analytic_results():
    pendulum = systems.Pendulum(g=9.81, length=2.0)
    theta0 = np.array([2.0, 1e-3])
    period = _period(theta0[0], 9.81, 2.0)
    ts = np.linspace(0.0, period, 9)
    ys = pendulum.trajectories(np.stack([theta0, np.zeros(2)], axis=1), ts)
    assert ys.shape == (2, 9, 2) and ys.dtype == np.float64
    # large amplitude: back at rest at theta0 after one exact period, -theta0 halfway
    np.testing.assert_allclose(ys[0, -1], [2.0, 0.0], atol=1e-8)
    np.testing.assert_allclose(ys[0, 4], [-2.0, 0.0], atol=1e-8)
    energy = 0.5 * ys[0, :, 1] ** 2 - (9.81 / 2.0) * np.cos(ys[0, :, 0])
    np.testing.assert_allclose(energy, energy[0], rtol=0, atol=1e-9)
    # small amplitude: harmonic, theta0 cos(sqrt(g/L) t) up to O(theta0^3)
    harmonic = 1e-3 * np.cos(np.sqrt(9.81 / 2.0) * ts)
    np.testing.assert_allclose(ys[1, :, 0], harmonic, atol=1e-9)
    assert jnp.zeros(1).dtype == jnp.float32  # float64 stayed local


class _Decay(systems.AbstractSystem):
    state_size = 1
    rate: float = 0.5

    def vector_field(self, t, y, args):
        return -self.rate * y


def test_shared_trajectories_on_a_new_system():
    ts = np.array([0.0, 1.0, 3.0])
    ys = _Decay().trajectories(np.array([[1.0], [2.0]]), ts)
    exact = np.array([[1.0], [2.0]]) * np.exp(-0.5 * ts)[None, :]
    np.testing.assert_allclose(ys[..., 0], exact, rtol=1e-9)


def test_abstract_system_and_bad_input():
    with pytest.raises(TypeError):
        systems.AbstractSystem()
    with pytest.raises(ValueError, match="length > 0"):
        systems.Pendulum(length=-1.0)
    pendulum = systems.Pendulum()
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        pendulum.trajectories(np.zeros(2), np.arange(3.0))
    with pytest.raises(ValueError, match="strictly increasing"):
        pendulum.trajectories(np.zeros((1, 2)), np.array([0.0, 1.0, 1.0]))
