r"""Separable physics-informed Gaussians: one 1-D Gaussian mixture and head per axis,
combined by a rank-$R$ sum of products, for product domains."""

import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import integer, real
from ..nn import MLP
from ._mlp_pinn import (
    _box,
    _draw,
    _fill_glorot,
    _glorot_parts,
    _input_map,
    _interval,
    _mlp_template,
    _target,
)
from ._pig import _FLOOR_EPS, _WEIGHT_STD, _away_from_zero

__all__ = ["SeparablePIG"]

_LETTERS = "abcdefghijklmnpqstuvwxyz"  # grid axes in einsum (o: output, r: rank)


def _series(f: Callable, order: int) -> Callable:
    r"""$s \mapsto [f(s), f'(s), \dots, f^{(order)}(s)]$ for a function of one scalar,
    by nested `jax.jvp` along $ds = 1$ (under `jit`, XLA drops the tangents that are
    not read)."""
    if order == 0:
        return lambda s: [f(s)]
    inner = _series(f, order - 1)

    def g(s):
        primal, tangent = jax.jvp(inner, (s,), (jnp.ones_like(s),))
        return [*primal, tangent[-1]]

    return g


def combine(
    factors: Sequence[Float[Array, "o r _"]], bias: Float[Array, " o"] | None = None
) -> Float[Array, "o ..."]:
    r"""$U_{o, i_1 \dots i_d} = \sum_r \prod_j F^{(j)}_{o, r, i_j}$ (+ `bias`$_o$):
    the field of a separable model on the product grid of its factors' coordinates,
    at a cost of $R \prod_j n_j$ multiply-adds per output.

    **Arguments:**

    - `factors`: one array per axis $j$, shape `(out_dim, rank, n_j)`.
    - `bias`: added to every grid point, shape `(out_dim,)`, or `None`.

    **Returns:**

    Shape `(out_dim, n_1, ..., n_d)` (channel-first).
    """
    d = len(factors)
    if d > len(_LETTERS):
        raise ValueError(f"combine: at most {len(_LETTERS)} axes, got {d}.")
    axes = _LETTERS[:d]
    spec = ",".join(f"or{a}" for a in axes) + "->o" + axes
    out = jnp.einsum(spec, *factors)
    if bias is not None:
        out = out + bias.reshape(bias.shape + (1,) * d)
    return out


class SeparablePIG(eqx.Module):
    r"""Separable physics-informed Gaussians for a product domain: one 1-D Gaussian
    mixture and one small head per axis, combined by a rank-$R$ sum of products.

    The PIG paper (Kang et al., "PIG: Physics-Informed Gaussians as Adaptive
    Parametric Mesh Representations", ICLR 2025, arXiv:2412.05994) reports a
    "separable PIG" on (2+1)-D Klein-Gordon and 3-D Helmholtz without code or a
    definition. **[D]** Our reading follows separable PINNs (SPINN; Cho et al.,
    "Separable Physics-Informed Neural Networks", NeurIPS 2023): axis $j$ of a
    point $x \in \mathbb R^d$ (time included) is mapped affinely to $[0, g]$ as in
    [`sciml.pinns.PIG`][], $\hat x_j$, and has its own per-channel 1-D Gaussian
    mixture and tanh head,

    $$\mathrm{FE}^{(j)}_c(\hat x_j) = \sum_{i=1}^{N_j} w^{(j)}_{c,i}
    \exp\Big(-\tfrac12\big((\hat x_j - \mu^{(j)}_{c,i})/\sigma^{(j)}_{c,i}\big)^2\Big),
    \qquad h^{(j)} = W^{(j)}_2 \tanh\big(W^{(j)}_1 \mathrm{FE}^{(j)} + b^{(j)}_1\big)
    + b^{(j)}_2 \in \mathbb R^{R\,k_\text{out}},$$

    and the output is $u_o(x) = \sum_{r=1}^{R} \prod_{j=1}^{d} h^{(j)}_{o,r}(x_j)
    + b_o$ **[D]** (SPINN's product-sum; the bias $b$, zero at the start, is ours).
    On a product grid $\prod_j \{a^{(j)}_1, \dots, a^{(j)}_{n_j}\}$ the axis
    functions are evaluated $\sum_j n_j$ times instead of $\prod_j n_j$, and every
    derivative is a product of per-axis derivatives: $\partial_j^m u$ replaces the
    factor $h^{(j)}$ by $\partial^m h^{(j)}$ (forward mode along the axis,
    `jax.jvp`), a mixed $\partial_i \partial_j u$ replaces two factors by their
    first derivatives ([`on_grid`][sciml.pinns.SeparablePIG.on_grid],
    [`factors`][sciml.pinns.SeparablePIG.factors],
    [`GridDerivatives`][sciml.pinns.GridDerivatives]). At one point
    (`__call__`) it is an ordinary PINN model, so every derivative engine,
    [`PINNLoss`][sciml.pinns.PINNLoss] and
    [`relative_l2`][sciml.pinns.relative_l2] take it unchanged.

    Initialisation as PIG's (the paper's code) **[D]**: $\mu \sim U([0, g])$,
    $\sigma = \sigma_0$, $w \sim \mathcal N(0, 0.01^2)$ on every axis,
    Glorot-normal head weights, zero biases. A scale with $|\sigma|$ below
    `scale_floor` is evaluated at the floor, and a scale that is not finite makes
    the output NaN, as in [`sciml.pinns.PIG`][]. Parameters: $\sum_j 3kN_j$ plus
    $d$ heads of $(k + 1)h + (h + 1)R\,k_\text{out}$ for width $h$, plus
    $k_\text{out}$.

    **Arguments:**

    - `in_dim`: the number of axes $d$ (time included).
    - `out_dim`: the number of outputs $k_\text{out}$.
    - `n_gaussians`: 1-D Gaussians per channel and axis $N_j$: one number for
        every axis, or one per axis.
    - `channels`: the channels $k$ of each axis's embedding.
    - `rank`: $R$, the number of products summed.
    - `lower`, `upper`: the domain box, a number or one per axis.
    - `scale_to`: $g$ (map each axis to $[0, g]$), a pair $(a, b)$, or `None`
        (no map; $\mu$ is drawn in the box), as in `PIG`.
    - `sigma0`: the initial scale, in mapped units.
    - `head_width`: the hidden width $h$ of each axis's head.
    - `key`: PRNG key for the initialisation.

    Input one point `(in_dim,)`, output `(out_dim,)`; `jax.vmap` for a batch, or
    `on_grid` for a product grid.
    """

    mu: tuple[Float[Array, "channels _"], ...]
    sigma: tuple[Float[Array, "channels _"], ...]
    weights: tuple[Float[Array, "channels _"], ...]
    heads: tuple[MLP, ...]
    bias: Float[Array, " out_dim"]
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)
    n_gaussians: tuple[int, ...] = eqx.field(static=True)
    channels: int = eqx.field(static=True)
    rank: int = eqx.field(static=True)
    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)
    scale_to: float | tuple[float, float] | None = eqx.field(static=True)
    sigma0: float = eqx.field(static=True)
    head_width: int = eqx.field(static=True)

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        n_gaussians: int | Sequence[int] = 100,
        channels: int = 4,
        rank: int = 16,
        *,
        lower: float | Sequence[float],
        upper: float | Sequence[float],
        scale_to: float | Sequence[float] | None = 2.0,
        sigma0: float,
        head_width: int = 16,
        key: PRNGKeyArray,
    ):
        owner = "SeparablePIG"
        self.in_dim = d = integer("in_dim", in_dim, minimum=1, owner=owner)
        self.out_dim = integer("out_dim", out_dim, minimum=1, owner=owner)
        if isinstance(n_gaussians, Sequence) and not isinstance(n_gaussians, str):
            if len(n_gaussians) != d:
                raise ValueError(
                    f"{owner}: n_gaussians must be one number or one per axis "
                    f"(in_dim={d}), got {len(n_gaussians)}: {tuple(n_gaussians)!r}. "
                    f"Fix: e.g. n_gaussians={tuple(n_gaussians)[:1] * d!r}."
                )
            counts = tuple(n_gaussians)
        else:
            counts = (n_gaussians,) * d
        self.n_gaussians = tuple(
            integer("n_gaussians", n, minimum=1, owner=owner) for n in counts
        )
        self.channels = k = integer("channels", channels, minimum=1, owner=owner)
        self.rank = integer("rank", rank, minimum=1, owner=owner)
        self.lower, self.upper = _box(lower, upper, d, owner)
        self.scale_to = _target(scale_to, owner)
        self.sigma0 = real("sigma0", sigma0, above=0.0, owner=owner)
        self.head_width = integer("head_width", head_width, minimum=1, owner=owner)
        if self.sigma0 <= self.scale_floor:
            raise ValueError(
                f"{owner}: sigma0={self.sigma0} is at or below the collapse "
                f"threshold {self.scale_floor:.3g} of this box and dtype. Fix: pass "
                f"a scale comparable to the spacing of the Gaussians, e.g. sigma0=0.1."
            )
        dtype = jnp.result_type(float)
        out = self.rank * self.out_dim
        template = _mlp_template(k, out, self.head_width, 1, "tanh", key)
        parts: tuple = ()
        for n in self.n_gaussians:
            parts += (("uniform", (k, n)), ("normal", (k, n)))
        for _ in range(d):
            parts += _glorot_parts(template)
        # One draw for all weights: a model builds with one compile of the PRNG.
        draws = _draw(key, parts, dtype.name)
        lo, hi = self._init_box()
        per_layer = len(template.layers)
        mu, sigma, weights, heads = [], [], [], []
        for j, n in enumerate(self.n_gaussians):
            u, normal = draws[2 * j], draws[2 * j + 1]
            mu.append(jnp.asarray(lo[j], dtype) + jnp.asarray(hi[j] - lo[j], dtype) * u)
            sigma.append(jnp.full((k, n), self.sigma0, dtype))
            weights.append(_WEIGHT_STD * normal)
            start = 2 * d + per_layer * j
            heads.append(_fill_glorot(template, draws[start : start + per_layer]))
        self.mu, self.sigma, self.weights = tuple(mu), tuple(sigma), tuple(weights)
        self.heads = tuple(heads)
        self.bias = jnp.zeros((self.out_dim,), dtype)

    def _init_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the means are drawn: the mapped interval on every axis, or the box."""
        if self.scale_to is None:
            return np.asarray(self.lower), np.asarray(self.upper)
        a, b = _interval(self.scale_to)
        return np.full(self.in_dim, a), np.full(self.in_dim, b)

    @property
    def scale_floor(self) -> float:
        r"""The collapse threshold of the scales, as [`sciml.pinns.PIG`][]'s:
        $4\varepsilon\,r$ with $\varepsilon$ the machine epsilon of the model's
        dtype and $r$ the largest magnitude a mapped coordinate takes."""
        lo, hi = self._init_box()
        extent = float(max(np.max(np.abs(lo)), np.max(np.abs(hi))))
        sigma = getattr(self, "sigma", None)
        dtype = jnp.result_type(float) if sigma is None else sigma[0].dtype
        return _FLOOR_EPS * float(jnp.finfo(dtype).eps) * extent

    def _healthy(self) -> Array:
        """True while every scale is finite."""
        return jnp.all(jnp.stack([jnp.all(jnp.isfinite(s)) for s in self.sigma]))

    def _guard(self, out: Array) -> Array:
        return jnp.where(self._healthy(), out, jnp.nan)

    def _check_axis(self, axis: Any) -> int:
        if (
            not isinstance(axis, int | np.integer)
            or isinstance(axis, bool)
            or not 0 <= axis < self.in_dim
        ):
            raise ValueError(
                f"SeparablePIG: axis must be an index 0..{self.in_dim - 1}, got "
                f"{axis!r}."
            )
        return int(axis)

    def axis_function(self, axis: int) -> Callable[[Array], Array]:
        r"""The factor $h^{(j)}$ of axis $j$ as a function of one coordinate $x_j$
        (a scalar) returning shape `(out_dim, rank)` (no guard).

        **Arguments:**

        - `axis`: the axis index $j$.

        **Returns:**

        A function `s -> (out_dim, rank)`.
        """
        j = self._check_axis(axis)
        floor = self.scale_floor
        lower, upper = (self.lower[j],), (self.upper[j],)
        mu, sigma, w, head = self.mu[j], self.sigma[j], self.weights[j], self.heads[j]

        def h(s):
            sh = _input_map(jnp.reshape(s, (1,)), lower, upper, self.scale_to)[0]
            z = (sh - mu) / _away_from_zero(sigma, floor)
            fe = jnp.sum(w * jnp.exp(-0.5 * z * z), axis=-1)
            return head(fe).reshape(self.out_dim, self.rank)

        return h

    def factors(
        self, axis: int, coords: Float[Array, " n"], order: int = 0
    ) -> Float[Array, "m o r n"]:
        r"""The factor $h^{(j)}$ of axis $j$ and its derivatives along $x_j$ at
        coordinates $a_1 \dots a_n$: $O(n)$ evaluations of the axis function, by
        nested forward mode (`jax.jvp`) along the axis.

        **Arguments:**

        - `axis`: the axis index $j$.
        - `coords`: the coordinates, shape `(n,)`, in the domain's units.
        - `order`: the highest derivative $m$ (0: the values only).

        **Returns:**

        Shape `(order + 1, out_dim, rank, n)`: entry $m$ is
        $\partial^m h^{(j)}_{o,r}(a_i)$ (NaN if a scale is not finite).
        """
        j = self._check_axis(axis)
        order = integer("order", order, minimum=0, owner="SeparablePIG.factors")
        coords = jnp.asarray(coords)
        if coords.ndim != 1 or not jnp.issubdtype(coords.dtype, jnp.floating):
            raise ValueError(
                f"SeparablePIG.factors: coords must be a 1-D floating array of the "
                f"coordinates along axis {j}, got shape {coords.shape} and dtype "
                f"{coords.dtype}."
            )
        series = jax.vmap(_series(self.axis_function(j), order))(coords)
        return self._guard(jnp.moveaxis(jnp.stack(series), 1, -1))

    def on_grid(self, axes: Sequence[Float[Array, " _"]]) -> Float[Array, "o ..."]:
        r"""The field on the product grid of one coordinate array per axis, from
        $\sum_j n_j$ evaluations of the axis functions (instead of $\prod_j n_j$ of
        the model).

        **Arguments:**

        - `axes`: one 1-D array of coordinates per axis, `(n_1,), ..., (n_d,)`.

        **Returns:**

        Shape `(out_dim, n_1, ..., n_d)`: entry $(o, i_1, \dots, i_d)$ is
        $u_o(a^{(1)}_{i_1}, \dots, a^{(d)}_{i_d})$ (`__call__` at that point).
        """
        axes = self.check_axes(axes)
        factors = [self.factors(j, a)[0] for j, a in enumerate(axes)]
        return combine(factors, self.bias)

    def check_axes(self, axes: Any, owner: str = "SeparablePIG") -> tuple[Array, ...]:
        """`axes` as a tuple of 1-D floating arrays, one per axis (checked).

        **Arguments:**

        - `axes`: one 1-D coordinate array per axis.
        - `owner`: the name that prefixes an error message.

        **Returns:**

        The tuple of arrays.
        """
        if isinstance(axes, jax.Array | np.ndarray) or not isinstance(axes, Sequence):
            raise ValueError(
                f"{owner}: a product grid is a sequence of {self.in_dim} 1-D "
                f"coordinate arrays, one per axis, got "
                f"{type(axes).__name__}{getattr(axes, 'shape', '')}. Fix: pass e.g. "
                f"(jnp.linspace(0, 1, 16),) * {self.in_dim}."
            )
        if len(axes) != self.in_dim:
            raise ValueError(
                f"{owner}: the model has {self.in_dim} axes, got {len(axes)} "
                f"coordinate arrays. Fix: pass one 1-D array per axis."
            )
        out = tuple(jnp.asarray(a) for a in axes)
        for j, a in enumerate(out):
            if (
                a.ndim != 1
                or a.shape[0] < 1
                or not jnp.issubdtype(a.dtype, jnp.floating)
            ):
                raise ValueError(
                    f"{owner}: the coordinates of axis {j} must be a non-empty 1-D "
                    f"floating array, got shape {a.shape} and dtype {a.dtype}."
                )
        return out

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " out_dim"]:
        if getattr(x, "shape", None) != (self.in_dim,):
            raise ValueError(
                f"SeparablePIG expected one point of shape ({self.in_dim},), got "
                f"{getattr(x, 'shape', type(x).__name__)}. Use jax.vmap(model) for a "
                f"batch of points, or model.on_grid(axes) for a product grid."
            )
        prod = math.prod(self.axis_function(j)(x[j]) for j in range(self.in_dim))
        return self._guard(jnp.sum(prod, axis=-1) + self.bias)
