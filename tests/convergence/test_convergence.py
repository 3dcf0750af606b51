"""The time-refinement test: calibration, the failure signatures, the report, speed."""

import json
import os
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from sciml import convergence, solvers
from sciml.convergence import _sweep, _verdict
from sciml.nn import MLP
from sciml.operators import ODENet

DT_TRAIN = 0.1
T1 = 1.6
DTS = DT_TRAIN * 2.0 ** np.arange(-5, 3)  # 0.003125 ... 0.4
Y0 = np.array([[1.0, 0.0], [0.3, -0.7], [-0.5, 0.5]])

ALL_SOLVERS = ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "tsit5"]

# (dt_train, t1) per system: t1 a multiple of the coarsest step 4 * dt_train, a few
# time scales long (Lorenz-63 well inside two Lyapunov times).
SWEEPS = {
    "harmonic_oscillator": (0.1, 1.6),
    "pendulum": (0.1, 1.6),
    "lotka_volterra": (0.1, 1.6),
    "lorenz63": (0.01, 0.48),
}


def sweep_dts(dt_train: float) -> np.ndarray:
    """A small geometric sweep dt_train * 2**j, j = 2 .. -5 (8 sizes)."""
    return dt_train * 2.0 ** np.arange(2, -6, -1)


@pytest.fixture(scope="module")
def calibration():
    """The true field of every system through every solver, against its reference
    (exact, or float64 Dopri8): computed once for the calibration tests."""
    out = {}
    for name, (dt, t1) in SWEEPS.items():
        system = solvers.get_system(name)
        y0 = system.sample_initial_conditions(3, seed=0)
        out[name] = convergence.test(
            system.vector_field,
            y0,
            t1,
            dts=sweep_dts(dt),
            reference=system.state_at,
            solvers=ALL_SOLVERS,
            dt_train=dt,
        )
    return out


def oscillator(t, y, args):
    """Harmonic oscillator x' = v, v' = -x."""
    return jnp.stack([y[1], -y[0]])


def rotation(t):
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, s], [-s, c]])


def exact(y0s, t):
    return y0s @ rotation(t).T


@pytest.mark.parametrize("system", sorted(SWEEPS))
def test_true_field_passes_at_every_solver_order(calibration, system):
    """Calibration: the true vector field of each system converges at the order of
    each of the seven solvers, against its exact or float64 Dopri8 reference."""
    report = calibration[system]
    assert report.solvers == ALL_SOLVERS
    assert report.verdict == "PASS", report.summary()
    for sweep in report:
        assert sweep.verdict == "PASS", str(sweep)
        assert convergence.order_accepted(sweep.observed_order, sweep.order), str(sweep)
        assert sweep.window.sum() >= 3 and sweep.order_ci < 1.5
        assert sweep.nan_dts == ()


@pytest.mark.parametrize(
    "system", ["harmonic_oscillator", "pendulum", "lotka_volterra"]
)
def test_richardson_orders_agree_with_exact_reference_orders(calibration, system):
    """On smooth systems, the Richardson self-convergence order (no reference needed)
    agrees with the order measured against the reference, for every solver."""
    for sweep in calibration[system]:
        rich = sweep.richardson
        tol = convergence.order_tolerance(sweep.order)
        assert abs(rich.order - sweep.observed_order) <= tol, (sweep.solver, rich)
        assert convergence.order_accepted(rich.order, sweep.order)


def test_discrete_map_field_fails():
    """The exact one-step map divided by dt_train: Euler at dt_train is exact, but
    finer steps converge to the flow of a different field."""
    m = (rotation(DT_TRAIN) - np.eye(2)) / DT_TRAIN  # float64 inside the test
    report = convergence.test(
        lambda t, y, args: m @ y,
        Y0,
        T1,
        dts=DTS,
        reference=exact,
        solvers=["euler", "rk4"],
        dt_train=DT_TRAIN,
    )
    assert report.verdict == "FAIL"
    euler = report["euler"]
    assert euler.verdict == "FAIL" and euler.reason.startswith("discrete map"), euler
    assert euler.errors[np.argmin(np.abs(euler.dts - DT_TRAIN))] < 1e-6
    assert "rises" in euler.reason and "Richardson limit" in euler.reason
    assert "euler: discrete map" in report.reason


def test_random_network_fails(getkey):
    net = ODENet(MLP(2, 2, width=16, depth=2, key=getkey()), "rk4", DT_TRAIN)
    report = convergence.test(net.rhs, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN)
    assert report.verdict == "FAIL", str(report)
    assert "no convergence" in report.reason


def test_nan_is_recorded_per_solver_not_fatal():
    """A field that blows up with coarse Euler steps: NaN there is recorded with its
    solver and step sizes, and the rest of the sweep goes on."""
    report = convergence.test(
        lambda t, y, args: -50.0 * y**3,
        Y0,
        T1,
        dts=DTS,
        reference=lambda y0s, t: y0s / np.sqrt(1 + 100 * y0s**2 * t),
        solvers=["euler", "rk4"],
    )
    euler = report["euler"]
    assert len(euler.nan_dts) >= 1 and set(euler.nan_dts) <= set(euler.dts[:4])
    bad = np.isin(euler.dts, euler.nan_dts)
    assert np.all(np.isnan(euler.errors[bad])) and np.isfinite(euler.errors[-1])
    assert "NaN/inf at dt" in euler.reason
    rk4 = report["rk4"]  # each solver has its own record
    assert rk4.nan_dts and np.isfinite(rk4.errors[-1])


def test_report_json_plot_and_single_solver_access(tmp_path):
    report = convergence.test(oscillator, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN)
    assert report.order == 4 and report.errors.shape == (len(DTS),)  # forwarded
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["verdict"] == "PASS"
    rk4 = data["sweeps"]["rk4"]
    assert rk4["order"] == 4 and len(rk4["errors"]) == len(DTS)
    assert rk4["tolerances"]["order"] == 0.6 and rk4["richardson"]["ratio"] == 2.0
    report.plot(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_multi_solver_report(tmp_path):
    report = convergence.test(
        oscillator,
        Y0,
        T1,
        dts=DTS,
        reference=exact,
        solvers=["euler", "heun", "rk4"],
        dt_train=DT_TRAIN,
        true_vector_field=oscillator,
    )
    assert report.solvers == ["euler", "heun", "rk4"] and len(report) == 3
    assert [s.order for s in report] == [1, 2, 4]
    assert report.verdict == "PASS" and report.passed
    np.testing.assert_allclose(report["heun"].reference_errors, report["heun"].errors)
    with pytest.raises(AttributeError, match=r"report\['euler'\]"):
        _ = report.errors
    with pytest.raises(KeyError, match="no sweep for solver|No sweep"):
        report["tsit5"]
    assert report.summary().startswith("PASS: euler PASS (p=1")
    report.plot(tmp_path / "multi.png", title="three solvers")
    data = json.loads(report.to_json())
    assert list(data["sweeps"]) == ["euler", "heun", "rk4"]
    assert data["dts"][0] == pytest.approx(0.4) and data["dt_train"] == 0.1


def test_one_compilation_per_solver(getkey):
    """The whole sweep of a solver (step sizes x initial conditions x learned and
    true field) compiles once; new weights, initial states, step-size values or
    horizon reuse it."""
    before = dict(_sweep.TRACES)
    net = ODENet(MLP(2, 2, width=8, depth=1, key=getkey()), "rk4", DT_TRAIN)
    solvers = ["euler", "midpoint", "bosh3"]
    convergence.test(net.rhs, Y0, T1, dts=DTS, reference=exact, solvers=solvers)
    traced = {k: _sweep.TRACES[k] - before.get(k, 0) for k in solvers}
    assert traced == {"euler": 1, "midpoint": 1, "bosh3": 1}
    other = ODENet(MLP(2, 2, width=8, depth=1, key=getkey()), "rk4", DT_TRAIN)
    convergence.test(
        other.rhs, Y0 + 0.1, 2 * T1, dts=DTS / 2, reference=exact, solvers=solvers
    )
    again = {k: _sweep.TRACES[k] - before.get(k, 0) for k in solvers}
    assert again == traced


def test_default_sweep_and_held_out_trajectories():
    """dts default to dt_train * 2**j, j = 2..-8; a reference may be held-out
    trajectories (ts, ys) containing t1."""
    ts = np.linspace(0.0, 3.2, 33)
    ys = np.stack([exact(Y0, t) for t in ts], axis=1)
    report = convergence.test(
        oscillator, Y0, T1, "heun", reference=(ts, ys), dt_train=DT_TRAIN
    )
    np.testing.assert_allclose(report.dts, convergence.geometric_dts(DT_TRAIN))
    assert len(report.dts) == 11 and report.verdict == "PASS"
    assert report.reference == "held-out trajectories at t1"


def test_without_reference_richardson_only():
    """No reference: the true field and the discrete map both self-converge, so the
    verdict cannot be PASS; held-out data expose the discrete map's wrong limit."""
    m = (rotation(DT_TRAIN) - np.eye(2)) / DT_TRAIN
    true = convergence.test(oscillator, Y0, T1, "rk4", DTS, None, dt_train=DT_TRAIN)
    assert true.verdict == "INCONCLUSIVE" and "self-converges" in true.reason
    assert true.errors is None and abs(true.richardson.order - 4) < 0.6
    field = lambda t, y, args: m @ y  # noqa: E731
    blind = convergence.test(field, Y0, T1, "euler", DTS, None, dt_train=DT_TRAIN)
    assert blind.verdict == "INCONCLUSIVE" and "discrete map" in blind.reason
    data = exact(Y0, T1) + 1e-4  # held-out data at t1, slightly noisy
    seen = convergence.test(field, Y0, T1, "euler", DTS, data, dt_train=DT_TRAIN)
    e_tr = seen.errors[np.argmin(np.abs(seen.dts - DT_TRAIN))]
    assert seen.verdict == "FAIL" and seen.richardson.limit_error > 10 * e_tr


def test_richardson_limit_on_a_known_expansion():
    """y(dt) = y* + C dt^p exactly: the order and the limit are recovered."""
    y_star, c, p = np.array([[1.0, -2.0]]), np.array([[0.3, 0.7]]), 3
    ys = [y_star + c * dt**p for dt in (0.4, 0.2, 0.1)]
    order, limit, estimate = convergence.richardson_limit(*ys, ratio=2, p=p)
    assert order == pytest.approx(3.0, abs=1e-9)
    np.testing.assert_allclose(limit, y_star, atol=1e-12)
    np.testing.assert_allclose(estimate, np.linalg.norm(c) * 0.1**p, rtol=1e-9)


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


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="at least 3 step sizes"):
        convergence.test(oscillator, Y0, T1, "rk4", [0.1, 0.2], exact)
    with pytest.raises(ValueError, match="divide the horizon"):
        convergence.test(oscillator, Y0, 1.0, "rk4", [0.3, 0.1, 0.05], exact)
    with pytest.raises(ValueError, match="positive finite"):
        convergence.test(oscillator, Y0, T1, "rk4", [0.1, -0.1, 0.05], exact)
    with pytest.raises(ValueError, match="distinct"):
        convergence.test(oscillator, Y0, T1, "rk4", [0.1, 0.1, 0.05], exact)
    with pytest.raises(ValueError, match=r"shape \(2,\) to \(3,\)"):
        convergence.test(lambda t, y, a: jnp.zeros(3), Y0, T1, "rk4", DTS, exact)
    with pytest.raises(ValueError, match="true vector field maps"):
        convergence.test(
            oscillator,
            Y0,
            T1,
            "rk4",
            DTS,
            exact,
            true_vector_field=lambda t, y, a: y[:1],
        )
    with pytest.raises(ValueError, match="reference must give the state"):
        convergence.test(oscillator, Y0, T1, "rk4", DTS, np.zeros((2, 2)))
    ts = np.linspace(0.0, 1.5, 16)  # does not reach t1 = 1.6
    ys = np.stack([exact(Y0, t) for t in ts], axis=1)
    with pytest.raises(ValueError, match="wrong times"):
        convergence.test(oscillator, Y0, T1, "rk4", DTS, (ts, ys))
    with pytest.raises(ValueError, match="wrong times"):
        convergence.test(oscillator, Y0, T1, "rk4", DTS, (ts + 0.1, ys))
    with pytest.raises(ValueError, match="do not start at the given initial"):
        ts = np.linspace(0.0, 1.6, 17)
        ys = np.stack([exact(Y0, t) for t in ts], axis=1)
        convergence.test(oscillator, Y0 + 1, T1, "rk4", DTS, (ts, ys))
    with pytest.raises(ValueError, match="Unknown solver"):
        convergence.test(oscillator, Y0, T1, "rk99", DTS, exact)
    with pytest.raises(ValueError, match="either `solver`"):
        convergence.test(oscillator, Y0, T1, "rk4", DTS, exact, solvers=["euler"])
    with pytest.raises(ValueError, match="No solver given"):
        convergence.test(oscillator, Y0, T1, dts=DTS, reference=exact)
    with pytest.raises(ValueError, match="once"):
        convergence.test(oscillator, Y0, T1, dts=DTS, solvers=["rk4", "RK4"])
    with pytest.raises(ValueError, match="Pass the step sizes"):
        convergence.test(oscillator, Y0, T1, "rk4", reference=exact)
    with pytest.raises(ValueError, match="NaN or inf"):
        convergence.test(oscillator, Y0 * np.nan, T1, "rk4", DTS, exact)


def test_plateau_that_tracks_the_calibration_curve_passes():
    """On the plateau from dt_train down, with only the coarsest point above it: the
    model passes when its error stays within its own error of the true dynamics'
    error at every step size, and is inconclusive when it does not."""
    dts = DT_TRAIN * 2.0 ** np.arange(2, -4, -1)
    ref = np.array([2.5e-3, 1.6e-4, 1e-5, 6e-7, 4e-8, 2e-9])
    errors = np.array([3e-3, 1.05e-3, 1e-3, 1e-3, 1e-3, 1e-3])

    def judge(errors):
        level = convergence._order.plateau(errors)
        window = np.zeros(len(errors), bool)
        return _verdict.verdict(
            dts, errors, 4, np.nan, np.nan, window, level, DT_TRAIN, 0.6, 1.0, ref
        )

    verdict, reason = judge(errors)
    assert verdict == "PASS" and "within that error of the true" in reason
    errors[0] = 1e-2  # far above what the true dynamics' error explains
    assert judge(errors)[0] == "INCONCLUSIVE"


def test_float32_sweep_allows_for_round_off_growth():
    """In float32 the finest runs gather round-off over many steps; that rise is not
    a discrete map, and the order is fitted above it."""
    report = convergence.test(
        oscillator, Y0, T1, dts=DTS, reference=exact, solvers=["heun", "rk4"],
        dt_train=DT_TRAIN, float64=False,
    )  # fmt: skip
    assert report.dtype == "float32" and report.verdict == "PASS", report.summary()
    assert report["rk4"].tolerances["roundoff_floor_finest"] > 1e-6


def test_single_initial_condition():
    """One state (d,) with a reference (d,): an array of y(t1), a callable giving
    the state, or trajectories (T, d); all are batched as one initial condition."""
    y0 = Y0[0]
    batched = convergence.test(oscillator, Y0[:1], T1, "rk4", DTS, exact(Y0[:1], T1))
    ts = np.linspace(0.0, T1, 17)
    trajectory = np.stack([exact(y0, t) for t in ts])
    for ref in (exact(y0, T1), exact, lambda y0s, t: exact(y0, t), (ts, trajectory)):
        single = convergence.test(oscillator, y0, T1, "rk4", DTS, ref)
        assert single.n_initial_conditions == 1 and single.verdict == "PASS"
        np.testing.assert_allclose(single.errors, batched.errors, rtol=1e-12)


def test_an_odenet_is_tested_through_its_rhs_with_its_dt(getkey):
    """An object with `.rhs(t, y, args)` (an ODENet) is tested through `.rhs`; its
    `.dt` is the default `dt_train` (and so gives the default sweep)."""
    net = ODENet(MLP(2, 2, width=8, depth=1, key=getkey()), "rk4", DT_TRAIN)
    direct = convergence.test(net, Y0, T1, "rk4", reference=exact)
    via_rhs = convergence.test(
        net.rhs, Y0, T1, "rk4", reference=exact, dt_train=DT_TRAIN
    )
    assert direct.dt_train == DT_TRAIN
    np.testing.assert_allclose(direct.dts, convergence.geometric_dts(DT_TRAIN))
    np.testing.assert_allclose(direct.errors, via_rhs.errors, rtol=1e-12)
    assert (
        convergence.test(net, Y0, T1, "rk4", DTS, exact, dt_train=0.2).dt_train == 0.2
    )


def test_zero_initial_conditions_are_refused():
    with pytest.raises(ValueError, match="no initial conditions"):
        convergence.test(oscillator, np.zeros((0, 2)), T1, "rk4", DTS, exact)


def test_summary_says_what_the_order_is():
    """A fitted order reads "observed order"; a plateau-limited PASS shows the
    plateau and names the Richardson number as self-convergence."""
    fitted = convergence.test(oscillator, Y0, T1, "rk4", DTS, exact)
    assert abs(fitted.observed_order - 4) < 0.1
    assert fitted.summary() == (
        f"PASS: rk4 PASS (p=4, observed order {fitted.observed_order:.2f})"
    )
    flat = convergence.test(
        perturbed, Y0, T1, "rk4", DTS, exact, dt_train=DT_TRAIN,
        true_vector_field=oscillator,
    )  # fmt: skip
    assert "plateau-limited" in flat.reason and not np.isfinite(flat.observed_order)
    rich = flat["rk4"].richardson.order
    assert flat.summary() == (
        f"PASS: rk4 PASS (p=4, plateau-limited at {flat.plateau:.1e}; Richardson "
        f"self-convergence order {rich:.2f})"
    )
    blind = convergence.test(oscillator, Y0, T1, "rk4", DTS, None)
    assert "(p=4, Richardson self-convergence order 4.0" in blind.summary()


def test_pytest_does_not_collect_test_and_test_many(tmp_path):
    """`from sciml.convergence import test` in a user's test file is no test."""
    (tmp_path / "test_user.py").write_text(
        "from sciml.convergence import test, test_many\n\n\n"
        "def test_mine():\n    assert callable(test) and callable(test_many)\n"
    )
    # pytest's own collection rules decide this: leave out the installed plugins
    # (hypothesis alone adds a second to the start-up)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q",
         "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected == ["test_user.py::test_mine"], done.stdout
