r"""A problem's pointwise residual on a product grid, for a separable model
([`SeparablePIG`][sciml.pinns.SeparablePIG]), and the grid-collocation loss.

A problem's `residual(u, x)` is written for one point. On a product grid
$\prod_j \{a^{(j)}_1 \dots a^{(j)}_{n_j}\}$ it runs unchanged, once, on arrays over
the grid: `x` is the stacked mesh `(d, n_1, ..., n_d)` (so `x[0]` is the first
coordinate at every grid point and `self.exact(x)` broadcasts elementwise), and
`self.derivatives(u, x)` is a [`GridDerivatives`][sciml.pinns.GridDerivatives],
whose answers have the pointwise shape followed by the grid's axes. A residual that
is not elementwise in the point (it reduces over the components of a point without
naming the leading axis, asks a flux's divergence, or evaluates `u` elsewhere)
raises a `ValueError` naming the problem.
"""

import copy
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .. import _checks
from ._derivatives import Derivatives
from ._domain import Box
from ._loss import _pointwise, as_field
from ._problem import AbstractPDEProblem
from ._separable_pig import SeparablePIG, combine

__all__ = ["GridDerivatives", "GridPINNLoss", "grid_residual"]


class GridDerivatives(Derivatives):
    r"""The derivatives of a [`SeparablePIG`][sciml.pinns.SeparablePIG] on a
    product grid, with the interface of [`Derivatives`][sciml.pinns.Derivatives]
    (`.value`, `.d(*axes)`, `.grad(axes)`, `.laplacian(axes)`, `.x`, axis names).

    Each answer is an array over the grid: the shape `Derivatives` gives at one
    point, followed by the grid's axes, `(n_1, ..., n_d)` (for a scalar field) or
    `(k, n_1, ..., n_d)`; `grad` gives `(n_axes, n_1, ...)` or
    `(k, n_axes, n_1, ...)`. For $u = \sum_r \prod_j h^{(j)}_r(x_j)$,

    $$\partial_{j_1} \cdots \partial_{j_n} u = \sum_r \prod_j
    \partial^{m_j} h^{(j)}_r(x_j),$$

    $m_j$ the number of times axis $j$ appears: each factor's derivatives come from
    nested `jax.jvp` along its own axis ([`SeparablePIG.factors`][sciml.pinns.SeparablePIG.factors],
    $O(n_j)$ evaluations of axis $j$'s function), and a mixed partial is a product
    of per-axis first derivatives. They equal the pointwise engines' at every grid
    point (tested in float64 to 1e-10). `divergence(flux)` of a flux written for
    one point is not separable and raises.

    **Arguments:**

    - `model`: a `SeparablePIG`.
    - `axes`: one 1-D coordinate array per axis, `(n_1,), ..., (n_d,)`.
    - `names`: a name for each axis, e.g. `("t", "x", "y")`.
    - `order`: the highest order that will be asked (as in `Derivatives`).
    - `scalar`: return a scalar field's answers without the output axis (default:
        when the model has one output).
    """

    def __init__(
        self,
        model: SeparablePIG,
        axes: Sequence[Array],
        names: Sequence[str] | None = None,
        order: int | None = None,
        *,
        scalar: bool | None = None,
    ):
        if not isinstance(model, SeparablePIG):
            raise TypeError(
                f"GridDerivatives: the model must be a sciml.pinns.SeparablePIG (a "
                f"separable model), got {type(model).__name__}. Fix: use "
                f"Derivatives pointwise for other models."
            )
        axes = model.check_axes(axes, owner="GridDerivatives")
        d = model.in_dim
        if names is not None:
            names = tuple(names)
            if len(names) != d or not all(isinstance(n, str) for n in names):
                raise ValueError(
                    f"GridDerivatives: names must be {d} strings, one per axis, got "
                    f"{names!r}."
                )
            if len(set(names)) != d:
                raise ValueError(
                    f"GridDerivatives: names must be distinct, got {names!r}."
                )
        if order is not None and (
            not isinstance(order, int | np.integer)
            or isinstance(order, bool)
            or order < 1
        ):
            raise ValueError(
                f"GridDerivatives: order must be None or a positive int, got {order!r}."
            )
        if scalar is None:
            scalar = model.out_dim == 1
        elif scalar and model.out_dim != 1:
            raise ValueError(
                f"GridDerivatives: scalar=True needs a model with one output, got "
                f"out_dim={model.out_dim}."
            )
        self._model = model
        self._coords = axes
        self._x = jnp.stack(jnp.meshgrid(*axes, indexing="ij"))
        self._names = names
        self._engine = "grid"
        self._order = None if order is None else int(order)
        self._scalar = bool(scalar)
        self._shape = () if self._scalar else (model.out_dim,)
        self._cache: dict[Any, Any] = {}

    @property
    def x(self):
        """The grid's points, stacked: shape `(d, n_1, ..., n_d)`."""
        return self._x

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """$(n_1, \\dots, n_d)$."""
        return tuple(self._x.shape[1:])

    def with_order(self, order: int | None) -> "GridDerivatives":
        """The same grid derivatives (sharing their computed factors) with another
        `order`."""
        other = copy.copy(self)
        other._order = None if order is None else int(order)
        return other

    def _factor(self, j: int, m: int) -> Array:
        """$\\partial^m h^{(j)}$ on axis $j$'s coordinates, `(out_dim, rank, n_j)`."""
        have = self._cache.get(("factors", j))
        if have is None or len(have) <= m:
            # the order the residual may ask (2 unless order=1), in one nested pass
            top = max(m, 2 if self._order is None else min(self._order, 2))
            have = self._model.factors(j, self._coords[j], top)
            self._cache[("factors", j)] = have
        return have[m]

    def _term(self, counts: dict[int, int]) -> Array:
        key = ("term", tuple(sorted(counts.items())))
        if key not in self._cache:
            d = self.ndim
            factors = [self._factor(j, counts.get(j, 0)) for j in range(d)]
            bias = self._model.bias if not counts else None
            out = combine(factors, bias)
            self._cache[key] = out[0] if self._scalar else out
        return self._cache[key]

    @property
    def value(self):
        """$u$ on the grid: `(n_1, ...)` or `(k, n_1, ...)`."""
        return self._term({})

    def d(self, *axes):
        """The partial derivative along `axes` (names or indices) on the grid."""
        if not axes:
            raise ValueError(
                "GridDerivatives.d: give at least one axis, e.g. d('x') or "
                "d('x', 'x'); the value itself is .value."
            )
        idx = [self._axis(a) for a in axes]
        self._check_order(len(idx), f"d{tuple(axes)!r}")
        counts: dict[int, int] = {}
        for j in idx:
            counts[j] = counts.get(j, 0) + 1
        return self._term(counts)

    def grad(self, axes=None):
        """First derivatives on the grid: `(n_axes, n_1, ...)` or
        `(k, n_axes, n_1, ...)`."""
        sel = self._axes(axes, tuple(range(self.ndim)))
        return jnp.stack([self._term({j: 1}) for j in sel], axis=len(self._shape))

    def laplacian(self, axes=None):
        """$\\sum_{j \\in \\text{axes}} \\partial_j^2 u$ on the grid (default: every
        axis but one named `"t"`)."""
        lap = tuple(sorted(self._axes(axes, self._spatial())))
        self._check_order(2, "the Laplacian")
        return sum(self._term({j: 2}) for j in lap)

    def divergence(self, flux: Callable, axes=None):
        """Not available on a grid: a flux written for one point is not separable."""
        raise ValueError(
            "GridDerivatives.divergence: a flux written as a function of one point "
            "cannot be differentiated on a product grid (it is not separable). Fix: "
            "write the residual with d(...) and grad(...), or train the problem "
            "pointwise with PINNLoss."
        )


def _problem_name(problem: Any) -> str:
    return type(problem).__name__


def _check_problem(problem: Any, model: Any, owner: str) -> Box:
    if not isinstance(problem, AbstractPDEProblem):
        raise TypeError(
            f"{owner} needs an AbstractPDEProblem, got {type(problem).__name__}."
        )
    domain = problem.domain
    if not isinstance(domain, Box):
        raise ValueError(
            f"{owner}: {_problem_name(problem)}'s domain is a "
            f"{type(domain).__name__}, not a product box (sciml.pinns.Box); a "
            f"product grid needs a box. Fix: train it pointwise with PINNLoss."
        )
    if model is not None:
        if not isinstance(model, SeparablePIG):
            raise TypeError(
                f"{owner}: the model must be a sciml.pinns.SeparablePIG, got "
                f"{type(model).__name__}. Fix: use PINNLoss for other models."
            )
        if model.in_dim != domain.ndim:
            raise ValueError(
                f"{owner}: the model has {model.in_dim} axes, "
                f"{_problem_name(problem)}'s domain {domain.ndim} {domain.names}. "
                f"Fix: build the model with in_dim={domain.ndim}."
            )
    return domain


def grid_residual(
    problem: AbstractPDEProblem, model: SeparablePIG, axes: Sequence[Array]
) -> Array:
    r"""A problem's PDE residual on the product grid of `axes` for a separable
    model: the problem's own pointwise `residual(u, x)`, run once on arrays over the
    grid (module docstring). It equals `jax.vmap` of the pointwise residual over
    the grid's points (tested), at the cost of $O(\sum_j n_j)$ evaluations of the
    model's axis functions.

    **Arguments:**

    - `problem`: an [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem] on a
        `Box`.
    - `model`: a [`SeparablePIG`][sciml.pinns.SeparablePIG] with one axis per
        domain axis.
    - `axes`: one 1-D coordinate array per axis of the domain.

    **Returns:**

    The residual on the grid: `(n_1, ..., n_d)`, or `(m, n_1, ..., n_d)` for a
    residual with `m` components.

    **Raises:**

    `ValueError` naming the problem if its residual cannot run on a grid.
    """
    domain = _check_problem(problem, model, "grid_residual")
    axes = model.check_axes(axes, owner="grid_residual")
    n = getattr(problem, "n_outputs", 1)
    if model.out_dim != n:
        raise ValueError(
            f"grid_residual: {_problem_name(problem)} has {n} unknown(s), the model "
            f"{model.out_dim} output(s). Fix: build the model with out_dim={n}."
        )
    D = GridDerivatives(model, axes, names=domain.names, scalar=n == 1)
    mesh = D.x
    name = _problem_name(problem)
    how = (
        f"{name}.residual cannot run on a product grid: it must be elementwise in "
        f"the point (x is the stacked mesh of shape {tuple(mesh.shape)}, the "
        f"derivatives arrays over the grid)"
    )

    def derivatives(u, x, order=None):
        if x is not mesh:
            raise ValueError(
                f"{how}, but it asked derivatives at other points. Fix: train it "
                f"pointwise with PINNLoss."
            )
        return D.with_order(order)

    def field(y):
        if y is not mesh:
            raise ValueError(
                f"{how}, but it evaluated u at other points. Fix: train it "
                f"pointwise with PINNLoss."
            )
        return D.value

    # The problem as its residual sees it on the grid: a shallow copy whose
    # `derivatives` answers on the grid; every other attribute is the problem's.
    view = copy.copy(problem)
    object.__setattr__(view, "derivatives", derivatives)
    try:
        r = jnp.asarray(view.residual(field, mesh))
    except (TypeError, IndexError, AttributeError, ValueError) as err:
        if str(err).startswith(how):
            raise
        raise ValueError(f"{how}; it raised {type(err).__name__}: {err}") from err
    grid = D.grid_shape
    if r.shape != grid and (r.ndim != len(grid) + 1 or r.shape[1:] != grid):
        raise ValueError(
            f"{how}; it returned shape {r.shape} on a grid of shape {grid} (expected "
            f"{grid} or (m, *{grid})): it reduces over the point's components "
            f"without naming the leading axis (e.g. jnp.sum(g**2) for "
            f"jnp.sum(g**2, axis=0)). Fix: train it pointwise with PINNLoss."
        )
    return r


def _check_elementwise(problem: AbstractPDEProblem) -> None:
    """Raise `ValueError` naming the problem if its grid residual differs from its
    pointwise residual for a small random `SeparablePIG`, in float64 on a grid of
    2 x 3 x ... points (a residual that broadcasts but is not elementwise)."""
    domain = problem.domain
    d, n = domain.ndim, getattr(problem, "n_outputs", 1)
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        template = eqx.filter_eval_shape(
            SeparablePIG,
            d,
            n,
            3,
            2,
            2,
            lower=domain.lower,
            upper=domain.upper,
            sigma0=0.4,
            head_width=4,
            key=jax.random.key(0),
        )
        model = jax.tree.map(
            lambda a: jnp.asarray(rng.normal(0.0, 0.8, a.shape), jnp.float64),
            template,
        )
        sigma = tuple(jnp.asarray(rng.uniform(0.3, 0.7, s.shape)) for s in model.sigma)
        mu = tuple(jnp.asarray(rng.uniform(0.0, 2.0, m.shape)) for m in model.mu)
        model = eqx.tree_at(lambda m: (m.sigma, m.mu), model, (sigma, mu))
        axes = tuple(
            jnp.asarray(np.sort(rng.uniform(lo, hi, 2 + j)))
            for j, (lo, hi) in enumerate(zip(domain.lower, domain.upper, strict=True))
        )

        @jax.jit
        def both(model, axes):
            field = as_field(model, n)
            on_grid = grid_residual(problem, model, axes)
            mesh = jnp.stack(jnp.meshgrid(*axes, indexing="ij"))
            points = mesh.reshape(d, -1).T
            pointwise = jax.vmap(lambda x: problem.residual(field, x))(points)
            return on_grid, pointwise

        on_grid, pointwise = both(model, axes)
        grid = tuple(len(a) for a in axes)
        ref = np.moveaxis(
            np.asarray(pointwise).reshape(grid + pointwise.shape[1:]),
            tuple(range(d)),
            tuple(range(-d, 0)),
        )
        got = np.asarray(on_grid)
        scale = max(1.0, float(np.max(np.abs(ref))))
        if got.shape != ref.shape or not np.max(np.abs(got - ref)) <= 1e-8 * scale:
            raise ValueError(
                f"{_problem_name(problem)}.residual gives different values on a "
                f"product grid than pointwise (largest difference "
                f"{float(np.max(np.abs(got - ref))) if got.shape == ref.shape else 'shape'} "
                f"on a float64 check): it is not elementwise in the point. Fix: "
                f"train it pointwise with PINNLoss, or write its residual "
                f"elementwise (reductions over a point's components with axis=0)."
            )


class GridPINNLoss(eqx.Module):
    r"""The physics-informed loss of a problem for a
    [`SeparablePIG`][sciml.pinns.SeparablePIG], with the PDE residual on a random
    product grid (SPINN's collocation; Cho et al., NeurIPS 2023):
    `loss(model, batch, key) -> (scalar, metrics)`.

    $$\mathcal L = w_r \frac{1}{\prod_j n_j} \sum_{i_1 \dots i_d}
    \big|\mathcal R[u](a^{(1)}_{i_1}, \dots, a^{(d)}_{i_d})\big|^2
    + \sum_i w_i \overline{|r_i|^2},$$

    the residual from [`grid_residual`][sciml.pinns.grid_residual] on $n_j$ points
    per axis $j$, the conditions pointwise on their own points as in
    [`PINNLoss`][sciml.pinns.PINNLoss] (fixed weights; no balancing or causal
    weighting here). The grid is `batch["axes"]` where the batch has one (one 1-D
    array per axis, e.g. from `draw_axes`), else a fresh draw of `points` uniform
    coordinates per axis from `key` (new points every step under
    `sciml.training.fit`, as SPINN trains). `batch["conditions"]` holds one point
    set per condition (as [`Collocation`][sciml.pinns.Collocation] makes them); a
    `"interior"` entry is not used. At construction the problem's residual is
    checked to give the same values on a grid as pointwise (float64, a few points;
    `check=False` skips it).

    **Arguments:**

    - `problem`: an [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem] on a
        `Box`.
    - `points`: coordinates per axis $n_j$, one number or one per axis (e.g. 16
        for the $16^3 = 4096$ points of the PIG paper's Klein-Gordon).
    - `residual_weight`: $w_r$ (default: the problem's).
    - `check`: run the grid-against-pointwise check.

    Metrics: `residual` and each condition's mean squared residual, named as
    `PINNLoss` names them.
    """

    problem: AbstractPDEProblem
    points: tuple[int, ...] = eqx.field(static=True)
    residual_weight: float = eqx.field(static=True)

    def __init__(
        self,
        problem: AbstractPDEProblem,
        points: int | Sequence[int] = 16,
        residual_weight: float | None = None,
        *,
        check: bool = True,
    ):
        owner = "GridPINNLoss"
        domain = _check_problem(problem, None, owner)
        d = domain.ndim
        if isinstance(points, Sequence) and not isinstance(points, str):
            if len(points) != d:
                raise ValueError(
                    f"{owner}: points must be one number or one per axis "
                    f"{domain.names}, got {tuple(points)!r}."
                )
            counts = tuple(points)
        else:
            counts = (points,) * d
        self.problem = problem
        self.points = tuple(
            _checks.integer("points", c, minimum=1, owner=owner) for c in counts
        )
        if residual_weight is None:
            residual_weight = problem.residual_weight
        self.residual_weight = _checks.real(
            "residual_weight", residual_weight, minimum=0.0, owner=owner
        )
        if _checks.boolean("check", check, owner=owner):
            _check_elementwise(problem)

    def draw_axes(self, *, key: Array) -> tuple[Array, ...]:
        """`points[j]` uniform coordinates on each axis $j$ of the domain, from
        `key`.

        **Arguments:**

        - `key`: a PRNG key (keyword-only).

        **Returns:**

        One 1-D array per axis.
        """
        domain = self.problem.domain
        keys = jax.random.split(key, domain.ndim)
        return tuple(
            jax.random.uniform(k, (n,), minval=lo, maxval=hi)
            for k, n, lo, hi in zip(
                keys, self.points, domain.lower, domain.upper, strict=True
            )
        )

    def terms(
        self, model: SeparablePIG, batch: dict[str, Any], *, key: Any = None
    ) -> tuple[list, dict]:
        """The unweighted terms (residual first, then each condition's) and the
        metrics; the grid is drawn from `key` where the batch has no `"axes"`."""
        problem = self.problem
        _check_problem(problem, model, "GridPINNLoss")
        axes = batch.get("axes") if isinstance(batch, dict) else None
        if axes is None:
            if key is None:
                raise ValueError(
                    "GridPINNLoss: the batch has no 'axes' and no key was given to "
                    "draw them. Fix: pass a PRNG key (sciml.training.fit does), or "
                    "put batch['axes'] = loss.draw_axes(key=...)."
                )
            axes = self.draw_axes(key=key)
        r = grid_residual(problem, model, axes)
        grid = tuple(len(a) for a in axes)
        squares = r**2 if r.shape == grid else jnp.sum(r**2, axis=0)
        residual = jnp.mean(squares)
        terms, metrics = [residual], {"residual": residual}
        conditions = batch["conditions"]
        if len(conditions) != len(problem.conditions):
            raise ValueError(
                f"The batch has {len(conditions)} condition point sets; the problem "
                f"has {len(problem.conditions)} conditions. Fix: make the batch with "
                f"sciml.pinns.Collocation(problem, ...)."
            )
        field = as_field(model, getattr(problem, "n_outputs", 1))
        for i, (cond, points) in enumerate(
            zip(problem.conditions, conditions, strict=True)
        ):
            name = type(cond).__name__.lower()
            term = jnp.mean(
                _pointwise(
                    lambda x, c=cond: c.residual(field, x, problem.domain), points, name
                )
            )
            metrics[f"{name}_{i}"] = term
            terms.append(term)
        return terms, metrics

    def __call__(self, model: SeparablePIG, batch: dict[str, Any], key: Any = None):
        terms, metrics = self.terms(model, batch, key=key)
        weights = [self.residual_weight, *(c.weight for c in self.problem.conditions)]
        return sum(w * t for w, t in zip(weights, terms, strict=True)), metrics
