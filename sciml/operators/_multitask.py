r"""MT-DeepONet's inputs and its masked loss (Kumar, Goswami, Kontolati, Shields &
Karniadakis, "Synergistic learning with multi-task DeepONet", Neural Networks
184:107113, 2025; spec deeponet.md §5).

The multi-task model is a plain DeepONet; it becomes multi-task through its data:
the task description enters the branch input (`task_input`), a geometry's mask
enters it as an extra channel (`with_mask_channel`) and the loss
(`masked_mse`, `masked_relative_l2`), and transfer to a new task fine-tunes chosen
layers only (`sciml.training.trainable_only`).
"""

from typing import Literal

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def check_mask(mask: ArrayLike, shape: tuple[int, ...]) -> Array:
    """`mask` as an array, after checking that it is binary and broadcasts to a
    field of `shape` (trailing axes equal). Values are checked when concrete and,
    under jit, with `eqx.error_if`."""
    mask = jnp.asarray(mask)
    if mask.ndim > len(shape) or mask.shape != tuple(shape[len(shape) - mask.ndim :]):
        raise ValueError(
            f"The mask has shape {mask.shape}, which does not match the field's "
            f"{tuple(shape)} (a mask is one field's shape, or a batch of them). Fix: "
            f"a mask on the same grid as the field."
        )
    binary = jnp.all((mask == 0) | (mask == 1))
    return eqx.error_if(
        mask.astype(jnp.result_type(float)),
        ~binary,
        "The mask is not binary: every entry must be 0 (outside) or 1 (inside).",
    )


def with_mask_channel(
    field: Float[ArrayLike, "*C X Y"], mask: Float[ArrayLike, "X Y"]
) -> Float[Array, "C1 X Y"]:
    """One branch input of MT-DeepONet's geometry tasks: the field (one channel
    `(X, Y)` or several `(C, X, Y)`) with the binary mask appended as a channel."""
    field = jnp.asarray(field)
    if field.ndim == 2:
        field = field[None]
    mask = check_mask(mask, field.shape)
    return jnp.concatenate([field, mask[None]], axis=0)


def task_input(
    coefficients: Float[ArrayLike, "*N c"], sensors: Float[ArrayLike, "*N m"]
) -> Float[Array, "*N c_plus_m"]:
    """The branch input of a multi-task model: the task's coefficient vector (e.g.
    the source term's $(u, u^2, u^3, u^4)$ coefficients, 4 values) followed by the
    input function at its sensors (68 = 4 + 64 for MT-DeepONet's Fisher data)."""
    return jnp.concatenate([jnp.asarray(coefficients), jnp.asarray(sensors)], axis=-1)


def masked_mse(
    prediction: Float[ArrayLike, "..."],
    target: Float[ArrayLike, "..."],
    mask: Float[ArrayLike, "..."],
    *,
    normalise: Literal["inside", "all"] = "inside",
) -> Array:
    r"""$\sum M (\hat G - G)^2 / \sum M$: the mean squared error over the points
    inside the mask (`normalise="inside"`, the default [D]), or divided by every
    point of the grid (`"all"`, as MT-DeepONet's code does). `mask` broadcasts
    against the fields (one geometry, or one per sample)."""
    prediction, target = jnp.asarray(prediction), jnp.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(
            f"masked_mse: prediction {prediction.shape} and target {target.shape} "
            f"differ."
        )
    mask = jnp.broadcast_to(check_mask(mask, prediction.shape), prediction.shape)
    total = jnp.sum(mask * (prediction - target) ** 2)
    if normalise == "all":
        return total / prediction.size
    if normalise != "inside":
        raise ValueError(f"normalise must be 'inside' or 'all', got {normalise!r}.")
    return total / jnp.maximum(jnp.sum(mask), 1.0)


def masked_relative_l2(
    prediction: Float[ArrayLike, " N *grid"],
    target: Float[ArrayLike, " N *grid"],
    mask: Float[ArrayLike, "..."],
) -> Array:
    r"""The per-sample relative L2 error inside the mask, $\lVert M(\hat G_i -
    G_i)\rVert_2 / \lVert M G_i\rVert_2$, averaged over the samples (MT-DeepONet's
    fine-tuning loss and its metric)."""
    prediction, target = jnp.asarray(prediction), jnp.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(
            f"masked_relative_l2: prediction {prediction.shape} and target "
            f"{target.shape} differ."
        )
    mask = jnp.broadcast_to(check_mask(mask, prediction.shape), prediction.shape)
    axes = tuple(range(1, prediction.ndim))
    num = jnp.sqrt(jnp.sum((mask * (prediction - target)) ** 2, axis=axes))
    den = jnp.sqrt(jnp.sum((mask * target) ** 2, axis=axes))
    return jnp.mean(num / den)
