"""Per-channel normalisation statistics, kept with the model and never trained."""

from collections.abc import Iterable, Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._checks import integer
from ._log import logger

# Elements per block when `from_data` walks an array: bounds the float64 copy.
_BLOCK_ELEMENTS = 1 << 22


def _statistic(name: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not (
        isinstance(value, Sequence | np.ndarray) or eqx.is_array(value)
    ):
        raise TypeError(
            f"Normaliser: {name} must be a sequence of numbers (one per channel), "
            f"got {type(value).__name__} {value!r}. Fix: pass e.g. {name}=[0.0, "
            f"1.5], or build the normaliser with `Normaliser.from_data(u)`."
        )
    try:
        array = np.asarray(value)
    except ValueError as e:
        raise TypeError(
            f"Normaliser: {name} must be a flat list of numbers: {e}. Fix: pass "
            f"one number per channel, e.g. {name}=[0.0, 1.5]."
        ) from e
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"Normaliser: {name} must hold real numbers, got dtype {array.dtype}. "
            f"Fix: pass floats, e.g. {name}=[0.0, 1.5]."
        )
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"Normaliser: {name} must be a non-empty flat sequence (one number per "
            f"channel), got shape {array.shape}. Fix: pass e.g. {name}=[0.0, 1.5]."
        )
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"Normaliser: {name} must be finite, got {array.tolist()}. Fix: check "
            f"the training data for NaN/inf."
        )
    return tuple(float(v) for v in array)


class Normaliser(eqx.Module):
    r"""Per-channel statistics: $\hat u_c = (u_c - \mu_c) / \sigma_c$ and back.

    The statistics are static fields (tuples of Python floats), not arrays: the
    optimiser, weight decay and [`sciml.training.count_parameters`][] never see
    them, they become constants of the compiled code, and
    [`sciml.training.save_model`][] stores them as constructor arguments.

    `channel_axis` is the channel axis of ONE unbatched sample, the input a
    model's `__call__` takes: `0` for channel-first grids `(C, X, ...)` and for
    points `(d,)`, `-1` for channel-last samples. Every other axis is
    broadcast over, so the same normaliser also applies to a batch if
    `channel_axis` is negative.

    **Arguments:**

    - `mean`: the per-channel means $\mu_c$, one number per channel.
    - `std`: the per-channel standard deviations $\sigma_c > 0$.
    - `channel_axis`: the axis of a sample that holds the channels.
    """

    mean: tuple[float, ...] = eqx.field(static=True)
    std: tuple[float, ...] = eqx.field(static=True)
    channel_axis: int = eqx.field(static=True)

    def __init__(self, mean: Any, std: Any, channel_axis: int = 0):
        self.mean = _statistic("mean", mean)
        self.std = _statistic("std", std)
        self.channel_axis = integer("channel_axis", channel_axis, owner="Normaliser")
        if len(self.mean) != len(self.std):
            raise ValueError(
                f"Normaliser: mean and std must have one entry per channel each, "
                f"got {len(self.mean)} means and {len(self.std)} stds. Fix: pass "
                f"lists of the same length."
            )
        if min(self.std) <= 0.0:
            raise ValueError(
                f"Normaliser: every std must be > 0, got {list(self.std)}. Fix: "
                f"use 1.0 for a constant channel (as `from_data` does)."
            )

    @property
    def channels(self) -> int:
        """The number of channels."""
        return len(self.mean)

    @classmethod
    def from_data(cls, data: Any, *, channel_axis: int = 0) -> "Normaliser":
        r"""Compute per-channel mean and standard deviation of training data.

        The statistics are taken over the samples and every non-channel axis, in
        float64 on the host, block by block (the pairwise update of count, mean
        and sum of squared deviations of Chan, Golub and LeVeque, "Algorithms for
        computing the sample variance: analysis and recommendations", The
        American Statistician 37(3), 1983),
        so a large array or an HDF5 dataset is never copied whole and float32 data
        loses no precision. The
        standard deviation is the population one, $\sigma_c =
        \sqrt{\tfrac1n \sum (u_c - \mu_c)^2}$. A constant channel gets
        $\sigma_c = 1$ (it is only shifted), with a logged warning.

        **Arguments:**

        - `data`: the training samples stacked on a leading axis, shape
            `(N, *sample_shape)`: a numpy or JAX array, an `h5py.Dataset` (or
            anything with `.shape` that slices along its first axis), or an
            iterable of such arrays (chunks of samples, e.g. batches).
        - `channel_axis`: the channel axis of ONE sample, not counting the
            leading sample axis: `0` for `(N, C, X, ...)` data, `-1` for
            `(N, ..., C)` data.

        **Returns:**

        A `Normaliser` with this `channel_axis`.
        """
        axis = integer("channel_axis", channel_axis, owner="Normaliser.from_data")
        name = "data"
        stats = _Streaming(axis, name)
        if hasattr(data, "shape") and hasattr(data, "__getitem__"):
            stats.add_array(data)
        elif isinstance(data, Iterable) and not isinstance(data, str | bytes):
            for i, chunk in enumerate(data):
                stats.add_array(chunk, where=f"{name}[{i}]")
        else:
            raise TypeError(
                f"Normaliser.from_data: {name} must be an array of samples "
                f"(N, *sample_shape) or an iterable of such arrays, got "
                f"{type(data).__name__}. Fix: pass e.g. the training inputs "
                f"`x_train`, or a list of batches of them."
            )
        mean, std = stats.result()
        return cls(mean, std, channel_axis=axis)

    def _shaped(self, x: Array) -> tuple[Array, Array, Array]:
        ndim = jnp.ndim(x)
        if not -ndim <= self.channel_axis < ndim or (
            jnp.shape(x)[self.channel_axis] != self.channels
        ):
            raise ValueError(
                f"Normaliser: expected an array with {self.channels} channels on "
                f"axis {self.channel_axis}, got shape {jnp.shape(x)}. Fix: pass "
                f"one sample shaped like the training samples (vmap over a batch), "
                f"or build the normaliser with the right `channel_axis`."
            )
        shape = [1] * ndim
        shape[self.channel_axis] = self.channels
        dtype = (
            x.dtype if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.result_type(float)
        )
        # The mean as a sum hi + lo of two numbers of `dtype`: for data far from
        # zero (e.g. 1e4 +- 3 in float32) subtracting hi is exact and lo keeps
        # the rounding of the mean from biasing the normalised data.
        mean = np.reshape(self.mean, shape)
        hi = mean.astype(dtype)
        lo = (mean - hi.astype(np.float64)).astype(dtype)
        std = np.reshape(self.std, shape).astype(dtype)
        return jnp.asarray(hi), jnp.asarray(lo), jnp.asarray(std)

    def normalise(self, x: ArrayLike) -> Array:
        r"""Return $(x - \mu) / \sigma$, per channel.

        **Arguments:**

        - `x`: an array with `channels` entries on `channel_axis`.

        **Returns:**

        The normalised array, of `x`'s dtype (the default float dtype for integer
        input).
        """
        x = jnp.asarray(x)
        hi, lo, std = self._shaped(x)
        return ((x - hi) - lo) / std

    def denormalise(self, y: ArrayLike) -> Array:
        r"""Return $y \sigma + \mu$, per channel: the inverse of `normalise`.

        **Arguments:**

        - `y`: an array with `channels` entries on `channel_axis`.

        **Returns:**

        The array in the units of the data.
        """
        y = jnp.asarray(y)
        hi, lo, std = self._shaped(y)
        return (y * std + lo) + hi


class _Streaming:
    """Per-channel count, mean, sum of squared deviations, min and max in float64."""

    def __init__(self, axis: int, name: str):
        self.axis, self.name = axis, name
        self.n = 0
        self.mean = self.m2 = self.lo = self.hi = None

    def add_array(self, data: Any, where: str | None = None) -> None:
        where = where or self.name
        shape = tuple(getattr(data, "shape", np.shape(data)))
        if len(shape) < 2 or not -(len(shape) - 1) <= self.axis < len(shape) - 1:
            raise ValueError(
                f"Normaliser.from_data: {where} must have a leading sample axis "
                f"and a channel axis {self.axis} in each sample, got shape "
                f"{shape}. Fix: stack the samples as (N, *sample_shape), e.g. "
                f"(N, C, X) with channel_axis=0."
            )
        per_sample = max(1, int(np.prod(shape[1:])))
        block = max(1, _BLOCK_ELEMENTS // per_sample)
        for start in range(0, shape[0], block):
            self._add_block(np.asarray(data[start : start + block]), where)

    def _add_block(self, x: np.ndarray, where: str) -> None:
        if x.dtype.kind not in "iuf":
            raise TypeError(
                f"Normaliser.from_data: {where} must hold real numbers, got dtype "
                f"{x.dtype}. Fix: pass the real-valued training data."
            )
        axis = self.axis + 1 if self.axis >= 0 else self.axis
        x = np.moveaxis(x, axis, 0)
        x = x.reshape(x.shape[0], -1).astype(np.float64)
        if self.mean is not None and x.shape[0] != self.mean.shape[0]:
            raise ValueError(
                f"Normaliser.from_data: {where} has {x.shape[0]} channels, earlier "
                f"data had {self.mean.shape[0]}. Fix: pass chunks of the same "
                f"samples."
            )
        n = x.shape[1]
        if n == 0:
            return
        if not np.all(np.isfinite(x)):
            raise ValueError(
                f"Normaliser.from_data: {where} contains NaN or inf. Fix: clean "
                f"the training data first."
            )
        mean = x.mean(axis=1)
        m2 = np.sum((x - mean[:, None]) ** 2, axis=1)
        lo, hi = x.min(axis=1), x.max(axis=1)
        if self.mean is None:
            self.n, self.mean, self.m2, self.lo, self.hi = n, mean, m2, lo, hi
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * n / total)
        self.lo, self.hi = np.minimum(self.lo, lo), np.maximum(self.hi, hi)
        self.n = total

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None:
            raise ValueError(
                f"Normaliser.from_data: {self.name} holds no samples. Fix: pass "
                f"the training data."
            )
        std = np.sqrt(self.m2 / self.n)
        constant = self.lo == self.hi
        if np.any(constant):
            logger.warning(
                "Normaliser.from_data: channels %s of %s are constant; they get "
                "std 1 (shifted only).",
                np.flatnonzero(constant).tolist(),
                self.name,
            )
        mean = np.where(constant, self.lo, self.mean)
        return mean, np.where(constant, 1.0, std)


class Normalised(eqx.Module):
    r"""A model that works in normalised units: $y = D(f(N(x)))$.

    `__call__` normalises the input with `in_norm`, calls `model`, and
    denormalises its output with `out_norm` (either may be `None`: that side is
    left as it is). Train the wrapper with a loss in the data's units; the
    statistics are static (see [`sciml.training.Normaliser`][]), so only
    `model`'s weights are trained, and [`sciml.training.save_model`][] stores the
    wrapper, the model's constructor arguments and the statistics together.

    ```python
    x_norm = Normaliser.from_data(x_train)  # x_train: (N, C, X)
    y_norm = Normaliser.from_data(y_train)
    model = Normalised(FNO(...), x_norm, y_norm)
    ```

    **Arguments:**

    - `model`: the equinox model, called on one normalised sample.
    - `in_norm`: the [`sciml.training.Normaliser`][] of the input, or `None`.
    - `out_norm`: the normaliser of the output, or `None`.
    """

    model: eqx.Module
    in_norm: Normaliser | None
    out_norm: Normaliser | None

    def __init__(
        self,
        model: eqx.Module,
        in_norm: Normaliser | None = None,
        out_norm: Normaliser | None = None,
    ):
        if not (isinstance(model, eqx.Module) and callable(model)):
            raise TypeError(
                f"Normalised: model must be a callable eqx.Module, got "
                f"{type(model).__name__}. Fix: wrap an equinox model."
            )
        for name, norm in (("in_norm", in_norm), ("out_norm", out_norm)):
            if norm is not None and not isinstance(norm, Normaliser):
                raise TypeError(
                    f"Normalised: {name} must be a Normaliser or None, got "
                    f"{type(norm).__name__}. Fix: build it with "
                    f"`Normaliser.from_data(training_data)`."
                )
        self.model = model
        self.in_norm = in_norm
        self.out_norm = out_norm

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """Normalise `x`, call the model (with any further arguments), denormalise.

        **Arguments:**

        - `x`: one sample in the data's units.
        - `*args`, `**kwargs`: passed on to `model` unchanged (e.g. query points
            or `key=`).

        **Returns:**

        The model's output in the data's units.
        """
        if self.in_norm is not None:
            x = self.in_norm.normalise(x)
        y = self.model(x, *args, **kwargs)
        if self.out_norm is not None:
            y = self.out_norm.denormalise(y)
        return y
