r"""`PINNLoss`: the physics-informed loss, `loss(model, batch, key) -> (scalar,
metrics)`, so it runs in `sciml.training.fit` and in a user's own optax loop.

For the PDE residual $r$ on interior points $X_r$ and each condition's residual
$r_i$ on its points $X_i$,

$$
\mathcal{L}(\theta) = \lambda_r w_r \,\overline{|r|^2}
  + \sum_i \lambda_i w_i \,\overline{|r_i|^2},
$$

with fixed weights $w$ (the problem's) and balancing factors $\lambda$: all 1
(`balance="fixed"`), or gradient-norm balancing (`balance="grad_norm"`), where
$\lambda_j = \sum_l \|\nabla_\theta \mathcal{L}_l\| / \|\nabla_\theta
\mathcal{L}_j\|$ is recomputed at every step from the current gradients and held
constant (stop-gradient), so every weighted term pulls with the same force (Wang,
Teng & Perdikaris, SIAM J. Sci. Comput. 2021, without their moving average: the
loss stays a pure function of the model and the batch).

Causal weighting in time (Wang, Sankaran & Perdikaris, 2022, the JAX-PI recipe the
PIG sheet names for Allen-Cahn): the time axis is split into $M$ equal chunks with
mean squared residuals $L_1, \dots, L_M$, and the residual term is
$\frac1M \sum_i w_i L_i$ with $w_i = \exp(-\varepsilon \sum_{j<i} L_j)$ held
constant, so later times count only once earlier ones are resolved.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .. import _checks
from ._problem import AbstractPDEProblem

BALANCES = ("fixed", "grad_norm")


def as_field(model: Callable, n_outputs: int) -> Callable:
    """The model as the field the residual sees: a scalar function for a problem
    with one unknown, else `(d,) -> (k,)`."""

    def field(x):
        out = model(x)
        if out.shape not in ((n_outputs,), ()) or (out.shape == () and n_outputs != 1):
            raise ValueError(
                f"The model maps a point to shape {out.shape}; this problem has "
                f"{n_outputs} unknown(s), so expected ({n_outputs},). Fix: build the "
                f"model with out_dim={n_outputs}."
            )
        return out.reshape(()) if n_outputs == 1 else out

    return field


def _pointwise(residual: Callable, points: Array, what: str) -> Array:
    """Squared residual per point, summed over its components: `(n,)`."""
    r = jax.vmap(residual)(points)
    if r.ndim > 2:
        raise ValueError(
            f"The {what} residual returned shape {r.shape[1:]} per point; expected a "
            f"scalar or a vector (m,). Fix: return one number per equation, e.g. "
            f"jnp.stack([...])."
        )
    return jnp.sum(r.reshape(r.shape[0], -1) ** 2, axis=-1)


class PINNLoss(eqx.Module):
    """The physics-informed loss of a problem (module docstring for the maths).

    **Arguments:**

    - `problem`: an [`AbstractPDEProblem`][sciml.pinns.AbstractPDEProblem].
    - `residual_weight`: $w_r$, the PDE residual's fixed weight (default: the
        problem's `residual_weight`; the conditions carry their own `weight`).
    - `balance`: `"fixed"` or `"grad_norm"`.
    - `causal_chunks`: $M$ for causal weighting in time (needs a `"t"` axis), or
        `None` for none.
    - `causal_eps`: $\\varepsilon$ of the causal weights.

    `loss(model, batch, key)` takes a batch `{"interior": (n, d), "conditions":
    ((n_1, d), ...)}` (one point set per condition, as
    [`sciml.pinns.Collocation`][] makes them) and returns the scalar loss and the
    metrics: each term's mean squared residual, and the smallest causal weight.
    """

    problem: AbstractPDEProblem
    residual_weight: float = eqx.field(static=True)
    balance: str = eqx.field(static=True)
    causal_chunks: int | None = eqx.field(static=True)
    causal_eps: float = eqx.field(static=True)

    def __init__(
        self,
        problem: AbstractPDEProblem,
        residual_weight: float | None = None,
        *,
        balance: str = "fixed",
        causal_chunks: int | None = None,
        causal_eps: float = 1.0,
    ):
        owner = "PINNLoss"
        if not isinstance(problem, AbstractPDEProblem):
            raise TypeError(
                f"PINNLoss needs an AbstractPDEProblem, got {type(problem).__name__}."
            )
        self.problem = problem
        if residual_weight is None:
            residual_weight = problem.residual_weight
        self.residual_weight = _checks.real(
            "residual_weight", residual_weight, minimum=0.0, owner=owner
        )
        self.balance = _checks.choice("balance", balance, BALANCES, owner=owner)
        if causal_chunks is not None:
            causal_chunks = _checks.integer(
                "causal_chunks", causal_chunks, minimum=1, owner=owner
            )
            if not problem.domain.has_time:
                raise ValueError(
                    "Causal weighting needs a time axis named 't'; this problem's "
                    f"axes are {problem.domain.names}."
                )
        self.causal_chunks = causal_chunks
        self.causal_eps = _checks.real(
            "causal_eps", causal_eps, minimum=0.0, owner=owner
        )

    def terms(self, model: Callable, batch: dict[str, Any]) -> tuple[list, dict]:
        """The unweighted terms (residual first, then each condition's) and the
        metrics."""
        problem = self.problem
        field = as_field(model, getattr(problem, "n_outputs", 1))
        interior = batch["interior"]
        squares = _pointwise(lambda x: problem.residual(field, x), interior, "PDE")
        metrics = {}
        if self.causal_chunks is None:
            residual = jnp.mean(squares)
        else:
            residual, weights = self._causal(interior, squares)
            metrics["causal_min_weight"] = jnp.min(weights)
        terms = [residual]
        metrics["residual"] = residual
        conditions = batch["conditions"]
        if len(conditions) != len(problem.conditions):
            raise ValueError(
                f"The batch has {len(conditions)} condition point sets; the problem "
                f"has {len(problem.conditions)} conditions. Fix: make the batch with "
                f"sciml.pinns.Collocation(problem, ...)."
            )
        for i, (cond, points) in enumerate(
            zip(problem.conditions, conditions, strict=True)
        ):
            name = type(cond).__name__.lower()
            term = jnp.mean(
                _pointwise(
                    lambda x, c=cond: c.residual(field, x, problem.domain), points, name
                )
            )
            metrics[f"{name}_{i}"] = term
            terms.append(term)
        return terms, metrics

    def _causal(self, interior: Array, squares: Array) -> tuple[Array, Array]:
        domain, m = self.problem.domain, self.causal_chunks
        j = domain.axis("t")
        t0, t1 = domain.lower[j], domain.upper[j]
        chunk = jnp.clip(((interior[:, j] - t0) / (t1 - t0) * m).astype(int), 0, m - 1)
        sums = jax.ops.segment_sum(squares, chunk, num_segments=m)
        counts = jax.ops.segment_sum(jnp.ones_like(squares), chunk, num_segments=m)
        losses = sums / jnp.maximum(counts, 1.0)
        before = jnp.cumsum(losses) - losses
        weights = jax.lax.stop_gradient(jnp.exp(-self.causal_eps * before))
        return jnp.mean(weights * losses), weights

    def __call__(self, model: Any, batch: dict[str, Any], key: Any = None):
        del key
        weights = [self.residual_weight, *(c.weight for c in self.problem.conditions)]
        if self.balance == "fixed":
            terms, metrics = self.terms(model, batch)
            loss = sum(w * t for w, t in zip(weights, terms, strict=True))
            return loss, metrics
        # gradient-norm balancing: each term's gradient norm, held constant
        params, static = eqx.partition(model, eqx.is_inexact_array)

        def term_values(p):
            terms, metrics = self.terms(eqx.combine(p, static), batch)
            return jnp.stack(terms), metrics

        terms, pullback, metrics = jax.vjp(term_values, params, has_aux=True)
        n = terms.shape[0]
        (grads,) = jax.vmap(pullback)(jnp.eye(n, dtype=terms.dtype))  # row j: grad L_j
        squares = sum(
            jnp.sum(g.reshape(n, -1) ** 2, axis=1) for g in jax.tree.leaves(grads)
        )
        norms = jax.lax.stop_gradient(jnp.sqrt(squares))
        lam = jax.lax.stop_gradient(jnp.sum(norms) / jnp.maximum(norms, 1e-30))
        metrics = {**metrics, **{f"lambda_{i}": lam[i] for i in range(n)}}
        return jnp.sum(lam * jnp.asarray(weights) * terms), metrics
