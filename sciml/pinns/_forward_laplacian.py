r"""A collapsed second-order forward pass (a "forward Laplacian") over jaxprs.

`second_order(fun, x, channels)` evaluates `fun: (d,) -> out` at `x` and, in the same
forward sweep, its first derivatives along every unit vector $e_1, \dots, e_d$ and a
list of second-order *channels*. A channel is a fixed linear combination of second
derivatives, $\sum_{(i, j, c)} c\, \partial_i \partial_j f$, given as a tuple of
`(i, j, c)` with each unordered pair listed once: `((1, 1, 1.0), (2, 2, 1.0))` is the
Laplacian in axes 1 and 2, `((0, 1, 1.0),)` the mixed derivative
$\partial_0 \partial_1 f$.

Every intermediate $v$ of `fun` carries its value, its $d$ first derivatives
$\partial_i v$ and one array per channel (the forward Laplacian of Li et al., "A
computational framework for neural network-based variational Monte Carlo with Forward
Laplacian", Nat. Mach. Intell. 6, 2024; collapsed Taylor mode of Dangel et al.,
"Collapsing Taylor mode automatic differentiation", 2025). A channel is propagated
*collapsed*: through a non-linearity $y = g(v)$,

$$\textstyle\sum c\, \partial_i\partial_j y = g'(v) \sum c\, \partial_i\partial_j v
  + g''(v) \sum c\, \partial_i v\, \partial_j v,$$

through a bilinear $y = B(a, b)$ (`mul`, `dot_general`),

$$\textstyle\sum c\, \partial_i\partial_j y = B(\sum c\,\partial_i\partial_j a, b)
  + B(a, \sum c\,\partial_i\partial_j b)
  + \sum c\, \big(B(\partial_i a, \partial_j b) + B(\partial_j a, \partial_i b)\big),$$

and through a linear map as the map itself. A Laplacian in $n$ axes therefore costs
one array per intermediate instead of $n$, and the value and first derivatives are
shared by every channel.

Two kinds of structure are kept symbolic, because they dominate the cost of small
PINN models:

- a derivative known to be zero is `None` (a model's parameters carry none, so
  `W @ v` costs one matmul per non-zero derivative of `v`);
- a derivative that vanishes except at one index of one axis is kept as that slice
  (`_OneHot`): the derivative of `x` along $e_j$, and of everything elementwise in
  it. Where `x` is broadcast against parameters, e.g. $(x_j - \mu_{ij})/\sigma_{ij}$
  in a Gaussian mixture, the derivative along $e_j$ is one column instead of $d$.

Each derivative array is separate, never stacked: under `jax.jit`, XLA drops every
channel (and direction) whose result is unused, so one call may ask for all of them
and pay only for those that are read.

The pass emits ordinary `jax.lax` operations, so it works under `jax.vmap`,
`jax.jit` and `jax.grad` (with respect to anything `fun` closes over). A primitive
without a rule here raises `UnsupportedPrimitive` at trace time; the caller
(`sciml.pinns.Derivatives`) then falls back to nested forward mode. A primitive whose
inputs carry no derivative (computations on parameters only, integer and boolean
values) is simply evaluated, whatever it is.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["UnsupportedPrimitive", "second_order", "supported_primitives"]

Channel = tuple[tuple[int, int, float], ...]


class UnsupportedPrimitive(NotImplementedError):
    """Raised at trace time when `fun` uses a primitive (with an input that depends on
    `x`) for which the forward Laplacian has no rule."""

    def __init__(self, name: str):
        self.primitive = name
        super().__init__(
            f"the forward Laplacian has no rule for the primitive {name!r}"
        )


# --- the algebra of derivatives: None (zero), an array, or a one-hot slice ----------


class _OneHot:
    """A derivative that vanishes except at `index` along `axis`; `val` has the full
    `shape` except size 1 at `axis`."""

    __slots__ = ("val", "axis", "index", "shape")

    def __init__(self, val, axis: int, index: int, shape: Sequence[int]):
        self.val = val
        self.axis = axis
        self.index = index
        self.shape = tuple(shape)

    def like(self, val) -> "_OneHot":
        return _OneHot(val, self.axis, self.index, self.shape)


def _dense(c):
    if isinstance(c, _OneHot):
        pads = [(0, 0, 0)] * len(c.shape)
        pads[c.axis] = (c.index, c.shape[c.axis] - c.index - 1, 0)
        return lax.pad(c.val, jnp.zeros((), c.val.dtype), pads)
    return c


def _at(f, c: _OneHot):
    """`f` at `c`'s non-zero slice (`f` as is where it broadcasts along `c.axis`)."""
    if np.shape(f)[c.axis] == 1:
        return f
    return lax.slice_in_dim(f, c.index, c.index + 1, axis=c.axis)


def _compatible(c: _OneHot, shape) -> tuple[int, ...] | None:
    """The broadcast shape of `c` and an array of `shape` if `c` stays one-hot in it."""
    if len(shape) == 0:
        return c.shape
    if len(shape) != len(c.shape):
        return None
    try:
        out = np.broadcast_shapes(c.shape, tuple(shape))
    except ValueError:
        return None
    return out if out[c.axis] == c.shape[c.axis] else None


def _emul(c, f):
    """`c * f` for a derivative `c` and a dense array (or scalar) `f`."""
    if c is None:
        return None
    if isinstance(c, _OneHot):
        out = _compatible(c, np.shape(f))
        if out is not None:
            g = f if np.ndim(f) == 0 else _at(f, c)
            return _OneHot(c.val * g, c.axis, c.index, out)
        c = _dense(c)
    return c * f


def _ediv(c, f):
    """`c / f` for a derivative `c` and a dense array (or scalar) `f`."""
    if c is None:
        return None
    if isinstance(c, _OneHot):
        out = _compatible(c, np.shape(f))
        if out is not None:
            g = f if np.ndim(f) == 0 else _at(f, c)
            return _OneHot(c.val / g, c.axis, c.index, out)
        c = _dense(c)
    return c / f


def _same_slot(a, b) -> tuple[int, ...] | None:
    """The broadcast shape of two one-hots along the same axis, else None."""
    if not (isinstance(a, _OneHot) and isinstance(b, _OneHot)) or a.axis != b.axis:
        return None
    return _compatible(a, b.shape)


def _prod(a, b):
    """`a * b` for two derivatives (elementwise)."""
    if a is None or b is None:
        return None
    if isinstance(a, _OneHot) and isinstance(b, _OneHot):
        out = _same_slot(a, b)
        if out is not None:
            if a.index != b.index:
                return None
            return _OneHot(a.val * b.val, a.axis, a.index, out)
        return _dense(a) * _dense(b)
    if isinstance(a, _OneHot):
        return _emul(a, b)
    if isinstance(b, _OneHot):
        return _emul(b, a)
    return a * b


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    out = _same_slot(a, b)
    if out is not None and a.index == b.index:
        return _OneHot(a.val + b.val, a.axis, a.index, out)
    return _dense(a) + _dense(b)


def _neg(c):
    if c is None:
        return None
    return c.like(-c.val) if isinstance(c, _OneHot) else -c


def _sum(terms):
    out = None
    for term in terms:
        out = _add(out, term)
    return out


def _scale(a, c: float):
    if a is None or c == 1.0:
        return a
    return a.like(a.val * c) if isinstance(a, _OneHot) else a * c


def _zeros_like(p):
    return jnp.zeros(np.shape(p), jnp.result_type(p))


def _fit(a, shape):
    """`a` broadcast to the output's shape (binary ops broadcast size-1 axes)."""
    shape = tuple(shape)
    if a is None:
        return None
    if isinstance(a, _OneHot):
        if a.shape == shape:
            return a
        if _compatible(a, shape) == shape:
            small = shape[: a.axis] + (1,) + shape[a.axis + 1 :]
            return _OneHot(jnp.broadcast_to(a.val, small), a.axis, a.index, shape)
        a = _dense(a)
    return a if a.shape == shape else jnp.broadcast_to(a, shape)


class _V:
    """One intermediate: primal `p`, first derivatives `t` (one per direction), and
    channels `s` (one per channel); each derivative None, an array or a `_OneHot`."""

    __slots__ = ("p", "t", "s")

    def __init__(self, p, t, s):
        self.p = p
        self.t = t
        self.s = s

    def has(self) -> bool:
        return any(v is not None for v in self.t) or any(v is not None for v in self.s)


class _Ctx:
    def __init__(self, n_dir: int, channels: Sequence[Channel]):
        self.n = n_dir
        self.channels = tuple(tuple(c) for c in channels)
        self.m = len(self.channels)

    def const(self, p) -> _V:
        return _V(p, (None,) * self.n, (None,) * self.m)


def _map(fn, v: _V, p) -> _V:
    return _V(p, tuple(map(fn, v.t)), tuple(map(fn, v.s)))


# --- rules ---------------------------------------------------------------------------


def _bind(eqn, *args):
    return eqn.primitive.bind(*args, **eqn.params)


def _linear_rule(lin: Callable[[int], bool]):
    """A primitive jointly linear in the operands `k` with `lin(k)` (others, such as
    indices or a select's predicate, are held at their primal values)."""

    def rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
        multi = eqn.primitive.multiple_results
        p = _bind(eqn, *[v.p for v in ins])
        ps = p if multi else [p]

        def channel(get):
            chs = [get(v) if lin(k) else None for k, v in enumerate(ins)]
            if all(c is None for c in chs):
                return None
            args = [
                (_dense(c) if c is not None else _zeros_like(v.p)) if lin(k) else v.p
                for k, (c, v) in enumerate(zip(chs, ins, strict=True))
            ]
            out = _bind(eqn, *args)
            return out if multi else [out]

        ts = [channel(lambda v, i=i: v.t[i]) for i in range(ctx.n)]
        ss = [channel(lambda v, q=q: v.s[q]) for q in range(ctx.m)]
        return [
            _V(
                po,
                tuple(None if t is None else t[o] for t in ts),
                tuple(None if s is None else s[o] for s in ss),
            )
            for o, po in enumerate(ps)
        ]

    return rule


def _unary_structural(one_hot: Callable) -> Callable:
    """The rule of a linear op of one operand that moves or selects entries
    (broadcast, sum over axes, transpose, slice, squeeze, and elementwise linear
    ops): the primal and dense derivatives go through the op itself, a one-hot
    derivative through `one_hot(eqn, c)`, which keeps it one-hot where it can (or
    returns None: no derivative left)."""

    def rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
        (v,) = ins
        p = _bind(eqn, v.p)

        def f(c):
            if c is None:
                return None
            if isinstance(c, _OneHot):
                return one_hot(eqn, c)
            return _bind(eqn, c)

        return [_map(f, v, p)]

    return rule


# neg, convert_element_type, copy, ...: applied to a one-hot's slice as is
_elementwise_linear_rule = _unary_structural(lambda eqn, c: c.like(_bind(eqn, c.val)))


def _broadcast_one_hot(eqn, c: "_OneHot"):
    dims = tuple(eqn.params["broadcast_dimensions"])
    shape = tuple(eqn.params["shape"])
    axis = dims[c.axis]
    small = shape[:axis] + (1,) + shape[axis + 1 :]
    val = lax.broadcast_in_dim(c.val, small, dims)
    return _OneHot(val, axis, c.index, shape)


_broadcast_static = _unary_structural(_broadcast_one_hot)


def _broadcast_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    if len(ins) != 1:  # dynamic shapes
        return _linear_rule(lambda k: k == 0)(ctx, eqn, ins)
    return _broadcast_static(ctx, eqn, ins)


def _reduce_sum_one_hot(eqn, c: "_OneHot"):
    axes = tuple(eqn.params["axes"])
    val = jnp.sum(c.val, axis=axes)
    if c.axis in axes:
        return val
    axis = c.axis - sum(a < c.axis for a in axes)
    shape = tuple(n for k, n in enumerate(c.shape) if k not in axes)
    return _OneHot(val, axis, c.index, shape)


_reduce_sum_rule = _unary_structural(_reduce_sum_one_hot)


def _transpose_one_hot(eqn, c: "_OneHot"):
    perm = tuple(eqn.params["permutation"])
    shape = tuple(c.shape[k] for k in perm)
    return _OneHot(_bind(eqn, c.val), perm.index(c.axis), c.index, shape)


_transpose_rule = _unary_structural(_transpose_one_hot)


def _slice_one_hot(eqn, c: "_OneHot"):
    start = tuple(eqn.params["start_indices"])
    limit = tuple(eqn.params["limit_indices"])
    strides = eqn.params.get("strides")
    if not (strides is None or all(s == 1 for s in strides)):
        return _bind(eqn, _dense(c))
    a = c.axis
    if not start[a] <= c.index < limit[a]:
        return None  # the slice misses the one non-zero entry
    lo = start[:a] + (0,) + start[a + 1 :]
    hi = limit[:a] + (1,) + limit[a + 1 :]
    shape = tuple(h - s for s, h in zip(start, limit, strict=True))
    return _OneHot(lax.slice(c.val, lo, hi), a, c.index - start[a], shape)


_slice_rule = _unary_structural(_slice_one_hot)


def _squeeze_one_hot(eqn, c: "_OneHot"):
    dims = tuple(eqn.params["dimensions"])
    if c.axis in dims:  # an axis of size 1: the slice is the whole
        return _bind(eqn, c.val)
    axis = c.axis - sum(a < c.axis for a in dims)
    shape = tuple(n for k, n in enumerate(c.shape) if k not in dims)
    return _OneHot(_bind(eqn, c.val), axis, c.index, shape)


_squeeze_rule = _unary_structural(_squeeze_one_hot)


def _add_rule(sign: float):
    def rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
        a, b = ins
        p = _bind(eqn, a.p, b.p)
        shape = np.shape(p)

        def combine(x, y):
            if x is None and y is None:
                return None
            y = y if sign > 0 else _neg(y)
            return _fit(_add(_fit(x, shape), _fit(y, shape)), shape)

        return [
            _V(
                p,
                tuple(combine(x, y) for x, y in zip(a.t, b.t, strict=True)),
                tuple(combine(x, y) for x, y in zip(a.s, b.s, strict=True)),
            )
        ]

    return rule


def _bilinear(ctx: _Ctx, left, right, cross, a: _V, b: _V, p) -> _V:
    """The derivatives of `p = B(a, b)` for a bilinear `B`, given `left(c) = B(c, b)`,
    `right(c) = B(a, c)` and `cross(c, c') = B(c, c')` for derivatives `c`, `c'`."""
    shape = np.shape(p)
    t = tuple(
        _fit(_add(left(ta), right(tb)), shape) for ta, tb in zip(a.t, b.t, strict=True)
    )
    cache: dict[tuple[int, int], Any] = {}

    def cr(i, j):
        if (i, j) not in cache:
            cache[(i, j)] = cross(a.t[i], b.t[j])
        return cache[(i, j)]

    s = []
    for q, pairs in enumerate(ctx.channels):
        terms = [left(a.s[q]), right(b.s[q])]
        for i, j, c in pairs:
            if i == j:
                terms.append(_scale(cr(i, i), 2.0 * c))
            else:
                terms.append(_scale(_add(cr(i, j), cr(j, i)), c))
        s.append(_fit(_sum(terms), shape))
    return _V(p, t, tuple(s))


def _mul_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    a, b = ins
    if eqn.invars[0] is eqn.invars[1]:  # v * v: one elementwise square
        p = _bind(eqn, a.p, b.p)
        return [_chain(ctx, a, p, 2.0 * a.p, jnp.full_like(a.p, 2.0))]
    return [
        _bilinear(
            ctx,
            lambda c: _emul(c, b.p),
            lambda c: _emul(c, a.p),
            _prod,
            a,
            b,
            _bind(eqn, a.p, b.p),
        )
    ]


def _dot_rhs_first(eqn, x, y):
    """`dot_general(x, y)` computed with `y` as the left operand and the result
    transposed back. With `y` batched (a `vmap` over points) and `x` not (weights),
    the batch axis then leads the matmul's output, as `y @ W.T` does, instead of
    `W @ y` followed by a transpose of the whole batch (30 % of an MLP's time)."""
    (cx, cy), (bx, by) = eqn.params["dimension_numbers"]
    params = dict(eqn.params)
    params["dimension_numbers"] = ((cy, cx), (by, bx))
    prec = params.get("precision")
    if isinstance(prec, tuple) and len(prec) == 2:
        params["precision"] = (prec[1], prec[0])
    out = eqn.primitive.bind(y, x, **params)
    nb = len(bx)
    nx = np.ndim(x) - len(cx) - nb
    ny = np.ndim(y) - len(cy) - nb
    if nx == 0 or ny == 0:
        return out
    perm = (*range(nb), *range(nb + ny, nb + ny + nx), *range(nb, nb + ny))
    return lax.transpose(out, perm)


def _dot_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    a, b = ins
    (contract_a, contract_b), _ = eqn.params["dimension_numbers"]

    def dot(x, y, swap=False):
        if x is None or y is None:
            return None
        # A one-hot along a contracted axis meets one slice of the other operand.
        if (
            isinstance(x, _OneHot)
            and x.axis in contract_a
            and not isinstance(y, _OneHot)
        ):
            other = contract_b[list(contract_a).index(x.axis)]
            return _bind(
                eqn, x.val, lax.slice_in_dim(y, x.index, x.index + 1, axis=other)
            )
        if (
            isinstance(y, _OneHot)
            and y.axis in contract_b
            and not isinstance(x, _OneHot)
        ):
            other = contract_a[list(contract_b).index(y.axis)]
            return _bind(
                eqn, lax.slice_in_dim(x, y.index, y.index + 1, axis=other), y.val
            )
        x, y = _dense(x), _dense(y)
        return _dot_rhs_first(eqn, x, y) if swap else _bind(eqn, x, y)

    p = dot(a.p, b.p, swap=b.has() and not a.has())
    return [
        _bilinear(
            ctx,
            lambda c: dot(c, b.p),
            lambda c: dot(a.p, c, swap=True),
            dot,
            a,
            b,
            p,
        )
    ]


def _generic_bilinear_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    a, b = ins

    def B(x, y):
        return None if x is None or y is None else _bind(eqn, _dense(x), _dense(y))

    return [
        _bilinear(
            ctx,
            lambda c: B(c, b.p),
            lambda c: B(a.p, c),
            B,
            a,
            b,
            _bind(eqn, a.p, b.p),
        )
    ]


def _chain(ctx: _Ctx, v: _V, y, f1, f2) -> _V:
    """The derivatives of `y = g(v)` for an elementwise `g` with `g'(v) = f1` and
    `g''(v) = f2` (`None` for an identically zero `g''`)."""
    shape = np.shape(y)
    t = tuple(_fit(_emul(ti, f1), shape) for ti in v.t)
    cache: dict[tuple[int, int], Any] = {}

    def prod(i, j):
        if (i, j) not in cache:
            cache[(i, j)] = _prod(v.t[i], v.t[j])
        return cache[(i, j)]

    s = []
    for q, pairs in enumerate(ctx.channels):
        quad = None
        if f2 is not None:
            quad = _sum([_scale(prod(i, j), c) for i, j, c in pairs])
        s.append(_fit(_add(_emul(v.s[q], f1), _emul(quad, f2)), shape))
    return _V(y, t, tuple(s))


def _unary(derivs: Callable):
    """An elementwise primitive; `derivs(x, y, params)` gives `(g'(x), g''(x))`."""

    def rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
        (v,) = ins
        y = _bind(eqn, v.p)
        f1, f2 = derivs(v.p, y, eqn.params)
        return [_chain(ctx, v, y, f1, f2)]

    return rule


def _integer_pow(x, y, params):
    n = params["y"]
    if n == 0:
        return jnp.zeros_like(x), None
    if n == 1:
        return jnp.ones_like(x), None
    f1 = n * (lax.integer_pow(x, n - 1) if n != 2 else x)
    f2 = n * (n - 1) * (lax.integer_pow(x, n - 2) if n != 2 else jnp.ones_like(x))
    return f1, f2


def _sqrt(x, y, params):
    r = 1.0 / y
    return 0.5 * r, -0.25 * r * r * r


def _rsqrt(x, y, params):
    y2 = y * y
    return -0.5 * y2 * y, 0.75 * y2 * y2 * y


def _cbrt(x, y, params):
    r = 1.0 / y
    r2 = r * r
    return r2 / 3.0, -2.0 / 9.0 * r2 * r2 * r


def _erf(x, y, params):
    f1 = (2.0 / math.sqrt(math.pi)) * jnp.exp(-x * x)
    return f1, -2.0 * x * f1


def _erfc(x, y, params):
    f1 = (-2.0 / math.sqrt(math.pi)) * jnp.exp(-x * x)
    return f1, -2.0 * x * f1


def _erf_inv(x, y, params):
    f1 = (math.sqrt(math.pi) / 2.0) * jnp.exp(y * y)
    return f1, 2.0 * y * f1 * f1


def _atan(x, y, params):
    f1 = 1.0 / (1.0 + x * x)
    return f1, -2.0 * x * f1 * f1


def _asinh(x, y, params):
    f1 = lax.rsqrt(1.0 + x * x)
    return f1, -x * f1 * f1 * f1


def _acosh(x, y, params):
    f1 = lax.rsqrt(x * x - 1.0)
    return f1, -x * f1 * f1 * f1


def _asin(x, y, params):
    f1 = lax.rsqrt(1.0 - x * x)
    return f1, x * f1 * f1 * f1


def _acos(x, y, params):
    f1 = lax.rsqrt(1.0 - x * x)
    return -f1, -x * f1 * f1 * f1


def _atanh(x, y, params):
    f1 = 1.0 / (1.0 - x * x)
    return f1, 2.0 * x * f1 * f1


def _tanh(x, y, params):
    f1 = 1.0 - y * y
    return f1, -2.0 * y * f1


def _logistic(x, y, params):
    f1 = y * (1.0 - y)
    return f1, f1 * (1.0 - 2.0 * y)


def _tan(x, y, params):
    f1 = 1.0 + y * y
    return f1, 2.0 * y * f1


def _log(x, y, params):
    r = 1.0 / x
    return r, -r * r


def _log1p(x, y, params):
    r = 1.0 / (1.0 + x)
    return r, -r * r


_LN2 = math.log(2.0)

_UNARY: dict[str, Callable] = {
    "tanh": _tanh,
    "logistic": _logistic,
    "exp": lambda x, y, p: (y, y),
    "exp2": lambda x, y, p: (_LN2 * y, _LN2 * _LN2 * y),
    "expm1": lambda x, y, p: (y + 1.0, y + 1.0),
    "log": _log,
    "log1p": _log1p,
    "sin": lambda x, y, p: (jnp.cos(x), -y),
    "cos": lambda x, y, p: (-jnp.sin(x), -y),
    "tan": _tan,
    "sinh": lambda x, y, p: (jnp.cosh(x), y),
    "cosh": lambda x, y, p: (jnp.sinh(x), y),
    "asin": _asin,
    "acos": _acos,
    "atan": _atan,
    "asinh": _asinh,
    "acosh": _acosh,
    "atanh": _atanh,
    "sqrt": _sqrt,
    "rsqrt": _rsqrt,
    "cbrt": _cbrt,
    "square": lambda x, y, p: (2.0 * x, jnp.full_like(x, 2.0)),
    "integer_pow": _integer_pow,
    "erf": _erf,
    "erfc": _erfc,
    "erf_inv": _erf_inv,
    "abs": lambda x, y, p: (jnp.sign(x), None),
}


def _div_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    a, b = ins
    p = _bind(eqn, a.p, b.p)
    if not b.has():  # linear in a
        shape = np.shape(p)
        return [_map(lambda c: _fit(_ediv(c, b.p), shape), a, p)]
    r = 1.0 / b.p
    inv = _chain(ctx, b, r, -r * r, 2.0 * r * r * r)
    return [
        _bilinear(ctx, lambda c: _emul(c, r), lambda c: _emul(c, a.p), _prod, a, inv, p)
    ]


def _pow_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    a, b = ins
    p = _bind(eqn, a.p, b.p)
    if not b.has():  # x ** c
        c = b.p
        f1 = c * lax.pow(a.p, c - 1.0)
        f2 = c * (c - 1.0) * lax.pow(a.p, c - 2.0)
        return [_chain(ctx, a, p, f1, f2)]
    if not a.has():  # c ** x
        log_a = jnp.log(a.p)
        f1 = p * log_a
        return [_chain(ctx, b, p, f1, f1 * log_a)]
    raise UnsupportedPrimitive("pow (with both operands depending on x)")


def _select_weights(ctx: _Ctx, eqn, ins: list[_V], w_a) -> list[_V]:
    a, b = ins
    p = _bind(eqn, a.p, b.p)
    shape = np.shape(p)
    w_b = 1.0 - w_a

    def combine(x, y):
        if x is None and y is None:
            return None
        return _fit(_add(_emul(_fit(x, shape), w_a), _emul(_fit(y, shape), w_b)), shape)

    return [
        _V(
            p,
            tuple(combine(x, y) for x, y in zip(a.t, b.t, strict=True)),
            tuple(combine(x, y) for x, y in zip(a.s, b.s, strict=True)),
        )
    ]


def _chooser_weight(a, b, better):
    # As JAX: at a tie each operand gets half the derivative.
    dt = jnp.result_type(a)
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    w = jnp.where(better(a, b), 1.0, jnp.where(a == b, 0.5, 0.0)).astype(dt)
    return jnp.broadcast_to(w, shape)


def _max_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    w = _chooser_weight(ins[0].p, ins[1].p, lax.gt)
    return _select_weights(ctx, eqn, ins, w)


def _min_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    w = _chooser_weight(ins[0].p, ins[1].p, lax.lt)
    return _select_weights(ctx, eqn, ins, w)


def _clamp_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    lo, v, hi = ins
    if lo.has() or hi.has():
        raise UnsupportedPrimitive("clamp (with bounds depending on x)")
    p = _bind(eqn, lo.p, v.p, hi.p)
    mask = ((v.p > lo.p) & (v.p < hi.p)).astype(jnp.result_type(v.p))
    return [_map(lambda c: _emul(c, mask), v, p)]


def _reduce_chooser_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    # As JAX: the derivative at the location(s) of the extremum, ties shared equally.
    (v,) = ins
    p = _bind(eqn, v.p)
    axes = tuple(eqn.params["axes"])
    keep = tuple(k for k in range(np.ndim(v.p)) if k not in axes)
    full = lax.broadcast_in_dim(p, np.shape(v.p), keep)
    where = (v.p == full).astype(jnp.result_type(v.p))
    count = jnp.sum(where, axis=axes)

    def pick(c):
        return None if c is None else jnp.sum(where * _dense(c), axis=axes) / count

    return [_map(pick, v, p)]


def _zero_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    out = _bind(eqn, *[v.p for v in ins])
    outs = out if eqn.primitive.multiple_results else [out]
    return [ctx.const(o) for o in outs]


def _sub_jaxpr(eqn):
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        if key in eqn.params:
            j = eqn.params[key]
            if isinstance(j, jex.core.ClosedJaxpr):
                return j.jaxpr, j.consts
            if isinstance(j, jex.core.Jaxpr):
                return j, ()
    raise UnsupportedPrimitive(eqn.primitive.name)


def _call_rule(ctx: _Ctx, eqn, ins: list[_V]) -> list[_V]:
    jaxpr, consts = _sub_jaxpr(eqn)
    return _eval(ctx, jaxpr, consts, ins)


_all = lambda k: True
_RULES: dict[str, Callable] = {
    **{name: _unary(f) for name, f in _UNARY.items()},
    **{
        name: _elementwise_linear_rule
        for name in (
            "neg",
            "convert_element_type",
            "copy",
            "copy_p",
            "reduce_precision",
            "real",
            "sharding_constraint",
            "mesh_cast",
        )
    },
    **{
        name: _linear_rule(lambda k: k == 0)
        for name in ("reshape", "rev", "cumsum", "dynamic_slice", "gather")
    },
    "broadcast_in_dim": _broadcast_rule,
    "reduce_sum": _reduce_sum_rule,
    "transpose": _transpose_rule,
    "slice": _slice_rule,
    "squeeze": _squeeze_rule,
    "concatenate": _linear_rule(_all),
    "stack": _linear_rule(_all),
    "pad": _linear_rule(_all),
    "split": _linear_rule(_all),
    "add_any": _linear_rule(_all),
    "select_n": _linear_rule(lambda k: k > 0),
    "dynamic_update_slice": _linear_rule(lambda k: k in (0, 1)),
    "scatter-add": _linear_rule(lambda k: k in (0, 2)),
    "scatter_add": _linear_rule(lambda k: k in (0, 2)),
    "scatter": _linear_rule(lambda k: k in (0, 2)),
    "add": _add_rule(1.0),
    "sub": _add_rule(-1.0),
    "mul": _mul_rule,
    "dot_general": _dot_rule,
    "conv_general_dilated": _generic_bilinear_rule,
    "div": _div_rule,
    "pow": _pow_rule,
    "max": _max_rule,
    "min": _min_rule,
    "clamp": _clamp_rule,
    "reduce_max": _reduce_chooser_rule,
    "reduce_min": _reduce_chooser_rule,
    **{
        name: _zero_rule
        for name in ("stop_gradient", "sign", "floor", "ceil", "round", "is_finite")
    },
    **{
        name: _call_rule
        for name in (
            "jit",
            "pjit",
            "closed_call",
            "core_call",
            "custom_jvp_call",
            "custom_vjp_call",
            "custom_vjp_call_jaxpr",
            "checkpoint",
            "remat",
            "remat2",
        )
    },
}


def supported_primitives() -> tuple[str, ...]:
    """The names of the primitives the forward Laplacian propagates derivatives
    through (any other primitive is fine where its inputs do not depend on `x`)."""
    return tuple(sorted(_RULES))


def _inexact(var) -> bool:
    dtype = getattr(var.aval, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jnp.inexact)


def _eval(ctx: _Ctx, jaxpr, consts, args: list[_V]) -> list[_V]:
    env: dict[Any, _V] = {}

    def read(v) -> _V:
        if isinstance(v, jex.core.Literal):
            return ctx.const(v.val)
        return env[v]

    for var, c in zip(jaxpr.constvars, consts, strict=True):
        env[var] = ctx.const(c)
    for var, a in zip(jaxpr.invars, args, strict=True):
        env[var] = a
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        if not any(v.has() for v in ins) or not any(map(_inexact, eqn.outvars)):
            params = eqn.primitive.get_bind_params(eqn.params)
            out = eqn.primitive.bind(*[v.p for v in ins], **params)
            outs = out if eqn.primitive.multiple_results else [out]
            outs = [ctx.const(o) for o in outs]
        else:
            rule = _RULES.get(eqn.primitive.name)
            if rule is None:
                raise UnsupportedPrimitive(eqn.primitive.name)
            outs = rule(ctx, eqn, ins)
        for var, o in zip(eqn.outvars, outs, strict=True):
            env[var] = o
    return [read(v) for v in jaxpr.outvars]


def second_order(
    fun: Callable, x: Any, channels: Sequence[Channel] = (), *, jaxpr: Any = None
) -> tuple[Any, list, list]:
    r"""Value, first derivatives along each unit vector and second-order channels of
    `fun` at `x`, in one forward pass.

    **Arguments:**

    - `fun`: a function of one array `x` of shape `(d,)` returning one array.
    - `x`: the point, shape `(d,)`.
    - `channels`: each a tuple of `(i, j, c)`: the channel is
      $\sum c\, \partial_i \partial_j f(x)$ (list each unordered pair once).
    - `jaxpr`: `jax.make_jaxpr(fun)` at `x`'s shape and dtype, if already made.

    **Returns:**

    `(value, first, second)`: `fun(x)`; a list of the $d$ arrays
    $\partial_i f(x)$; a list of the channels, each of `fun(x)`'s shape.

    Raises `UnsupportedPrimitive` (at trace time) for a primitive without a rule.
    """
    x = jnp.asarray(x)
    d = x.shape[0]
    if jaxpr is None:
        jaxpr = jax.make_jaxpr(fun)(jax.ShapeDtypeStruct(x.shape, x.dtype))
    for pairs in channels:
        for i, j, _ in pairs:
            if not (0 <= i < d and 0 <= j < d):
                raise ValueError(f"channel pair ({i}, {j}) out of range for d={d}")
    ctx = _Ctx(d, channels)
    one = jnp.ones((1,), x.dtype)
    if d == 1:
        first = (one,)
    else:
        first = tuple(_OneHot(one, 0, i, (d,)) for i in range(d))
    outs = _eval(ctx, jaxpr.jaxpr, jaxpr.consts, [_V(x, first, (None,) * ctx.m)])
    if len(outs) != 1:
        raise ValueError(f"fun must return one array, got {len(outs)} outputs")
    (out,) = outs

    def full(c):
        return _zeros_like(out.p) if c is None else _fit(_dense(c), np.shape(out.p))

    return out.p, [full(c) for c in out.t], [full(c) for c in out.s]
