"""`convergence`: error against step size (or grid size) on log-log axes."""

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import finish, grid_figure

_OWNER = "plotting.convergence"


def convergence(
    x: Any,
    errors: Any,
    path: str | os.PathLike | None = None,
    *,
    orders: Any = None,
    anchors: Any = None,
    true_errors: Any = None,
    plateau: Any = None,
    failed: Any = None,
    marks: Mapping[str, Any] | None = None,
    resolution: bool = False,
    label: str = "model",
    true_label: str = "true dynamics",
    xlabel: str | None = None,
    ylabel: str = "error",
    titles: Mapping[str, str] | None = None,
    title: str | None = None,
    cols: int = 3,
    dpi: int = 120,
):
    r"""Draw error against step size (or grid size) on log-log axes, one panel per
    solver, with reference slopes and the true dynamics kept in view.

    Each panel shows the `errors` curve, a reference line of slope $p$ through one
    of its points ($E \propto \Delta t^p$, or $E \propto n^{-p}$ with
    `resolution=True`), the `true_errors` (the true vector field through the same
    solver and step sizes: the floor a perfect model would reach), the model's
    `plateau`, vertical `marks` (e.g. the training step) and crosses at the `failed`
    step sizes (NaN/inf). The axes' limits are set from all of these, never from the
    model curve alone, so the true dynamics and the plateau are never clipped; a
    true error of exactly 0 is drawn as a triangle on the lower edge.

    The per-solver options (`orders`, `anchors`, `true_errors`, `plateau`,
    `failed`) take one value for every panel or a mapping from solver name to value.

    **Arguments:**

    - `x`: the step sizes (or, with `resolution=True`, the grid sizes), `(n,)`.
    - `errors`: one error curve `(n,)` (one panel, named `label`) or a mapping from
      solver name to its curve (one panel each, in order). NaN and non-positive
      values are left out of the curve.
    - `path`: write the figure there as PNG (or the format of its suffix).
    - `orders`: the slope $p$ of the reference line (None: no line).
    - `anchors`: the index of the point the reference line goes through (default
      the first finite one).
    - `true_errors`: the error of the true dynamics, `(n,)`, drawn dashed.
    - `plateau`: the model's own error level, a horizontal line.
    - `failed`: the x values where the solve gave NaN/inf, marked with crosses.
    - `marks`: vertical lines on every panel, label to x, e.g.
      `{"dt_train": 0.1}`.
    - `resolution`: `x` holds grid sizes $n$: the reference line falls as
      $n^{-p}$ and is labelled "rate".
    - `label`, `true_label`: legend names of the curve and the true dynamics.
    - `xlabel`, `ylabel`: the axis labels (default x label: "step size dt", or
      "grid points per axis n").
    - `titles`: a title per panel (default the solver name).
    - `title`: the figure's title.
    - `cols`: panels per row.
    - `dpi`: resolution of the written file.

    **Returns:** the `matplotlib.figure.Figure` (made without pyplot).
    """
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1 or xs.size < 1:
        raise ValueError(
            f"{_OWNER}: x must be a 1-D array of step sizes (or grid sizes), got "
            f"shape {xs.shape}; e.g. x=[0.1, 0.05, 0.025]."
        )
    if not np.all(np.isfinite(xs) & (xs > 0)):
        raise ValueError(
            f"{_OWNER}: x must hold positive finite step sizes (or grid sizes) for "
            f"log axes, got {xs.tolist()}."
        )
    curves = dict(errors) if isinstance(errors, Mapping) else {label: errors}
    if not curves:
        raise ValueError(
            f"{_OWNER}: errors is an empty mapping; pass one curve or a mapping from "
            "solver name to its curve."
        )
    cols = max(1, min(int(cols), len(curves)))
    rows = -(-len(curves) // cols)
    fig, axes = grid_figure(rows, cols, size=(4.3 * cols, 3.5 * rows))
    xlabel = xlabel or ("grid points per axis n" if resolution else "step size dt")
    for ax, (name, curve) in zip(axes.flat, curves.items(), strict=False):
        draw(
            ax,
            xs,
            _curve(name, "errors", curve, xs.size),
            order=_per(name, orders),
            anchor=_per(name, anchors),
            true_errors=(
                None
                if (t := _per(name, true_errors)) is None
                else _curve(name, "true_errors", t, xs.size)
            ),
            plateau=_per(name, plateau),
            failed=_per(name, failed),
            marks=marks,
            resolution=resolution,
            label=label,
            true_label=true_label,
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title((titles or {}).get(name, name), fontsize=9)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path, dpi)


def _per(name: str, value: Any) -> Any:
    """A per-solver option: the mapping's entry for `name`, or the one value."""
    if isinstance(value, Mapping):
        return value.get(name)
    return value


def _curve(name: str, what: str, value: Any, n: int) -> np.ndarray:
    curve = np.asarray(value, dtype=np.float64).reshape(-1)
    if curve.size != n:
        raise ValueError(
            f"{_OWNER}: {what} of {name!r} has {curve.size} values but x has {n}; "
            "give one value per step size (NaN where none was measured)."
        )
    return curve


def _positive(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (values > 0)


def draw(
    ax: Any,
    x: np.ndarray,
    errors: np.ndarray,
    *,
    order: Any = None,
    anchor: Any = None,
    true_errors: np.ndarray | None = None,
    plateau: Any = None,
    failed: Any = None,
    marks: Mapping[str, Any] | None = None,
    resolution: bool = False,
    label: str = "model",
    true_label: str = "true dynamics",
) -> None:
    """Draw one convergence panel on `ax` (see `convergence`)."""
    ok = _positive(errors)
    shown = [errors[ok]]
    ax.loglog(x[ok], errors[ok], "o-", color="tab:blue", ms=4, label=label)
    if true_errors is not None:
        good = _positive(true_errors)
        ax.loglog(x[good], true_errors[good], "s--", color="tab:green", ms=4,
                  alpha=0.8, label=true_label)  # fmt: skip
        shown.append(true_errors[good])
    if plateau is not None and np.isfinite(plateau) and plateau > 0:
        ax.axhline(plateau, color="tab:red", ls=":", label="plateau")
        shown.append(np.array([plateau]))
    values = np.concatenate(shown)
    if values.size:
        low, high = float(values.min()), float(values.max())
        ax.set_ylim(low / 5, high * 5)
    else:
        ax.set_ylim(1e-16, 1.0)
        ax.text(0.5, 0.5, "no finite errors", transform=ax.transAxes, ha="center")
    low, high = ax.get_ylim()
    if order is not None and np.isfinite(order) and ok.any():
        j = None if anchor is None else int(anchor)
        if j is None or not (0 <= j < ok.size and ok[j]):
            j = int(np.flatnonzero(ok)[0])
        ratio = x[j] / x if resolution else x / x[j]
        word = f"rate {order:.2f}" if resolution else f"slope {order:g}"
        ax.loglog(x, errors[j] * ratio**order, "k:", label=word)
    if true_errors is not None:
        zero = true_errors == 0
        if zero.any():
            ax.plot(x[zero], np.full(zero.sum(), low * 1.6), "v", color="tab:green",
                    label=f"{true_label} = 0")  # fmt: skip
    if failed is not None and len(failed):
        ax.plot(failed, np.full(len(failed), high / 2), "rx", label="NaN/inf")
    span = [x, np.asarray(list(failed or []), dtype=float)]
    for name, at in (marks or {}).items():
        if at is not None:
            ax.axvline(at, color="gray", ls="--", label=name)
            span.append(np.array([at], dtype=float))
    xs = np.concatenate(span)
    xs = xs[np.isfinite(xs) & (xs > 0)]
    ax.set_xlim(xs.min() / 1.5, xs.max() * 1.5)
    ax.set_ylim(low, high)
    ax.legend(fontsize=6)
