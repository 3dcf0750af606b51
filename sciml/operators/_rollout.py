"""Autoregressive rollout of a one-step model."""

from collections.abc import Callable

import jax
from jaxtyping import Array, PyTree

from .._checks import integer


def rollout(
    step_fn: Callable[[PyTree[Array]], PyTree[Array]],
    u0: PyTree[Array],
    n_steps: int,
    *,
    unroll: int | bool = 1,
) -> PyTree[Array]:
    r"""Apply a one-step map repeatedly, $u_{k+1} = \Phi(u_k)$, with `jax.lax.scan`.

    **Arguments:**

    - `step_fn`: the one-step map $\Phi$, e.g. a trained FNO or an `ODENet`.
    - `u0`: the initial state (one sample; `jax.vmap` the call for a batch).
    - `n_steps`: number of steps (a Python int; it fixes the scan length).
    - `unroll`: steps per iteration of the compiled loop (`jax.lax.scan`'s
      `unroll`; `True`: all). Unrolling trades compile time for speed: training
      through a 20-step FNO rollout on the CPU ran 1.66x faster fully unrolled
      (`benchmarks/operators`), the loop's per-iteration stores of the backward
      pass's residuals being gone; the result is the same.

    **Returns:** the states $u_1, \dots, u_n$ stacked on a new leading axis
    (the initial state is not included).
    """
    n_steps = integer("n_steps", n_steps, minimum=1, owner="rollout")
    if not isinstance(unroll, bool):
        unroll = integer("unroll", unroll, minimum=1, owner="rollout")

    def body(u, _):
        u_next = step_fn(u)
        return u_next, u_next

    _, us = jax.lax.scan(body, u0, None, length=n_steps, unroll=unroll)
    return us
