r"""Boundary and initial conditions, each with its own points and pointwise residual.

A condition knows where it holds (`points`) and what must vanish there (`residual`);
the loss takes the mean square of its residual over its points, like the PDE's.
For a model $u_\theta$ and data $g$:

- `Dirichlet`: $u - g$ on chosen faces;
- `Neumann`: $\partial_n u - g$ (the outward normal derivative) on chosen faces;
- `Robin`: $\alpha u + \beta\,\partial_n u - g$ on chosen faces;
- `Periodic`: $u(x_a) - u(x_b)$ between the two faces of an axis (and, with
  `derivatives=1`, the same for $\partial u$ along that axis);
- `InitialValue`: $u(0, x) - u_0(x)$ on the face $t = t_0$;
- `InitialVelocity`: $\partial_t u(0, x) - v_0(x)$ there.
"""

import abc
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._derivatives import Derivatives
from ._domain import Box

Faces = tuple[tuple[str | int, str], ...]


def _data(value: Any, x: Array) -> Array:
    """A condition's data at `x`: a callable of the point, or a constant."""
    return value(x) if callable(value) else jnp.asarray(value)


def _spatial_faces(domain: Box, on: Any) -> Faces:
    if on is None:  # every face of every axis but time
        return tuple(
            (name, side)
            for name in domain.names
            if name != "t"
            for side in ("lower", "upper")
        )
    faces = tuple((axis, side) for axis, side in on)
    for axis, side in faces:
        domain.axis(axis)
        if side not in ("lower", "upper"):
            raise ValueError(f"A face's side is 'lower' or 'upper', got {side!r}.")
    return faces


class AbstractCondition(eqx.Module):
    """A condition of a PDE problem: where it holds and what vanishes there.

    **Arguments:** (of every condition)

    - `weight`: its weight in the loss (default 1).
    """

    weight: eqx.AbstractVar[float]

    @abc.abstractmethod
    def points(
        self, domain: Box, n: int, *, key: Array, method: str = "uniform"
    ) -> Float[Array, "m d"]:
        """Points where the condition holds; `n` per face it covers."""

    @abc.abstractmethod
    def residual(self, u: Callable, x: Float[Array, " d"], domain: Box) -> Array:
        """What must vanish at one point `x` for the field `u: (d,) -> ...`."""


class _OnFaces(AbstractCondition):
    """A condition on a set of faces, `n` points on each, with data `value`."""

    value: Any
    faces: Faces | None = eqx.field(static=True)
    weight: float = eqx.field(static=True)

    def __init__(
        self, value: Any = 0.0, on: Sequence | None = None, weight: float = 1.0
    ):
        self.value = value
        self.faces = None if on is None else tuple((a, s) for a, s in on)
        self.weight = float(weight)

    def _normal(self, u: Callable, x: Array, domain: Box) -> tuple[Derivatives, Array]:
        """The first-order derivatives of `u` at `x` and its outward normal
        derivative there."""
        sign, axis = self._face_of(domain, x)
        D = Derivatives(u, x, names=domain.names, order=1)
        return D, sign * jnp.take(D.grad(), axis, axis=-1)

    def points(self, domain, n, *, key, method="uniform"):
        """`n` points where the condition holds, drawn by `method`."""
        faces = _spatial_faces(domain, self.faces)
        keys = jax.random.split(key, len(faces))
        return jnp.concatenate(
            [
                domain.sample_face(axis, side, n, key=k, method=method)
                for (axis, side), k in zip(faces, keys, strict=True)
            ]
        )

    def _face_of(self, domain: Box, x: Array) -> tuple[Array, Array]:
        """The outward-normal sign and axis of the face each point lies on (the
        first match), for a point of `points`."""
        faces = _spatial_faces(domain, self.faces)
        signs, axes, hits = [], [], []
        for axis, side in faces:
            j = domain.axis(axis)
            bound = domain.lower[j] if side == "lower" else domain.upper[j]
            hits.append(x[j] == bound)
            signs.append(-1.0 if side == "lower" else 1.0)
            axes.append(j)
        first = jnp.argmax(jnp.stack(hits))
        return jnp.asarray(signs)[first], jnp.asarray(axes)[first]


class Dirichlet(_OnFaces):
    """$u = g$ on faces (default: every face of every axis but `"t"`).

    **Arguments:**

    - `value`: $g$, a function of the point `(d,)` or a constant.
    - `on`: faces as `(axis, side)` pairs, e.g. `[("x", "lower")]`; `None` for all
        spatial faces.
    - `weight`: the weight of its term in the loss.
    """

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        return u(x) - _data(self.value, x)


class Neumann(_OnFaces):
    r"""$\partial_n u = g$, the outward normal derivative, on faces.

    **Arguments:**

    - `value`: $g$, a function of the point or a constant.
    - `on`: faces as `(axis, side)` pairs; `None` for all spatial faces.
    - `weight`: the weight of its term in the loss.
    """

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        _, normal = self._normal(u, x, domain)
        return normal - _data(self.value, x)


class Robin(_OnFaces):
    r"""$\alpha u + \beta\,\partial_n u = g$ on faces ($\partial_n$: the outward
    normal derivative).

    **Arguments:**

    - `alpha`, `beta`: the coefficients.
    - `value`: $g$, a function of the point or a constant.
    - `on`: faces as `(axis, side)` pairs; `None` for all spatial faces.
    - `weight`: the weight of its term in the loss.
    """

    alpha: float = eqx.field(static=True)
    beta: float = eqx.field(static=True)

    def __init__(
        self,
        alpha: float,
        beta: float,
        value: Any = 0.0,
        on: Sequence | None = None,
        weight: float = 1.0,
    ):
        self.alpha, self.beta = float(alpha), float(beta)
        super().__init__(value, on, weight)

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        D, normal = self._normal(u, x, domain)
        return self.alpha * D.value + self.beta * normal - _data(self.value, x)


class Periodic(AbstractCondition):
    """$u$ (and, with `derivatives=1`, $\\partial_j u$) equal on the two faces of
    axis $j$.

    **Arguments:**

    - `axis`: the periodic axis.
    - `derivatives`: 0 (values only) or 1 (values and first derivatives).
    - `weight`: the weight of its term in the loss.
    """

    axis: str | int = eqx.field(static=True)
    derivatives: int = eqx.field(static=True)
    weight: float = eqx.field(static=True)

    def __init__(self, axis: str | int, derivatives: int = 0, weight: float = 1.0):
        if derivatives not in (0, 1):
            raise ValueError(f"Periodic takes derivatives=0 or 1, got {derivatives!r}.")
        self.axis, self.derivatives, self.weight = axis, derivatives, float(weight)

    def points(self, domain, n, *, key, method="uniform"):
        """`n` points where the condition holds, drawn by `method`."""
        return domain.sample_face(self.axis, "lower", n, key=key, method=method)

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        j = domain.axis(self.axis)
        other = x.at[j].set(domain.upper[j])
        out = [jnp.atleast_1d(u(x) - u(other))]
        if self.derivatives:
            da = Derivatives(u, x, names=domain.names, order=1).d(j)
            db = Derivatives(u, other, names=domain.names, order=1).d(j)
            out.append(jnp.atleast_1d(da - db))
        return jnp.concatenate(out)


class InitialValue(AbstractCondition):
    """$u(t_0, x) = u_0(x)$ on the face where `"t"` is at its lower bound.

    **Arguments:**

    - `value`: $u_0$, a function of the point `(d,)` (time included) or a constant.
    - `weight`: the weight of its term in the loss.
    """

    value: Any
    weight: float = eqx.field(static=True)

    def __init__(self, value: Any, weight: float = 1.0):
        self.value, self.weight = value, float(weight)

    def points(self, domain, n, *, key, method="uniform"):
        """`n` points where the condition holds, drawn by `method`."""
        return domain.sample_face("t", "lower", n, key=key, method=method)

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        return u(x) - _data(self.value, x)


class InitialVelocity(AbstractCondition):
    """$\\partial_t u(t_0, x) = v_0(x)$ on the face where `"t"` is at its lower bound.

    **Arguments:**

    - `value`: $v_0$, a function of the point or a constant.
    - `weight`: the weight of its term in the loss.
    """

    value: Any
    weight: float = eqx.field(static=True)

    def __init__(self, value: Any, weight: float = 1.0):
        self.value, self.weight = value, float(weight)

    def points(self, domain, n, *, key, method="uniform"):
        """`n` points where the condition holds, drawn by `method`."""
        return domain.sample_face("t", "lower", n, key=key, method=method)

    def residual(self, u, x, domain):
        """What vanishes at the point `x` when `u` meets the condition."""
        D = Derivatives(u, x, names=domain.names, order=1)
        return D.d("t") - _data(self.value, x)
