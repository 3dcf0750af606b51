r"""PDEBench's random initial conditions, kept as parameters with an exact evaluator.

The distribution follows PDEBench (Takamoto et al., NeurIPS 2022), spec §2:
$u_0(x) = \sum_{j=1}^{2} A_j \sin(2\pi n_j x / L + \phi_j)$ with
$n_j \in \{1,\dots,4\}$, $A_j \sim U(0,1)$, $\phi_j \sim U(0, 2\pi)$, then in this
order: a random sign (probability 1/2 each, [U] in the spec), $u_0 \leftarrow |u_0|$
with probability 0.1, and with probability 0.1 a multiplication by the window
$\tfrac12[\tanh((x - x_1)/\delta) - \tanh((x - x_2)/\delta)]$ with $\delta = 0.01$,
$x_1 \sim U(0.1, 0.45) L$ and $x_2 \sim U(0.55, 0.9) L$.

Sample $i$ of a seed is drawn from `jax.random.fold_in(key, i)`, so it depends on the
key and its index only: not on the PDE parameter, the number of samples, the chunking,
or whether float64 is switched on (every draw names its dtype explicitly).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

MAX_WAVENUMBER = 4
P_NEGATE = 0.5
P_ABSOLUTE = 0.1
P_WINDOW = 0.1
WINDOW_DELTA = 0.01
WINDOW_X1 = (0.1, 0.45)
WINDOW_X2 = (0.55, 0.9)


class InitialConditionParams(eqx.Module):
    r"""Parameters of one PDEBench initial condition (or many, with batch axes).

    **Arguments:**

    - `amplitudes`: $A_j$, shape `(*batch, 2)`.
    - `wavenumbers`: $n_j \in \{1,\dots,4\}$, shape `(*batch, 2)`.
    - `phases`: $\phi_j$, shape `(*batch, 2)`.
    - `sign`: $\pm 1$, shape `batch`.
    - `absolute`: whether $|u_0|$ is taken, shape `batch`.
    - `windowed`: whether the tanh window is applied, shape `batch`.
    - `x1`, `x2`: window edges as fractions of the domain length, shape `batch`.
    """

    amplitudes: Float[Array, "*batch 2"]
    wavenumbers: Int[Array, "*batch 2"]
    phases: Float[Array, "*batch 2"]
    sign: Float[Array, "*batch"]
    absolute: Bool[Array, "*batch"]
    windowed: Bool[Array, "*batch"]
    x1: Float[Array, "*batch"]
    x2: Float[Array, "*batch"]


def _sample_one(key: PRNGKeyArray) -> InitialConditionParams:
    # One draw of 11 uniforms (a single threefry call keeps compilation fast).
    # floor(4 v) + 1 is exactly uniform on {1, ..., 4}: float32 uniforms lie on a
    # grid of 2**23 points in [0, 1), a multiple of 4.
    v = jax.random.uniform(key, (11,), jnp.float32)
    wavenumbers = jnp.floor(MAX_WAVENUMBER * v[2:4]).astype(jnp.int32) + 1
    negate = v[6] < P_NEGATE
    return InitialConditionParams(
        amplitudes=v[0:2],
        wavenumbers=wavenumbers,
        phases=(2 * jnp.pi) * v[4:6],
        sign=jnp.where(negate, jnp.float32(-1.0), jnp.float32(1.0)),
        absolute=v[7] < P_ABSOLUTE,
        windowed=v[8] < P_WINDOW,
        x1=WINDOW_X1[0] + (WINDOW_X1[1] - WINDOW_X1[0]) * v[9],
        x2=WINDOW_X2[0] + (WINDOW_X2[1] - WINDOW_X2[0]) * v[10],
    )


@functools.partial(jax.jit, static_argnames="n")
def sample_initial_condition_params(
    key: PRNGKeyArray, n: int, *, start: Int[ArrayLike, ""] = 0
) -> InitialConditionParams:
    """Draw the parameters of samples `start, ..., start + n - 1` of a seed.

    **Arguments:**

    - `key`: the seed's PRNG key; sample $i$ uses `jax.random.fold_in(key, i)`.
    - `n`: how many samples (static under `jax.jit`).
    - `start`: index of the first sample (may be traced).

    **Returns:**

    An `InitialConditionParams` whose fields carry a leading axis of length `n`.
    """
    indices = jnp.arange(n, dtype=jnp.uint32) + jnp.asarray(start, jnp.uint32)
    return jax.vmap(lambda i: _sample_one(jax.random.fold_in(key, i)))(indices)


def evaluate_initial_condition(
    params: InitialConditionParams,
    x: Float[ArrayLike, " X"],
    *,
    length: float = 1.0,
) -> Float[Array, " X"]:
    r"""Evaluate one initial condition $u_0$ at the points `x`, in the dtype of `x`.

    The formula is analytic, so evaluating it at $(x - \beta t) \bmod L$ gives the
    exact advected field with no interpolation. The domain is $[0, L)$.

    **Arguments:**

    - `params`: one sample's parameters (no batch axis; `jax.vmap` for many).
    - `x`: points in $[0, L)$.
    - `length`: the domain length $L$.

    **Returns:**

    $u_0(x)$, same shape and dtype as `x`.
    """
    x = jnp.asarray(x)
    dtype = x.dtype
    amplitudes = params.amplitudes.astype(dtype)[:, None]
    wavenumbers = params.wavenumbers.astype(dtype)[:, None]
    phases = params.phases.astype(dtype)[:, None]
    argument = (2 * jnp.pi / length) * wavenumbers * x[None, :] + phases
    u = jnp.sum(amplitudes * jnp.sin(argument), axis=0)
    u = params.sign.astype(dtype) * u
    u = jnp.where(params.absolute, jnp.abs(u), u)
    x1 = params.x1.astype(dtype) * length
    x2 = params.x2.astype(dtype) * length
    delta = WINDOW_DELTA
    window = 0.5 * (jnp.tanh((x - x1) / delta) - jnp.tanh((x - x2) / delta))
    return jnp.where(params.windowed, u * window, u)


@functools.partial(jax.jit, static_argnames=("n", "length"))
def sample_initial_conditions(
    key: PRNGKeyArray,
    x: Float[ArrayLike, " X"],
    n: int,
    *,
    start: Int[ArrayLike, ""] = 0,
    length: float = 1.0,
) -> Float[Array, "n X"]:
    r"""Draw `n` PDEBench initial conditions and evaluate them on the grid `x`.

    Pure JAX: jit it with `n` static, vmap it over keys. The values depend on the
    key and the sample indices only, never on a PDE parameter.

    **Arguments:**

    - `key`: the seed's PRNG key, e.g. `jax.random.key(seed)`.
    - `x`: grid points in $[0, L)$, e.g. cell centres $(i + 1/2)/N_x$.
    - `n`: how many samples.
    - `start`: index of the first sample.
    - `length`: the domain length $L$.

    **Returns:**

    An array of shape `(n, len(x))` in the dtype of `x`; $|u_0| \le 2$.
    """
    x = jnp.asarray(x)
    params = sample_initial_condition_params(key, n, start=start)
    return jax.vmap(lambda p: evaluate_initial_condition(p, x, length=length))(params)
