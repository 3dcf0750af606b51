"""`rollout`: a predicted trajectory beside the true one, with the error."""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import (
    ERROR_CMAP,
    as_array,
    channel_names,
    colorbar,
    coordinates,
    error_scale,
    field_scale,
    finish,
    grid_figure,
    image,
    limits,
    pick_frames,
)

_OWNER = "plotting.rollout"
_SHAPES = "(T, C, X) for 1-D fields or (T, C, X, Y) for 2-D fields"
_FIX = (
    "Fields are channel-first, one frame per time: add a channel axis for one "
    "channel (u[:, None] for a (T, X) series) and stack the frames first."
)


def rollout(
    prediction: Any,
    truth: Any,
    path: str | os.PathLike | None = None,
    *,
    times: Any = None,
    x: Any = None,
    y: Any = None,
    frames: Any = None,
    max_frames: int = 4,
    channels: Sequence[str] | None = None,
    labels: tuple[str, str] = ("prediction", "truth"),
    lines: bool = True,
    cmap: str | None = None,
    title: str | None = None,
    dpi: int = 120,
):
    r"""Draw a predicted trajectory, the true one and their error, every channel.

    - 1-D fields `(T, C, X)`: one row per channel with three space-time images
      (x across, t up) of the prediction, the truth and $|\hat u - u|$, each with
      a colour bar (prediction and truth share one colour scale), and, with
      `lines=True`, a fourth panel of line plots of a few frames (truth solid,
      prediction dashed).
    - 2-D fields `(T, C, X, Y)`: the selected frames across, and for every channel
      three rows (prediction, truth, $|\hat u - u|$); every panel has its own
      colour bar, and in each frame the prediction and the truth share one colour
      scale.

    A field taking both signs is drawn with a diverging map symmetric about 0;
    errors with a sequential map from 0, the largest value in the panel's title.

    **Arguments:**

    - `prediction`, `truth`: arrays of the same shape, `(T, C, X)` or
      `(T, C, X, Y)` (numpy or JAX).
    - `path`: write the figure there as PNG (or the format of its suffix).
    - `times`: the time of each frame `(T,)` (else the frame index).
    - `x`, `y`: the coordinates of the grid points (else the index).
    - `frames`: the frames shown (2-D panels and 1-D line plots); default up to
      `max_frames` evenly spaced ones, the first and the last included.
    - `max_frames`: how many frames to pick when `frames` is not given.
    - `channels`: one name per channel (default `u`, or `u[c]`).
    - `labels`: the names of the prediction and the truth in titles and legends.
    - `lines`: 1-D only: add the panel of line plots.
    - `cmap`: the colour map of prediction and truth (default: automatic, above).
    - `title`: the figure's title.
    - `dpi`: resolution of the written file.

    **Returns:** the `matplotlib.figure.Figure` (made without pyplot).
    """
    pred = as_array(_OWNER, "prediction", prediction, (3, 4), _SHAPES, _FIX)
    true = as_array(_OWNER, "truth", truth, (3, 4), _SHAPES, _FIX)
    if pred.shape != true.shape:
        raise ValueError(
            f"{_OWNER}: prediction has shape {pred.shape} but truth has {true.shape}; "
            f"both must be {_SHAPES} with the same sizes (cut the longer one, e.g. "
            "truth[1:] when the prediction starts after the initial frame)."
        )
    if len(labels) != 2:
        raise ValueError(
            f"{_OWNER}: labels must be two names (prediction, truth), got {labels!r}."
        )
    n_t, n_c = pred.shape[:2]
    times = coordinates(_OWNER, "times", times, n_t)
    x = coordinates(_OWNER, "x", x, pred.shape[2])
    names = channel_names(_OWNER, channels, n_c, "u")
    picked = pick_frames(_OWNER, frames, n_t, max_frames)
    if pred.ndim == 3:
        if y is not None:
            raise ValueError(
                f"{_OWNER}: y coordinates were given for 1-D fields of shape "
                f"{pred.shape}; pass y only with 2-D fields (T, C, X, Y)."
            )
        fig = _one_d(pred, true, times, x, names, picked, labels, lines, cmap)
    else:
        y = coordinates(_OWNER, "y", y, pred.shape[3])
        fig = _two_d(pred, true, times, x, y, names, picked, labels, cmap)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path, dpi)


def _frame_label(times: np.ndarray | None, k: int) -> str:
    return f"t = {times[k]:.3g}" if times is not None else f"frame {k}"


def _one_d(pred, true, times, x, names, picked, labels, lines, cmap):
    n_t, n_c, n_x = pred.shape
    cols = 4 if lines else 3
    fig, axes = grid_figure(n_c, cols, size=(3.6 * cols, 3.1 * n_c + 0.4))
    xs = x if x is not None else np.arange(n_x, dtype=float)
    ts = times if times is not None else np.arange(n_t, dtype=float)
    error = np.abs(pred - true)
    for c, name in enumerate(names):
        row = axes[c]
        map_, low, high = field_scale(*limits(pred[:, c], true[:, c]), cmap)
        scales = [(map_, low, high)] * 2 + [(ERROR_CMAP, *error_scale(error[:, c]))]
        panels = (pred[:, c], true[:, c], error[:, c])
        finite = error[:, c][np.isfinite(error[:, c])]
        worst = f"max {finite.max():.2g}" if finite.size else "no finite values"
        heads = (labels[0], labels[1], f"|error|, {worst}")
        for ax, field, (m, lo, hi), head in zip(
            row, panels, scales, heads, strict=False
        ):
            mesh = ax.pcolormesh(
                xs, ts, field, shading="nearest", cmap=m, vmin=lo, vmax=hi
            )
            colorbar(fig, ax, mesh)
            ax.set_xlabel("x" if x is not None else "grid index")
            ax.set_ylabel("t" if times is not None else "frame")
            ax.tick_params(labelsize=7)
            ax.set_title(f"{name}: {head}", fontsize=9)
        if lines:
            ax = row[3]
            colours = [f"C{i % 10}" for i in range(len(picked))]
            for k, colour in zip(picked, colours, strict=True):
                tag = _frame_label(times, k)
                ax.plot(xs, true[k, c], "-", color=colour, lw=1.2, label=tag)
                ax.plot(xs, pred[k, c], "--", color=colour, lw=1.2)
            ax.set_title(
                f"{name}: {labels[1]} (solid), {labels[0]} (dashed)", fontsize=8
            )
            ax.set_xlabel("x" if x is not None else "grid index")
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=6, loc="best")
    return fig


def _two_d(pred, true, times, x, y, names, picked, labels, cmap):
    n_c = pred.shape[1]
    cols = len(picked)
    rows = 3 * n_c
    width = 2.7 * cols + 0.6
    fig, axes = grid_figure(rows, cols, size=(width, 2.35 * rows))
    error = np.abs(pred - true)
    heads = (labels[0], labels[1], "|error|")
    for c, name in enumerate(names):
        for j, k in enumerate(picked):
            map_, low, high = field_scale(*limits(pred[k, c], true[k, c]), cmap)
            panels = (pred[k, c], true[k, c], error[k, c])
            scales = [(map_, low, high)] * 2 + [(ERROR_CMAP, *error_scale(error[k, c]))]
            for q, (field, (m, lo, hi)) in enumerate(zip(panels, scales, strict=True)):
                ax = axes[3 * c + q, j]
                im = image(ax, field, x, y, m, lo, hi)
                colorbar(fig, ax, im)
                if j == 0:
                    ax.set_ylabel(f"{name}: {heads[q]}", fontsize=9)
                if c == 0 and q == 0:
                    ax.set_title(_frame_label(times, k), fontsize=9)
                if q == 2:
                    finite = field[np.isfinite(field)]
                    worst = f"max {finite.max():.2g}" if finite.size else "non-finite"
                    ax.set_xlabel(worst, fontsize=7)
    return fig
