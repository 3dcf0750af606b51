"""The error a PINN is scored by: relative L2 on its problem's test grid."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._problem import AbstractPDEProblem


def relative_l2(
    model: Callable,
    problem: AbstractPDEProblem,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    chunk: int = 65536,
) -> float:
    r"""$\|\hat u - u\|_2 / \|u\|_2$ over the problem's test grid: the model's
    prediction $\hat u$ against the exact solution or reference $u$. This is the
    error to report for the FINAL model of a run (never the best seen during
    training, which selects on the test set).

    **Arguments:**

    - `model`: the trained model, one point `(d,)` to `(k,)`.
    - `problem`: its [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem].
    - `reference`: `(points, values)` from `problem.reference()`, to reuse one
        (computed when `None`).
    - `chunk`: points per evaluation call (bounds memory).

    **Returns:** the relative L2 error as a Python float.
    """
    points, values = problem.reference() if reference is None else reference
    floats = [x for x in jax.tree.leaves(model) if eqx.is_inexact_array(x)]
    dtype = floats[0].dtype if floats else jnp.float32
    preds = [
        np.asarray(
            _predict(model, jnp.asarray(points[i : i + chunk], dtype)), np.float64
        )
        for i in range(0, len(points), chunk)
    ]
    pred = np.concatenate(preds).reshape(np.shape(values))
    return float(np.linalg.norm(pred - values) / np.linalg.norm(values))


@eqx.filter_jit
def _predict(model, points):
    return jax.vmap(model)(points)
