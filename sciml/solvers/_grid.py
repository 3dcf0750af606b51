"""The uniform grid every solver and initial condition is built on."""

from collections.abc import Sequence
from typing import Literal

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import _checks


def _per_axis(
    name: str, value: float | int | Sequence[float | int], n: int
) -> tuple[float, ...]:
    values = (value,) * n if not isinstance(value, Sequence) else tuple(value)
    if len(values) != n:
        raise ValueError(
            f"Grid: {name} needs one entry per axis ({n}), got {len(values)} ({value!r})."
        )
    return tuple(_checks.real(name, v, owner="Grid") for v in values)


class Grid(eqx.Module):
    r"""A uniform tensor-product grid on the box $\prod_d [a_d, b_d]$.

    With $n_d$ points on axis $d$ and spacing $h_d = (b_d - a_d)/n_d$ the points are
    the **cell centres** $x_i = a_d + (b_d - a_d)(i + \tfrac12)/n_d$ (finite volumes;
    PDEBench's convention) or the **nodes** $x_i = a_d + (b_d - a_d)\,i/n_d$ of a
    periodic grid (pseudo-spectral solvers; the node $b_d$ is the node $a_d$).

    A grid holds no arrays: it is static data, so a solver built on it recompiles
    only when the grid changes.

    **Arguments:**

    - `shape`: points per axis, e.g. `(1024,)` or `(128, 128)` (an int for 1-D).
    - `lower`, `upper`: the box, one number for every axis or one per axis
        (default the unit box).
    - `points`: `"cells"` (cell centres, default) or `"nodes"`.
    """

    shape: tuple[int, ...] = eqx.field(static=True)
    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)
    points: Literal["cells", "nodes"] = eqx.field(static=True)

    def __init__(
        self,
        shape: int | Sequence[int],
        lower: float | int | Sequence[float | int] = 0.0,
        upper: float | int | Sequence[float | int] = 1.0,
        *,
        points: Literal["cells", "nodes"] = "cells",
    ):
        self.shape = _checks.integers("shape", shape, owner="Grid")
        self.lower = _per_axis("lower", lower, len(self.shape))
        self.upper = _per_axis("upper", upper, len(self.shape))
        if any(b <= a for a, b in zip(self.lower, self.upper, strict=True)):
            raise ValueError(
                f"Grid: need lower < upper on every axis, got lower={self.lower}, "
                f"upper={self.upper}."
            )
        self.points = _checks.choice("points", points, ("cells", "nodes"), owner="Grid")

    @property
    def ndim(self) -> int:
        """The number of spatial axes."""
        return len(self.shape)

    @property
    def lengths(self) -> tuple[float, ...]:
        """The side $b_d - a_d$ of the box along each axis."""
        return tuple(b - a for a, b in zip(self.lower, self.upper, strict=True))

    @property
    def spacing(self) -> tuple[float, ...]:
        """The spacing $h_d = (b_d - a_d)/n_d$ along each axis."""
        return tuple(L / n for L, n in zip(self.lengths, self.shape, strict=True))

    @property
    def axes(self) -> tuple[np.ndarray, ...]:
        """The coordinates along each axis, float64 numpy arrays."""
        offset = 0.5 if self.points == "cells" else 0.0
        return tuple(
            a + (b - a) * (np.arange(n) + offset) / n
            for a, b, n in zip(self.lower, self.upper, self.shape, strict=True)
        )

    def coordinates(self, dtype=None) -> Float[Array, " d *grid"]:
        """Every point's coordinates, channel-first: `(ndim, *shape)`, in `dtype`
        (default: JAX's default float, float64 when x64 is on)."""
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return jnp.asarray(np.stack(mesh), dtype=dtype or jnp.result_type(float))

    def check_field(self, u, owner: str, channels: int | None = None) -> None:
        """Raise a `ValueError` unless `u` is one channel-first field `(C, *shape)`
        on this grid (with `channels` channels, when given)."""
        wanted = f"({'C' if channels is None else channels}, {', '.join(map(str, self.shape))})"
        shape = tuple(getattr(u, "shape", ()))
        if (
            len(shape) != self.ndim + 1
            or shape[1:] != self.shape
            or (channels is not None and shape[0] != channels)
        ):
            raise ValueError(
                f"{owner} expected one channel-first field of shape {wanted} on its "
                f"grid, got {shape}. Add a channel axis with u[None]; use jax.vmap "
                "for a batch."
            )
