"""Plots are drawn with matplotlib's object-oriented API: no backend switch, no
pyplot figures left behind."""

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

from sciml import convergence

DTS = 0.1 * 2.0 ** np.arange(-3, 3)
Y0 = np.array([[1.0, 0.0], [0.3, -0.7]])


def oscillator(t, y, args):
    return jnp.stack([y[1], -y[0]])


def exact(y0s, t):
    c, s = np.cos(t), np.sin(t)
    return y0s @ np.array([[c, s], [-s, c]]).T


def grid(n):
    return np.sin(2 * np.pi * np.arange(n) / n)[None, None]


@pytest.fixture
def svg_backend():
    """The user's backend is "svg" for the test; restored afterwards."""
    old = matplotlib.get_backend()
    matplotlib.use("svg")
    yield
    matplotlib.use(old)


def is_png(path) -> bool:
    return path.stat().st_size > 0 and path.read_bytes()[:4] == b"\x89PNG"


def test_report_plots_leave_backend_and_pyplot_alone(tmp_path, svg_backend):
    import matplotlib.pyplot as plt

    figures = plt.get_fignums()
    report = convergence.test(oscillator, Y0, 1.6, ["euler", "rk4"], DTS, exact)
    report.plot(tmp_path / "convergence.png")
    resolution = convergence.resolution_test(lambda u: u, grid, grid, [8, 16, 32])
    resolution.plot(tmp_path / "resolution.png", title="identity")
    assert matplotlib.get_backend() == "svg"
    assert plt.get_fignums() == figures
    assert is_png(tmp_path / "convergence.png") and is_png(tmp_path / "resolution.png")


def test_figure_and_save(tmp_path, svg_backend):
    from sciml import plotting

    fig, axes = plotting.figure(rows=2, cols=3, size=(6, 4))
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (6, 4)
    axes[1, 2].plot([0, 1], [1, 0])
    plotting.save(fig, tmp_path / "f.png", dpi=50)
    assert is_png(tmp_path / "f.png") and matplotlib.get_backend() == "svg"
    _, one = plotting.figure()
    assert one.shape == (1, 1)
