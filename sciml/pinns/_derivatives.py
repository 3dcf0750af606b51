"""Derivatives of a pointwise function at one point, by a choice of autodiff engine."""

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import jet as _jet

from ._forward_laplacian import UnsupportedPrimitive, second_order

__all__ = ["AUTO", "ENGINES", "Derivatives"]

ENGINES = ("auto", "reverse", "forward_over_reverse", "forward", "taylor", "jet")

# What engine="auto" runs per operator, measured by `sciml bench pig-derivatives` (the
# tables are in docs/pinns.md): the one collapsed forward pass ("taylor"), which serves
# the value, every first derivative and the second-order channels of a residual at
# once. A `Derivatives` built with `order=1` (first derivatives only) instead takes
# them from one reverse pass where `u` has fewer outputs than `x` has axes; see
# `Derivatives._pick`.
AUTO = {
    "value": "taylor",
    "first": "taylor",
    "grad": "taylor",
    "second": "taylor",
    "laplacian": "taylor",
    "higher": "taylor",
    "divergence": "taylor",
}

_warned: set[str] = set()


def _warn(err: UnsupportedPrimitive) -> None:
    if err.primitive not in _warned:
        _warned.add(err.primitive)
        warnings.warn(
            f"Derivatives: {err}; falling back to engine='forward' for the operators "
            "that need it.",
            stacklevel=5,
        )


def _unit(x, i: int):
    e = np.zeros(x.shape, dtype=np.dtype(x.dtype))
    e[i] = 1.0
    return jnp.asarray(e)


def _units(x, axes: Sequence[int]):
    e = np.zeros((len(axes), *x.shape), dtype=np.dtype(x.dtype))
    for k, i in enumerate(axes):
        e[k, i] = 1.0
    return jnp.asarray(e)


def _jvp(f: Callable, x, v):
    return jax.jvp(f, (x,), (v,))[1]


def _nested_forward(u: Callable, x, axes: Sequence[int]):
    """$\\partial_{a_n} \\cdots \\partial_{a_1} u(x)$ by nested `jax.jvp`."""
    f = u
    for a in axes:
        f = functools.partial(lambda f, e, y: _jvp(f, y, e), f, _unit(x, a))
    return f(x)


def _jet_pure(u: Callable, x, axis: int, order: int):
    """The `order`-th derivative along one axis by Taylor mode (`jax.experimental.jet`)."""
    e = _unit(x, axis)
    z = jnp.zeros_like(x)
    _, series = _jet.jet(u, (x,), ((e,) + (z,) * (order - 1),))
    return series[order - 1]


def _jet_dir2(u: Callable, x, v):
    _, (_, second) = _jet.jet(u, (x,), ((v, jnp.zeros_like(x)),))
    return second


class Derivatives:
    r"""Derivatives of a pointwise function $u: \mathbb{R}^d \to \mathbb{R}$ (or
    $\mathbb{R}^k$) at one point $x$, computed by a chosen autodiff engine.

    Build one inside a pointwise residual and `jax.vmap` the residual over points; it
    works under `jax.jit` and `jax.grad` with respect to anything `u` closes over (a
    model's parameters), with every engine.

    ```python
    def residual(u, x):  # Klein-Gordon, x = (t, x, y)
        D = Derivatives(u, x, names=("t", "x", "y"))
        return D.d("t", "t") - D.laplacian() + D.value**2 - f(x)
    ```

    **Arguments:**

    - `u`: a function of one point `x` of shape `(d,)` returning `()` or `(k,)`
      (e.g. `lambda y: model(y)[0]`, or the model itself).
    - `x`: the point, shape `(d,)`, a floating dtype.
    - `names`: a name for each axis, e.g. `("t", "x", "y")`; axes may then be given
      by name or index. Without names, by index only.
    - `engine`: how the derivatives are computed (below): `"auto"` (default),
      `"reverse"`, `"forward_over_reverse"`, `"forward"`, `"taylor"`, `"jet"`.
    - `order`: the highest order of derivative that will be asked (optional): with
      `order=1`, `"auto"` computes first derivatives by reverse mode (below), and
      asking a second derivative raises `ValueError`. `None` (default): any order.

    **Engines.** With $e_j$ the $j$-th unit vector:

    - `"reverse"`: nested reverse mode, the reference the others are timed against.
      $\nabla u$ by `jax.jacrev`; $\partial_i\partial_j u$ as component $j$ of the
      reverse-mode gradient of $\partial_i u$; the Laplacian as
      $\sum_j \partial_j(\partial_j u)$, one nested pass per axis; a vector `u`
      component by component (XLA runs `jacrev(jacrev(u))` through $k$ outputs
      several times slower than $k$ scalar passes).
    - `"forward_over_reverse"`: `jax.jvp` of the reverse-mode gradient,
      $H e_j = \frac{d}{d\epsilon}\nabla u(x + \epsilon e_j)$; the Laplacian is
      $\sum_j e_j^\top H e_j$, one `jvp` per axis.
    - `"forward"`: forward over forward, $\partial_i\partial_j u$ as
      `jvp(jvp(u, e_i), e_j)`; $\nabla u$ by `jax.jacfwd`; the Laplacian as the sum
      over its axes of `jvp(jvp(u, e_j), e_j)`.
    - `"taylor"`: a collapsed second-order forward pass written here
      (`sciml.pinns._forward_laplacian`, after the forward Laplacian of Li et al.,
      Nat. Mach. Intell. 2024): one sweep through `u`'s jaxpr carries the value,
      the $d$ first derivatives and second-order channels (each
      $\partial_i\partial_j u$, and the Laplacian *collapsed*: one array per
      intermediate, $g'(v)\,\Delta v + g''(v)\sum_j (\partial_j v)^2$ through a
      non-linearity $g$, instead of one per axis). Known zeros and derivatives
      that are non-zero in one slice only (the input's unit vectors broadcast
      against a Gaussian mixture's centres) are kept symbolic. The value, the
      gradient, the second derivatives and the Laplacian of one `Derivatives` all
      come from that one pass; under `jax.jit`, XLA drops what is not read (outside
      `jit` every channel is computed, so time it under `jit`). `divergence` runs
      the first-order part of the pass on the flux; orders 3 and 4 along one axis
      use Taylor mode (`jax.experimental.jet`), mixed higher orders nested forward
      mode. If `u` uses a primitive the pass has no rule for, that operator falls
      back to `"forward"` with a warning (once per primitive;
      `sciml.pinns._forward_laplacian.supported_primitives()` lists the rules).
    - `"jet"`: `jax.experimental.jet` along unit vectors, summed for the
      Laplacian; a mixed $\partial_i\partial_j u$ by polarisation,
      $\frac14(D^2_{e_i+e_j} - D^2_{e_i-e_j})u$.
    - `"auto"` (default): `"taylor"` for every operator (with its fallback): one
      shared pass serves a whole residual, and it is the fastest engine measured
      for every second-order operator, residual and training step. With
      `order=1` (first derivatives only) and a `u` with fewer outputs than `x` has
      axes, `"auto"` takes the first derivatives from one reverse pass
      (`jax.jacrev`: all $d$ of them at once, where a forward pass carries one
      tangent per axis) and the value from `u` itself: a first-order residual and
      the training step through it then cost what reverse mode's cost. Without
      `order=1`, a `Derivatives` cannot know whether a second derivative will be
      asked after the first ones, and one pass is the safe choice (a reverse-mode
      gradient followed by the forward pass halved the speed of the training step
      through nonlinear diffusion, which asks `grad` first, on a 2+1-D MLP).

    **Measured**: `sciml bench pig-derivatives` times every engine against nested
    reverse mode on tanh MLPs and a PIG-like Gaussian feature model, for the
    operators, the PIG problems' residuals and the training step through each; the
    tables are in the `sciml.pinns` docs page (docs/pinns.md). On an MLP the
    forward Laplacian saves matmuls, not orders of magnitude: for a scalar MLP and
    a Laplacian in $n$ axes, $n + 2$ matmuls per hidden layer (the value, $n$
    tangents, one collapsed channel) against about $2 + 2n$ for nested reverse
    mode, a ratio below 2 (1.5 in 2-D), so the scalar MLP's Laplacian and the
    residuals built on it stay below 2x; the large factors come from the training
    step, where reverse mode differentiates its own nested reverse passes. A
    first-order residual cannot beat one reverse pass (about 1x with `order=1`).
    All engines agree to 1e-10 in float64 (tested, and checked by the benchmark on
    every row).

    **Operators.** `value`, `d(*axes)`, `grad(axes)`, `laplacian(axes)`,
    `divergence(flux, axes)`; each result is computed once per `Derivatives` and
    cached. Axes are names or indices; an unknown one raises `ValueError` naming
    the axes that exist.
    """

    def __init__(
        self,
        u: Callable,
        x: Any,
        names: Sequence[str] | None = None,
        engine: str = "auto",
        order: int | None = None,
    ):
        if not callable(u):
            raise TypeError(
                f"Derivatives: u must be a function of one point, got "
                f"{type(u).__name__}; e.g. Derivatives(lambda y: model(y)[0], x)."
            )
        x = jnp.asarray(x)
        if x.ndim != 1:
            raise ValueError(
                f"Derivatives: x must be one point of shape (d,), got shape "
                f"{x.shape}; build Derivatives inside a pointwise function and "
                "jax.vmap it over points."
            )
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise ValueError(
                f"Derivatives: x must have a floating dtype, got {x.dtype}; e.g. "
                "x.astype(jnp.float32)."
            )
        d = x.shape[0]
        if names is not None:
            if isinstance(names, str):
                names = (names,) if d == 1 else tuple(names)
            names = tuple(names)
            if len(names) != d or not all(isinstance(n, str) for n in names):
                raise ValueError(
                    f"Derivatives: names must be {d} strings, one per axis of x "
                    f"(shape {x.shape}), got {names!r}."
                )
            if len(set(names)) != d:
                raise ValueError(f"Derivatives: names must be distinct, got {names!r}.")
        if engine not in ENGINES:
            raise ValueError(
                f"Derivatives: engine must be one of {ENGINES}, got {engine!r}."
            )
        if order is not None and (
            not isinstance(order, int | np.integer)
            or isinstance(order, bool)
            or order < 1
        ):
            raise ValueError(
                f"Derivatives: order must be None or a positive int (the highest "
                f"order that will be asked, e.g. 1), got {order!r}."
            )
        closed, shape = jax.make_jaxpr(u, return_shape=True)(
            jax.ShapeDtypeStruct(x.shape, x.dtype)
        )
        if not isinstance(shape, jax.ShapeDtypeStruct) or len(shape.shape) > 1:
            got = shape.shape if isinstance(shape, jax.ShapeDtypeStruct) else shape
            raise ValueError(
                "Derivatives: u must return one array of shape () or (k,) at one "
                f"point, got {got}; e.g. return model(x)[0] for a scalar, or a "
                "flat vector of the k components."
            )
        if not jnp.issubdtype(shape.dtype, jnp.floating):
            raise ValueError(
                f"Derivatives: u must return a floating array, got {shape.dtype}."
            )
        self._u = u
        self._x = x
        self._names = names
        self._engine = engine
        self._order = None if order is None else int(order)
        self._jaxpr = closed
        self._shape = tuple(shape.shape)
        self._cache: dict[Any, Any] = {}

    # --- description --------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...] | None:
        """The axis names, or `None` where the axes are indices only."""
        return self._names

    @property
    def engine(self) -> str:
        """The engine asked for (`"auto"` picks one per operator; see `AUTO`)."""
        return self._engine

    @property
    def order(self) -> int | None:
        """The highest order of derivative this `Derivatives` computes, or `None`
        for any."""
        return self._order

    def _check_order(self, n: int, what: str) -> None:
        if self._order is not None and n > self._order:
            raise ValueError(
                f"Derivatives: {what} is a derivative of order {n}, but this "
                f"Derivatives was built with order={self._order}; build it with "
                f"order={n} (or None)."
            )

    @property
    def ndim(self) -> int:
        """$d$, the number of axes of `x`."""
        return self._x.shape[0]

    @property
    def x(self):
        """The point, shape `(d,)`."""
        return self._x

    # --- axes ---------------------------------------------------------------------

    def _available(self) -> str:
        d = self.ndim
        if self._names is None:
            return (
                f"this problem has no axis names; its axes are the indices 0..{d - 1}"
            )
        return f"the axes are {self._names} (or the indices 0..{d - 1})"

    def _axis(self, a) -> int:
        if isinstance(a, str):
            if self._names is None or a not in self._names:
                raise ValueError(
                    f"Derivatives: no axis named {a!r}; {self._available()}."
                )
            return self._names.index(a)
        if isinstance(a, int | np.integer) and not isinstance(a, bool | np.bool_):
            if not 0 <= a < self.ndim:
                raise ValueError(
                    f"Derivatives: axis index {a} out of range; {self._available()}."
                )
            return int(a)
        raise TypeError(
            f"Derivatives: an axis is a name or an index, got {type(a).__name__} "
            f"{a!r}; {self._available()}."
        )

    def _axes(self, axes, default: tuple[int, ...]) -> tuple[int, ...]:
        if axes is None:
            return default
        if isinstance(axes, str | int | np.integer):
            axes = (axes,)
        out = tuple(self._axis(a) for a in axes)
        if not out:
            raise ValueError("Derivatives: axes must name at least one axis.")
        if len(set(out)) != len(out):
            raise ValueError(f"Derivatives: axes repeat an axis: {tuple(axes)!r}.")
        return out

    def _spatial(self) -> tuple[int, ...]:
        """All axes but one named "t"."""
        axes = tuple(
            i for i in range(self.ndim) if self._names is None or self._names[i] != "t"
        )
        if not axes:
            raise ValueError(
                "Derivatives: the only axis is 't'; give the axes explicitly, e.g. "
                "laplacian(axes=('t',))."
            )
        return axes

    def _pick(self, op: str) -> str:
        """The engine that computes operator `op` (for `"auto"`: `AUTO`, and with
        `order=1` reverse mode for the first derivatives of a `u` with fewer outputs
        than axes, and `u(x)` itself for the value)."""
        if self._engine != "auto":
            return self._engine
        if self._order == 1 and op in ("value", "first", "grad"):
            if self._ran_taylor():  # a vector u's forward pass carries them all
                return "taylor"
            outputs = self._shape[0] if self._shape else 1
            return "reverse" if op == "value" or outputs < self.ndim else "taylor"
        return AUTO[op]

    def _ran_taylor(self) -> bool:
        """Whether a "taylor" pass of this `Derivatives` has been traced (and worked)."""
        return any(k[0] == "taylor" and v is not None for k, v in self._cache.items())

    def _cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # --- taylor: one collapsed pass -------------------------------------------------

    def _taylor(self, lap: tuple[int, ...]):
        """Value, first derivatives and second-order channels from one forward pass:
        every d(i, j), i <= j, and the Laplacian over `lap` (None where it failed)."""

        def run():
            d = self.ndim
            pairs = [(i, j) for i in range(d) for j in range(i, d)]
            channels = [((i, j, 1.0),) for i, j in pairs]
            if len(lap) > 1:
                channels.append(tuple((j, j, 1.0) for j in lap))
            try:
                value, first, second = second_order(
                    self._u, self._x, channels, jaxpr=self._jaxpr
                )
            except UnsupportedPrimitive as err:
                _warn(err)
                return None
            out = {("value",): value}
            for i in range(d):
                out[(i,)] = first[i]
            for (i, j), s in zip(pairs, second, strict=False):
                out[(i, j)] = s
            out[("lap", lap)] = second[-1] if len(lap) > 1 else out[(lap[0], lap[0])]
            return out

        # The default Laplacian axes share the full pass; other axes get their own.
        return self._cached(("taylor", lap), run)

    def _taylor_get(self, key):
        full = self._taylor(self._spatial_or_all())
        return None if full is None else full.get(key)

    def _spatial_or_all(self) -> tuple[int, ...]:
        try:
            return self._spatial()
        except ValueError:
            return tuple(range(self.ndim))

    # --- operators ----------------------------------------------------------------

    @property
    def value(self):
        """$u(x)$: shape `()` or `(k,)`."""

        def run():
            if self._pick("value") == "taylor":
                v = self._taylor_get(("value",))
                if v is not None:
                    return v
            return self._u(self._x)

        return self._cached(("value",), run)

    def d(self, *axes):
        r"""The partial derivative $\partial_{a_1} \cdots \partial_{a_n} u(x)$ along
        `axes` (names or indices, any order; mixed partials commute).

        **Arguments:**

        - `*axes`: one axis per order, e.g. `d("t")`, `d("x", "x")`, `d("t", "x")`,
          `d(1, 1)`, `d("x", "x", "x", "x")`.

        **Returns:**

        An array of `u`'s output shape, `()` or `(k,)`.
        """
        if not axes:
            raise ValueError(
                "Derivatives.d: give at least one axis, e.g. d('x') or d('x', 'x'); "
                "the value itself is .value."
            )
        idx = tuple(sorted(self._axis(a) for a in axes))
        self._check_order(len(idx), f"d{tuple(axes)!r}")
        if len(idx) == 1:
            return self._first(idx[0])
        if len(idx) == 2:
            return self._second(*idx)
        return self._higher(idx)

    def _first(self, i: int):
        engine = self._pick("first")

        def run():
            if engine in ("reverse", "forward_over_reverse"):
                return self._rev_jac(())[..., i]
            if engine == "taylor":
                v = self._taylor_get((i,))
                if v is not None:
                    return v
            if engine == "jet":
                _, (first,) = _jet.jet(self._u, (self._x,), ((_unit(self._x, i),),))
                return first
            return _jvp(self._u, self._x, _unit(self._x, i))

        return self._cached(("d", engine, i), run)

    def _components(self, fn: Callable):
        """`fn(u)` for a scalar `u`; for a vector `u`, `fn` of each component, stacked
        (nested reverse mode through all k outputs at once is several times slower
        under XLA than k scalar passes, so the peer is given the faster form)."""
        if self._shape == ():
            return fn(self._u)
        comps = [
            fn(functools.partial(lambda c, y: self._u(y)[c], c))
            for c in range(self._shape[0])
        ]
        return jnp.stack(comps)

    def _rev_jac(self, prefix: tuple[int, ...]):
        """`jacrev` of $\\partial_{prefix} u$: shape `(..., d)`."""

        def nested(u):
            f = u
            for a in prefix:
                f = functools.partial(lambda f, a, y: jax.jacrev(f)(y)[..., a], f, a)
            return jax.jacrev(f)(self._x)

        def run():
            return nested(self._u) if not prefix else self._components(nested)

        return self._cached(("rev_jac", prefix), run)

    def _fwd_rev_col(self, j: int):
        """`jvp` of the reverse-mode gradient along $e_j$: column $j$ of the Hessian."""

        def run():
            return _jvp(jax.jacrev(self._u), self._x, _unit(self._x, j))

        return self._cached(("fwd_rev_col", j), run)

    def _second(self, i: int, j: int):
        engine = self._pick("second")

        def run():
            if engine == "reverse":
                return self._rev_jac((i,))[..., j]
            if engine == "forward_over_reverse":
                return self._fwd_rev_col(j)[..., i]
            if engine == "taylor":
                v = self._taylor_get((i, j))
                if v is not None:
                    return v
            if engine == "jet":
                x = self._x
                if i == j:
                    return _jet_pure(self._u, x, i, 2)
                ei, ej = _unit(x, i), _unit(x, j)
                return 0.25 * (
                    _jet_dir2(self._u, x, ei + ej) - _jet_dir2(self._u, x, ei - ej)
                )
            return _nested_forward(self._u, self._x, (i, j))

        return self._cached(("d", engine, i, j), run)

    def _higher(self, idx: tuple[int, ...]):
        engine = self._pick("higher")

        def run():
            if engine == "reverse":
                return self._rev_jac(idx[:-1])[..., idx[-1]]
            if engine == "forward_over_reverse":
                f = functools.partial(
                    lambda a, y: jax.jacrev(self._u)(y)[..., a], idx[0]
                )
                return _nested_forward(f, self._x, idx[1:])
            if engine in ("taylor", "jet") and len(set(idx)) == 1:
                return _jet_pure(self._u, self._x, idx[0], len(idx))
            return _nested_forward(self._u, self._x, idx)

        return self._cached(("d", engine, *idx), run)

    def grad(self, axes=None):
        r"""First derivatives $(\partial_{a} u(x))_{a \in \text{axes}}$.

        **Arguments:**

        - `axes`: names or indices (default: every axis, in order).

        **Returns:**

        Shape `(n_axes,)` for a scalar `u`, `(k, n_axes)` for a vector `u`.
        """
        sel = self._axes(axes, tuple(range(self.ndim)))
        engine = self._pick("grad")

        def run():
            x = self._x
            if engine in ("reverse", "forward_over_reverse"):
                g = self._rev_jac(())
                return g if sel == tuple(range(self.ndim)) else g[..., list(sel)]
            if engine == "taylor":
                full = self._taylor(self._spatial_or_all())
                if full is not None:
                    return jnp.stack([full[(i,)] for i in sel], axis=-1)
            if engine == "jet":
                jet1 = lambda e: _jet.jet(self._u, (x,), ((e,),))[1][0]
                return jax.vmap(jet1, out_axes=-1)(_units(x, sel))
            if sel == tuple(range(self.ndim)):
                return jax.jacfwd(self._u)(x)
            return jax.vmap(lambda e: _jvp(self._u, x, e), out_axes=-1)(_units(x, sel))

        return self._cached(("grad", engine, sel), run)

    def laplacian(self, axes=None):
        r"""The Laplacian $\sum_{j \in \text{axes}} \partial_j^2 u(x)$.

        **Arguments:**

        - `axes`: names or indices (default: every axis but one named `"t"`).

        **Returns:**

        An array of `u`'s output shape, `()` or `(k,)`.
        """
        lap = tuple(sorted(self._axes(axes, self._spatial())))
        self._check_order(2, "the Laplacian")
        engine = self._pick("laplacian")

        def run():
            x, u = self._x, self._u
            if len(lap) == 1:
                return self._second(lap[0], lap[0])
            # One nested pass per axis (vmapping the axes instead is slower under
            # XLA for these models, and pathologically so for jvp-of-grad on a
            # Gaussian mixture: 150x).
            if engine == "reverse":
                return sum(self._rev_jac((j,))[..., j] for j in lap)
            if engine == "forward_over_reverse":
                return sum(self._fwd_rev_col(j)[..., j] for j in lap)
            if engine == "taylor":
                full = self._taylor(lap)
                if full is not None:
                    return full[("lap", lap)]
            if engine == "jet":
                return jnp.sum(
                    jax.vmap(lambda e: _jet_dir2(u, x, e))(_units(x, lap)), axis=0
                )
            second = lambda e: _jvp(lambda y: _jvp(u, y, e), x, e)
            return jnp.sum(jax.vmap(second)(_units(x, lap)), axis=0)

        return self._cached(("laplacian", engine, lap), run)

    def divergence(self, flux: Callable, axes=None):
        r"""The divergence $\sum_{m} \partial_{a_m} F_m(x)$ of a flux
        $F: \mathbb{R}^d \to \mathbb{R}^{n}$, one component per axis $a_m$.

        **Arguments:**

        - `flux`: a function of one point `(d,)` returning `(n_axes,)` (or
          `(k, n_axes)`: one flux per component), component `m` along `axes[m]`.
        - `axes`: names or indices (default: every axis but one named `"t"`).

        **Returns:**

        `()` (or `(k,)`).
        """
        if not callable(flux):
            raise TypeError(
                f"Derivatives.divergence: flux must be a function of one point, got "
                f"{type(flux).__name__}."
            )
        sel = self._axes(axes, self._spatial())
        x = self._x
        shape = jax.eval_shape(flux, jax.ShapeDtypeStruct(x.shape, x.dtype))
        if (
            not isinstance(shape, jax.ShapeDtypeStruct)
            or shape.ndim not in (1, 2)
            or shape.shape[-1] != len(sel)
        ):
            got = shape.shape if isinstance(shape, jax.ShapeDtypeStruct) else shape
            raise ValueError(
                f"Derivatives.divergence: flux must return shape ({len(sel)},) (or "
                f"(k, {len(sel)})), one component per axis {sel}, got {got}."
            )
        engine = self._pick("divergence")
        if engine == "taylor":
            try:
                _, first, _ = second_order(flux, x)
                return sum(first[a][..., m] for m, a in enumerate(sel))
            except UnsupportedPrimitive as err:
                _warn(err)
        if engine in ("reverse", "forward_over_reverse"):
            jac = jax.jacrev(flux)(x)  # (..., n, d)
        else:
            jac = jax.vmap(lambda e: _jvp(flux, x, e), out_axes=-1)(_units(x, sel))
            sel = tuple(range(len(sel)))  # (..., n, n)
        return sum(jac[..., m, a] for m, a in enumerate(sel))
