"""The ODE systems of `sciml.solvers`: the pendulum against analytic facts and its
elliptic-function solution, the harmonic oscillator's closed form, Lotka-Volterra's
invariant, Lorenz-63, the shared integrator and `state_at`, the registry.

Each Dopri8 reference compiles once per system, parameters (static) and batch
shape, so the tests share shapes where they can."""

import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers
from sciml.solvers._elliptic import ellipf, ellipj, ellipk


def _period(theta0, g, length):
    """Exact pendulum period $4K(\\sin(\\theta_0/2))/\\sqrt{g/L}$, K via the AGM."""
    a, b = 1.0, np.sqrt(1.0 - np.sin(theta0 / 2) ** 2)
    for _ in range(30):
        a, b = (a + b) / 2, np.sqrt(a * b)
    return 4 * (np.pi / (2 * a)) / np.sqrt(g / length)


def test_pendulum_against_analytic_results():
    pendulum = solvers.Pendulum(g=9.81, length=2.0)
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


class _Decay(solvers.AbstractSystem):
    state_size = 1
    rate: float = 0.5

    def vector_field(self, t, y, args):
        return -self.rate * y


def test_shared_trajectories_on_a_new_system():
    ts = np.array([0.0, 1.0, 3.0])
    ys = _Decay().trajectories(np.array([[1.0], [2.0]]), ts)
    exact = np.array([[1.0], [2.0]]) * np.exp(-0.5 * ts)[None, :]
    np.testing.assert_allclose(ys[..., 0], exact, rtol=1e-9)
    assert _Decay().exact_trajectories(np.ones((1, 1)), ts) is None
    with pytest.raises(NotImplementedError, match="initial-condition distribution"):
        _Decay().sample_initial_conditions(2)


def test_abstract_system_and_bad_input():
    with pytest.raises(TypeError):
        solvers.AbstractSystem()
    with pytest.raises(ValueError, match="length > 0"):
        solvers.Pendulum(length=-1.0)
    pendulum = solvers.Pendulum()
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        pendulum.trajectories(np.zeros(2), np.arange(3.0))
    with pytest.raises(ValueError, match="strictly increasing"):
        pendulum.trajectories(np.zeros((1, 2)), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="finite"):
        pendulum.trajectories(np.full((1, 2), np.nan), np.arange(3.0))


# --- the systems of the convergence study, their exact solutions and registry ---


def test_elliptic_functions_against_scipy():
    special = pytest.importorskip("scipy.special")
    u = np.linspace(-12.0, 12.0, 97)
    for m in (0.0, 0.3, 0.83, 0.999):
        ours = ellipj(u, m)
        theirs = special.ellipj(u, m)[:3]
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-13)
        phi = np.linspace(-7.0, 7.0, 29)
        np.testing.assert_allclose(
            ellipf(phi, m), special.ellipkinc(phi, m), rtol=1e-13, atol=1e-14
        )
        np.testing.assert_allclose(ellipk(m), special.ellipk(m), rtol=1e-14)


def test_pendulum_exact_solution_matches_dopri8():
    """The elliptic-function solution for any librating (theta0, omega0), against
    a float64 Dopri8 solve; rotating motion falls back to Dopri8. (One Dopri8
    batch: the librating states and a rotating one.)"""
    pendulum = solvers.Pendulum(g=9.81, length=2.0)
    librating = np.array([[2.0, 0.3], [-1.0, -0.8], [0.0, 0.0], [2 * np.pi + 0.5, 0.1]])
    rotating = np.array([[0.0, 7.0]])  # above the separatrix
    ts = np.linspace(0.0, 5.0, 11)
    exact = pendulum.trajectories(librating, ts, method="exact")
    both = np.concatenate([librating, rotating])
    dopri = pendulum.trajectories(both, ts, method="dopri8")
    np.testing.assert_allclose(exact, dopri[:4], atol=1e-9)
    # at rest: theta(t) = 2 arcsin(k sn(K - w t; k^2)), the sheet's formula
    k = np.sin(1.2 / 2)
    w = np.sqrt(9.81 / 2.0)
    sn, _, _ = ellipj(ellipk(k**2) - w * ts, k**2)
    theta = pendulum.trajectories(np.array([[1.2, 0.0]]), ts)[0, :, 0]
    np.testing.assert_allclose(theta, 2 * np.arcsin(k * sn), atol=1e-12)
    # rotating motion: no closed form; "auto" falls back to Dopri8 (for the batch)
    assert pendulum.exact_trajectories(rotating, ts) is None
    with pytest.raises(ValueError, match="no closed-form"):
        pendulum.trajectories(rotating, ts, method="exact")
    auto = pendulum.trajectories(both, ts)
    np.testing.assert_array_equal(auto, dopri)
    assert np.all(np.diff(dopri[4, :, 0]) > 0)


def test_harmonic_oscillator_exact_solution():
    sho = solvers.HarmonicOscillator(omega=2)
    y0s = np.array([[1.0, 0.0], [0.3, -0.7]])
    ts = np.linspace(0.0, 3.0, 7)
    ys = sho.trajectories(y0s, ts)
    np.testing.assert_allclose(ys[0, :, 0], np.cos(2 * ts), atol=1e-15)
    np.testing.assert_allclose(
        ys, sho.trajectories(y0s, ts, method="dopri8"), atol=1e-9
    )
    energy = 0.5 * ys[..., 1] ** 2 + 2.0 * ys[..., 0] ** 2
    np.testing.assert_allclose(energy, energy[:, :1].repeat(7, 1), rtol=1e-13)


def test_lotka_volterra_conserves_its_invariant():
    lv = solvers.LotkaVolterra()
    assert (lv.alpha, lv.beta, lv.gamma, lv.delta) == (1.5, 1.0, 3.0, 1.0)
    # two random states and the equilibrium (3, 1.5): the batch shape of the
    # state_at test below, so the Dopri8 solve compiles once
    y0s = np.concatenate([lv.sample_initial_conditions(2), [[3.0, 1.5]]])
    ys = lv.trajectories(y0s, np.linspace(0, 5, 11))
    x, y = ys[..., 0], ys[..., 1]
    invariant = lv.delta * x - lv.gamma * np.log(x) + lv.beta * y - lv.alpha * np.log(y)
    np.testing.assert_allclose(invariant, invariant[:, :1].repeat(11, 1), rtol=1e-9)
    np.testing.assert_allclose(ys[2], np.tile([3.0, 1.5], (11, 1)))  # does not move
    assert np.ptp(x[0]) > 1.0  # while the others cycle


def test_lorenz63_field_and_initial_conditions():
    lorenz = solvers.Lorenz63()
    f = np.asarray(lorenz.vector_field(0.0, jnp.array([1.0, 2.0, 3.0]), None))
    np.testing.assert_allclose(f, [10.0, 1 * 25 - 2, 2 - 8.0], rtol=1e-6)
    y0s = lorenz.sample_initial_conditions(4, seed=3)
    assert y0s.shape == (4, 3) and np.all(np.abs(y0s) < 60) and np.all(y0s[:, 2] > 0)
    assert lorenz.horizon == 1.0


def test_state_at_is_the_end_of_a_trajectory():
    for name in ["harmonic_oscillator", "pendulum", "lotka_volterra"]:
        system = solvers.get_system(name)
        y0s = system.sample_initial_conditions(3, seed=1)  # shapes as compiled above
        end = system.trajectories(y0s, np.linspace(0.0, 0.7, 11))[:, -1]
        np.testing.assert_allclose(system.state_at(y0s, 0.7), end, atol=1e-8)


def test_registry():
    assert solvers.system_names() == [
        "harmonic_oscillator",
        "lorenz63",
        "lotka_volterra",
        "pendulum",
    ]
    assert sorted(solvers.SYSTEMS) == solvers.system_names()
    assert isinstance(solvers.get_system("Lotka-Volterra"), solvers.LotkaVolterra)
    assert isinstance(solvers.get_system("sho"), solvers.HarmonicOscillator)
    assert isinstance(solvers.get_system("lorenz"), solvers.Lorenz63)
    assert solvers.get_system("pendulum", g=9.81).g == 9.81
    with pytest.raises(ValueError, match="Unknown system 'duffing'"):
        solvers.get_system("duffing")
    with pytest.raises(ValueError, match="omega > 0"):
        solvers.HarmonicOscillator(omega=0.0)
    with pytest.raises(ValueError, match="finite parameters"):
        solvers.LotkaVolterra(alpha=float("nan"))
    with pytest.raises(ValueError, match="method"):
        solvers.Pendulum().trajectories(
            np.zeros((1, 2)), np.array([0.0, 1.0]), method="rk"
        )
    with pytest.raises(ValueError, match="t > 0"):
        solvers.Pendulum().state_at(np.zeros((1, 2)), 0.0)
