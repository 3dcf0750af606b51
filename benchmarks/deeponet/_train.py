"""One training loop and one error for every DeepONet row: Adam (optionally with
weight decay and a step decay), random batches of functions against a fixed point
set (the cartesian-product form), the final model's mean per-sample relative L2
on held-out functions."""

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from sciml import metrics
from sciml.operators import masked_mse, masked_relative_l2
from sciml.training import init_train_state, make_step


def adam(
    lr: float,
    steps: int,
    *,
    decay: float = 1.0,
    every: int = 1000,
    weight_decay: float = 0.0,
) -> optax.GradientTransformation:
    """Adam at `lr`, times `decay` every `every` steps; AdamW with `weight_decay`."""
    schedule = optax.exponential_decay(lr, every, decay, staircase=True)
    if weight_decay:
        return optax.adamw(schedule, weight_decay=weight_decay)
    return optax.adam(schedule)


def train(
    model: Any,
    loss: Callable,
    batch_of: Callable[[np.random.Generator], Any],
    *,
    steps: int,
    optimizer: optax.GradientTransformation,
    seed: int,
    trainable: Any = None,
) -> tuple[Any, dict[str, float]]:
    """Train for `steps` on `batch_of(rng)` batches; return the final model and the
    wall time (compilation excluded: the first step is timed apart)."""
    rng = np.random.default_rng(seed)
    state = init_train_state(
        model, optimizer, key=jax.random.key(seed), trainable=trainable
    )
    step = make_step(loss, optimizer, trainable=trainable)
    t0 = time.perf_counter()
    state, value, _ = step(batch_of(rng), state)
    jax.block_until_ready(value)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps - 1):
        state, value, _ = step(batch_of(rng), state)
    jax.block_until_ready(value)
    train_s = time.perf_counter() - t0
    if int(state.bad_step) >= 0:
        raise FloatingPointError(
            f"training hit a non-finite loss at {int(state.bad_step)}"
        )
    return state.model, {
        "train_s": train_s,
        "compile_s": compile_s,
        "s_per_step": train_s / max(steps - 1, 1),
        "final_loss": float(value),
    }


def mse_loss(loss_points: Any = None) -> Callable:
    """`loss(model, (inputs, points, outputs, mask), key)`: the MSE of
    `model.cartesian(inputs, points)` against outputs `(N, P, K)`, inside the mask
    when it is not None (`masked_mse`, normalised by the points inside)."""

    def loss(model, batch, key):
        inputs, points, outputs, mask = batch
        prediction = model.cartesian(inputs, points, key=key)
        if mask is None:
            return jnp.mean((prediction - outputs) ** 2), {}
        return masked_mse(prediction, outputs, mask), {}

    return loss


@eqx.filter_jit
def _cartesian(model: Any, inputs: Any, points: jax.Array) -> jax.Array:
    return model.cartesian(inputs, points)


def predict(model: Any, inputs: Any, points: jax.Array, chunk: int = 256) -> np.ndarray:
    """`model.cartesian` in chunks of functions (no dropout), compiled once per
    chunk shape for every model of the run."""
    n = jax.tree.leaves(inputs)[0].shape[0]
    parts = [
        np.asarray(
            _cartesian(
                model, jax.tree.map(lambda a, i=i: a[i : i + chunk], inputs), points
            )
        )
        for i in range(0, n, chunk)
    ]
    return np.concatenate(parts)


def relative_l2(prediction: Any, truth: Any, mask: Any = None) -> float:
    """The mean per-sample relative L2 error (`sciml.metrics.relative_l2`), inside
    `mask` when given (`sciml.operators.masked_relative_l2`)."""
    if mask is None:
        return float(metrics.relative_l2(prediction, truth))
    return float(masked_relative_l2(prediction, truth, mask))


def frobenius_error(prediction: np.ndarray, truth: np.ndarray) -> float:
    """One global $\\lVert \\hat G - G\\rVert_F / \\lVert G\\rVert_F$ (MT-DeepONet's
    Fisher metric)."""
    return float(np.linalg.norm(prediction - truth) / np.linalg.norm(truth))


def function_batches(
    inputs: Any,
    outputs: np.ndarray,
    points: np.ndarray,
    size: int,
    n_points: int | None = None,
    mask: np.ndarray | None = None,
    schedule: Any = None,
) -> Callable:
    """`batch_of(rng)`: `size` random functions (with `n_points` random points of
    the grid each step, or all), as `(inputs, points, outputs, mask)`; `outputs`
    is `(N, P, K)`, `mask` `(N, P, 1)` or None. The data go to the device once;
    a step gathers its batch there (only the indices cross). With `schedule`, an
    iterable of `(function indices, point indices or None)` per step, the steps
    take those instead of drawing from `rng`."""
    n, p = outputs.shape[:2]
    size = min(size, n)
    if n_points is not None and n_points >= p:
        n_points = None  # every point of a small grid
    data = jax.tree.map(jnp.asarray, (inputs, outputs, points, mask))

    @jax.jit
    def gather(data, idx, pick):
        inputs, outputs, points, mask = data
        u = jax.tree.map(lambda a: a[idx], inputs)
        m = None if mask is None else mask[idx][:, pick]
        return u, points[pick], outputs[idx][:, pick], m

    steps = None if schedule is None else iter(schedule)

    def batch_of(rng):
        if steps is not None:
            idx, pick = next(steps)
            return gather(data, idx, np.arange(p) if pick is None else pick)
        idx = rng.choice(n, size, replace=False)
        pick = (
            np.arange(p)
            if n_points is None
            else np.sort(rng.choice(p, n_points, replace=False))
        )
        return gather(data, idx, pick)

    return batch_of
