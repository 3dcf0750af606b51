"""Physics-informed Gaussians: a trainable Gaussian mixture in front of a tiny MLP."""

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, choice, integer, real
from ..nn import MLP
from ._mlp_pinn import (
    _box,
    _draw,
    _fill_glorot,
    _glorot_parts,
    _input_factor,
    _input_map,
    _interval,
    _mlp_template,
    _target,
)

__all__ = ["PIG", "check_scales"]

_COVARIANCES = ("diagonal", "full")
_FLOOR_EPS = 4.0
_WEIGHT_STD = 0.01


def _rotation_2d(angle: Array) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    r"""The entries $R_{jm}$ of $R = \begin{pmatrix}\cos\theta & -\sin\theta \\
    \sin\theta & \cos\theta\end{pmatrix}$, each of the shape of `angle`."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return ((c, -s), (s, c))


def _rotation_3d(quaternion: Array) -> tuple[tuple[Array, ...], ...]:
    r"""The entries $R_{jm}$ of the rotation of the unit quaternion
    $q/\lVert q\rVert = (w, x, y, z)$ (last axis of `quaternion`)."""
    q = quaternion / jnp.linalg.norm(quaternion, axis=-1, keepdims=True)
    w, x, y, z = (q[..., i] for i in range(4))
    return (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )


def _rotation(rotation: Array, d: int) -> tuple[tuple[Array, ...], ...]:
    return _rotation_2d(rotation) if d == 2 else _rotation_3d(rotation)


class PIG(eqx.Module):
    r"""Physics-informed Gaussians: a trainable Gaussian mixture embedding followed
    by a small MLP (Kang et al., "PIG: Physics-Informed Gaussians as Adaptive
    Parametric Mesh Representations", ICLR 2025, arXiv:2412.05994).

    Each axis of a point $x \in \mathbb R^d$ (time included) is first mapped
    affinely from the box $[l_j, u_j]$ to $[0, g]$ (`scale_to`),
    $\hat x_j = g\,(x_j - l_j)/(u_j - l_j)$. The **per-channel** embedding (the form
    the paper's code runs) gives channel $c = 1 \dots k$ its own $N$ Gaussians,

    $$\mathrm{FE}_c(\hat x) = \sum_{i=1}^{N} w_{c,i}\, G_{c,i}(\hat x), \qquad
    G_{c,i}(\hat x) = \exp\Big(-\tfrac12 \sum_{j=1}^{d}
    \big((\hat x_j - \mu_{c,i,j})/\sigma_{c,i,j}\big)^2\Big),$$

    with trainable $\mu, \sigma \in \mathbb R^{k \times N \times d}$ and
    $w \in \mathbb R^{k \times N}$; $\sigma$ is used as it is (no exp or softplus).
    The **shared** form (`shared=True`, the paper's general formula) has one set of
    $N$ Gaussians and a feature vector $f_i \in \mathbb R^k$ each,
    $\mathrm{FE}(\hat x) = \sum_i f_i\, G_i(\hat x)$. With **full covariance**
    (`covariance="full"`), $G(\hat x) = \exp(-\tfrac12 (\hat x - \mu)^\top P
    (\hat x - \mu))$ with $P = L L^\top$, $L = R\,\mathrm{diag}(1/s)$: $R$ is a
    rotation, an angle $\theta$ in 2-D or a unit quaternion in 3-D (stored
    unnormalised, normalised when used), $s$ the scales along its axes (the field
    `sigma`). The output is $u = W_2 \tanh(W_1\,\mathrm{FE} + b_1) + b_2$ (the head,
    width 16 in the paper), or $u = \mathrm{FE}$ with `head=False`.

    Initialisation (the paper's code): $\mu \sim U([0, g]^d)$, $\sigma = \sigma_0$,
    $w \sim \mathcal N(0, 0.01^2)$, Glorot-normal head weights and zero biases;
    rotations start at the identity (angle 0, quaternion $(1, 0, 0, 0)$), so a full
    model starts as the diagonal one (see [`sciml.pinns.PIG.from_diagonal`][]).
    Parameters: $(2d + 1)kN$ (per-channel) or $(2d + k)N$ (shared), plus $kN$
    angles (2-D) or $4kN$ quaternion entries (3-D) with full covariance, plus the
    head's $(k + 1) h + (h + 1) k_\text{out}$ for width $h$ (97 for $k = 4$,
    $h = 16$, one output): e.g. 2,897 for Klein-Gordon ($d = 3$, $N = 100$).

    Every point meets all $kN$ Gaussians (a dense evaluation).

    **Scales near zero.** A negative $\sigma$ is the same Gaussian as $|\sigma|$,
    and under Adam a scale can step across zero (lr $10^{-2}$ against
    $\sigma_0 = 0.1$ does it within tens of steps). The paper's code uses $\sigma$
    as it is, which is undefined at $\sigma = 0$ and overflows to NaN in the
    derivatives a little above it. Here a scale with $|\sigma|$ below
    `scale_floor` ($4\varepsilon$ times the largest mapped coordinate: narrower
    than the coordinates' floats resolve) is *evaluated* as $\pm$`scale_floor`:
    such a Gaussian is zero at every point but a set of measure zero, exactly as
    it would be at its own tiny $\sigma$, its gradient there is zero, and the
    optimiser's momentum carries $\sigma$ on across zero. This deviates from the
    paper only where its code would return NaN (our decision; the sheet lists no
    guard). Guard: a scale or rotation that is not finite (or a quaternion of norm
    $\le$ `scale_floor`) makes the output NaN, so that the NaN guard of
    `sciml.training.fit` stops training and names the step; then
    [`sciml.pinns.check_scales`][] names the Gaussian (it also flags the scales
    held at the floor).

    **Arguments:**

    - `in_dim`: the number of coordinates $d$ of a point (time included).
    - `out_dim`: the number of outputs.
    - `n_gaussians`: Gaussians per channel $N$ (with `shared=True`: in all). The
        paper: Helmholtz 800, Klein-Gordon 100, flow mixing and nonlinear
        diffusion 4000.
    - `channels`: the number $k$ of embedding channels (4 in every run of the
        paper). With `head=False` it must equal `out_dim`.
    - `lower`, `upper`: the domain box, a number or one per axis.
    - `scale_to`: $g$: map each axis to $[0, g]$ (the paper: 2 for Klein-Gordon
        and flow mixing, 1 for nonlinear diffusion); a pair $(a, b)$ maps to
        $[a, b]$; `None` keeps the input as it is (Helmholtz), and then $\mu$ is
        drawn in the box $[l, u]$.
    - `sigma0`: the initial scale $\sigma_0$, in mapped units (the paper: 0.5 for
        Klein-Gordon, 0.1 for the others).
    - `head`: use the MLP head (default); `False` is the paper's "MLP off"
        ablation, output $= \mathrm{FE}$.
    - `head_width`: the hidden width of the head.
    - `covariance`: `"diagonal"` (default) or `"full"` (in 2-D and 3-D only).
    - `shared`: one set of Gaussians for all channels.
    - `key`: PRNG key for the initialisation.

    Input one point `(in_dim,)`, output `(out_dim,)`; `jax.vmap` for a batch.
    """

    mu: Float[Array, "*gaussians d"]
    sigma: Float[Array, "*gaussians d"]
    weights: Float[Array, "k n"]
    rotation: Float[Array, "*gaussians"] | Float[Array, "*gaussians 4"] | None
    mlp: MLP | None
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)
    n_gaussians: int = eqx.field(static=True)
    channels: int = eqx.field(static=True)
    lower: tuple[float, ...] = eqx.field(static=True)
    upper: tuple[float, ...] = eqx.field(static=True)
    scale_to: float | tuple[float, float] | None = eqx.field(static=True)
    sigma0: float = eqx.field(static=True)
    head: bool = eqx.field(static=True)
    head_width: int = eqx.field(static=True)
    covariance: str = eqx.field(static=True)
    shared: bool = eqx.field(static=True)

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        n_gaussians: int = 100,
        channels: int = 4,
        *,
        lower: float | Sequence[float],
        upper: float | Sequence[float],
        scale_to: float | Sequence[float] | None = 2.0,
        sigma0: float,
        head: bool = True,
        head_width: int = 16,
        covariance: str = "diagonal",
        shared: bool = False,
        key: PRNGKeyArray,
    ):
        owner = "PIG"
        self.in_dim = d = integer("in_dim", in_dim, minimum=1, owner=owner)
        self.out_dim = integer("out_dim", out_dim, minimum=1, owner=owner)
        self.n_gaussians = n = integer(
            "n_gaussians", n_gaussians, minimum=1, owner=owner
        )
        self.channels = k = integer("channels", channels, minimum=1, owner=owner)
        self.lower, self.upper = _box(lower, upper, d, owner)
        self.scale_to = _target(scale_to, owner)
        self.sigma0 = real("sigma0", sigma0, above=0.0, owner=owner)
        self.head = boolean("head", head, owner=owner)
        self.head_width = integer("head_width", head_width, minimum=1, owner=owner)
        self.covariance = choice("covariance", covariance, _COVARIANCES, owner=owner)
        self.shared = boolean("shared", shared, owner=owner)
        if not self.head and k != self.out_dim:
            raise ValueError(
                f"PIG: head=False outputs the embedding itself, so channels must "
                f"equal out_dim; got channels={k}, out_dim={self.out_dim}. Fix: pass "
                f"channels={self.out_dim}, or keep the head."
            )
        if self.covariance == "full" and d not in (2, 3):
            raise ValueError(
                f'PIG: covariance="full" is defined for in_dim 2 (a rotation angle '
                f"per Gaussian) and 3 (a unit quaternion), got in_dim={d}. Fix: use "
                f'covariance="diagonal"'
                + (" (in 1-D it is the same model)." if d == 1 else ".")
            )
        if self.sigma0 <= self.scale_floor:
            raise ValueError(
                f"PIG: sigma0={self.sigma0} is at or below the collapse threshold "
                f"{self.scale_floor:.3g} of this box and dtype. Fix: pass a scale "
                f"comparable to the spacing of the Gaussians, e.g. sigma0=0.1."
            )
        dtype = jnp.result_type(float)
        gaussians = (n,) if self.shared else (k, n)
        parts = (("uniform", (*gaussians, d)), ("normal", (k, n)))
        template = None
        if self.head:
            template = _mlp_template(k, self.out_dim, self.head_width, 1, "tanh", key)
            parts += _glorot_parts(template)
        # One draw for all weights: a model builds with one compile of the PRNG.
        u, normal, *head = _draw(key, parts, dtype.name)
        lo, hi = self._init_box()
        self.mu = jnp.asarray(lo, dtype) + jnp.asarray(hi - lo, dtype) * u
        self.sigma = jnp.full((*gaussians, d), self.sigma0, dtype)
        self.weights = _WEIGHT_STD * normal
        self.rotation = self._identity_rotation(gaussians, dtype)
        self.mlp = None if template is None else _fill_glorot(template, head)

    def _init_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the means are drawn: the mapped interval on every axis, or the box."""
        if self.scale_to is None:
            return np.asarray(self.lower), np.asarray(self.upper)
        a, b = _interval(self.scale_to)
        return np.full(self.in_dim, a), np.full(self.in_dim, b)

    def _identity_rotation(
        self, gaussians: tuple[int, ...], dtype, covariance: str | None = None
    ) -> Array | None:
        if (covariance or self.covariance) == "diagonal":
            return None
        if self.in_dim == 2:
            return jnp.zeros(gaussians, dtype)
        identity = jnp.asarray([1.0, 0.0, 0.0, 0.0], dtype)
        return jnp.broadcast_to(identity, (*gaussians, 4))

    @property
    def scale_floor(self) -> float:
        r"""The collapse threshold of the scales: $4\varepsilon\,r$ with
        $\varepsilon$ the machine epsilon of the model's dtype and $r$ the largest
        magnitude a mapped coordinate takes (a Gaussian narrower than this cannot
        be resolved by the coordinates' floats). A smaller $|\sigma|$ is evaluated
        as $\pm$ this floor (see the class)."""
        lo, hi = self._init_box()
        extent = float(max(np.max(np.abs(lo)), np.max(np.abs(hi))))
        sigma = getattr(self, "sigma", None)
        dtype = jnp.result_type(float) if sigma is None else sigma.dtype
        return _FLOOR_EPS * float(jnp.finfo(dtype).eps) * extent

    def _healthy(self) -> Array:
        """True while every scale and rotation is finite (and every quaternion has
        a norm above the floor)."""
        floor = self.scale_floor
        ok = jnp.all(jnp.isfinite(self.sigma))
        if self.rotation is not None:
            ok = ok & jnp.all(jnp.isfinite(self.rotation))
            if self.in_dim == 3:
                ok = ok & jnp.all(jnp.linalg.norm(self.rotation, axis=-1) > floor)
        return ok

    def _check_point(self, x: Any) -> None:
        if getattr(x, "shape", None) != (self.in_dim,):
            raise ValueError(
                f"PIG expected one point of shape ({self.in_dim},), got "
                f"{getattr(x, 'shape', type(x).__name__)}. Use jax.vmap(model) for a "
                f"batch of points."
            )

    def gaussians(self, x: Float[Array, " d"]) -> Float[Array, "*gaussians"]:
        r"""The values $G_{c,i}(\hat x)$ of every Gaussian at one point $x$ (after
        the input map), shape `(channels, n_gaussians)`, or `(n_gaussians,)` with
        `shared=True`.

        **Arguments:**

        - `x`: one point, shape `(in_dim,)`.

        **Returns:**

        The Gaussians' values (not weighted, no guard).
        """
        q, _, _ = self._local(x, derivatives=False)
        return jnp.exp(-0.5 * q)

    def _local(
        self, x: Float[Array, " d"], derivatives: bool
    ) -> tuple[Array, list[Array], list[Array]]:
        r"""At one point, for every Gaussian: $q = |z|^2$ with
        $z = \mathrm{diag}(1/s) R^\top (\hat x - \mu)$, and if `derivatives`,
        $v_j = (P(\hat x - \mu))_j$ and $P_{jj}$ ($P = L L^\top$), so that
        $\partial_j G = -G v_j$ and $\partial_j^2 G = G (v_j^2 - P_{jj})$ in
        mapped coordinates."""
        self._check_point(x)
        xh = _input_map(x, self.lower, self.upper, self.scale_to)
        d = self.in_dim
        # One component at a time (d is 2 or 3 in practice): every array has the
        # shape of the Gaussians, so a batch under vmap never materialises
        # (batch, k, N, d), and XLA fuses the arithmetic elementwise.
        inv = 1.0 / _away_from_zero(self.sigma, self.scale_floor)
        r = [xh[j] - self.mu[..., j] for j in range(d)]
        if self.rotation is None:
            z = [r[j] * inv[..., j] for j in range(d)]
        else:
            rot = _rotation(self.rotation, d)
            z = [
                sum((rot[j][m] * r[j] for j in range(1, d)), rot[0][m] * r[0])
                * inv[..., m]
                for m in range(d)
            ]
        q = z[0] * z[0]
        for zj in z[1:]:
            q = q + zj * zj
        if not derivatives:
            return q, [], []
        if self.rotation is None:
            v = [z[j] * inv[..., j] for j in range(d)]
            pjj = [inv[..., j] * inv[..., j] for j in range(d)]
        else:
            a = [[rot[j][m] * inv[..., m] for m in range(d)] for j in range(d)]  # L
            v = [sum(a[j][m] * z[m] for m in range(d)) for j in range(d)]
            pjj = [sum(a[j][m] * a[j][m] for m in range(d)) for j in range(d)]
        return q, v, pjj

    def _mix(self, values: Array) -> Array:
        r"""$\sum_i w_{c,i}\,$`values`$_{c,i}$ for every channel $c$."""
        if self.shared:
            return self.weights @ values
        return jnp.sum(self.weights * values, axis=-1)

    def features(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        r"""The Gaussian feature embedding $\mathrm{FE}(\hat x) \in \mathbb R^k$ of
        one point (NaN if a scale or rotation is not finite).

        **Arguments:**

        - `x`: one point, shape `(in_dim,)`.

        **Returns:**

        The embedding, shape `(channels,)`.
        """
        fe = self._mix(self.gaussians(x))
        return jnp.where(self._healthy(), fe, jnp.nan)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " out_dim"]:
        fe = self.features(x)
        return fe if self.mlp is None else self.mlp(fe)

    def value_and_derivatives(
        self, x: Float[Array, " d"]
    ) -> tuple[
        Float[Array, " out_dim"], Float[Array, "out_dim d"], Float[Array, "out_dim d"]
    ]:
        r"""The output and its first and unmixed second derivatives at one point,
        written out by hand: one pass over the Gaussians instead of the nested
        autodiff passes.

        With $v = P(\hat x - \mu)$ per Gaussian (see the class), the embedding has
        $\partial_j \mathrm{FE}_c = -c_j \sum_i w_{c,i} G_{c,i} v_{c,i,j}$ and
        $\partial_j^2 \mathrm{FE}_c = c_j^2 \sum_i w_{c,i} G_{c,i}
        (v_{c,i,j}^2 - P_{c,i,jj})$, where $c_j$ is the slope of the input map; the
        head $u = W_2 h + b_2$, $h = \tanh(W_1 \mathrm{FE} + b_1)$ adds
        $\partial_j u = W_2 (h' \odot W_1 \partial_j \mathrm{FE})$ and
        $\partial_j^2 u = W_2 (h' \odot W_1 \partial_j^2 \mathrm{FE}
        - 2 h h' \odot (W_1 \partial_j \mathrm{FE})^2)$, $h' = 1 - h^2$.
        These are the derivatives every PIG benchmark's residual needs (the
        Laplacian over axes `A` is `d2u[:, A].sum(-1)`); they equal JAX autodiff
        to round-off (tested) and are differentiable (a training step through
        them costs a fraction of one through `jax.jvp` of `jax.grad`).

        **Arguments:**

        - `x`: one point, shape `(in_dim,)`.

        **Returns:**

        `(u, du, d2u)`: $u$ of shape `(out_dim,)`, $\partial_j u$ and
        $\partial_j^2 u$ of shape `(out_dim, in_dim)` (NaN if a scale or rotation
        is not finite).
        """
        q, v, pjj = self._local(x, derivatives=True)
        g = jnp.exp(-0.5 * q)
        slope = jnp.asarray(
            _input_factor(self.lower, self.upper, self.scale_to), g.dtype
        )
        fe = self._mix(g)
        d1 = jnp.stack([-self._mix(g * vj) for vj in v], axis=-1) * slope
        d2 = jnp.stack(
            [self._mix(g * (vj * vj - pj)) for vj, pj in zip(v, pjj, strict=True)],
            axis=-1,
        ) * (slope * slope)
        if self.mlp is not None:
            hidden, out = self.mlp.layers
            h = jnp.tanh(hidden.weight @ fe + hidden.bias)
            dh = 1 - h * h
            a1, a2 = hidden.weight @ d1, hidden.weight @ d2
            fe = out.weight @ h + out.bias
            d1 = out.weight @ (dh[:, None] * a1)
            d2 = out.weight @ (dh[:, None] * a2 - 2 * (h * dh)[:, None] * a1 * a1)
        ok = self._healthy()
        return tuple(jnp.where(ok, t, jnp.nan) for t in (fe, d1, d2))

    @classmethod
    def from_diagonal(cls, model: "PIG") -> "PIG":
        r"""A full-covariance PIG that equals a (trained) diagonal one: the same
        means, scales $s = \sigma$, weights and head, and identity rotations. The
        paper's code trains full covariance only this way, fine-tuning from a
        diagonal checkpoint.

        **Arguments:**

        - `model`: a `PIG` with `covariance="diagonal"` and `in_dim` 2 or 3.

        **Returns:**

        The same model with `covariance="full"`.
        """
        if not isinstance(model, PIG) or model.covariance != "diagonal":
            got = (
                f'a PIG with covariance="{model.covariance}"'
                if isinstance(model, PIG)
                else type(model).__name__
            )
            raise ValueError(
                f'PIG.from_diagonal expected a PIG with covariance="diagonal", got '
                f"{got}."
            )
        template = eqx.filter_eval_shape(
            cls,
            model.in_dim,
            model.out_dim,
            model.n_gaussians,
            model.channels,
            lower=model.lower,
            upper=model.upper,
            scale_to=model.scale_to,
            sigma0=model.sigma0,
            head=model.head,
            head_width=model.head_width,
            covariance="full",
            shared=model.shared,
            key=jax.random.key(0),
        )
        gaussians = model.sigma.shape[:-1]
        rotation = model._identity_rotation(gaussians, model.sigma.dtype, "full")
        where = lambda m: (m.mu, m.sigma, m.weights, m.rotation, m.mlp)  # noqa: E731
        leaves = (model.mu, model.sigma, model.weights, rotation, model.mlp)
        if model.mlp is None:
            where = lambda m: (m.mu, m.sigma, m.weights, m.rotation)  # noqa: E731
            leaves = leaves[:-1]
        return eqx.tree_at(where, template, leaves)


def _away_from_zero(sigma: Array, floor: float) -> Array:
    r"""$\sigma$, with $|\sigma| <$ `floor` replaced by $\pm$`floor` (the sign of
    $\sigma$; $+$ at zero). Its gradient is zero where it replaces."""
    small = jnp.abs(sigma) < floor
    return jnp.where(small, jnp.where(sigma < 0, -floor, floor), sigma)


def check_scales(model: PIG, *, floor: float | None = None) -> None:
    r"""Raise if a Gaussian scale of a `PIG` has collapsed to zero or is not finite.

    Call it when training stopped on a non-finite loss, on the last model before
    the bad step (e.g. `err.state.model` of a `sciml.training.NonFiniteLossError`,
    whose parameters made that step's loss NaN), or in your own loop. It reads the
    scales on the host: call it outside `jax.jit` (inside, the NaN output of the
    model is the guard).

    **Arguments:**

    - `model`: a `PIG`.
    - `floor`: flag $|\sigma| \le$ `floor` (default: the model's
        `scale_floor`, below which a scale is evaluated at the floor); pass a
        larger one to find scales that are nearly collapsed.

    **Returns:**

    `None` if every scale (and every rotation) is finite and above the floor.

    **Raises:**

    `ValueError` naming the first bad channel, Gaussian and axis with its value,
    and how many more there are.
    """
    if not isinstance(model, PIG):
        raise TypeError(
            f"check_scales expected a sciml.pinns.PIG, got {type(model).__name__}."
        )
    if floor is None:
        floor = model.scale_floor
    else:
        floor = real("floor", floor, minimum=0.0, owner="check_scales")
    sigma = np.asarray(jax.device_get(model.sigma))
    name = "s" if model.covariance == "full" else "sigma"
    axis = "principal axis" if model.covariance == "full" else "axis"
    fix = (
        "Fix: lower the learning rate (or clip gradients, e.g. "
        "optax.clip_by_global_norm), raise sigma0, or use more collocation points "
        "so that no Gaussian shrinks between them."
    )

    def where(index: tuple[int, ...]) -> str:
        if model.shared:
            return f"Gaussian {index[0]}"
        return f"channel {index[0]}, Gaussian {index[1]}"

    bad = ~(np.isfinite(sigma) & (np.abs(sigma) > floor))
    if bad.any():
        indices = np.argwhere(bad)
        first = tuple(int(i) for i in indices[0])
        more = len(indices) - 1
        raise ValueError(
            f"Gaussian scale collapsed: {where(first)}, {axis} {first[-1]}, "
            f"{name}={float(sigma[first]):.6g} (expected a finite |{name}| > {floor:.3g})"
            + (f"; {more} more scale(s) too" if more else "")
            + f". {fix}"
        )
    if model.rotation is None:
        return
    rotation = np.asarray(jax.device_get(model.rotation))
    if model.in_dim == 2:
        bad = ~np.isfinite(rotation)
        what = "angle"
        values = rotation
    else:
        values = np.linalg.norm(rotation, axis=-1)
        bad = ~(np.all(np.isfinite(rotation), axis=-1) & (values > floor))
        what = "quaternion norm"
    if bad.any():
        indices = np.argwhere(bad)
        first = tuple(int(i) for i in indices[0])
        more = len(indices) - 1
        raise ValueError(
            f"Gaussian rotation collapsed: {where(first)}, {what}={float(values[first]):.6g} "
            f"(expected a finite "
            + ("angle" if model.in_dim == 2 else f"norm > {floor:.3g}")
            + ")"
            + (f"; {more} more rotation(s) too" if more else "")
            + f". {fix}"
        )
