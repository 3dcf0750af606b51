"""The MLP baseline of physics-informed learning, and what it shares with `PIG`: the
affine input map of a box and Glorot-normal weights."""

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, integer, real
from ..nn import MLP, FourierFeatures, get_activation

__all__ = ["MLPPINN"]


def _box(
    lower: Any, upper: Any, in_dim: int, owner: str
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """`lower` and `upper` as tuples of `in_dim` finite floats with `lower < upper`
    (a single number is repeated on every axis)."""
    sides = []
    for name, value in (("lower", lower), ("upper", upper)):
        if isinstance(value, int | float | np.integer | np.floating):
            value = (value,) * in_dim
        if isinstance(value, np.ndarray | jax.Array):
            value = np.asarray(value).tolist()
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(
                f"{owner}: {name} must be a number or a sequence of {in_dim} numbers "
                f"(one per input axis), got {type(value).__name__} {value!r}; e.g. "
                f"lower=(0.0, -1.0), upper=(1.0, 1.0)."
            )
        if len(value) != in_dim:
            raise ValueError(
                f"{owner}: {name} must have one entry per input axis (in_dim="
                f"{in_dim}), got {len(value)}: {value!r}."
            )
        sides.append(tuple(real(name, v, owner=owner) for v in value))
    lo, hi = sides
    for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if not a < b:
            raise ValueError(
                f"{owner}: the box must have lower < upper on every axis, got "
                f"lower[{j}]={a} and upper[{j}]={b}. Fix: pass the domain's bounds, "
                f"e.g. lower=(0.0, -1.0), upper=(10.0, 1.0)."
            )
    return lo, hi


def _target(scale_to: Any, owner: str) -> float | tuple[float, float] | None:
    """`scale_to` as `None`, a float `g > 0` (the interval `[0, g]`) or a pair
    `(a, b)` with `a < b`."""
    if scale_to is None:
        return None
    if isinstance(scale_to, Sequence) and not isinstance(scale_to, str):
        if len(scale_to) != 2:
            raise ValueError(
                f"{owner}: scale_to must be a number g (map each axis to [0, g]), a "
                f"pair (a, b) (map to [a, b]) or None (no map), got {scale_to!r}."
            )
        a, b = (real("scale_to", v, owner=owner) for v in scale_to)
        if not a < b:
            raise ValueError(
                f"{owner}: scale_to=(a, b) needs a < b, got {scale_to!r}; e.g. "
                f"scale_to=(-1.0, 1.0)."
            )
        return (a, b)
    return real("scale_to", scale_to, above=0.0, owner=owner)


def _interval(target: float | tuple[float, float] | None) -> tuple[float, float]:
    """The interval `[a, b]` that `scale_to` names."""
    if isinstance(target, tuple):
        return target
    return (0.0, float(target))


def _input_map(
    x: Float[Array, " d"],
    lower: tuple[float, ...],
    upper: tuple[float, ...],
    target: float | tuple[float, float] | None,
) -> Float[Array, " d"]:
    r"""$x_j \mapsto a + (b - a)(x_j - l_j)/(u_j - l_j)$, or `x` if `target` is
    `None`."""
    if target is None:
        return x
    a, b = _interval(target)
    lo = np.asarray(lower)
    factor = (b - a) / (np.asarray(upper) - lo)
    return (x - lo.astype(x.dtype)) * factor.astype(x.dtype) + a


def _input_factor(
    lower: tuple[float, ...],
    upper: tuple[float, ...],
    target: float | tuple[float, float] | None,
) -> np.ndarray:
    """The slope of `_input_map` on each axis (ones without a map)."""
    if target is None:
        return np.ones(len(lower))
    a, b = _interval(target)
    return (b - a) / (np.asarray(upper) - np.asarray(lower))


_TRUNCATED_STD = 0.87962566103423978
"""The standard deviation of N(0, 1) truncated to [-2, 2] (JAX's and Flax's Glorot
normal divides by it, so that the truncated weights keep the Glorot variance)."""


@functools.partial(jax.jit, static_argnames=("parts", "dtype"))
def _draw(
    key: PRNGKeyArray, parts: tuple[tuple[str, tuple[int, ...]], ...], dtype: str
) -> list[Array]:
    r"""Random arrays of the given `(kind, shape)` parts from ONE flat uniform draw
    in $(-1, 1)$: `"uniform"` is $U(0, 1)$, `"normal"` is $\mathcal N(0, 1)$
    ($\sqrt2\,\mathrm{erf}^{-1}(u)$, as `jax.random.normal`) and `"truncated"` is
    $\mathcal N(0, 1)$ truncated to $[-2, 2]$ (as `jax.random.truncated_normal`).

    XLA on a CPU compiles each threefry call in a few tenths of a second, so one
    call for all of a model's weights builds it several times faster than one call
    per weight; the compiled function is cached by its parts."""
    sizes = [math.prod(shape) for _, shape in parts]
    low = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    flat = jax.random.uniform(key, (sum(sizes),), dtype, minval=low, maxval=1.0)
    edge = math.erf(2.0 / math.sqrt(2.0))  # erf of the truncation point
    out, start = [], 0
    for (kind, shape), size in zip(parts, sizes, strict=True):
        u = flat[start : start + size].reshape(shape)
        start += size
        if kind == "uniform":
            out.append((u + 1) / 2)
        elif kind == "normal":
            out.append(math.sqrt(2.0) * jax.lax.erf_inv(u))
        elif kind == "truncated":
            z = math.sqrt(2.0) * jax.lax.erf_inv(edge * u)
            out.append(jnp.clip(z, -2.0, 2.0))
        else:
            raise ValueError(f"Unknown kind of draw {kind!r}.")
    return out


def _mlp_template(
    in_size: int,
    out_size: int,
    width: int,
    depth: int,
    activation: str | Callable,
    key: PRNGKeyArray,
) -> MLP:
    """A `sciml.nn.MLP` as shapes only (no draw of equinox's default weights)."""
    return eqx.filter_eval_shape(
        MLP, in_size, out_size, width, depth, activation, key=key
    )


def _glorot_parts(template: MLP) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The draws `_fill_glorot` needs for a template: one per layer."""
    return tuple(("truncated", tuple(layer.weight.shape)) for layer in template.layers)


def _fill_glorot(template: MLP, standard: Sequence[Array]) -> MLP:
    r"""The template with Glorot-normal weights (standard truncated normals scaled
    to the variance $2/(n_\text{in} + n_\text{out})$: Flax's `Dense` with
    `kernel_init=glorot_normal()`, as the PIG and PINN reference codes use) and
    zero biases."""
    weights = []
    for layer, z in zip(template.layers, standard, strict=True):
        fan_out, fan_in = layer.weight.shape
        std = math.sqrt(2.0 / (fan_in + fan_out)) / _TRUNCATED_STD
        weights.append(std * z)
    biases = [
        jnp.zeros(layer.bias.shape, z.dtype)
        for layer, z in zip(template.layers, standard, strict=True)
    ]
    return eqx.tree_at(
        lambda m: (
            [layer.weight for layer in m.layers] + [layer.bias for layer in m.layers]
        ),
        template,
        weights + biases,
    )


def _glorot_mlp(
    in_size: int,
    out_size: int,
    width: int,
    depth: int,
    activation: str | Callable,
    *,
    key: PRNGKeyArray,
) -> MLP:
    """A `sciml.nn.MLP` with Glorot-normal weights and zero biases."""
    template = _mlp_template(in_size, out_size, width, depth, activation, key)
    dtype = jnp.result_type(float).name
    return _fill_glorot(template, _draw(key, _glorot_parts(template), dtype))


class MLPPINN(eqx.Module):
    r"""The PINN baseline: a fully connected network on one point,
    $u(x) = W_L\,\sigma(\dots\sigma(W_1\,\phi(x) + b_1)\dots) + b_L$
    (Raissi, Perdikaris and Karniadakis, "Physics-informed neural networks",
    J. Comput. Phys. 378, 2019).

    The input passes first through the optional affine map of each axis from the box
    $[l_j, u_j]$ to $[a, b]$, $\hat x_j = a + (b - a)(x_j - l_j)/(u_j - l_j)$, then,
    optionally, through random Fourier features
    $\phi(\hat x) = [\cos 2\pi B\hat x, \sin 2\pi B\hat x]$, $B_{ij} \sim
    \mathcal N(0, s^2)$ (Tancik et al., NeurIPS 2020; `sciml.nn.FourierFeatures`);
    without them $\phi(\hat x) = \hat x$. Weights are Glorot-normal
    (variance $2/(n_\text{in} + n_\text{out})$, truncated at two standard
    deviations), biases zero.

    **Arguments:**

    - `in_dim`: the number of coordinates $d$ of a point (time included).
    - `out_dim`: the number of outputs $k$.
    - `width`: hidden width.
    - `depth`: number of hidden layers.
    - `activation`: a name from `sciml.nn.ACTIVATIONS` (default `"tanh"`) or a
        callable (a callable cannot be saved with `sciml.training.save_model`).
    - `lower`, `upper`: the box of the input map, a number or one per axis; needed
        only with `scale_to`.
    - `scale_to`: `None` (default: no map), a number $g > 0$ (map each axis to
        $[0, g]$, as `PIG` does) or a pair $(a, b)$ (map to $[a, b]$, e.g.
        `(-1.0, 1.0)`).
    - `fourier_features`: the number $m$ of random Fourier frequencies (the first
        layer then sees $2m$ inputs); 0 (default) for none.
    - `fourier_scale`: their standard deviation $s$.
    - `fourier_trainable`: learn the frequencies (default: fixed).
    - `key`: PRNG key for the initialisation.

    Input one point `(in_dim,)`, output `(out_dim,)`; `jax.vmap` for a batch.
    """

    fourier: FourierFeatures | None
    mlp: MLP
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    activation: str | Callable = eqx.field(static=True)
    lower: tuple[float, ...] | None = eqx.field(static=True)
    upper: tuple[float, ...] | None = eqx.field(static=True)
    scale_to: float | tuple[float, float] | None = eqx.field(static=True)
    fourier_features: int = eqx.field(static=True)
    fourier_scale: float = eqx.field(static=True)
    fourier_trainable: bool = eqx.field(static=True)

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        width: int = 64,
        depth: int = 4,
        activation: str | Callable = "tanh",
        *,
        lower: float | Sequence[float] | None = None,
        upper: float | Sequence[float] | None = None,
        scale_to: float | Sequence[float] | None = None,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
        fourier_trainable: bool = False,
        key: PRNGKeyArray,
    ):
        owner = "MLPPINN"
        self.in_dim = integer("in_dim", in_dim, minimum=1, owner=owner)
        self.out_dim = integer("out_dim", out_dim, minimum=1, owner=owner)
        self.width = integer("width", width, minimum=1, owner=owner)
        self.depth = integer("depth", depth, minimum=1, owner=owner)
        get_activation(activation)  # fail early on an unknown name
        self.activation = activation
        self.scale_to = _target(scale_to, owner)
        if self.scale_to is None:
            if lower is not None or upper is not None:
                raise ValueError(
                    f"{owner}: got lower/upper but scale_to=None, so there is no input "
                    f"map to use them. Fix: pass scale_to (e.g. scale_to=(-1.0, 1.0)) "
                    f"or drop lower and upper."
                )
            self.lower = self.upper = None
        else:
            if lower is None or upper is None:
                raise ValueError(
                    f"{owner}: scale_to={scale_to!r} maps the box [lower, upper] but "
                    f"got lower={lower!r}, upper={upper!r}. Fix: pass both, e.g. "
                    f"lower=(0.0, -1.0), upper=(1.0, 1.0)."
                )
            self.lower, self.upper = _box(lower, upper, self.in_dim, owner)
        self.fourier_features = integer(
            "fourier_features", fourier_features, minimum=0, owner=owner
        )
        self.fourier_scale = real(
            "fourier_scale", fourier_scale, above=0.0, owner=owner
        )
        self.fourier_trainable = boolean(
            "fourier_trainable", fourier_trainable, owner=owner
        )
        k_ff, k_mlp = jax.random.split(key)
        if self.fourier_features:
            self.fourier = FourierFeatures(
                self.in_dim,
                self.fourier_features,
                self.fourier_scale,
                self.fourier_trainable,
                key=k_ff,
            )
            first = self.fourier.out_size
        else:
            self.fourier = None
            first = self.in_dim
        self.mlp = _glorot_mlp(
            first, self.out_dim, self.width, self.depth, activation, key=k_mlp
        )

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " out_dim"]:
        if x.shape != (self.in_dim,):
            raise ValueError(
                f"MLPPINN expected one point of shape ({self.in_dim},), got "
                f"{x.shape}. Use jax.vmap(model) for a batch of points."
            )
        if self.scale_to is not None:
            x = _input_map(x, self.lower, self.upper, self.scale_to)
        if self.fourier is not None:
            x = self.fourier(x)
        return self.mlp(x)
