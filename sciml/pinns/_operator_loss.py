r"""`OperatorPINNLoss`: the physics-informed loss of an operator network, such as a
DeepONet, over a batch of input functions (PI-DeepONet: Wang, Wang & Perdikaris,
Sci. Adv. 2021; spec deeponet.md §3):

$$
\mathcal L = w_d\,\mathcal L_\text{data}
  + \frac1N \sum_{i=1}^{N} \mathcal L_\text{PINN}\big[G(u_i)\big],
$$

where $\mathcal L_\text{PINN}[G(u_i)]$ is [`sciml.pinns.PINNLoss`][] of the problem
made for input $u_i$ (`problem(u_i)`, e.g.
[`sciml.pinns.problems.Antiderivative`][]) on the field $y \mapsto G(u_i)(y)$, so
the residual's derivatives are taken with respect to the trunk coordinates by the
problem's derivative engine, and $\mathcal L_\text{data}$ is the mean squared
error against known outputs, when the batch has them.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from .. import _checks
from ._loss import PINNLoss


def _axis(points: Any, name: str) -> int | None:
    """0 for per-function points `(N, n, d)`, None for shared ones `(n, d)`."""
    ndim = jnp.ndim(points)
    if ndim not in (2, 3):
        raise ValueError(
            f"OperatorPINNLoss: {name} points must be (n, d) for all functions or "
            f"(N, n, d) per function, got shape {jnp.shape(points)}."
        )
    return 0 if ndim == 3 else None


class OperatorPINNLoss(eqx.Module):
    """The physics-informed loss of an operator network (module docstring).

    **Arguments:**

    - `problem`: `problem(u) -> AbstractPDEProblem` for one input `u` (a
        function held as a static field: give it a module-level name, so that a
        new loss built the same way compiles to the same program).
    - `data_weight`: $w_d$ (0: physics only).
    - `physics_weight`: the factor of the PINN terms (0: data only).

    `loss(model, batch, key)` takes the model `model(u, y) -> (P, k)` and a batch
    `{"inputs": U, "interior": X, "conditions": (X_1, ...)}` with points shared
    by all functions (`(n, d)`) or per function (`(N, n, d)`), and optionally
    `"data": (Y, S)`, outputs `S` `(N, P, k)` at points `Y` `(P, d)`. Metrics:
    each term's mean over the functions, and `data`.
    """

    problem: Callable = eqx.field(static=True)
    data_weight: float = eqx.field(static=True)
    physics_weight: float = eqx.field(static=True)

    def __init__(
        self,
        problem: Callable,
        *,
        data_weight: float = 1.0,
        physics_weight: float = 1.0,
    ):
        if not callable(problem):
            raise TypeError(
                "OperatorPINNLoss needs `problem(u) -> AbstractPDEProblem`, a "
                f"function of one input; got {type(problem).__name__}."
            )
        self.problem = problem
        owner = "OperatorPINNLoss"
        self.data_weight = _checks.real(
            "data_weight", data_weight, minimum=0.0, owner=owner
        )
        self.physics_weight = _checks.real(
            "physics_weight", physics_weight, minimum=0.0, owner=owner
        )

    def _physics(self, model, batch) -> tuple[Any, dict]:
        interior, conditions = batch["interior"], tuple(batch["conditions"])
        in_axes = (
            0,
            _axis(interior, "interior"),
            tuple(_axis(c, f"condition {i}") for i, c in enumerate(conditions)),
        )

        def one(u, interior_i, conditions_i):
            problem = self.problem(u)
            loss = PINNLoss(problem)
            field = lambda y: model(u, y[None])[0]  # noqa: E731
            terms, metrics = loss.terms(
                field, {"interior": interior_i, "conditions": conditions_i}
            )
            weights = [loss.residual_weight, *(c.weight for c in problem.conditions)]
            total = sum(w * t for w, t in zip(weights, terms, strict=True))
            return total, metrics

        totals, metrics = jax.vmap(one, in_axes=in_axes)(
            batch["inputs"], interior, conditions
        )
        return jnp.mean(totals), {k: jnp.mean(v) for k, v in metrics.items()}

    def __call__(self, model: Any, batch: dict[str, Any], key: Any = None):
        del key
        loss, metrics = jnp.asarray(0.0), {}
        if self.physics_weight > 0:
            physics, metrics = self._physics(model, batch)
            loss = loss + self.physics_weight * physics
        if "data" in batch and self.data_weight > 0:
            points, outputs = batch["data"]
            prediction = model.cartesian(batch["inputs"], points)
            if prediction.shape != jnp.shape(outputs):
                raise ValueError(
                    f"OperatorPINNLoss: the model gives {prediction.shape} on the "
                    f"data points, the data are {jnp.shape(outputs)}; expected "
                    f"outputs (N, P, k)."
                )
            data = jnp.mean((prediction - outputs) ** 2)
            metrics["data"] = data
            loss = loss + self.data_weight * data
        return loss, metrics
