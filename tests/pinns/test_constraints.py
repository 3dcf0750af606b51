"""The diffusion-sorption and Navier-Stokes hard constraints, their physics loss and
the masked batch mean, against fields whose derivatives and residuals are known in
closed form."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers
from sciml.pinns import (
    DiffusionSorptionConstraint,
    HardConstraintMoE,
    VorticityConstraint,
    affine_values,
    converged_mean,
    physics_loss,
)
from sciml.pinns._differences import central_difference, second_difference
from sciml.pinns._vorticity_constraint import _spectral


def test_differences_are_exact_on_low_polynomials():
    with jax.enable_x64(True):
        x = jnp.linspace(0.0, 2.0, 11)
        h = 0.2
        quad = 1.0 + 3.0 * x - 2.0 * x**2
        # central inside and second-order ends are exact on quadratics
        np.testing.assert_allclose(
            central_difference(quad, h, 0, edge_order=2), 3.0 - 4.0 * x, atol=1e-12
        )
        first = central_difference(quad, h, 0)
        np.testing.assert_allclose(first[1:-1], (3.0 - 4.0 * x)[1:-1], atol=1e-12)
        np.testing.assert_allclose(second_difference(quad, h, 0), -4.0, atol=1e-10)
        # along another axis of a 2-D field
        field = jnp.stack([quad, 2 * quad])
        np.testing.assert_allclose(second_difference(field, h, 1)[1], -8.0, atol=1e-10)


def _ds_grid(nt=11, nx=16, dt=5.0):
    t = (jnp.arange(nt) * dt)[:, None]
    x = ((jnp.arange(nx) + 0.5) / nx)[None, :]
    return t, x


@eqx.filter_jit
def _all_terms(constraint, u, u0, block):
    """The terms of every row of the field `u` (one coefficient, 1), compiled once
    per shape: run eagerly, this is some hundred small compilations."""
    feats = constraint.fields((jnp.zeros_like(u), u[..., None]), u0)
    shared = constraint.shared(feats, u0)
    rows = {k: (o.reshape(-1), m.reshape(-1, 1)) for k, (o, m) in feats.items()}
    return constraint.terms(jnp.ones(1, u.dtype), rows, shared, u0, block)


def test_diffusion_sorption_terms_of_a_quadratic_field():
    with jax.enable_x64(True):
        constraint = DiffusionSorptionConstraint(dt=5.0)
        t, x = _ds_grid()
        a, b, c = 0.3, 1e-3, 0.2
        u = a + b * t + c * x**2
        u0 = jnp.full(16, 0.25)
        every = jnp.ones(u.shape, bool)
        terms = _all_terms(constraint, u, u0, every)
        d, r = constraint.solver.d, constraint.solver.retardation(u)
        np.testing.assert_allclose(
            terms["pde"], (b - d / r * 2 * c).reshape(-1), rtol=1e-8
        )
        np.testing.assert_allclose(terms["ic"], (u[0] - 0.25) / 0.25, rtol=1e-10)
        # rows in time measured in T = 500 s: the PDE rows x 500, the rest alike
        weighted = _all_terms(
            DiffusionSorptionConstraint(dt=5.0, pde_weight=500.0), u, u0, every
        )
        np.testing.assert_allclose(weighted["pde"], 500 * terms["pde"], rtol=1e-12)
        np.testing.assert_array_equal(weighted["left"], terms["left"])
        np.testing.assert_allclose(terms["left"], u[:, 0] - 1.0, rtol=1e-10)
        # the right condition u + D u_x, u_x by the one-sided difference of the edge
        dx = 1.0 / 16
        ux = (u[:, -1] - u[:, -2]) / dx
        np.testing.assert_allclose(terms["right"], u[:, -1] + d * ux, rtol=1e-10)


def test_diffusion_sorption_relative_initial_rows_are_floored():
    with jax.enable_x64(True):
        constraint = DiffusionSorptionConstraint()
        u = jnp.full((5, 8), 0.5)
        feats = constraint.fields((jnp.zeros_like(u), u[..., None]), jnp.zeros(8))
        shared = constraint.shared(feats, jnp.zeros(8))
        np.testing.assert_allclose(shared["ic_scale"], 1e6)  # 1 / max(|0|, 1e-6)


def test_local_condition_rows_keep_only_an_experts_own():
    with jax.enable_x64(True):
        constraint = DiffusionSorptionConstraint(condition_rows="local")
        t, x = _ds_grid(nt=4, nx=8)
        u = 0.3 + 0 * t + 0 * x
        u0 = jnp.full(8, 0.1)
        block = jnp.zeros((4, 8), bool).at[:, :4].set(True)  # the left half
        terms = _all_terms(constraint, u, u0, block)
        assert bool(jnp.all(terms["ic"][4:] == 0)) and bool(
            jnp.all(terms["ic"][:4] != 0)
        )
        assert bool(jnp.all(terms["left"] != 0))  # x = 0 is in this block
        assert bool(jnp.all(terms["right"] == 0))  # x = 1 is not
    with pytest.raises(ValueError, match="condition_rows"):
        DiffusionSorptionConstraint(condition_rows="nearby")


def test_spectral_derivatives_and_velocity_of_one_mode():
    with jax.enable_x64(True):
        n = 16
        xs = jnp.arange(n) / n
        X, Y = jnp.meshgrid(xs, xs, indexing="ij")
        w = (jnp.sin(2 * jnp.pi * X) * jnp.cos(4 * jnp.pi * Y))[None]
        d = _spectral(w)
        two_pi = 2 * jnp.pi
        np.testing.assert_allclose(
            d["w_x"][0],
            two_pi * jnp.cos(two_pi * X) * jnp.cos(2 * two_pi * Y),
            atol=1e-10,
        )
        np.testing.assert_allclose(d["lap"][0], -5 * two_pi**2 * w[0], atol=1e-8)
        # -lap psi = w: psi = w / (5 (2 pi)^2); u = psi_y, v = -psi_x
        psi = w[0] / (5 * two_pi**2)
        np.testing.assert_allclose(
            d["vel_u"][0],
            -2
            * two_pi
            * jnp.sin(two_pi * X)
            * jnp.sin(2 * two_pi * Y)
            / (5 * two_pi**2),
            atol=1e-10,
        )
        np.testing.assert_allclose(
            d["vel_v"][0], -d["w_x"][0] / (5 * two_pi**2), atol=1e-10
        )
        del psi


def _taylor_green(nt=11, n=16, re=1e4, t_end=5.0):
    xs = jnp.arange(n) / n
    X, Y = jnp.meshgrid(xs, xs, indexing="ij")
    t = jnp.linspace(0.0, t_end, nt)[:, None, None]
    decay = jnp.exp(-8 * jnp.pi**2 * t / re)
    return decay * jnp.sin(2 * jnp.pi * X) * jnp.sin(2 * jnp.pi * Y), X


def test_vorticity_residual_vanishes_on_an_exact_solution():
    # sin(2 pi x) sin(2 pi y) is an eigenfunction of the Laplacian, so u . grad w = 0
    # and it decays like exp(-8 pi^2 t / Re): an exact Navier-Stokes solution. What
    # is left is the time difference's error, of second order.
    with jax.enable_x64(True):
        constraint = VorticityConstraint(re=100.0)
        loss = eqx.filter_jit(physics_loss)  # two compilations, not ~170 eager ops
        left = []
        for nt in (21, 41):
            w, X = _taylor_green(nt=nt, n=8, re=100.0)
            key = jax.random.key(0)
            exact, _ = loss(constraint, w, w[0], points=500, key=key)
            left.append(float(exact))
        t = jnp.linspace(0.0, 5.0, 41)[:, None, None]
        wrong, _ = loss(
            constraint,
            w + 0.01 * t * jnp.cos(2 * jnp.pi * X),
            w[0],
            points=500,
            key=key,
        )
        assert left[1] < 1e-3 * float(wrong)
        # mean squares: halving the step divides them by about 2^4
        assert 10 < left[0] / left[1] < 20


def test_vorticity_ansatz_keeps_the_initial_condition_and_the_mean():
    with jax.enable_x64(True):
        constraint = VorticityConstraint()
        w, _ = _taylor_green(nt=6, n=8)
        basis = references.normal(jax.random.key(0), (6, 8, 8, 3))
        c = jnp.array([1.0, -2.0, 0.5])
        u = affine_values(constraint.ansatz(basis, w[0]), c)
        np.testing.assert_allclose(u[0], w[0], atol=1e-14)
        np.testing.assert_allclose(jnp.mean(u, axis=(1, 2)), jnp.mean(w[0]), atol=1e-14)


def test_the_moe_layer_solves_diffusion_sorption():
    with jax.enable_x64(True):
        t, x = _ds_grid(nt=11, nx=16)
        # a basis that can nearly hold the solution: smooth functions of t and x
        feats = [
            jnp.ones_like(t * x),
            x + 0 * t,
            x**2 + 0 * t,
            t / 50 + 0 * x,
            (t / 50) * x,
            jnp.exp(-20 * x) + 0 * t,
        ]
        phi = jnp.stack(feats, -1)
        u0 = jnp.full(16, 0.1)
        # the global rows (the default; the local ones: the test above)
        layer = HardConstraintMoE(
            lambda _: phi,
            DiffusionSorptionConstraint(dt=5.0),
            (11, 16),
            (1, 2),
            points=40,
        )
        out = eqx.filter_jit(lambda m: m(None, u0, key=jax.random.key(0)))(layer)
        assert out.u.shape == (11, 16)
        assert bool(jnp.all(out.info.converged))
        key = jax.random.key(1)
        loss = eqx.filter_jit(physics_loss)  # one compilation for both
        before, _ = loss(layer.constraint, phi @ jnp.ones(6), u0, points=100, key=key)
        after, _ = loss(layer.constraint, out.u, u0, points=100, key=key)
        assert float(after) < 0.1 * float(before)


def test_converged_mean_drops_failed_samples_and_counts_them():
    losses = jnp.array([1.0, 3.0, 100.0])
    mean, failed = converged_mean(losses, jnp.array([True, True, False]))
    assert float(mean) == 2.0 and int(failed) == 1
    mask = jnp.array([True, True, False])
    g = jax.grad(lambda v: converged_mean(v, mask)[0])(losses)
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.0])
    mean, failed = converged_mean(losses, jnp.zeros(3, bool))
    assert bool(jnp.isnan(mean)) and int(failed) == 3  # a step to skip, not a zero


def test_physics_loss_refuses_too_many_points():
    with pytest.raises(ValueError, match="exceed"):
        physics_loss(
            DiffusionSorptionConstraint(),
            jnp.zeros((3, 4)),
            jnp.zeros(4),
            points=13,
            key=jax.random.key(0),
        )


def test_the_constraint_uses_the_solvers_parameters():
    solver = solvers.DiffusionSorption(solvers.Grid(64), d=1e-3)
    constraint = DiffusionSorptionConstraint(solver)
    assert constraint.solver.d == 1e-3
