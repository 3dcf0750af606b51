"""`HardConstraint` / `HardConstraintMoE`: the solve, its implicit gradient, the
expert split and its sharding."""

import textwrap

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.pinns import (
    AbstractConstraint,
    HardConstraint,
    HardConstraintMoE,
    affine_values,
)
from sciml.pinns._hard_constraint import from_blocks, to_blocks


class Cubic(AbstractConstraint):
    """u + u^3 = f at the sampled points, plus a small ridge: nonlinear in c. `data`
    is f on the grid (a scalar: constant), gathered at the points as a feature with
    no coefficient part."""

    ridge: float = 1e-4

    def fields(self, field, data):
        off, mat = field
        f = jnp.broadcast_to(jnp.asarray(data, mat.dtype), off.shape)
        return {"u": field, "f": (f, jnp.zeros_like(mat))}

    def terms(self, c, rows, shared, data, block):
        u = affine_values(rows["u"], c)
        return {"pde": u + u**3 - rows["f"][0]}


class Net(eqx.Module):
    mlp: eqx.nn.MLP

    def __call__(self, x):
        return jax.vmap(self.mlp)(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)


def grid_1d(n=64):
    return jnp.linspace(0.0, 1.0, n)[:, None]


def net(n_basis=8, key=0, dim=1):
    return Net(
        eqx.nn.MLP(dim, n_basis, 16, 2, activation=jnp.tanh, key=jax.random.key(key))
    )


def test_the_solve_meets_the_constraint_at_its_points():
    # both linear solves of each solver step: the normal equations (default) and QR
    with jax.enable_x64(True):
        x = grid_1d()
        outs = {}
        for how in ("normal", "qr"):
            layer = HardConstraint(net(), Cubic(), (64,), points=64, rtol=1e-10,
                                   atol=1e-10, linear_solve=how)  # fmt: skip
            out = outs[how] = layer(x, 1.0, key=jax.random.key(1))
            assert out.u.shape == (64,) and out.coefficients.shape == (1, 8)
            assert bool(out.info.converged[0])
            # every grid point sampled: u + u^3 = 1 everywhere, up to the ridge
            np.testing.assert_allclose(out.u + out.u**3, 1.0, atol=1e-3)
        np.testing.assert_allclose(outs["normal"].u, outs["qr"].u, atol=1e-8)


def _fd_check(ridge, points, rtol, atol_frac):
    """The layer's implicit gradient of a loss on the whole grid against central
    differences (step 1e-4, float64) in six random weights."""
    x = grid_1d(32)
    target = 1.5 + jnp.sin(6 * x[:, 0])
    layer = HardConstraintMoE(
        net(4), Cubic(ridge=ridge), (32,), (2,), points=points, rtol=1e-12, atol=1e-12
    )
    key = jax.random.key(3)
    params, static = eqx.partition(layer, eqx.is_inexact_array)

    @jax.jit  # one compilation for the 13 evaluations below
    def loss(params):
        u = eqx.combine(params, static)(x, target, key=key).u
        return jnp.sum(jnp.sin(3 * x[:, 0]) * u)

    assert bool(jnp.all(layer(x, target, key=key).info.converged))
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    g_flat, _ = jax.flatten_util.ravel_pytree(jax.grad(loss)(params))
    scale = float(jnp.max(jnp.abs(g_flat)))
    assert scale > 1e-2  # u depends on the weights at first order
    for i in np.random.default_rng(0).choice(flat.size, 6, replace=False):
        e = jnp.zeros_like(flat).at[i].set(1e-4)
        fd = (loss(unravel(flat + e)) - loss(unravel(flat - e))) / 2e-4
        np.testing.assert_allclose(g_flat[i], fd, rtol=rtol, atol=atol_frac * scale)


def test_implicit_gradient_matches_finite_differences():
    # as many points as basis functions: the residual reaches zero, the solve
    # converges quadratically and the solution is exact to rounding
    with jax.enable_x64(True):
        _fd_check(ridge=0.0, points=4, rtol=1e-5, atol_frac=1e-7)


def test_implicit_gradient_with_a_residual_left():
    # 16 points for 4 functions and a ridge: the residual stays, so the exact
    # linearisation's second-order term counts; the solve's linear convergence
    # leaves its solution (and so the differences) about 1e-5 off
    with jax.enable_x64(True):
        _fd_check(ridge=1e-2, points=16, rtol=1e-3, atol_frac=1e-4)


def test_one_expert_moe_is_the_single_constraint():
    x = grid_1d()
    single = HardConstraint(net(), Cubic(), (64,), points=20)
    moe = HardConstraintMoE(net(), Cubic(), (64,), (1,), points=20)
    call = eqx.filter_jit(lambda m, x: m(x, 1.0, key=jax.random.key(2)))
    np.testing.assert_array_equal(call(single, x).u, call(moe, x).u)


def test_blocks_round_trip_in_2d():
    x = jnp.arange(6 * 8 * 3).reshape(6, 8, 3)
    blocks = to_blocks(x, (2, 4))
    assert blocks.shape == (8, 6, 3)
    # expert (1, 2) holds rows 3..5 and columns 4..5, in row-major order
    np.testing.assert_array_equal(blocks[1 * 4 + 2].reshape(3, 2, 3), x[3:6, 4:6])
    np.testing.assert_array_equal(from_blocks(blocks, (2, 4), (6, 8)), x)


def test_experts_sample_points_in_their_own_blocks():
    layer = HardConstraintMoE(net(), Cubic(), (64,), (4,), points=16)
    idx = layer._sample(jax.random.key(0))
    assert idx.shape == (4, 16)
    assert all(len(set(np.asarray(row).tolist())) == 16 for row in idx)
    assert int(idx.max()) < 16  # local indices within each 16-point block


def test_a_solve_that_does_not_converge_is_flagged():
    x = grid_1d()
    layer = HardConstraintMoE(net(), Cubic(), (64,), (2,), points=16, max_steps=1)
    out = layer(x, 1.0, key=jax.random.key(0))
    assert not bool(jnp.any(out.info.converged))
    assert out.info.steps.shape == (2,)


def test_interface_jump_is_the_experts_disagreement_at_the_cut():
    # in float64: the experts nearly agree (a jump of ~1e-5 of fields of ~1),
    # which float32 resolves only to ~1e-7 / 1e-5 = 1 % of the jump
    with jax.enable_x64(True):
        x = grid_1d()
        layer = HardConstraintMoE(net(), Cubic(), (64,), (2,), points=16)

        @eqx.filter_jit  # one compilation, not the solve's ops one by one
        def solve_and_jump(layer, x):
            out = layer(x, 1.0, key=jax.random.key(0))
            return out, layer.interface_jump(out, x, 1.0)

        out, jump = solve_and_jump(layer, x)
        phi = layer.basis(x)[31:33]  # the cells on both sides of the cut at 32
        dc = out.coefficients[0] - out.coefficients[1]
        expected = jnp.sqrt(jnp.mean((phi @ dc) ** 2))
    assert jump.dtype == jnp.float64
    np.testing.assert_allclose(jump[0], expected, rtol=1e-9)
    single = HardConstraint(net(), Cubic(), (64,), 16)
    no_cut = solve_and_jump(single, x)[1]
    assert bool(jnp.isnan(no_cut[0]))  # one block: no interface


def test_bad_expert_counts_and_points_raise():
    with pytest.raises(ValueError, match="must divide the grid"):
        HardConstraintMoE(net(), Cubic(), (64,), (3,), points=4)
    with pytest.raises(ValueError, match="one count per grid axis"):
        HardConstraintMoE(net(), Cubic(), (64,), (2, 2), points=4)
    with pytest.raises(ValueError, match="exceed"):
        HardConstraintMoE(net(), Cubic(), (64,), (4,), points=17)
    with pytest.raises(TypeError, match="AbstractConstraint"):
        HardConstraint(net(), lambda c: c, (64,), points=4)
    with pytest.raises(ValueError, match="linear_solve"):
        HardConstraint(net(), Cubic(), (64,), points=4, linear_solve="lu")


def test_a_basis_of_the_wrong_shape_raises():
    layer = HardConstraint(net(), Cubic(), (32,), points=4)
    with pytest.raises(ValueError, match="basis network must give"):
        layer(grid_1d(64), 1.0, key=jax.random.key(0))


_SHARDED = textwrap.dedent(
    """
    import equinox as eqx, jax, numpy as np, pytest
    from tests.pinns.test_hard_constraint import Cubic, grid_1d, net
    from sciml.pinns import HardConstraintMoE
    assert len(jax.devices()) == 8
    x = grid_1d()
    plain = HardConstraintMoE(net(), Cubic(), (64,), (8,), points=8)
    a = eqx.filter_jit(lambda m: m(x, 1.0, key=jax.random.key(0)))(plain)
    Auto, Explicit = jax.sharding.AxisType.Auto, jax.sharding.AxisType.Explicit
    for kind in (Auto, Explicit):
        mesh = jax.make_mesh((8,), ("expert",), axis_types=(kind,))
        sharded = HardConstraintMoE(net(), Cubic(), (64,), (8,), points=8, mesh=mesh)
        b = eqx.filter_jit(lambda m: m(x, 1.0, key=jax.random.key(0)))(sharded)
        np.testing.assert_allclose(a.u, b.u, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(a.info.converged, b.info.converged)
        assert len(b.coefficients.sharding.device_set) == 8, kind
    with pytest.raises(ValueError, match="device count must divide"):
        HardConstraintMoE(net(), Cubic(), (64,), (4,), points=8, mesh=mesh)
    print("ok")
    """
)


def test_sharded_experts_match_one_device_on_8_simulated_devices(on_8_devices):
    on_8_devices(_SHARDED, JAX_ENABLE_X64="1")  # as the layer is meant to run


def test_training_counts_and_skips_solves_that_do_not_converge():
    # max_steps=1: no solve converges, so every sample is dropped, the batch's loss
    # is NaN and fit(on_non_finite="skip") skips and counts each step, unchanged
    import optax

    from sciml import training
    from sciml.pinns import converged_mean

    x = grid_1d(16)
    layer = HardConstraintMoE(net(), Cubic(), (16,), (2,), points=4, max_steps=1)

    def loss(model, batch, key):
        out = jax.vmap(lambda f: model(x, f, key=key))(batch)
        per_sample = jnp.mean((out.u - 0.5) ** 2, axis=1)
        mean, failed = converged_mean(per_sample, out.info.converged.all(axis=1))
        return mean, {"unconverged": failed}

    result = training.fit(
        layer,
        loss,
        lambda i: jnp.ones(2),
        optax.adam(1e-2),
        steps=3,
        log_every=3,
        progress=False,
        on_non_finite="skip",
    )
    record = result.history[-1]
    assert record["skipped_steps"] == 3
    # a record's metrics are means over the interval's finite steps: none here
    assert np.isnan(record["metrics"]["unconverged"])
    before = jax.flatten_util.ravel_pytree(eqx.filter(layer, eqx.is_inexact_array))[0]
    after = jax.flatten_util.ravel_pytree(
        eqx.filter(result.model, eqx.is_inexact_array)
    )[0]
    np.testing.assert_array_equal(before, after)


@pytest.mark.slow  # 17 s of float64 solves; the exact adjoint's FD test stays fast
def test_gauss_newton_adjoint_is_exact_where_the_residual_vanishes():
    # with as many points as functions and no ridge the residual reaches zero, so
    # J^T J is the whole Hessian; with a residual left the two gradients differ
    with jax.enable_x64(True):
        x = grid_1d(32)

        def grads(gn, ridge, points):
            layer = HardConstraintMoE(
                net(4),
                Cubic(ridge=ridge),
                (32,),
                (2,),
                points=points,
                rtol=1e-12,
                atol=1e-12,
                gauss_newton_adjoint=gn,
            )

            def loss(m):
                return jnp.sum(
                    jnp.sin(3 * x[:, 0]) * m(x, 1.5, key=jax.random.key(3)).u
                )

            g = eqx.filter_grad(loss)(layer)
            return jax.flatten_util.ravel_pytree(eqx.filter(g, eqx.is_inexact_array))[0]

        def gap(a, b):
            return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))

        # the solve stops a little short of zero (its step test), which bounds the
        # agreement (measured 2e-6); with a residual left the second-order term
        # counts (measured 0.14)
        assert gap(grads(True, 0.0, 4), grads(False, 0.0, 4)) < 1e-5
        assert gap(grads(True, 1e-1, 16), grads(False, 1e-1, 16)) > 1e-2
