"""What the plots share: array checks, colour scales, colour bars, frame choice.

matplotlib is imported inside the functions that draw, never at import time.
"""

import os
from typing import Any

import numpy as np

ERROR_CMAP = "inferno"
"""Colour map of error panels (sequential, from 0)."""


def grid_figure(rows: int, cols: int, size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure with constrained layout (room for colour bars) and a 2-D axes array."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(rows, cols, squeeze=False)


def finish(fig: Any, path: str | os.PathLike | None, dpi: int) -> Any:
    """Write `fig` to `path` when one is given; return the figure."""
    if path is not None:
        from ._figure import save

        save(fig, path, dpi=dpi)
    return fig


def as_array(
    owner: str, name: str, value: Any, ndims: tuple[int, ...], shapes: str, fix: str
):
    """`value` as a float64 numpy array whose rank is one of `ndims`, else a
    ValueError naming the shapes expected (`shapes`, in words) and the `fix`."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{owner}: {name} must be a numeric array of shape {shapes}, got "
            f"{type(value).__name__} ({error})."
        ) from None
    if array.ndim not in ndims:
        raise ValueError(
            f"{owner}: {name} must have shape {shapes}, got shape {array.shape} "
            f"({array.ndim}-D). {fix}"
        )
    if 0 in array.shape:
        raise ValueError(
            f"{owner}: {name} is empty (shape {array.shape}); pass at least one point "
            "on every axis."
        )
    return array


def coordinates(owner: str, name: str, value: Any, n: int) -> np.ndarray | None:
    """A 1-D coordinate array of length `n` (or None), else a ValueError."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.shape != (n,):
        raise ValueError(
            f"{owner}: {name} must hold one value per point ({n}), got "
            f"{array.size}; pass the coordinates of that axis or leave it as None."
        )
    return array


def pick_frames(owner: str, frames: Any, n_t: int, max_frames: int) -> list[int]:
    """The frame indices: those given (checked), else up to `max_frames` evenly
    spaced ones including the first and the last."""
    if frames is None:
        count = max(1, min(int(max_frames), n_t))
        return sorted({int(round(k)) for k in np.linspace(0, n_t - 1, count)})
    picked = [int(k) for k in np.atleast_1d(np.asarray(frames))]
    bad = [k for k in picked if not -n_t <= k < n_t]
    if bad or not picked:
        raise ValueError(
            f"{owner}: frames must be indices into the {n_t} frames (0 .. {n_t - 1}), "
            f"got {list(np.atleast_1d(frames))}; e.g. frames=[0, {n_t - 1}]."
        )
    return [k % n_t for k in picked]


def limits(*arrays: np.ndarray) -> tuple[float, float]:
    """The finite range of the arrays; a flat or empty range is widened so that a
    colour scale can be drawn."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return 0.0, 1.0
    low = float(min(a.min() for a in finite))
    high = float(max(a.max() for a in finite))
    if high <= low:
        pad = abs(low) * 1e-3 or 1.0
        return low - pad, high + pad
    return low, high


def field_scale(low: float, high: float, cmap: str | None) -> tuple[str, float, float]:
    """Colour map and limits of a field: diverging and symmetric about 0 when the
    field clearly takes both signs, else sequential over its range."""
    if cmap is not None:
        return cmap, low, high
    if low < 0 < high and min(-low, high) >= 0.1 * max(-low, high):
        m = max(-low, high)
        return "RdBu_r", -m, m
    return "viridis", low, high


def error_scale(error: np.ndarray) -> tuple[float, float]:
    """Limits of an |error| panel: from 0 to its largest finite value."""
    finite = error[np.isfinite(error)]
    high = float(finite.max()) if finite.size else 0.0
    return 0.0, high if high > 0 else 1.0


def colorbar(fig: Any, ax: Any, mappable: Any) -> Any:
    """A slim colour bar beside `ax` with small tick labels."""
    bar = fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=7)
    bar.formatter.set_powerlimits((-3, 4))
    bar.update_ticks()
    bar.ax.yaxis.get_offset_text().set_fontsize(7)
    return bar


def image(ax: Any, field: np.ndarray, x: Any, y: Any, cmap: str, vmin, vmax) -> Any:
    """Draw a 2-D field `(X, Y)` with x to the right and y up (cell-centred extent
    from the coordinates, or the indices)."""
    nx, ny = field.shape
    extent = [*_edges(x, nx), *_edges(y, ny)]
    im = ax.imshow(
        field.T,
        origin="lower",
        extent=extent,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        aspect="equal" if x is not None and y is not None else "auto",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _edges(coords: np.ndarray | None, n: int) -> tuple[float, float]:
    """The outer edges of `n` cells centred on `coords` (uniform), or (-0.5, n-0.5)."""
    if coords is None or n < 2:
        if coords is not None:
            return float(coords[0]) - 0.5, float(coords[0]) + 0.5
        return -0.5, n - 0.5
    half = 0.5 * (coords[-1] - coords[0]) / (n - 1)
    return float(coords[0] - half), float(coords[-1] + half)


def channel_names(owner: str, names: Any, n: int, default: str) -> list[str]:
    """One name per channel: those given (checked), else `default` for one channel
    and `default[c]` for several."""
    if names is None:
        return [default] if n == 1 else [f"{default}[{c}]" for c in range(n)]
    if isinstance(names, str):
        names = [names]
    names = [str(s) for s in names]
    if len(names) != n:
        raise ValueError(
            f"{owner}: got {len(names)} channel names {names} for {n} channels; pass "
            "one name per channel."
        )
    return names
