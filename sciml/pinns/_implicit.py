r"""A nonlinear least-squares solve differentiated by the implicit function theorem.

At the solution $c^*(\theta)$ of $\min_c \tfrac12\lVert r(c, \theta)\rVert^2$ the
optimality condition $F(c^*, \theta) = J^\top r = 0$ holds, so
$\mathrm dc^*/\mathrm d\theta = -(\partial F/\partial c)^{-1}\partial F/\partial\theta$.
The backward pass solves $(\partial F/\partial c)^\top v = \bar c$ (an $N\times N$
dense system, $N \le 64$ here) and returns $\bar\theta = -\mathrm{VJP}_\theta F(v)$;
the solver's iterations are never unrolled. $\partial F/\partial c$ is the exact
Hessian $J^\top J + \sum_i r_i \nabla^2 r_i$, or with `gauss_newton=True` its
Gauss-Newton part $J^\top J$ (exact where $r = 0$).

Written here rather than taken from optimistix's `ImplicitAdjoint` because its
backward linear solve raises at run time on a non-finite result, which would stop
a training run at the first bad solve; here a non-finite gradient flows on, to be
counted by the training step's guard (`fit(on_non_finite="skip")`), and a zero
cotangent (a sample the loss dropped, `converged_mean`) gives a zero gradient
whatever the solve did.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, PyTree


def implicit_least_squares(
    fn: Callable[[Array, PyTree], Array],
    solver: optx.AbstractLeastSquaresSolver,
    c0: Array,
    args: PyTree,
    *,
    max_steps: int,
    gauss_newton: bool = False,
) -> tuple[Array, Array, Array]:
    """`(c*, converged, steps)` of `min_c ||fn(c, args)||^2 / 2` from `c0`, with the
    implicit-function-theorem gradient with respect to `args` (see the module).
    `fn` must close over no traced array: pass every array it needs in `args`."""

    def primal(args, c0):
        sol = optx.least_squares(
            fn, solver, c0, args=args, max_steps=max_steps, throw=False
        )
        # the flags travel as floats: a custom_vjp's outputs all get cotangents
        ok = (sol.result == optx.RESULTS.successful).astype(c0.dtype)
        return sol.value, ok, sol.stats["num_steps"].astype(c0.dtype)

    def optimality(c, args):
        return jax.grad(lambda c: 0.5 * jnp.sum(fn(c, args) ** 2))(c)

    @jax.custom_vjp
    def solve(args, c0):
        return primal(args, c0)

    def forward(args, c0):
        out = primal(args, c0)
        return out, (out[0], args)

    def backward(saved, cotangents):
        c, args = saved
        c_bar = cotangents[0]
        if gauss_newton:
            jac = jax.jacfwd(fn)(c, args)
            hessian = jac.T @ jac
        else:
            hessian = jax.jacfwd(optimality)(c, args)
        v = jnp.linalg.solve(hessian.T, c_bar)
        # a zero cotangent (a dropped sample) has a zero gradient, by linearity,
        # even where the solve failed and the Hessian is not finite
        v = jnp.where(jnp.all(c_bar == 0), jnp.zeros_like(v), v)
        _, vjp = jax.vjp(lambda a: optimality(c, a), args)
        (args_bar,) = vjp(-v)
        return args_bar, jnp.zeros_like(c)

    solve.defvjp(forward, backward)
    c, ok, steps = solve(args, c0)
    ok, steps = jax.lax.stop_gradient((ok, steps))
    return c, ok > 0.5, steps.astype(jnp.int32)
