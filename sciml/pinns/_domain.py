"""`Box`: the rectangular space(-time) domain of a PDE problem, and its point sets."""

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .. import _checks

METHODS = ("uniform", "lhs")


class Box(eqx.Module):
    r"""An axis-aligned box $\prod_j [a_j, b_j]$ with named axes (time, where there is
    time, is an axis like the others; by convention the first, named `"t"`).

    **Arguments:**

    - `lower`, `upper`: the corners $a$ and $b$, one number per axis, $a_j < b_j$.
    - `names`: one name per axis, e.g. `("t", "x")`.
    """

    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)

    def __init__(
        self, lower: Sequence[float], upper: Sequence[float], names: Sequence[str]
    ):
        lower = tuple(float(v) for v in lower)
        upper = tuple(float(v) for v in upper)
        names = tuple(str(n) for n in names)
        if not (len(lower) == len(upper) == len(names) >= 1):
            raise ValueError(
                f"Box needs one lower bound, upper bound and name per axis; got "
                f"{len(lower)}, {len(upper)} and {len(names)}."
            )
        if len(set(names)) != len(names):
            raise ValueError(f"Box axis names must differ, got {names}.")
        bad = [n for n, a, b in zip(names, lower, upper, strict=True) if not a < b]
        if bad:
            raise ValueError(f"Box needs lower < upper on every axis; not on {bad}.")
        self.lower, self.upper, self.names = lower, upper, names

    @property
    def ndim(self) -> int:
        """The number of axes $d$."""
        return len(self.names)

    @property
    def has_time(self) -> bool:
        """Whether an axis is named `"t"`."""
        return "t" in self.names

    def axis(self, name: str | int) -> int:
        """The index of an axis given by name or index (checked)."""
        if isinstance(name, int) and not isinstance(name, bool):
            if 0 <= name < self.ndim:
                return name
        elif name in self.names:
            return self.names.index(name)
        raise ValueError(
            f"This domain has no axis {name!r}; its axes are {self.names} "
            f"(indices 0 to {self.ndim - 1})."
        )

    def contains(
        self, x: Float[ArrayLike, "... d"], atol: float = 0.0
    ) -> Bool[Array, "..."]:
        """Whether each point lies in the closed box (to `atol`)."""
        lo, hi = jnp.asarray(self.lower), jnp.asarray(self.upper)
        return jnp.all((x >= lo - atol) & (x <= hi + atol), axis=-1)

    def check_points(self, x: Float[ArrayLike, "n d"], what: str = "points") -> None:
        """Raise a ValueError if `x` is not `(n, d)` or has points outside the box."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.ndim:
            raise ValueError(
                f"Expected {what} of shape (n, {self.ndim}) for the axes {self.names}, "
                f"got {x.shape}."
            )
        span = np.asarray(self.upper) - np.asarray(self.lower)
        outside = ~np.asarray(self.contains(x, atol=1e-6 * float(span.max())))
        if outside.any():
            i = int(np.argmax(outside))
            raise ValueError(
                f"{int(outside.sum())} of the {what} lie outside the domain "
                f"{self.lower} to {self.upper} (the first: {x[i].tolist()}). Fix: "
                f"sample them with the domain's own methods, or clip them."
            )

    def sample(
        self, n: int, *, key: Array, method: str = "uniform"
    ) -> Float[Array, "n d"]:
        """`n` points in the box: independent uniform draws, or a Latin hypercube
        (each axis split into `n` equal strata, one point in each, the strata of the
        axes paired by random permutations).

        **Arguments:**

        - `n`: the number of points.
        - `key`: a PRNG key (keyword-only).
        - `method`: `"uniform"` or `"lhs"`.
        """
        n = _checks.integer("n", n, minimum=1, owner="Box.sample")
        method = _checks.choice("method", method, METHODS, owner="Box.sample")
        lo, hi = jnp.asarray(self.lower), jnp.asarray(self.upper)
        return lo + (hi - lo) * unit_sample(n, self.ndim, key=key, method=method)

    def sample_face(
        self, axis: str | int, side: str, n: int, *, key: Array, method: str = "uniform"
    ) -> Float[Array, "n d"]:
        """`n` points on the face where `axis` is at its `side` (`"lower"` or
        `"upper"`) bound, spread over the other axes as `sample` spreads them."""
        j = self.axis(axis)
        side = _checks.choice("side", side, ("lower", "upper"), owner="Box.sample_face")
        x = self.sample(n, key=key, method=method)
        value = self.lower[j] if side == "lower" else self.upper[j]
        return x.at[:, j].set(value)

    def grid(self, shape: Sequence[int]) -> Float[np.ndarray, "n d"]:
        """The points of a uniform grid with `shape[j]` points along axis `j`,
        endpoints included, flattened in C order to `(prod(shape), d)` (float64
        numpy; cast for a float32 model)."""
        if len(shape) != self.ndim:
            raise ValueError(
                f"Expected one grid size per axis {self.names}, got {tuple(shape)}."
            )
        axes = [
            np.linspace(a, b, int(m))
            for a, b, m in zip(self.lower, self.upper, shape, strict=True)
        ]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.reshape(-1) for m in mesh], axis=-1)

    def volume(self) -> float:
        """The box's volume $\\prod_j (b_j - a_j)$."""
        return math.prod(b - a for a, b in zip(self.lower, self.upper, strict=True))


def unit_sample(n: int, d: int, *, key: Array, method: str) -> Float[Array, "n d"]:
    """`n` points in $[0, 1)^d$, uniform or by Latin hypercube."""
    if method == "uniform":
        return jax.random.uniform(key, (n, d))
    k_offset, k_perm = jax.random.split(key)
    offsets = jax.random.uniform(k_offset, (n, d))
    perms = jax.vmap(lambda k: jax.random.permutation(k, n))(
        jax.random.split(k_perm, d)
    )
    return (perms.T + offsets) / n
