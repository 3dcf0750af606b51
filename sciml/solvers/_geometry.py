r"""The geometries of MT-DeepONet's Darcy flow (spec deeponet.md §5.2), as binary masks
of an $n \times n$ cell-centred grid of the box $[-1, 1]^2$.

A cell belongs to the geometry $\Omega_g$ when its centre does ([D]); the mask is
what `sciml.solvers.Darcy(..., mask=...)` solves on and what the network's branch
sees as its second channel. Every shape is centred in the box and has the same
area $|\Omega_g| = 1.2$ (30 % of the box) [D], so that the source and target tasks
have comparable numbers of unknowns (at $n = 100$: 2 916 to 3 124 cells of the
10 000, see `geometry_mask`):

- `"square"`: $|x|, |y| \le s/2$, side $s = \sqrt{1.2} \approx 1.095$;
- `"circle"`: $x^2 + y^2 \le R^2$, $R = \sqrt{1.2/\pi} \approx 0.618$;
- `"triangle"`: the equilateral triangle of side $t = \sqrt{4.8/\sqrt3} \approx
  1.665$, base horizontal, apex up, its bounding box centred ($|y| \le H/2$,
  $H = \tfrac{\sqrt3}{2} t \approx 1.442$; a margin of 0.168, 8 cells at $n = 100$,
  to the box at the base corners);
- `"square_cross"` (the target task; the sheet leaves the shape [U], this one is
  [D]): the square of side $S = \sqrt{1.5} \approx 1.225$ with a centred plus sign
  removed, two bars of width $S/5$ and length $3S/5$ crossing at the centre, so a
  frame of width $S/5$ is left between the tips of the cross and the sides. The
  cross covers $S^2/5$, leaving $0.8\,S^2 = 1.2$. The domain is connected, with
  one (cross-shaped) hole.

Every shape keeps a margin of at least 0.16 to the box's boundary (the triangle's
base corners; the others 0.38 or more).
"""

import math
from collections.abc import Callable

import numpy as np

from .. import _checks

__all__ = ["GEOMETRIES", "geometry_mask"]

AREA = 1.2
"""The area every geometry has, in the units of the box $[-1, 1]^2$ ([D])."""

GEOMETRIES = ("square", "circle", "triangle", "square_cross")
"""The geometry names `geometry_mask` accepts: the three source tasks of MT-DeepONet
(square, circle, equilateral triangle) and the target (a square with a cross cut out)."""

_SQUARE_SIDE = math.sqrt(AREA)
_RADIUS = math.sqrt(AREA / math.pi)
_TRIANGLE_SIDE = math.sqrt(4.0 * AREA / math.sqrt(3.0))
_TRIANGLE_HEIGHT = math.sqrt(3.0) / 2.0 * _TRIANGLE_SIDE
_CROSS_SQUARE = math.sqrt(AREA / 0.8)  # the cross removes a fifth of the square
_CROSS_HALF_WIDTH = _CROSS_SQUARE / 10.0  # bars of width S/5
_CROSS_HALF_LENGTH = 3.0 * _CROSS_SQUARE / 10.0  # bars of length 3S/5


def _square(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    half = _SQUARE_SIDE / 2.0
    return (np.abs(x) <= half) & (np.abs(y) <= half)


def _circle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 + y**2 <= _RADIUS**2


def _triangle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    half = _TRIANGLE_HEIGHT / 2.0
    # the half-width shrinks linearly from t/2 at the base to 0 at the apex
    half_width = 0.5 * _TRIANGLE_SIDE * (half - y) / _TRIANGLE_HEIGHT
    return (y >= -half) & (y <= half) & (np.abs(x) <= half_width)


def _square_cross(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    half = _CROSS_SQUARE / 2.0
    square = (np.abs(x) <= half) & (np.abs(y) <= half)
    w, length = _CROSS_HALF_WIDTH, _CROSS_HALF_LENGTH
    bar_x = (np.abs(x) < length) & (np.abs(y) < w)
    bar_y = (np.abs(x) < w) & (np.abs(y) < length)
    return square & ~(bar_x | bar_y)


_INSIDE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "square": _square,
    "circle": _circle,
    "triangle": _triangle,
    "square_cross": _square_cross,
}


def geometry_mask(name: str, n: int) -> np.ndarray:
    r"""The mask $M_g$ of geometry `name` on the $n \times n$ cell-centred grid of
    $[-1, 1]^2$ (the grid of `Grid((n, n), -1.0, 1.0)`): `True` in the cells whose
    centre lies in $\Omega_g$ (module docstring; MT-DeepONet, Kumar et al. 2024,
    spec deeponet.md §5.2).

    At $n = 100$ the masks hold 2 916 (square, 54 x 54), 3 000 (circle), 2 996
    (triangle) and 3 124 (square_cross) cells; each geometry's area is 1.2, i.e.
    3 000 cells of $h^2 = 4\cdot10^{-4}$ (the staircase of cell centres
    rounds it).

    **Arguments:**

    - `name`: one of `GEOMETRIES` (`"square"`, `"circle"`, `"triangle"`,
        `"square_cross"`).
    - `n`: cells per axis ($n \ge 2$).

    **Returns:**

    A numpy bool array `(n, n)`, axis 0 = x, axis 1 = y (the grid's order).
    """
    if not isinstance(name, str) or name not in _INSIDE:
        raise ValueError(
            f"geometry_mask: unknown geometry {name!r}; choose one of "
            f"{list(GEOMETRIES)}, e.g. geometry_mask('circle', 100)."
        )
    n = _checks.integer("n", n, minimum=2, owner="geometry_mask")
    centres = -1.0 + 2.0 * (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(centres, centres, indexing="ij")
    return _INSIDE[name](x, y)
