import json

import jax.numpy as jnp
import numpy as np
import pytest

from sciml import convergence
from sciml.nn import MLP
from sciml.operators import ODENet

DT_TRAIN = 0.1
T1 = 1.6
DTS = DT_TRAIN * 2.0 ** np.arange(-5, 3)  # 0.003125 ... 0.4
Y0 = np.array([[1.0, 0.0], [0.3, -0.7], [-0.5, 0.5]])


def oscillator(t, y, args):
    """Harmonic oscillator x' = v, v' = -x."""
    return jnp.stack([y[1], -y[0]])


def rotation(t):
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, s], [-s, c]])


def exact(y0s, t):
    return y0s @ rotation(t).T


@pytest.mark.parametrize(
    "solver", ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "tsit5"]
)
def test_true_field_passes_at_every_solver_order(solver):
    """Calibration: the true vector field converges at each solver's own order."""
    report = convergence.test(
        oscillator,
        Y0,
        T1,
        solver,
        DTS,
        exact,
        dt_train=DT_TRAIN,
        true_vector_field=oscillator,
    )
    assert report.verdict == "PASS", str(report)
    assert abs(report.observed_order - report.order) <= convergence.order_tolerance(
        report.order
    )
    assert report.order_ci < 0.5
    np.testing.assert_allclose(report.reference_errors, report.errors)


def test_discrete_map_field_fails():
    """The exact one-step map divided by dt_train: Euler at dt_train is exact, but
    finer steps converge to the flow of a different field."""
    m = (rotation(DT_TRAIN) - np.eye(2)) / DT_TRAIN  # float64 inside the test
    report = convergence.test(
        lambda t, y, args: m @ y, Y0, T1, "euler", DTS, exact, dt_train=DT_TRAIN
    )
    assert report.verdict == "FAIL"
    assert report.reason.startswith("discrete map"), report.reason
    assert report.errors[np.argmin(np.abs(report.dts - DT_TRAIN))] < 1e-6


def test_random_network_fails(getkey):
    net = ODENet(MLP(2, 2, width=16, depth=2, key=getkey()), "rk4", DT_TRAIN)
    report = convergence.test(net.rhs, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN)
    assert report.verdict == "FAIL", str(report)


def test_nan_is_recorded_not_fatal():
    """A field that blows up at coarse steps: NaN there is recorded, the sweep goes on."""
    report = convergence.test(
        lambda t, y, args: -50.0 * y**3,
        Y0,
        T1,
        "euler",
        DTS,
        lambda y0s, t: y0s / np.sqrt(1 + 100 * y0s**2 * t),
    )
    assert len(report.nan_dts) >= 1
    assert np.isfinite(report.errors[-1])


def test_report_json_and_plot(tmp_path):
    report = convergence.test(oscillator, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN)
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["verdict"] == "PASS" and data["order"] == 4
    assert len(data["errors"]) == len(DTS)
    report.plot(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_bad_input():
    with pytest.raises(ValueError, match="at least 3 step sizes"):
        convergence.test(oscillator, Y0, T1, "rk4", [0.1, 0.2], exact)
    with pytest.raises(ValueError, match="divide the horizon"):
        convergence.test(oscillator, Y0, 1.0, "rk4", [0.3, 0.1, 0.05], exact)
    with pytest.raises(ValueError, match="positive finite"):
        convergence.test(oscillator, Y0, T1, "rk4", [0.1, -0.1, 0.05], exact)
    with pytest.raises(ValueError, match="shape"):
        convergence.test(lambda t, y, a: jnp.zeros(3), Y0, T1, "rk4", DTS, exact)
    with pytest.raises(ValueError, match="reference"):
        convergence.test(oscillator, Y0, T1, "rk4", DTS, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Unknown solver"):
        convergence.test(oscillator, Y0, T1, "rk99", DTS, exact)


def perturbed(t, y, args):
    """The true field plus a small smooth error: a continuous model with a plateau."""
    return oscillator(t, y, args) + 1e-3 * jnp.stack([jnp.sin(y[1]), jnp.cos(y[0])])


def test_plateau_limited_model_passes_with_its_reason():
    report = convergence.test(
        perturbed,
        Y0,
        T1,
        "rk4",
        DTS,
        exact,
        dt_train=DT_TRAIN,
        true_vector_field=oscillator,
    )
    assert report.verdict == "PASS", str(report)
    assert "plateau-limited" in report.reason
    assert report.plateau == pytest.approx(report.errors[-1], rel=0.2)


def test_plateau_without_calibration_is_inconclusive():
    report = convergence.test(perturbed, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN)
    assert report.verdict == "INCONCLUSIVE", str(report)
    assert "coarser step sizes" in report.reason


def test_plateau_with_visible_coarse_order_passes():
    """Euler's error is large at coarse steps: the slope shows before the plateau."""
    report = convergence.test(
        perturbed,
        Y0,
        T1,
        "euler",
        DT_TRAIN * 2.0 ** np.arange(-9, 3),
        exact,
        dt_train=DT_TRAIN,
    )
    assert report.verdict == "PASS", str(report)
