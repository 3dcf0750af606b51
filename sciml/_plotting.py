"""Figures for sciml's reports, drawn with matplotlib's object-oriented API.

A `matplotlib.figure.Figure` made directly (not through pyplot) saves a PNG with
no backend: the library never calls `matplotlib.use` and never adds figures to
pyplot's registry, so the user's backend and open figures are left alone.
Import this module where a plot is drawn, not at the top of a package, so that
importing sciml does not import matplotlib.
"""

import os

import numpy as np
from matplotlib.figure import Figure


def figure(
    rows: int = 1, cols: int = 1, size: tuple[float | int, float | int] = (5, 3.6)
) -> tuple[Figure, np.ndarray]:
    """A new figure with a grid of axes, laid out tightly when saved.

    **Arguments:**

    - `rows`, `cols`: the grid of axes.
    - `size`: the figure's (width, height) in inches.

    **Returns:** the figure and its axes as an array of shape `(rows, cols)`
    (always 2-D, even for one axes: `axes[0, 0]`).
    """
    fig = Figure(figsize=size, layout="tight")
    return fig, fig.subplots(rows, cols, squeeze=False)


def save(fig: Figure, path: str | os.PathLike, dpi: int = 120) -> None:
    """Write the figure to `path` (the format from the suffix, e.g. `.png`).

    **Arguments:**

    - `fig`: a figure from `figure`.
    - `path`: the file to write.
    - `dpi`: resolution in dots per inch.
    """
    fig.savefig(path, dpi=dpi)
