"""sciml.operators._layout.canonical_conv: XLA's convolution op with its derivatives
written in canonical form. Checked against `jax.lax.conv_general_dilated` with
JAX's own derivatives, in every transformation a model meets (jit, vmap, grad,
jvp, jacfwd, second order, per-sample gradients), and by the property it exists
for: inside a loop body every convolution XLA:CPU compiles is canonical."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml.operators._layout import _xla_same, canonical_conv

GRIDS = [(12,), (8, 6)]


def _tiny(conv):
    """Two layers with a tanh between them on one unbatched sample `(*grid, c)`."""

    def f(h, w1, w2):
        return jnp.tanh(conv(jnp.tanh(conv(h[None], w1)), w2))[0]

    return f


def _data(getkey, grid, c=3):
    d = len(grid)
    h = references.normal(getkey(), (4, *grid, c))  # a batch of 4 samples
    w1 = 0.3 * references.normal(getkey(), (*(3,) * d, c, 5))
    w2 = 0.3 * references.normal(getkey(), (*(3,) * d, 5, 2))
    return h, w1, w2


@pytest.mark.parametrize("grid", GRIDS)
def test_values_and_reverse_mode_match_jax(getkey, grid):
    h, w1, w2 = _data(getkey, grid)
    ours, theirs = _tiny(canonical_conv), _tiny(_xla_same)

    def loss(f):
        return lambda h, w1, w2: jnp.sum(
            jnp.sin(jax.vmap(f, (0, None, None))(h, w1, w2))
        )

    np.testing.assert_allclose(
        jax.jit(jax.vmap(ours, (0, None, None)))(h, w1, w2),
        jax.vmap(theirs, (0, None, None))(h, w1, w2), rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    g_ours = jax.jit(jax.grad(loss(ours), argnums=(0, 1, 2)))(h, w1, w2)
    g_theirs = jax.grad(loss(theirs), argnums=(0, 1, 2))(h, w1, w2)
    for a, b in zip(g_ours, g_theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_forward_mode_second_order_and_per_sample_gradients(getkey):
    h, w1, w2 = _data(getkey, (8, 6))
    x = h[0]

    def scaled(c, w):  # the output's derivative in a scale of the input (jacfwd)
        return jax.jacfwd(lambda s: c(x * s, w, w2))(1.5)

    checks = {
        # CAPE's gradient penalty differentiates a jacfwd like this one
        "jacfwd": lambda c: scaled(c, w1),
        "grad of jacfwd": lambda c: jax.grad(lambda w: jnp.sum(scaled(c, w) ** 2))(w1),
        "Hessian-vector product": lambda c: jax.grad(
            lambda w: jnp.vdot(jax.grad(lambda v: jnp.sum(c(x, v, w2) ** 3))(w), w)
        )(w1),
        # vmap of grad: both operands of the weight gradient batched
        "per-sample gradients": lambda c: jax.vmap(
            jax.grad(lambda w, y: jnp.sum(c(y, w, w2) ** 2)), (None, 0)
        )(w1, h),
    }
    ours, theirs = _tiny(canonical_conv), _tiny(_xla_same)
    for name, check in checks.items():
        np.testing.assert_allclose(
            jax.jit(lambda check=check: check(ours))(), check(theirs), rtol=1e-4,
            atol=1e-5, err_msg=name,
        )  # fmt: skip


def test_per_sample_kernels_fall_back_to_jax_batching(getkey):
    h, w1, _ = _data(getkey, (12,))
    ws = jnp.stack([w1, 2 * w1, -w1, w1**2])  # one kernel per sample
    one = lambda conv: lambda x, w: conv(x[None], w)[0]  # noqa: E731
    np.testing.assert_allclose(
        jax.vmap(one(canonical_conv))(h, ws), jax.vmap(one(_xla_same))(h, ws), rtol=1e-5,
        atol=1e-6,
    )  # fmt: skip


@pytest.mark.parametrize("grid", GRIDS)
def test_every_convolution_in_a_loop_body_is_canonical(getkey, grid):
    # the reason canonical_conv exists: XLA:CPU rewrites only the entry
    # computation's convolutions into its fast layout, so a rollout's gradient
    # must already be canonical (JAX's own transposes are not: checked too)
    h, w1, _ = _data(getkey, grid, c=5)  # w1: (*kernel, 5, 5)

    def rollout_loss(conv):
        def step(x, w):
            return jnp.tanh(conv(x, w)), None

        return lambda w: jnp.sum(jax.lax.scan(step, h, jnp.stack([w] * 3))[0])

    def labels(conv):
        text = jax.jit(jax.grad(rollout_loss(conv))).lower(w1).compile().as_text()
        return re.findall(r"convolution\(.*?dim_labels=(\S+?),", text)

    spatial = "01"[: len(grid)]
    canonical = f"b{spatial}f_{spatial}io->b{spatial}f"
    ours = labels(canonical_conv)
    assert len(ours) >= 3 and set(ours) == {canonical}, ours
    assert set(labels(_xla_same)) != {canonical}  # JAX's transposes are not
