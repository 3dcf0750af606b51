"""sciml.plotting: every plot returns a Figure with the panels and colour bars its
input asks for, writes a PNG, leaves the matplotlib backend and pyplot alone, and
refuses wrong shapes with a ValueError that says what was expected; the
convergence reports draw through it. (One file for every plot: pytest needs
unique test-file names here, and this one was tests/convergence/test_plotting.py.)"""

import json
import subprocess
import sys

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from sciml import convergence, plotting


@pytest.fixture(autouse=True)
def untouched_matplotlib():
    """Every test runs under the user's backend "svg" with no pyplot figures, and
    both must be as they were afterwards."""
    import matplotlib.pyplot as plt

    old = matplotlib.get_backend()
    matplotlib.use("svg")
    before = plt.get_fignums()
    yield
    assert matplotlib.get_backend() == "svg"
    assert plt.get_fignums() == before == []
    matplotlib.use(old)


def colorbars(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def panels(fig: Figure) -> list:
    """The visible axes that are not colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.axison]


def is_png(path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def trajectory(shape, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(shape)
    return truth + 0.1 * rng.standard_normal(shape), truth


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, sciml, sciml.plotting; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


# rollout


def test_rollout_1d_every_channel(tmp_path):
    pred, truth = trajectory((6, 2, 16))
    fig = plotting.rollout(pred, truth, tmp_path / "r.png", times=np.linspace(0, 1, 6))
    assert isinstance(fig, Figure) and is_png(tmp_path / "r.png")
    # per channel: prediction, truth, |error| images (each with a bar) and lines
    assert len(panels(fig)) == 2 * 4 and len(colorbars(fig)) == 2 * 3
    images = [ax for ax in panels(fig) if ax.collections]
    assert images[0].collections[0].get_clim() == images[1].collections[0].get_clim()
    assert images[2].collections[0].get_clim()[0] == 0.0  # the error starts at 0
    no_lines = plotting.rollout(pred[:, :1], truth[:, :1], lines=False)
    assert len(panels(no_lines)) == 3 and len(colorbars(no_lines)) == 3


def test_rollout_2d_frames_by_channels(tmp_path):
    pred, truth = trajectory((7, 2, 8, 6))
    fig = plotting.rollout(pred, truth, tmp_path / "r.png", channels=["u", "v"])
    assert is_png(tmp_path / "r.png")
    # four frames x (prediction, truth, error) x two channels, a bar on each
    assert len(panels(fig)) == 4 * 3 * 2 and len(colorbars(fig)) == 4 * 3 * 2
    fig = plotting.rollout(pred[:, :1], truth[:, :1], frames=[0, -1])
    axes = np.array(panels(fig)).reshape(3, 2)  # rows: prediction, truth, error
    for j in range(2):  # prediction and truth share the colour scale of a frame
        clim = axes[0, j].images[0].get_clim()
        assert axes[1, j].images[0].get_clim() == clim
        assert clim[0] <= min(pred[[0, -1][j], 0].min(), truth[[0, -1][j], 0].min())
    assert axes[0, 0].get_title() == "frame 0" and axes[0, 1].get_title() == "frame 6"
    assert axes[1, 0].get_title() == ""  # the frames are named once, on top
    assert len(colorbars(fig)) == 6


def test_rollout_refuses_wrong_shapes():
    pred, truth = trajectory((5, 1, 8))
    with pytest.raises(ValueError, match=r"\(T, C, X\).*u\[:, None\]"):
        plotting.rollout(pred[:, 0], truth[:, 0])
    with pytest.raises(ValueError, match="same sizes"):
        plotting.rollout(pred, truth[1:])
    with pytest.raises(ValueError, match="one value per point"):
        plotting.rollout(pred, truth, times=np.arange(4))
    with pytest.raises(ValueError, match="frames must be indices"):
        plotting.rollout(pred, truth, frames=[5])
    with pytest.raises(ValueError, match="2 channel names|1 channels"):
        plotting.rollout(pred, truth, channels=["u", "v"])


# field_preview


def test_field_preview_coefficient_beside_solution(tmp_path):
    a = np.where(np.add.outer(np.arange(12), np.arange(10)) > 10, 1.0, 0.1)
    u = np.outer(np.sin(np.linspace(0, 3, 12)), np.sin(np.linspace(0, 3, 10)))
    x, y = np.linspace(0, 1, 12), np.linspace(0, 1, 10)
    fig = plotting.field_preview(u, a, tmp_path / "d.png", x=x, y=y)
    assert is_png(tmp_path / "d.png")
    assert len(panels(fig)) == 2 and len(colorbars(fig)) == 2
    assert [ax.get_title() for ax in panels(fig)] == ["a", "u"]
    several = plotting.field_preview([u, u, u], [a, a, a], coefficient_names="a")
    assert len(panels(several)) == 6 and len(colorbars(several)) == 6
    assert panels(several)[2].get_ylabel() == "sample 1"


def test_field_preview_time_series_every_channel(tmp_path):
    series = np.random.default_rng(1).standard_normal((5, 2, 8, 8))
    series *= np.linspace(1, 0.01, 5)[:, None, None, None]  # decaying
    fig = plotting.field_preview(series, times=np.arange(5.0), max_frames=3)
    assert len(panels(fig)) == 2 * 3 and len(colorbars(fig)) == 2 * 3
    assert panels(fig)[1].get_title() == "u[0], t = 2"
    own = [ax.images[0].get_clim() for ax in panels(fig)[:3]]
    assert own[0] != own[2]  # each frame on its own scale: the late one visible
    shared = plotting.field_preview(series, frames=[0, 4], shared=True)
    clims = [ax.images[0].get_clim() for ax in panels(shared)]
    assert clims[0] == clims[1] and len(colorbars(shared)) == 4
    # a coefficient with two channels: two leading panels on the first row only
    fig = plotting.field_preview(series, series[0], tmp_path / "s.png", frames=[0])
    assert len(panels(fig)) == 2 + 2 and is_png(tmp_path / "s.png")


def test_field_preview_refuses_wrong_shapes():
    u = np.zeros((8, 8))
    with pytest.raises(ValueError, match=r"\(X, Y\), \(C, X, Y\).*plotting.rollout"):
        plotting.field_preview(np.zeros(8))
    with pytest.raises(ValueError, match="same grid"):
        plotting.field_preview(u, np.zeros((8, 6)))
    with pytest.raises(ValueError, match="one coefficient per sample"):
        plotting.field_preview([u, u], u)
    with pytest.raises(ValueError, match="share one shape"):
        plotting.field_preview([u, np.zeros((4, 4))])


# convergence


def test_convergence_keeps_the_true_dynamics_on_the_axes(tmp_path):
    dts = 0.1 * 2.0 ** -np.arange(6)
    model = np.maximum(dts**4, 1e-3)  # plateau-limited model
    true = dts**4 * 1e-2
    true[-1] = 0.0  # exact: drawn on the lower edge
    fig = plotting.convergence(
        dts,
        {"rk4": model, "euler": dts},
        tmp_path / "c.png",
        orders={"rk4": 4, "euler": 1},
        true_errors={"rk4": true},
        plateau={"rk4": 1e-3},
        failed={"euler": [dts[0]]},
        marks={"dt_train": 0.2},
        title="two solvers",
    )
    assert is_png(tmp_path / "c.png")
    rk4, euler = panels(fig)
    assert len(fig.axes) == 2 and rk4.get_title() == "rk4"
    low, high = rk4.get_ylim()
    assert low < true[true > 0].min() and high > model.max()  # nothing clipped
    assert rk4.get_xlim()[1] > 0.2  # the training step too
    labels = rk4.get_legend_handles_labels()[1]
    assert {"true dynamics", "slope 4", "plateau", "dt_train"} <= set(labels)
    assert "true dynamics = 0" in labels
    assert "NaN/inf" in euler.get_legend_handles_labels()[1]
    one = plotting.convergence(dts, dts**2, orders=2, ylabel="error at t1")
    assert len(one.axes) == 1 and one.axes[0].get_ylabel() == "error at t1"


def test_convergence_resolution_rate_falls_with_n():
    grids = np.array([8, 16, 32, 64])
    fig = plotting.convergence(grids, 1.0 / grids**2, orders=2.0, resolution=True)
    (ax,) = fig.axes
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "rate 2.00")
    np.testing.assert_allclose(line.get_ydata(), 1.0 / grids**2)
    assert ax.get_xlabel() == "grid points per axis n"


def test_convergence_refuses_wrong_shapes():
    with pytest.raises(ValueError, match="1-D array of step sizes"):
        plotting.convergence(np.ones((2, 2)), np.ones(4))
    with pytest.raises(ValueError, match="positive finite"):
        plotting.convergence([0.1, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="has 2 values but x has 3"):
        plotting.convergence([0.1, 0.05, 0.025], {"rk4": [1.0, 2.0]})
    with pytest.raises(ValueError, match="true_errors"):
        plotting.convergence([0.1, 0.05], [1.0, 0.5], true_errors=[1.0])


# training_curves


def records(n=10, val_every=3):
    out = []
    for i in range(1, n + 1):
        r = {"step": 10 * i, "loss": 1.0 / i, "metrics": {"mse": 1.0 / i, "r": -i}}
        if i % val_every == 0:
            r |= {"val_loss": 2.0 / i, "val_metrics": {"mse": 2.0 / i, "r": -i}}
        out.append(r)
    out[4]["loss"] = None  # NaN written as null: a gap
    return out


def test_training_curves_from_metrics_jsonl(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    lines = [json.dumps(r) for r in records()] + ['{"step": 110, "lo']  # torn
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    fig = plotting.training_curves(run / "metrics.jsonl", tmp_path / "t.png")
    assert is_png(tmp_path / "t.png") and len(colorbars(fig)) == 0
    loss, mse, r = panels(fig)
    assert loss.get_yscale() == "log" and r.get_yscale() == "linear"
    assert [ln.get_label() for ln in loss.get_lines()] == ["train", "val"]
    assert len(loss.get_lines()[1].get_xdata()) == 3  # only the validation steps
    assert len(panels(plotting.training_curves(run))) == 3  # the run directory
    only = plotting.training_curves(records(), metrics=["mse"])
    assert [ax.get_ylabel() for ax in panels(only)] == ["loss", "mse"]


def test_training_curves_several_runs():
    runs = {"a": records(), "b": records(6, val_every=100)}
    fig = plotting.training_curves(runs, metrics=False)
    (ax,) = fig.axes
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["a (train)", "a (val)", "b (train)"]
    (ax,) = plotting.training_curves({"b": records(6, 100)}, metrics=False).axes
    assert [ln.get_label() for ln in ax.get_lines()] == ["b"]


def test_training_curves_refuses_bad_records(tmp_path):
    with pytest.raises(ValueError, match="no metrics file"):
        plotting.training_curves(tmp_path)
    (tmp_path / "metrics.jsonl").write_text("")
    with pytest.raises(ValueError, match="holds no records"):
        plotting.training_curves(tmp_path / "metrics.jsonl")
    with pytest.raises(ValueError, match="needs 'step' and 'loss'"):
        plotting.training_curves([{"loss": 1.0}])
    with pytest.raises(ValueError, match=r"no records hold the metrics \['acc'\]"):
        plotting.training_curves(records(), metrics=["acc"])
    with pytest.raises(TypeError, match="metrics.jsonl path"):
        plotting.training_curves(3.0)


# figure, save and the convergence reports

DTS = 0.1 * 2.0 ** np.arange(-3, 3)
Y0 = np.array([[1.0, 0.0], [0.3, -0.7]])


def oscillator(t, y, args):
    return jnp.stack([y[1], -y[0]])


def exact(y0s, t):
    c, s = np.cos(t), np.sin(t)
    return y0s @ np.array([[c, s], [-s, c]]).T


def grid(n):
    return np.sin(2 * np.pi * np.arange(n) / n)[None, None]


def test_figure_and_save(tmp_path):
    fig, axes = plotting.figure(rows=2, cols=3, size=(6, 4))
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (6, 4)
    axes[1, 2].plot([0, 1], [1, 0])
    plotting.save(fig, tmp_path / "f.png", dpi=50)
    assert tmp_path.joinpath("f.png").read_bytes()[:4] == b"\x89PNG"
    _, one = plotting.figure()
    assert one.shape == (1, 1)


def test_report_plots_keep_the_true_dynamics_in_view(tmp_path):
    """A plateau-limited model far above its true dynamics: the axes reach down to
    the true dynamics' errors instead of clipping them near the model's curve; the
    multi-solver and resolution reports draw too."""

    def biased(t, y, args):  # the oscillator, 1e-3 off: a learned stand-in
        return oscillator(t, y, args) + 1e-3 * y

    report = convergence.test(
        biased, Y0, 1.6, "rk4", DTS, exact, true_vector_field=oscillator
    )
    fig = report.plot(tmp_path / "c.png")
    assert is_png(tmp_path / "c.png")
    (ax,) = fig.axes
    true = report.reference_errors
    low, high = ax.get_ylim()
    assert low < true[true > 0].min() and high > np.nanmax(report.errors)
    assert "true dynamics" in ax.get_legend_handles_labels()[1]
    assert ax.get_title() == f"rk4 (p=4): {report.verdict}"
    both = convergence.test(oscillator, Y0, 1.6, ["euler", "rk4"], DTS, exact)
    assert len(both.plot(tmp_path / "two.png").axes) == 2 and is_png(
        tmp_path / "two.png"
    )
    resolution = convergence.resolution_test(lambda u: u, grid, grid, [8, 16, 32])
    fig = resolution.plot(tmp_path / "resolution.png", title="identity")
    assert fig.axes[0].get_title() == "identity" and is_png(tmp_path / "resolution.png")
