"""`sciml.solvers.Darcy`: the exact constant-permeability solution at second order
("face") and first order ("pdebench"), the variable-coefficient discretisation on a
manufactured solution, the operator against an independent numpy stencil, and jit /
vmap / grad (with respect to the permeability and to `beta`) without recompiling."""

import collections
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers

PI = np.pi

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, a):
    _TRACES[solver.grid.shape, solver.boundary, a.dtype.name] += 1  # at trace time
    return solver.solve(a)


def _unit_square(x, y, terms=4000):
    """U with -Laplace(U) = 1 on (0, 1)^2, U = 0 on the boundary:
    U = x(1-x)/2 - (4/pi^3) sum_{n odd} sin(n pi x) cosh(n pi (y-1/2)) / (n^3 cosh(n pi/2)),
    truncated after 4000 terms (tail below 4e-9)."""
    n = np.arange(1, 2 * terms, 2)[:, None]
    s = np.abs(y[None, :] - 0.5)
    ratio = np.exp(n * PI * (s - 0.5)) * (1 + np.exp(-2 * n * PI * s))
    ratio /= 1 + np.exp(-n * PI)  # cosh(n pi s) / cosh(n pi / 2), overflow-free
    return (x * (1 - x) / 2)[:, None] - 4 / PI**3 * (
        np.sin(PI * n * x).T / n.T**3
    ) @ ratio


def _constant_errors(sizes, boundary):
    """`Darcy.solve` with a = 2 and beta = 3: u = (3/2) U."""
    errors = []
    with jax.enable_x64(True):
        for n in sizes:
            grid = solvers.Grid((n, n))
            solver = solvers.Darcy(grid, 3.0, boundary=boundary)
            u, residual = _solve(solver, jnp.full((1, n, n), 2.0, jnp.float64))
            assert u.shape == (1, n, n) and float(residual) < 1e-9
            exact = 1.5 * _unit_square(*grid.axes)
            errors.append(np.abs(np.asarray(u[0]) - exact).max())
    return np.array(errors)


def test_constant_permeability_converges_at_second_order():
    errors = _constant_errors([32, 64], "face")
    order = np.log2(errors[0] / errors[1])
    # measured: errors 1.8e-4, 4.5e-5 (1.1e-5 at 128); order 1.98 (1.99 at 128)
    assert order > 1.9, errors
    assert errors[-1] < 5e-5


def test_pdebench_boundary_is_first_order():
    errors = _constant_errors([32, 64], "pdebench")
    order = np.log2(errors[0] / errors[1])
    assert 0.8 < order < 1.2, errors  # measured 0.99: u = 0 half a cell outside


def _manufactured(n):
    """u = sin(pi x) sin(pi y) e^x, a = 1 + sin(2 pi x) cos(2 pi y)/2, f = -div(a grad u)."""
    c = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(c, c, indexing="ij")
    u = np.sin(PI * x) * np.sin(PI * y) * np.exp(x)
    a = 1 + 0.5 * np.sin(2 * PI * x) * np.cos(2 * PI * y)
    a_x = PI * np.cos(2 * PI * x) * np.cos(2 * PI * y)
    a_y = -PI * np.sin(2 * PI * x) * np.sin(2 * PI * y)
    u_x = (PI * np.cos(PI * x) + np.sin(PI * x)) * np.exp(x) * np.sin(PI * y)
    u_y = PI * np.sin(PI * x) * np.cos(PI * y) * np.exp(x)
    u_xx = (
        (-(PI**2) * np.sin(PI * x) + 2 * PI * np.cos(PI * x) + np.sin(PI * x))
        * np.exp(x)
        * np.sin(PI * y)
    )
    u_yy = -(PI**2) * u
    f = -(a_x * u_x + a_y * u_y + a * (u_xx + u_yy))
    return a, f, u


@eqx.filter_jit
def _invert_operator(solver, a, f):
    """Solve `solver.operator(a) u = f` for a non-constant f (the solver's own source
    is a constant): plain CG on the public operator, to 1e-12."""
    u, _ = jax.scipy.sparse.linalg.cg(
        solver.operator(a), f, tol=1e-12, atol=0.0, maxiter=20_000
    )
    return u, jnp.linalg.norm(f - solver.operator(a)(u)) / jnp.linalg.norm(f)


def _manufactured_errors(sizes, boundary):
    errors = []
    with jax.enable_x64(True):
        for n in sizes:
            a, f, exact = _manufactured(n)
            solver = solvers.Darcy(solvers.Grid((n, n)), boundary=boundary)
            u, residual = _invert_operator(solver, jnp.asarray(a)[None], jnp.asarray(f))
            assert float(residual) < 1e-9
            errors.append(np.abs(np.asarray(u) - exact).max())
    return np.array(errors)


def test_variable_permeability_discretisation_converges():
    """The variable-coefficient operator (arithmetic-mean face diffusivities) on the
    manufactured solution at second order ("face"; the "pdebench" weight is checked
    against the independent stencil below, its first order by the solve above)."""
    sizes = [32, 64, 128]
    errors = _manufactured_errors(sizes, "face")
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    # measured: errors 3.5e-3, 1.0e-3, 2.6e-4; fitted order 1.87 (pairwise 1.83, 1.92)
    assert slope > 1.8, (errors, slope)
    assert errors[-1] < 5e-4


@eqx.filter_jit
def _apply(solver, a, u):
    return solver.operator(a)(u)


@pytest.mark.parametrize("boundary, weight", [("face", 2.0), ("pdebench", 1.0)])
def test_operator_matches_an_independent_stencil(boundary, weight):
    rng = np.random.default_rng(0)
    u, a = rng.standard_normal((6, 6)), rng.uniform(0.1, 1.0, (6, 6))
    with jax.enable_x64(True):
        solver = solvers.Darcy(solvers.Grid((6, 6)), boundary=boundary)
        ours = np.asarray(_apply(solver, jnp.asarray(a)[None], jnp.asarray(u)))
    np.testing.assert_allclose(
        ours, references.darcy_operator(u, a, 6, weight), rtol=1e-12
    )


def test_bad_grids(no_typecheck):
    with pytest.raises(ValueError, match="square 2-D Grid"):
        solvers.Darcy(solvers.Grid((8, 4)))
    with pytest.raises(ValueError, match="square cells"):
        solvers.Darcy(solvers.Grid((8, 8), 0.0, (1.0, 2.0)))
    with pytest.raises(ValueError, match="boundary must be one of"):
        solvers.Darcy(solvers.Grid((8, 8)), boundary="dirichlet")
    with pytest.raises(ValueError, match=r"field of shape \(1, 8, 8\)"):
        solvers.Darcy(solvers.Grid((8, 8))).solve(jnp.ones((8, 8)))


# --- jit, vmap, grad, and no recompile for new parameters ---------------------

N = 32  # the order test's first grid: its compiled solve is the unbatched reference


def _permeability():
    x, y = np.meshgrid(*solvers.Grid((N, N)).axes, indexing="ij")
    return jnp.asarray(1 + 0.5 * np.sin(2 * PI * x) * np.cos(2 * PI * y))[None]


WEIGHTS = 1.0 + solvers.Grid((N, N)).axes[0][:, None]  # a weighted energy


def _loss(args):
    solver, a = args
    u, residual = solver.solve(a)
    return jnp.sum(WEIGHTS * u[0] ** 2), (u, residual)


_batched_value_and_grad = references.batched_value_and_grad(_loss)
BETA, H = 2.0, 1e-6  # the gradient's point and the difference step


def _solver(beta):
    return solvers.Darcy(solvers.Grid((N, N)), beta)


@pytest.fixture(scope="module")
def batch():
    """Solvers built from several `beta` by `eqx.filter_vmap` over the constructor,
    with a batch of permeabilities: the gradient's point, the points of central
    differences in `beta` and along a direction `v` of the permeability, and `2 a`
    with `2 beta` (the same pressure)."""
    with jax.enable_x64(True):
        a = _permeability()
        v = jax.random.normal(jax.random.key(0), a.shape, jnp.float64)
        betas = jnp.array([BETA, BETA + H, BETA - H, BETA, BETA, 2 * BETA])
        a_s = jnp.stack([a, a, a, a + H * v, a - H * v, 2 * a])
        solver_batch = eqx.filter_vmap(_solver)(betas)
        assert solver_batch.beta.shape == (6,)
        (values, (u, residual)), grads = _batched_value_and_grad((solver_batch, a_s))
        assert u.shape == (6, 1, N, N) and bool((residual < 1e-9).all())
        values, u, v, grads = jax.tree.map(np.asarray, (values, u, v, grads))
        # numpy arrays: their arithmetic stays float64 outside `enable_x64`
        return types.SimpleNamespace(
            betas=betas, a_s=a_s, v=v, values=values, u=u, grads=grads
        )


def test_vmap_over_permeabilities_and_beta(batch):
    """The batched solves equal the unbatched jitted ones; the pressure is linear in
    beta and inversely proportional to a (so (2 beta, 2 a) gives the same u)."""
    u = batch.u
    with jax.enable_x64(True):
        for i in (0, 1, 3):
            single = _solve(_solver(float(batch.betas[i])), batch.a_s[i])
            np.testing.assert_allclose(u[i], single.u, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(u[5], u[0], rtol=1e-8)


def test_grad_matches_central_differences(batch):
    """jax.grad (CG's implicit derivative) of a weighted energy of the pressure with
    respect to `beta` and to the permeability field, against central differences
    (float64) of the batch."""
    values, (grad_solver, grad_a) = batch.values, batch.grads
    fd_beta = (values[1] - values[2]) / (2 * H)
    fd_a = (values[3] - values[4]) / (2 * H)
    np.testing.assert_allclose(grad_solver.beta[0], fd_beta, rtol=1e-6)
    np.testing.assert_allclose(np.sum(grad_a[0] * batch.v), fd_a, rtol=1e-6)


def test_new_beta_does_not_recompile(batch):
    """Neither the batched gradient (`assert_max_traces`) nor the unbatched solve
    traces again for new values of beta."""
    with jax.enable_x64(True):
        (_, (_, residual)), _ = _batched_value_and_grad(
            (eqx.filter_vmap(_solver)(10 * batch.betas), batch.a_s)
        )
        assert bool((residual < 1e-9).all())
        a64 = jnp.full((1, N, N), 2.0, jnp.float64)
        _solve(_solver(1.0), a64)  # compiled now, or by the order test
        traces = _TRACES.copy()
        for b in (0.01, 100.0):
            _solve(_solver(b), a64)
        assert _TRACES == traces
        assert _TRACES[(N, N), "face", "float64"] == 1
