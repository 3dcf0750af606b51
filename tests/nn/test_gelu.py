"""The exact GELU ("gelu"): x Phi(x) to float32 rounding, exact in float64, with
its first and second derivatives."""

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import ndtr

from sciml.nn import ACTIVATIONS, get_activation


def test_gelu_is_x_times_the_normal_cdf():
    gelu = get_activation("gelu")
    x = np.linspace(-10, 10, 20001)
    exact = x * ndtr(x)  # float64 reference
    out = jax.jit(gelu)(jnp.asarray(x, jnp.float32))
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, exact, rtol=0, atol=6e-7)
    # the tanh form is the other name, and really differs
    tanh = jax.jit(ACTIVATIONS["gelu_tanh"])(jnp.asarray(x, jnp.float32))
    assert np.abs(np.asarray(tanh) - exact).max() > 1e-4


def test_gelu_derivatives_float32():
    gelu = get_activation("gelu")
    x = np.linspace(-8, 8, 4001)
    pdf = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    d1 = jax.jit(jax.vmap(jax.grad(gelu)))(jnp.asarray(x, jnp.float32))
    d2 = jax.jit(jax.vmap(jax.grad(jax.grad(gelu))))(jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(d1, ndtr(x) + x * pdf, rtol=0, atol=1e-6)
    np.testing.assert_allclose(d2, (2 - x**2) * pdf, rtol=0, atol=5e-6)


def test_gelu_float64_is_exact():
    gelu = get_activation("gelu")
    with jax.enable_x64(True):
        x = jnp.linspace(-10, 10, 2001, dtype=jnp.float64)
        out = jax.jit(gelu)(x)
        assert out.dtype == jnp.float64
        np.testing.assert_allclose(out, np.asarray(x) * ndtr(np.asarray(x)), atol=1e-14)
        d1 = jax.jit(jax.vmap(jax.grad(gelu)))(x)
        xn = np.asarray(x)
        pdf = np.exp(-0.5 * xn**2) / np.sqrt(2 * np.pi)
        np.testing.assert_allclose(d1, ndtr(xn) + xn * pdf, atol=1e-14)
