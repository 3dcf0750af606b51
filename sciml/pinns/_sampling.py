r"""Collocation points: uniform or Latin-hypercube draws, fixed or resampled every
$k$ steps, and residual-based adaptive resampling.

A batch is `{"interior": (n, d), "conditions": ((m_1, d), ...)}`: interior points
for the PDE residual and one point set per condition of the problem.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _checks
from ._domain import METHODS
from ._loss import _pointwise, as_field
from ._problem import AbstractPDEProblem


class Collocation(eqx.Module):
    """The collocation points of a problem, as a function of the training step.

    `collocation(step)` is the batch of step `step`: the same for every step of a
    block of `resample_every` steps (drawn from `fold_in(key, step //
    resample_every)`), so a run is deterministic and a resumed run sees the same
    points; pass it to [`sciml.training.fit`][] as `batches`.

    **Arguments:**

    - `problem`: the [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem].
    - `n_interior`: interior points per batch.
    - `n_condition`: points per face of each condition (an int for all, or one
        per condition).
    - `resample_every`: steps between fresh draws (`None`: the points of step 0
        for ever).
    - `method`: `"uniform"` or `"lhs"` (Latin hypercube).
    - `key`: the base PRNG key (keyword-only).
    """

    problem: AbstractPDEProblem
    n_interior: int = eqx.field(static=True)
    n_condition: tuple[int, ...] = eqx.field(static=True)
    resample_every: int | None = eqx.field(static=True)
    method: str = eqx.field(static=True)
    key: Array

    def __init__(
        self,
        problem: AbstractPDEProblem,
        n_interior: int,
        n_condition: int | tuple[int, ...] = 256,
        *,
        resample_every: int | None = 100,
        method: str = "uniform",
        key: Array,
    ):
        owner = "Collocation"
        self.problem = problem
        self.n_interior = _checks.integer(
            "n_interior", n_interior, minimum=1, owner=owner
        )
        counts = (
            (n_condition,) * len(problem.conditions)
            if isinstance(n_condition, int)
            else tuple(n_condition)
        )
        if len(counts) != len(problem.conditions):
            raise ValueError(
                f"Got {len(counts)} point counts for {len(problem.conditions)} "
                f"conditions. Fix: pass one int, or one count per condition."
            )
        self.n_condition = tuple(
            _checks.integer("n_condition", c, minimum=1, owner=owner) for c in counts
        )
        if resample_every is not None:
            resample_every = _checks.integer(
                "resample_every", resample_every, minimum=1, owner=owner
            )
        self.resample_every = resample_every
        self.method = _checks.choice("method", method, METHODS, owner=owner)
        self.key = key

    def draw(self, *, key: Array) -> dict[str, Any]:
        """A fresh batch from `key`."""
        domain = self.problem.domain
        k_int, *k_cond = jax.random.split(key, 1 + len(self.problem.conditions))
        return {
            "interior": domain.sample(self.n_interior, key=k_int, method=self.method),
            "conditions": tuple(
                cond.points(domain, n, key=k, method=self.method)
                for cond, n, k in zip(
                    self.problem.conditions, self.n_condition, k_cond, strict=True
                )
            ),
        }

    def __call__(self, step: int) -> dict[str, Any]:
        block = 0 if self.resample_every is None else step // self.resample_every
        return _draw(self, jnp.asarray(block))  # traced: one compilation


@eqx.filter_jit
def _draw(collocation: Collocation, block: Array) -> dict[str, Any]:
    return collocation.draw(key=jax.random.fold_in(collocation.key, block))


def fixed_batch(
    problem: AbstractPDEProblem,
    interior: ArrayLike,
    conditions: tuple[ArrayLike, ...],
) -> dict[str, Any]:
    """A batch from points you chose, checked: each set `(n, d)` and inside the
    domain (a ValueError names the first point outside)."""
    problem.domain.check_points(interior, "interior points")
    if len(conditions) != len(problem.conditions):
        raise ValueError(
            f"Got {len(conditions)} condition point sets for "
            f"{len(problem.conditions)} conditions."
        )
    for i, points in enumerate(conditions):
        problem.domain.check_points(points, f"points of condition {i}")
    return {
        "interior": jnp.asarray(interior),
        "conditions": tuple(map(jnp.asarray, conditions)),
    }


@eqx.filter_jit  # one compiled program per problem and model structure
def residual_adaptive(
    problem: AbstractPDEProblem,
    model: Callable,
    n: int,
    *,
    key: Array,
    pool: int = 10,
    k: float = 1.0,
    c: float = 1.0,
) -> Array:
    r"""Residual-based adaptive interior points (RAD; Wu, Zhu, Tan, Kartha & Lu,
    CMAME 2023): from `pool * n` uniform candidates, draw `n` without replacement
    with probability $p(x) \propto |r(x)|^k / \overline{|r|^k} + c$.

    **Arguments:**

    - `problem`, `model`: the problem and the current model.
    - `n`: points to return.
    - `key`: PRNG key (keyword-only).
    - `pool`: candidates per returned point.
    - `k`, `c`: the density's exponent and floor ($k = 1, c = 1$ is the paper's
        default).

    **Returns:** `(n, d)` interior points, to use as the batch's `"interior"`.

    Compiled (`eqx.filter_jit`): `n`, `pool`, `k` and `c` are static, so a new
    value of one compiles anew; the model's weights are traced.
    """
    k_pool, k_pick = jax.random.split(key)
    candidates = problem.domain.sample(pool * n, key=k_pool)
    field = as_field(model, getattr(problem, "n_outputs", 1))
    r = jnp.sqrt(_pointwise(lambda x: problem.residual(field, x), candidates, "PDE"))
    density = r**k / jnp.mean(r**k) + c
    picks = jax.random.choice(
        k_pick, candidates.shape[0], (n,), replace=False, p=density / jnp.sum(density)
    )
    return candidates[picks]
