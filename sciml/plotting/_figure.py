"""`figure` and `save`: matplotlib figures made without pyplot."""

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
