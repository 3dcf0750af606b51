"""Autoregressive rollout of a one-step model."""

from collections.abc import Callable

import jax
from jaxtyping import Array, PyTree


def rollout(
    step_fn: Callable[[PyTree[Array]], PyTree[Array]], u0: PyTree[Array], n_steps: int
) -> PyTree[Array]:
    r"""Apply a one-step map repeatedly, $u_{k+1} = \Phi(u_k)$, with `jax.lax.scan`.

    **Arguments:**

    - `step_fn`: the one-step map $\Phi$, e.g. a trained FNO or an `ODENet`.
    - `u0`: the initial state (one sample; `jax.vmap` the call for a batch).
    - `n_steps`: number of steps (a Python int; it fixes the scan length).

    **Returns:** the states $u_1, \dots, u_n$ stacked on a new leading axis
    (the initial state is not included).
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(
            f"rollout: expected n_steps to be a positive int, got {n_steps!r}."
        )

    def body(u, _):
        u_next = step_fn(u)
        return u_next, u_next

    _, us = jax.lax.scan(body, u0, None, length=n_steps)
    return us
