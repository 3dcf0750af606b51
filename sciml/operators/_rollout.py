"""Autoregressive rollout of a one-step model."""

from collections.abc import Callable

import jax
from jaxtyping import Array, PyTree

from .._checks import integer


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
    n_steps = integer("n_steps", n_steps, minimum=1, owner="rollout")

    def body(u, _):
        u_next = step_fn(u)
        return u_next, u_next

    _, us = jax.lax.scan(body, u0, None, length=n_steps)
    return us
