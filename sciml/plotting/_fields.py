"""`field_preview`: 2-D fields, the coefficient field beside the solution."""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import (
    as_array,
    channel_names,
    colorbar,
    coordinates,
    field_scale,
    finish,
    grid_figure,
    image,
    limits,
    pick_frames,
)

_OWNER = "plotting.field_preview"
_SHAPES = "(X, Y), (C, X, Y) or a time series (T, C, X, Y)"
_FIX = (
    "field_preview draws 2-D fields, channel-first; for several samples pass a "
    "list of them, and draw 1-D fields with plotting.rollout."
)
_COEFFICIENT = "(X, Y) or (C, X, Y)"


def field_preview(
    solution: Any,
    coefficient: Any = None,
    path: str | os.PathLike | None = None,
    *,
    x: Any = None,
    y: Any = None,
    times: Any = None,
    frames: Any = None,
    max_frames: int = 4,
    names: Sequence[str] | None = None,
    coefficient_names: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    shared: bool = False,
    cmap: str | None = None,
    title: str | None = None,
    dpi: int = 120,
):
    """Draw 2-D data: the coefficient field (e.g. Darcy's permeability $a$) beside
    the solution, or a few frames of a 2-D time series, each panel with a colour
    bar.

    One row per channel of the solution: the coefficient's panels first (first row
    only), then the solution's selected frames. Each panel is scaled to its own
    range (a decaying field stays visible in its late frames), or, with
    `shared=True`, the frames of a channel share one colour scale. Several samples
    (a list) stack their rows. A field taking both signs is drawn with a diverging
    map symmetric about 0.

    **Arguments:**

    - `solution`: one sample `(X, Y)`, `(C, X, Y)` or `(T, C, X, Y)`, or a list of
      samples of one shape (numpy or JAX).
    - `coefficient`: the coefficient field of the sample, `(X, Y)` or `(C, X, Y)`
      on the same grid (a list with one per sample when `solution` is a list), or
      None.
    - `path`: write the figure there as PNG (or the format of its suffix).
    - `x`, `y`: the coordinates of the grid points (else the index).
    - `times`: the time of each frame `(T,)`, shown in the titles.
    - `frames`: the frames shown; default up to `max_frames` evenly spaced ones,
      the first and the last included.
    - `max_frames`: how many frames to pick when `frames` is not given.
    - `names`: one name per channel of the solution (default `u`, or `u[c]`).
    - `coefficient_names`: one name per channel of the coefficient (default `a`).
    - `row_labels`: one label per sample (default `sample i` for a list).
    - `shared`: one colour scale for all frames of a channel (of one sample).
    - `cmap`: the colour map of every panel (default: automatic, above).
    - `title`: the figure's title.
    - `dpi`: resolution of the written file.

    **Returns:** the `matplotlib.figure.Figure` (made without pyplot).
    """
    several = isinstance(solution, list | tuple)
    samples = list(solution) if several else [solution]
    if not samples:
        raise ValueError(f"{_OWNER}: got an empty list of samples; pass at least one.")
    fields = [_series(as_array(_OWNER, "solution", s, (2, 3, 4), _SHAPES, _FIX))
              for s in samples]  # fmt: skip
    shape = fields[0].shape
    if any(f.shape != shape for f in fields):
        raise ValueError(
            f"{_OWNER}: the samples have shapes {[f.shape for f in fields]}; they must "
            "share one shape (pass samples of one file or one solver)."
        )
    n_t, n_c, n_x, n_y = shape
    coefficients = _coefficients(coefficient, several, len(samples), (n_x, n_y))
    n_a = coefficients[0].shape[0] if coefficients else 0
    x = coordinates(_OWNER, "x", x, n_x)
    y = coordinates(_OWNER, "y", y, n_y)
    times = coordinates(_OWNER, "times", times, n_t)
    picked = pick_frames(_OWNER, frames, n_t, max_frames)
    names = channel_names(_OWNER, names, n_c, "u")
    a_names = channel_names(_OWNER, coefficient_names, n_a, "a") if n_a else []
    if row_labels is None:
        row_labels = [f"sample {i}" for i in range(len(samples))] if several else [""]
    elif len(row_labels) != len(samples):
        raise ValueError(
            f"{_OWNER}: got {len(row_labels)} row labels for {len(samples)} samples; "
            "pass one label per sample."
        )
    cols = n_a + len(picked)
    rows = n_c * len(samples)
    fig, axes = grid_figure(rows, cols, size=(2.9 * cols + 0.4, 2.5 * rows + 0.3))
    for s, field in enumerate(fields):
        for c in range(n_c):
            row = axes[s * n_c + c]
            for i in range(n_a):
                ax = row[i]
                if c:
                    ax.axis("off")
                    continue
                a = coefficients[s][i]
                m, lo, hi = field_scale(*limits(a), cmap if cmap else "cividis")
                colorbar(fig, ax, image(ax, a, x, y, m, lo, hi))
                ax.set_title(a_names[i], fontsize=9)
            scale = field_scale(*limits(field[picked, c]), cmap)
            for j, k in enumerate(picked):
                ax = row[n_a + j]
                m, lo, hi = scale if shared else field_scale(*limits(field[k, c]), cmap)
                colorbar(fig, ax, image(ax, field[k, c], x, y, m, lo, hi))
                when = (
                    f", t = {times[k]:.3g}"
                    if times is not None
                    else (f", frame {k}" if n_t > 1 else "")
                )
                ax.set_title(names[c] + when, fontsize=9)
            first = next(ax for ax in row if ax.axison)
            if row_labels[s]:
                first.set_ylabel(row_labels[s], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path, dpi)


def _series(field: np.ndarray) -> np.ndarray:
    """A sample as a time series `(T, C, X, Y)`."""
    if field.ndim == 2:
        return field[None, None]
    if field.ndim == 3:
        return field[None]
    return field


def _coefficients(value: Any, several: bool, n: int, grid: tuple[int, int]):
    """The coefficient of each sample as `(C, X, Y)` (an empty list for None)."""
    if value is None:
        return []
    if several != isinstance(value, list | tuple):
        raise ValueError(
            f"{_OWNER}: solution is {'a list' if several else 'one sample'} but "
            f"coefficient is {'one field' if several else 'a list'}; pass one "
            "coefficient per sample, the same way as the solution."
        )
    values = list(value) if several else [value]
    if len(values) != n:
        raise ValueError(
            f"{_OWNER}: got {len(values)} coefficients for {n} samples; pass one "
            "coefficient field per sample."
        )
    fix = "The coefficient is one field per sample, channel-first."
    out = []
    for v in values:
        a = as_array(_OWNER, "coefficient", v, (2, 3), _COEFFICIENT, fix)
        a = a[None] if a.ndim == 2 else a
        if a.shape[1:] != grid:
            raise ValueError(
                f"{_OWNER}: the coefficient has grid {a.shape[1:]} but the solution "
                f"has {grid}; both must be on the same grid (X, Y)."
            )
        out.append(a)
    if any(a.shape != out[0].shape for a in out):
        raise ValueError(
            f"{_OWNER}: the coefficients have shapes {[a.shape for a in out]}; they "
            "must share one shape."
        )
    return out
