"""`figure` and `save`: matplotlib figures made without pyplot."""

import os
from typing import Any

import numpy as np


def figure(
    rows: int = 1, cols: int = 1, size: tuple[float | int, float | int] = (5, 3.6)
) -> tuple[Any, np.ndarray]:
    """A new figure with a grid of axes, laid out tightly when saved.

    **Arguments:**

    - `rows`, `cols`: the grid of axes.
    - `size`: the figure's (width, height) in inches.

    **Returns:** the `matplotlib.figure.Figure` and its axes as an array of shape
    `(rows, cols)` (always 2-D, even for one axes: `axes[0, 0]`).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="tight")
    return fig, fig.subplots(rows, cols, squeeze=False)


def save(fig: Any, path: str | os.PathLike, dpi: int = 120) -> None:
    """Write the figure to `path` (the format from the suffix, e.g. `.png`).

    **Arguments:**

    - `fig`: a `matplotlib.figure.Figure` (from `figure` or a plot of this module).
    - `path`: the file to write.
    - `dpi`: resolution in dots per inch.
    """
    fig.savefig(path, dpi=dpi)
