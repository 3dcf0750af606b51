"""The benchmark problems: each exact solution satisfies its PDE and conditions to
float64 round-off, the references come from `sciml.solvers`, and the problems'
geometry is the sheet's."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import pinns
from sciml.pinns import problems

EXACT = [
    problems.Helmholtz2D(),
    problems.Helmholtz2D(10.0, 10.0),
    problems.KleinGordon(),
    problems.FlowMixing(),
    problems.Poisson2D(),
]


def _points(problem, n, seed=0):
    return problem.domain.sample(n, key=jax.random.key(seed))


@pytest.mark.parametrize("problem", EXACT, ids=lambda p: type(p).__name__)
def test_exact_solution_has_zero_residual(problem):
    with jax.enable_x64(True):
        x = _points(problem, 64)
        # compiled: run op by op, a residual is tens of small compilations
        r = jax.jit(jax.vmap(lambda p: problem.residual(problem.exact, p)))(x)
        scale = max(1.0, float(jnp.max(jnp.abs(jax.jit(jax.vmap(problem.exact))(x)))))
        if isinstance(problem, problems.Helmholtz2D):
            scale *= (problem.a1**2 + problem.a2**2) * math.pi**2  # the size of q
        assert r.shape == (64,)
        assert float(jnp.max(jnp.abs(r))) < 1e-10 * scale


@pytest.mark.parametrize("problem", EXACT, ids=lambda p: type(p).__name__)
def test_exact_solution_meets_every_condition(problem):
    with jax.enable_x64(True):
        for i, cond in enumerate(problem.conditions):
            x = cond.points(problem.domain, 16, key=jax.random.key(i))
            assert bool(problem.domain.contains(x).all())
            r = jax.jit(
                jax.vmap(lambda p, c=cond: c.residual(problem.exact, p, problem.domain))
            )(x)
            assert float(jnp.max(jnp.abs(r))) < 1e-12, type(cond).__name__


def test_flow_mixing_is_smooth_at_the_vortex_centre():
    fm = problems.FlowMixing()
    with jax.enable_x64(True):
        centre = jnp.array([1.0, 0.0, 0.0])
        near = jnp.array([1.0, 1e-7, 0.0])
        grad = jax.grad(fm.exact)(centre)
        assert np.isfinite(np.asarray(grad)).all()
        np.testing.assert_allclose(fm.exact(centre), fm.exact(near), atol=1e-6)
        assert float(fm.residual(fm.exact, centre)) == pytest.approx(0.0, abs=1e-12)


def test_burgers_cole_hopf_solution():
    """The quadrature: the initial value at t = 0, odd in x, zero at the walls, the
    PDE's residual small away from the shock, and the shock's steepness at x = 0."""
    b = problems.Burgers1D()
    with jax.enable_x64(True):
        exact = jax.jit(jax.vmap(b.exact))
        xs = jnp.linspace(-1.0, 1.0, 9)
        ts = jnp.array([0.0, 0.25, 0.5, 0.9])
        grid = jnp.stack(jnp.meshgrid(ts, xs, indexing="ij"), -1)
        u = np.asarray(exact(grid.reshape(-1, 2))).reshape(4, 9)
        np.testing.assert_allclose(u[0], -np.sin(np.pi * np.asarray(xs)), atol=1e-14)
        np.testing.assert_allclose(u[1:], -u[1:, ::-1], atol=1e-10)  # odd in x
        assert np.abs(u[1:, [0, -1]]).max() < 1e-8  # zero at the walls
        pts = jnp.stack(
            [jnp.linspace(0.1, 0.9, 32), jnp.linspace(-0.9, -0.3, 32)], axis=-1
        )
        r = jax.jit(jax.vmap(lambda p: b.residual(b.exact, p)))(pts)
        assert float(jnp.max(jnp.abs(r))) < 1e-6
        slope = jax.jit(jax.grad(lambda x: b.exact(jnp.array([0.9, x]))))(0.0)
        assert float(slope) < -50  # the shock at x = 0 (about -100 at t = 0.9)


def test_the_sheets_domains_and_test_grids():
    assert problems.KleinGordon().domain.upper == (10.0, 1.0, 1.0)
    assert problems.FlowMixing().domain.lower == (0.0, -4.0, -4.0)
    assert problems.Helmholtz2D().test_shape == (250, 250)
    assert problems.KleinGordon().test_shape == (50, 50, 50)
    assert problems.Helmholtz2D().residual_weight == 1e-4
    assert problems.FlowMixing().residual_weight == 10.0
    x, u = problems.Poisson2D().reference()
    assert x.shape == (101 * 101, 2) and u.shape == (101 * 101,)
    assert x.dtype == u.dtype == np.float64


@pytest.mark.slow
def test_diffusion_sorption_reference_from_the_solver():
    problem = problems.DiffusionSorption()
    x, u = problem.reference()
    u = u.reshape(problem.test_shape)
    np.testing.assert_allclose(u[1:, 0], 1.0)  # the inflow value at x = 0
    np.testing.assert_array_equal(u[0, 1:], 0.0)  # the initial value
    assert (u >= -1e-9).all() and (u <= 1 + 1e-9).all()
    assert (np.diff(u[-1]) <= 1e-12).all()  # decreasing away from the inflow


def test_no_exact_solution_says_where_the_reference_is():
    with pytest.raises(NotImplementedError, match="reference"):
        problems.DiffusionSorption().exact(jnp.zeros(2))
    assert not problems.DiffusionSorption().has_exact
    assert problems.Poisson2D().has_exact


def test_conditions_and_box_refuse_bad_input():
    box = pinns.Box((0.0, 0.0), (1.0, 2.0), ("t", "x"))
    with pytest.raises(ValueError, match="no axis 'y'"):
        box.axis("y")
    with pytest.raises(ValueError, match="lower < upper"):
        pinns.Box((0.0,), (0.0,), ("x",))
    with pytest.raises(ValueError, match="outside the domain"):
        box.check_points(np.array([[0.5, 1.0], [0.5, 2.5]]))
    with pytest.raises(ValueError, match="shape"):
        box.check_points(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="derivatives"):
        pinns.Periodic("x", derivatives=2)


@pytest.mark.slow
def test_references_of_allen_cahn_and_nonlinear_diffusion():
    ac = problems.AllenCahn()
    x, u = ac.reference()
    u = u.reshape(ac.test_shape)
    xs = x.reshape(*ac.test_shape, 2)[0, :, 1]
    np.testing.assert_allclose(u[0], xs**2 * np.cos(np.pi * xs), atol=1e-15)
    assert -1.0 - 1e-6 < u.min() and u.max() < 1.0 + 1e-6  # between the stable states
    np.testing.assert_allclose(u[:, 0], u[:, -1], atol=1e-12)  # periodic
    nd = problems.NonlinearDiffusion(reference_cells=101)
    x, u = nd.reference()
    u = u.reshape(nd.test_shape)
    assert np.abs(u[1:, [0, -1], :]).max() < 1e-12  # zero on the boundary
    assert (u >= -1e-12).all() and u[-1].max() < u[0].max()  # positive, decaying


def test_allen_cahn_and_nonlinear_diffusion_are_posed_as_the_sheet_says():
    ac, nd = problems.AllenCahn(), problems.NonlinearDiffusion()
    assert ac.domain.names == ("t", "x") and ac.test_shape == (201, 512)
    assert [type(c).__name__ for c in ac.conditions] == ["InitialValue", "Periodic"]
    assert nd.domain.upper == (1.0, 1.0, 1.0) and nd.test_shape == (101, 101, 101)
    with jax.enable_x64(True):
        u0 = float(nd.conditions[0].value(jnp.array([0.0, 0.3, 0.2])))
        expected = 0.25 + 0.4 * np.exp(-15 * (0.64 + 0.09)) + 0.3 * np.exp(-20 * 0.58)
        assert u0 == pytest.approx(expected)
        # a constant state u = 1 solves Allen-Cahn: zero residual
        residual = ac.residual(lambda p: jnp.ones(()), jnp.array([0.5, 0.1]))
        assert float(residual) == pytest.approx(0.0, abs=1e-14)
