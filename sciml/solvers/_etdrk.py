r"""Fourth-order exponential time differencing, ETDRK4 (Cox and Matthews, J. Comput.
Phys. 176, 2002), for $v' = Lv + N(v)$ in a basis where the linear part $L$ is
diagonal (Fourier or sine coefficients):

$$a = E_2 v + Q N_v,\quad b = E_2 v + Q N_a,\quad c = E_2 a + Q(2N_b - N_v),$$
$$v_{n+1} = E v + f_1 N_v + 2 f_2 (N_a + N_b) + f_3 N_c,$$

$E = e^{hL}$, $E_2 = e^{hL/2}$, $Q = h\,\varphi_1(hL/2)/2$, $f_1 = h(\varphi_1 -
3\varphi_2 + 4\varphi_3)$, $f_2 = h(\varphi_2 - 2\varphi_3)$, $f_3 = h(4\varphi_3 -
\varphi_2)$ at $hL$. The $\varphi$-functions cancel catastrophically near $hL = 0$,
so they are evaluated as Kassam and Trefethen do (SIAM J. Sci. Comput. 26, 2005): the
mean of the closed formulas over $M$ points of the circle of radius 1 about each
$hL$ (a contour integral), accurate to round-off for every $hL$. For a real $L$ the
upper half circle and the real part suffice; a complex $L$ (advection, $-i\beta k$)
takes the whole circle.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Inexact


def etdrk4_coefficients(
    hl: Inexact[Array, "..."], h: Float[ArrayLike, ""], contour_points: int = 32
) -> tuple[Array, Array, Array, Array, Array, Array]:
    r"""The ETDRK4 coefficients $(E, E_2, Q, f_1, f_2, f_3)$ for the linear symbol
    times the step, $hL$, by Kassam and Trefethen's contour means (module docstring).

    **Arguments:**

    - `hl`: $hL$ for every mode (any shape), real or complex.
    - `h`: the step $h$.
    - `contour_points`: $M$, the points on the upper half of each circle (the whole
        circle takes $2M$ when `hl` is complex).

    **Returns:**

    Six arrays of the shape and dtype of `hl`.
    """
    dtype = hl.dtype
    complex_symbol = jnp.issubdtype(dtype, jnp.complexfloating)
    complex_dtype = jnp.result_type(dtype, jnp.complex64)
    if complex_symbol:
        angles = (
            2 * np.pi * (np.arange(2 * contour_points) + 0.5) / (2 * contour_points)
        )
    else:
        angles = np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points
    roots = jnp.asarray(np.exp(1j * angles), complex_dtype)
    z = hl.astype(complex_dtype)[..., None] + roots
    ez, ez2 = jnp.exp(z), jnp.exp(z / 2)

    def mean(values):
        average = jnp.mean(values, axis=-1)
        return average if complex_symbol else jnp.real(average).astype(dtype)

    z3 = z**3
    q = h * mean((ez2 - 1) / z)
    f1 = h * mean((-4 - z + ez * (4 - 3 * z + z**2)) / z3)
    f2 = h * mean((2 + z + ez * (z - 2)) / z3)
    f3 = h * mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z3)
    return jnp.exp(hl), jnp.exp(hl / 2), q, f1, f2, f3


def etdrk4_step(v: Array, coefficients, nonlinear) -> Array:
    """One ETDRK4 step (Cox and Matthews; Kassam and Trefethen's form) of
    $v' = Lv + N(v)$ in the basis where $L$ is diagonal, from the coefficients of
    `etdrk4_coefficients` and `nonlinear` $= N$."""
    e, e2, q, f1, f2, f3 = coefficients
    nv = nonlinear(v)
    a = e2 * v + q * nv
    na = nonlinear(a)
    b = e2 * v + q * na
    nb = nonlinear(b)
    c = e2 * a + q * (2 * nb - nv)
    nc = nonlinear(c)
    return e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc


def etdrk4_amplification(
    hl: Inexact[ArrayLike, "..."],
    hlam: Inexact[ArrayLike, "..."],
    contour_points: int = 32,
) -> Inexact[Array, "..."]:
    r"""The factor $R(hL, h\lambda)$ by which one ETDRK4 step multiplies $v$ for the
    test equation $v' = Lv + \lambda v$, $L$ integrated exponentially and
    $\lambda v$ taken as the nonlinear term: $|R| \le 1$ is the step's
    frozen-coefficient (von Neumann) stability, $\lambda$ the linearisation of the
    nonlinear term about a frozen state (for Burgers' $-(u^2/2)_x$ at speed $u$,
    $\lambda = -iuk$).

    It is `etdrk4_step` itself, applied to $v = 1$ with the coefficients of a unit
    step (`hl` and `hlam` carry $h$), so it is the amplification of the code that
    runs, not of a separate formula.

    **Arguments:**

    - `hl`: $hL$, real or complex (broadcast against `hlam`).
    - `hlam`: $h\lambda$.
    - `contour_points`: as `etdrk4_coefficients`.

    **Returns:**

    $R$, complex, of the broadcast shape.
    """
    coefficients = etdrk4_coefficients(jnp.asarray(hl), 1.0, contour_points)
    hlam = jnp.asarray(hlam)
    return etdrk4_step(jnp.ones_like(hlam), coefficients, lambda w: hlam * w)
