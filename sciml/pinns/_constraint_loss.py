r"""The physics loss of a field under a constraint (PI-HC's outer loss and PI-SC's
soft loss), and the mean over a batch that drops non-converged solves."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray, PyTree

from .._checks import integer
from ._hard_constraint import AbstractConstraint


def physics_loss(
    constraint: AbstractConstraint,
    u: Float[Array, " *grid"],
    data: PyTree = None,
    *,
    points: int,
    key: PRNGKeyArray,
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    r"""The physics loss of a field $u$ on the grid: $\sum_j \overline{r_j^2}$ over
    the constraint's residual blocks $r_j$ (`terms`: PDE rows at `points` grid
    points drawn without replacement, initial and boundary rows whole), each
    weighted 1; the ridge is not part of it.

    It is the outer loss PI-HC and PI-HC-MoE train their basis network on (with
    $u$ the layer's output; its derivatives are taken on the stitched field, so a
    jump between experts shows in it), and the whole loss of the soft-constraint
    baseline PI-SC (with $u$ the network's own output through the constraint's
    `ansatz`). The sheet writes the terms as norms, not mean squares [U]; mean
    squares keep a block's weight independent of its row count.

    **Arguments:**

    - `constraint`: an `AbstractConstraint`.
    - `u`: the field `(*grid,)`.
    - `data`: the constraint's data (e.g. the initial condition).
    - `points`: PDE points sampled on the grid.
    - `key`: draws the points.

    **Returns:**

    `(loss, {name: mean square of that block})`.
    """
    points = integer("points", points, minimum=1, owner="physics_loss")
    if points > u.size:
        raise ValueError(
            f"physics_loss: points={points} exceed the {u.size} points of the grid "
            f"{u.shape}; sample fewer."
        )
    field = (u, jnp.zeros((*u.shape, 1), u.dtype))
    features = constraint.fields(field, data)
    shared = constraint.shared(features, data)
    idx = jax.random.choice(key, u.size, (points,), replace=False)
    rows = {
        name: (off.reshape(-1)[idx], mat.reshape(-1, mat.shape[-1])[idx])
        for name, (off, mat) in features.items()
    }
    c = jnp.zeros((1,), u.dtype)
    block = jnp.ones(u.shape, bool)
    terms = constraint.terms(c, rows, shared, data, block)
    means = {name: jnp.mean(r**2) for name, r in terms.items()}
    return sum(means.values()), means


def converged_mean(
    losses: Float[Array, " B"], converged: Bool[Array, " B"]
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """The mean of per-sample losses over the samples whose solves converged, and
    the count of those that did not.

    The implicit gradient of a hard constraint assumes its solve reached the
    optimum; where it did not, that sample's gradient is wrong. The documented
    policy ([D], spec §3): such a sample is dropped from the batch's loss (its
    gradient contribution masked), the count is returned for the training log
    (return it as a metric), and a batch where no solve converged has a NaN
    loss, so that `fit(..., on_non_finite="skip")` skips and counts that step
    (with the default `"stop"`, training stops and says so). Nothing is zeroed
    silently.

    **Arguments:**

    - `losses`: `(B,)` per-sample losses.
    - `converged`: `(B,)` whether each sample's solves converged (e.g.
        `out.info.converged.all()` per sample).

    **Returns:**

    `(mean over converged samples, or NaN if none, number not converged)`.
    """
    ok = jax.lax.stop_gradient(converged.astype(losses.dtype))
    n = jnp.sum(ok)
    mean = jnp.sum(jnp.where(converged, losses, 0.0)) / jnp.maximum(n, 1.0)
    return jnp.where(n > 0, mean, jnp.nan), converged.size - n
