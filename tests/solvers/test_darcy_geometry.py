"""`sciml.solvers.Darcy` on a geometry (`mask`) and `sciml.solvers.geometry_mask`:
second order on sub-domains whose boundary follows the cell faces (a square with a
constant permeability through `solve`, a square with a cross cut out with a variable
one), the staircase circle, the all-ones mask against the unmasked solver, zero
outside, the masked operator against an independent stencil and its symmetry, jit /
vmap / grad without recompiling, the masks' shapes and areas, and bad input."""

import collections

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers

PI = np.pi

_TRACES = collections.Counter()


@eqx.filter_jit
def _solve(solver, a):
    _TRACES[solver.grid.shape, a.dtype.name] += 1  # at trace time
    return solver.solve(a)


def _box(n):
    return solvers.Grid((n, n), -1.0, 1.0)


def _centres(n):
    c = -1.0 + 2.0 * (np.arange(n) + 0.5) / n
    return np.meshgrid(c, c, indexing="ij")


def _unit_square(x, y, terms=4000):
    """U with -Laplace(U) = 1 on (0, 1)^2, U = 0 on the boundary (the series of
    tests/solvers/test_darcy.py, written out again: cosh ratios overflow-free)."""
    k = np.arange(1, 2 * terms, 2)[:, None]
    s = np.abs(y[None, :] - 0.5)
    ratio = np.exp(k * PI * (s - 0.5)) * (1 + np.exp(-2 * k * PI * s))
    ratio /= 1 + np.exp(-k * PI)
    return (x * (1 - x) / 2)[:, None] - 4 / PI**3 * (
        np.sin(PI * k * x).T / k.T**3
    ) @ ratio


def test_square_subdomain_through_solve_is_second_order():
    """The sub-square [-1/2, 1/2]^2 of the box [-1, 1]^2 (its edges on cell faces for
    n divisible by 4), a = 2, beta = 3: u = (3/2) U(x + 1/2, y + 1/2) inside, 0
    outside. Exercises `solve` with the masked preconditioner."""
    errors = []
    with jax.enable_x64(True):
        for n in (64, 128):
            x, y = _centres(n)
            mask = (np.abs(x) < 0.5) & (np.abs(y) < 0.5)
            solver = solvers.Darcy(_box(n), 3.0, mask=mask)
            u, residual = _solve(solver, jnp.full((1, n, n), 2.0))
            assert float(residual) < 1e-9
            u = np.asarray(u[0])
            assert np.all(u[~mask] == 0.0)
            inner = np.arange(n)[mask.any(axis=1)]
            axis = -1.0 + 2.0 * (inner + 0.5) / n + 0.5  # in (0, 1)
            exact = 1.5 * _unit_square(axis, axis)
            errors.append(np.abs(u[np.ix_(inner, inner)] - exact).max())
    order = np.log2(errors[0] / errors[1])
    # measured: errors 1.8e-4, 4.5e-5 (the unmasked unit square's at 32, 64 cells)
    assert order > 1.9, errors
    assert errors[-1] < 5e-5


def _cross_cut_square(n):
    """[-0.6, 0.6]^2 minus the plus sign {|x| < 0.4, |y| < 0.2} u {|x| < 0.2,
    |y| < 0.4}: every edge on a cell face for n divisible by 10."""
    x, y = _centres(n)
    square = (np.abs(x) < 0.6) & (np.abs(y) < 0.6)
    cut = ((np.abs(x) < 0.4) & (np.abs(y) < 0.2)) | (
        (np.abs(x) < 0.2) & (np.abs(y) < 0.4)
    )
    return square & ~cut, x, y


def _manufactured(x, y):
    """u = sin(5 pi x) sin(5 pi y) (0 on every line x, y = k/5, so on the whole
    boundary of the cross-cut square), a = 1 + sin(pi x) cos(pi y)/2,
    f = -div(a grad u)."""
    s, c, k = np.sin, np.cos, 5 * PI
    u = s(k * x) * s(k * y)
    a = 1 + 0.5 * s(PI * x) * c(PI * y)
    a_x = 0.5 * PI * c(PI * x) * c(PI * y)
    a_y = -0.5 * PI * s(PI * x) * s(PI * y)
    u_x = k * c(k * x) * s(k * y)
    u_y = k * s(k * x) * c(k * y)
    f = -(a_x * u_x + a_y * u_y - 2 * k**2 * a * u)
    return a, f, u


@eqx.filter_jit
def _invert_operator(solver, a, f):
    """Solve `solver.operator(a) u = f` for a non-constant f by plain CG to 1e-12
    (independent of the solver's preconditioner)."""
    operator = solver.operator(a)
    u, _ = jax.scipy.sparse.linalg.cg(operator, f, tol=1e-12, atol=0.0, maxiter=20_000)
    return u, jnp.linalg.norm(f - operator(u)) / jnp.linalg.norm(f)


def test_cross_cut_square_variable_permeability_is_second_order():
    sizes = [40, 80, 160]
    errors = []
    with jax.enable_x64(True):
        for n in sizes:
            mask, x, y = _cross_cut_square(n)
            a, f, exact = _manufactured(x, y)
            solver = solvers.Darcy(_box(n), mask=mask)
            f = jnp.asarray(np.where(mask, f, 0.0))
            u, residual = _invert_operator(solver, jnp.asarray(a)[None], f)
            assert float(residual) < 1e-11
            u = np.asarray(u)
            assert np.all(u[~mask] == 0.0)  # the identity outside, f = 0 there
            errors.append(np.abs(u - exact)[mask].max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured: errors 4.9e-2, 1.3e-2, 3.4e-3 (max |u| = 1); orders 1.90, 1.98
    assert orders[-1] > 1.9 and orders[0] > 1.8, (errors, orders)
    assert errors[-1] < 4e-3


def test_circle_staircase_converges():
    """On the named circle (a staircase of cell faces, not the circle) the error
    in the max norm falls at first order only: u = beta (R^2 - r^2)/(4a)."""
    radius = np.sqrt(1.2 / PI)  # the circle's area is 1.2
    errors = []
    with jax.enable_x64(True):
        for n in (32, 64, 128):
            x, y = _centres(n)
            mask = solvers.geometry_mask("circle", n)
            solver = solvers.Darcy(_box(n), 3.0, mask=mask)
            u, residual = _solve(solver, jnp.full((1, n, n), 2.0))
            assert float(residual) < 1e-9
            exact = 3.0 * (radius**2 - x**2 - y**2) / 8.0
            errors.append(np.abs(np.asarray(u[0]) - exact)[mask].max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured: 7.8e-3, 4.2e-3, 2.2e-3 (max u = 0.14; 9.0e-4 at 256): orders 0.89,
    # 0.93 (1.29 to 256)
    assert np.all(orders > 0.7), (errors, orders)
    assert errors[-1] < 3e-3


def test_the_masked_preconditioner_converges_in_few_iterations():
    """CG caps that the masked solves meet at n = 64 (float64, to rtol 1e-10):
    constant a (the box's preconditioner is exact there, 1 iteration; the masked one
    is not, measured 16 square, 18 circle, 28 triangle, 22 square_cross), and a
    lognormal a (the box itself needs 325 iterations on this field; measured on the
    geometries 232, 278, 205, 295)."""
    n = 64
    with jax.enable_x64(True):
        grid = _box(n)
        g = solvers.SquaredExponentialGRF(0.2)(grid, key=jax.random.key(10))
        for a, cap in ((jnp.ones((1, n, n)), 40), (jnp.exp(g), 400)):
            for name in solvers.GEOMETRIES:
                mask = solvers.geometry_mask(name, n)
                solver = solvers.Darcy(grid, mask=mask, maxiter=cap)
                _, residual = _solve(solver, a)
                assert float(residual) < 2e-10, (name, cap, float(residual))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_all_ones_mask_equals_the_unmasked_solver(dtype):
    n = 32
    with jax.enable_x64(dtype == "float64"):
        grid = _box(n)
        g = solvers.SquaredExponentialGRF(0.2)(grid, key=jax.random.key(1))
        a = jnp.exp(g).astype(dtype)
        plain = _solve(solvers.Darcy(grid), a)
        for mask in (np.ones((n, n), bool), np.ones((n, n)), jnp.ones((n, n), int)):
            masked = _solve(solvers.Darcy(grid, mask=mask), a)
            # the same solve to rounding: bitwise under jit on the Intel Xeon where
            # this was written, 3e-11 relative (float64) on an AMD EPYC, whose
            # XLA:CPU code rounds the fused M A M + (I - M) products differently
            # and CG carries that through its iterations; both far below the
            # solver's tolerance
            rtol = 1e-9 if dtype == "float64" else 2e-5
            scale = float(jnp.abs(plain.u).max())
            np.testing.assert_allclose(masked.u, plain.u, rtol=0, atol=rtol * scale)
            # and it converges as far: CG stops at its tolerance, where the last
            # residuals of the two differ by tens of per cent (6e-11 against
            # 9e-11 in float64 on the EPYC)
            assert float(masked.residual) <= 2 * float(plain.residual)


@pytest.mark.parametrize("name", solvers.GEOMETRIES)
def test_the_pressure_is_zero_outside_and_positive_inside(name):
    n = 64  # the size of a solve compiled above
    with jax.enable_x64(True):
        grid = _box(n)
        mask = solvers.geometry_mask(name, n)
        a = jnp.exp(solvers.SquaredExponentialGRF(0.2)(grid, key=jax.random.key(2)))
        u, residual = _solve(solvers.Darcy(grid, mask=mask), a)
    u = np.asarray(u[0])
    assert float(residual) < 1e-9
    assert np.all(u[~mask] == 0.0)
    assert np.all(u[mask] > 0.0)  # f = 1 > 0 and an M-matrix: a positive pressure


def _masked_stencil(u, a, mask, h, weight):
    """The masked operator in numpy, written independently: on an inside cell, the
    mean of `a` on a face to an inside neighbour, `weight * a` on a face to an
    outside cell or the box (u = 0 there); the identity on an outside cell."""
    n = u.shape[0]
    out = np.array(u, dtype=np.float64)
    for i in range(n):
        for j in range(n):
            if not mask[i, j]:
                continue
            total = 0.0
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                k, m = i + di, j + dj
                if 0 <= k < n and 0 <= m < n and mask[k, m]:
                    total += 0.5 * (a[i, j] + a[k, m]) * (u[i, j] - u[k, m])
                else:
                    total += weight * a[i, j] * u[i, j]
            out[i, j] = total / h**2
    return out


@eqx.filter_jit
def _apply(solver, a, u):
    return solver.operator(a)(u)


@pytest.mark.parametrize("boundary, weight", [("face", 2.0), ("pdebench", 1.0)])
def test_masked_operator_matches_an_independent_stencil(boundary, weight):
    rng = np.random.default_rng(0)
    n = 7
    mask = rng.random((n, n)) < 0.6
    u, a = rng.standard_normal((n, n)), rng.uniform(0.1, 1.0, (n, n))
    with jax.enable_x64(True):
        solver = solvers.Darcy(_box(n), mask=mask, boundary=boundary)
        ours = np.asarray(_apply(solver, jnp.asarray(a)[None], jnp.asarray(u)))
    np.testing.assert_allclose(
        ours, _masked_stencil(u, a, mask, 2.0 / n, weight), rtol=1e-12
    )


def test_masked_operator_is_symmetric_positive_definite():
    n = 10
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        mask = solvers.geometry_mask("square_cross", n)
        a = jnp.asarray(rng.uniform(0.1, 2.0, (1, n, n)))
        operator = solvers.Darcy(_box(n), mask=mask).operator(a)
        basis = jnp.eye(n * n).reshape(n * n, n, n)
        columns = jax.jit(jax.vmap(operator))(basis)
        matrix = np.asarray(columns.reshape(n * n, n * n)).T
    assert mask.sum() > 20
    np.testing.assert_allclose(matrix, matrix.T, rtol=0, atol=1e-12 * abs(matrix).max())
    assert np.linalg.eigvalsh(matrix).min() > 0
    outside = ~mask.ravel()
    np.testing.assert_array_equal(
        matrix[np.ix_(outside, outside)], np.eye(outside.sum())
    )
    assert not matrix[np.ix_(outside, ~outside)].any()


@eqx.filter_jit
def _solve_batch(solver, a):
    return jax.vmap(solver.solve)(a)


@eqx.filter_jit
def _energy_and_grad(solver, log_a, direction, eps):
    def energy(log_a):
        return jnp.sum(solver.solve(jnp.exp(log_a)).u ** 2)

    grad = jax.grad(energy)(log_a)
    central = (energy(log_a + eps * direction) - energy(log_a - eps * direction)) / (
        2 * eps
    )
    return grad, jnp.vdot(grad, direction), central


def test_jit_vmap_grad_without_recompiling():
    n = 32  # the size of a solve compiled above
    with jax.enable_x64(True):
        grid = _box(n)
        keys = jax.random.split(jax.random.key(3), 3)
        grf = solvers.SquaredExponentialGRF(0.2)
        a = jnp.exp(jax.vmap(lambda k: grf(grid, key=k))(keys))  # (3, 1, n, n)
        mask = solvers.geometry_mask("triangle", n)
        solver = solvers.Darcy(grid, mask=mask)
        batch = _solve_batch(solver, a)
        single = _solve(solver, a[1])
        np.testing.assert_allclose(batch.u[1], single.u, rtol=1e-8, atol=1e-14)
        assert np.all(np.asarray(batch.u)[:, 0][:, ~mask] == 0.0)

        # one compiled solve serves every mask of the same shape
        before = _TRACES[(n, n), "float64"]
        for name in ("circle", "square_cross"):
            _solve(solvers.Darcy(grid, mask=solvers.geometry_mask(name, n)), a[0])
        assert _TRACES[(n, n), "float64"] == before

        log_a = jnp.log(a[0])
        direction = jnp.asarray(np.random.default_rng(2).standard_normal(log_a.shape))
        grad, derivative, central = _energy_and_grad(solver, log_a, direction, 1e-5)
        assert np.all(np.asarray(grad)[0][~mask] == 0.0)  # outside values do not matter
        np.testing.assert_allclose(derivative, central, rtol=1e-5)


def test_geometry_masks():
    assert solvers.GEOMETRIES == ("square", "circle", "triangle", "square_cross")
    n = 100
    h = 2.0 / n
    centres = -1.0 + h * (np.arange(n) + 0.5)
    for name in solvers.GEOMETRIES:
        mask = solvers.geometry_mask(name, n)
        assert mask.shape == (n, n) and mask.dtype == np.bool_
        area = mask.sum() * h**2
        assert abs(area - 1.2) < 0.06, (name, area)  # 1.2 each, up to the staircase
        rows, cols = np.nonzero(mask)
        # a margin of at least 0.15 to the box (8 cells at the triangle's corners)
        for index in (rows, cols):
            assert np.abs(centres[index]).max() < 0.85, name
        assert np.array_equal(mask, mask[::-1, :]), name  # symmetric in x
        # the fine grid's area converges to 1.2
        fine = solvers.geometry_mask(name, 1000).sum() * (2.0 / 1000) ** 2
        assert abs(fine - 1.2) < 0.01, (name, fine)
    for name in ("square", "circle", "square_cross"):
        mask = solvers.geometry_mask(name, n)
        assert np.array_equal(mask, mask.T) and np.array_equal(mask, mask[:, ::-1])
    cross = solvers.geometry_mask("square_cross", n)
    assert not cross[n // 2, n // 2]  # the hole
    assert cross[n // 2, 20] and cross[20, n // 2]  # the frame around the cross tips
    triangle = solvers.geometry_mask("triangle", n)
    widths = triangle.sum(axis=0)  # cells per row of constant y
    widths = widths[widths > 0]
    assert widths[0] > 80 and widths[-1] < 5  # the base at the bottom, apex up


def test_bad_geometry_names_and_sizes(no_typecheck):
    with pytest.raises(ValueError, match="unknown geometry 'hexagon'.*'circle'"):
        solvers.geometry_mask("hexagon", 10)
    with pytest.raises(ValueError, match="unknown geometry"):
        solvers.geometry_mask(3, 10)
    with pytest.raises(ValueError, match="n must be >= 2"):
        solvers.geometry_mask("circle", 1)
    with pytest.raises(TypeError, match="n must be an integer"):
        solvers.geometry_mask("circle", 10.0)


def test_bad_masks(no_typecheck):
    grid = _box(8)
    with pytest.raises(ValueError, match=r"grid's shape \(8, 8\).*got \(8, 7\)"):
        solvers.Darcy(grid, mask=np.ones((8, 7), bool))
    with pytest.raises(ValueError, match=r"mask\[0\]"):
        solvers.Darcy(grid, mask=np.ones((1, 8, 8), bool))
    with pytest.raises(ValueError, match="grid's shape"):
        solvers.Darcy(grid, mask=[[1] * 8] * 8)
    half = np.ones((8, 8))
    half[2, 3] = 0.5
    with pytest.raises(ValueError, match=r"binary.*0\.5 at \(2, 3\)"):
        solvers.Darcy(grid, mask=half)
    half[2, 3] = np.nan
    with pytest.raises(ValueError, match="binary"):
        solvers.Darcy(grid, mask=half)
    with pytest.raises(ValueError, match="no cell inside"):
        solvers.Darcy(grid, mask=np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="boolean or numeric"):
        solvers.Darcy(grid, mask=np.full((8, 8), "1"))

    # a mask only known under jit: checked when the solve runs
    @jax.jit
    def run(mask):
        return solvers.Darcy(grid, mask=mask).solve(jnp.ones((1, 8, 8))).u

    assert run(jnp.ones((8, 8))).shape == (1, 8, 8)
    with pytest.raises(Exception, match="mask must hold only 0/1"):
        run(jnp.full((8, 8), 2.0))
    with pytest.raises(Exception, match="at least one cell inside"):
        run(jnp.zeros((8, 8)))
