"""`sciml.solvers.AllenCahn1D`: the contour-integral ETDRK4 coefficients, the exact
linear part, the fixed points and the logistic ODE of constant states, fourth order
in time, spectral convergence in modes, `trajectory`, trigonometric interpolation,
the sheet's projected initial condition, and jit / vmap / grad without recompiling.

Fixed-step runs go through one jitted `_steps(stepper, u, n)` (a `fori_loop` of
`stepper(u)` with a traced count; `dt`, `eps` and `gamma` are array leaves), so each
grid and dtype compiles once whatever the step, the parameters or the length."""

import math
import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers
from sciml.solvers._etdrk import etdrk4_coefficients


@eqx.filter_jit
def _steps(stepper, u, n):
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), u)


_coefficients = jax.jit(etdrk4_coefficients)


def _grid(n, lower=-1.0, upper=1.0):
    return solvers.Grid(n, lower, upper, points="nodes")


def _run(stepper, u0, t_end):
    n = round(t_end / float(stepper.dt))
    assert math.isclose(n * float(stepper.dt), t_end, rel_tol=1e-6)
    return np.asarray(_steps(stepper, jnp.asarray(u0), jnp.asarray(n)))


def _reference_coefficients(z):
    """(E, E2, Q, f1, f2, f3) at real z, h = 1 (float64), written from the
    phi-functions: near 0 from their Taylor series (Q = phi_1(z/2)/2,
    f1 = phi_1 - 3 phi_2 + 4 phi_3, f2 = phi_2 - 2 phi_3, f3 = 4 phi_3 - phi_2),
    for |z| >= 1/2 from Cox and Matthews' closed forms (cancellation at most 1e-14
    there)."""
    z = np.asarray(z, float)
    small = np.abs(z) < 0.5
    zs = np.where(small, z, 0.0)

    def phi(k, x):
        return sum(x**j / math.factorial(j + k) for j in range(30))

    p1, p2, p3 = (phi(k, zs) for k in (1, 2, 3))
    series = [p1 - 3 * p2 + 4 * p3, p2 - 2 * p3, 4 * p3 - p2]
    zb = np.where(small, 1.0, z)
    e = np.exp(zb)
    closed = [
        (-4 - zb + e * (4 - 3 * zb + zb**2)) / zb**3,
        (2 + zb + e * (zb - 2)) / zb**3,
        (-4 - 3 * zb - zb**2 + e * (4 - zb)) / zb**3,
    ]
    f1, f2, f3 = (np.where(small, a, b) for a, b in zip(series, closed, strict=True))
    q = np.where(small, phi(1, zs / 2) / 2, (np.exp(zb / 2) - 1) / zb)
    return np.exp(z), np.exp(z / 2), q, f1, f2, f3


def test_contour_coefficients_match_the_phi_functions():
    """Kassam and Trefethen's contour means against the phi-functions (h = 1),
    from z = 0 (where the closed forms are 0/0) to z = -1e4. Measured: relative
    error 5e-15 (float64), 3e-6 (float32, at z = -0.7)."""
    z = np.array([0.0, 1e-9, -1e-9, 1e-4, -3e-3, 0.2, -0.7, 1.5, -4.0, -60.0, -1e4])
    expected = _reference_coefficients(z)
    names = ("E", "E2", "Q", "f1", "f2", "f3")
    with jax.enable_x64(True):
        for dtype, rtol in ((jnp.float64, 1e-13), (jnp.float32, 1e-5)):
            got = _coefficients(jnp.asarray(z, dtype), jnp.asarray(1.0, dtype))
            for name, g, e in zip(names, got, expected, strict=True):
                assert g.dtype == dtype
                np.testing.assert_allclose(g, e, rtol=rtol, atol=0, err_msg=name)


def test_linear_modes_evolve_exactly():
    """At amplitude 1e-9 the cubic is 1e-27, so each Fourier mode of period
    L/m grows like exp((gamma - eps k^2) t), k = 2 pi m/L; on [0, 3) with eps = 0.01
    the exponential integrator is exact in the linear part, whatever the step."""
    grid = _grid(32, 0.0, 3.0)
    (x,) = grid.axes
    k1, k3 = 2 * np.pi / 3, 2 * np.pi * 3 / 3
    u0 = 1e-9 * (np.cos(k1 * x) + np.sin(k3 * x) + 0.5)
    eps, gamma, t = 0.01, 5.0, 0.5
    exact = 1e-9 * (
        np.exp((gamma - eps * k1**2) * t) * np.cos(k1 * x)
        + np.exp((gamma - eps * k3**2) * t) * np.sin(k3 * x)
        + 0.5 * np.exp(gamma * t)
    )
    with jax.enable_x64(True):
        u = _run(solvers.AllenCahn1D(grid, 0.1, eps, gamma), u0[None], t)
    np.testing.assert_allclose(u[0], exact, rtol=0, atol=1e-12 * np.abs(exact).max())


def test_constant_states_fixed_points_and_the_logistic_ode():
    """0 and +-1 are fixed points (to round-off, after 100 steps); other constant
    states stay constant in x and follow u' = 5(u - u^3), whose solution is
    u = sign(u0) / sqrt(1 + (1/u0^2 - 1) e^{-10 t}), to fourth order in the step.
    Measured at t = 1: max errors 1.0e-7 (dt = 0.02), 5.8e-9 (0.01), ratio 17.8."""
    grid = _grid(8)
    u0 = np.array([0.0, 1.0, -1.0, 0.3, -0.6, 1.5])
    field = np.repeat(u0[:, None], 8, axis=1)
    exact = np.sign(u0[3:]) / np.sqrt(1 + (1 / u0[3:] ** 2 - 1) * np.exp(-10.0))
    errors = []
    with jax.enable_x64(True):
        for dt in (0.02, 0.01):
            u = _run(solvers.AllenCahn1D(grid, dt), field, 1.0)
            assert np.ptp(u, axis=1).max() < 1e-14  # constant in x
            np.testing.assert_allclose(u[:3], field[:3], rtol=0, atol=1e-14)
            errors.append(np.abs(u[3:, 0] - exact).max())
    assert errors[1] < 1e-8
    assert 14 < errors[0] / errors[1] < 20, errors


def test_fourth_order_in_time():
    """The sheet's (projected) u0 with eps = 0.01 on 64 modes to t = 0.25, steps
    0.05, 0.025, 0.0125 against 0.003125. Measured: errors 1.5e-4, 7.6e-6, 4.3e-7,
    orders 4.3, 4.2."""
    grid = _grid(64)
    with jax.enable_x64(True):
        u0 = solvers.AllenCahn1D.initial_condition(grid)
        runs = [
            _run(solvers.AllenCahn1D(grid, dt, 0.01), u0, 0.25)
            for dt in (0.05, 0.025, 0.0125, 0.003125)
        ]
    errors = [np.abs(u - runs[-1]).max() for u in runs[:-1]]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 3.8).all() and (orders < 4.6).all(), (errors, orders)


def test_spectral_convergence_in_modes():
    """u0 = 0.6 sin(pi x) - 0.4 cos(2 pi x) + 0.1, eps = 1e-3, t = 0.1 (dt = 1e-3):
    16, 32, 64 modes against 256 at the common nodes. Measured: 3.7e-5, 4.1e-7,
    3.0e-11; the ratios (90, 1.3e4) grow, faster than any algebraic order."""
    errors, fine = [], None
    with jax.enable_x64(True):
        for n in (256, 16, 32, 64):
            (x,) = _grid(n).axes
            u0 = 0.6 * np.sin(np.pi * x) - 0.4 * np.cos(2 * np.pi * x) + 0.1
            u = _run(solvers.AllenCahn1D(_grid(n), 1e-3, 1e-3), u0[None], 0.1)[0]
            if fine is None:
                fine = u
            else:
                errors.append(np.abs(u - fine[:: 256 // n]).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert errors[-1] < 1e-9 and ratios[0] > 30 and ratios[1] > 30 * ratios[0], errors


def test_trajectory_is_repeated_steps():
    """`trajectory(u0, 3, 4)` (coefficients once, steps in Fourier space) equals 4
    and 8 steps of `stepper(u)` to round-off, with u0 first."""
    with jax.enable_x64(True):
        stepper = solvers.AllenCahn1D(_grid(32), 1e-2, 1e-3)
        u0 = solvers.AllenCahn1D.initial_condition(stepper.grid)
        frames = np.asarray(eqx.filter_jit(stepper.trajectory)(u0, 3, 4))
        assert frames.shape == (3, 1, 32)
        np.testing.assert_array_equal(frames[0], u0)
        for k in (1, 2):
            stepped = _steps(stepper, u0, jnp.asarray(4 * k))
            np.testing.assert_allclose(frames[k], stepped, rtol=0, atol=1e-14)


def test_interpolate_is_the_trigonometric_interpolant():
    """Exact for trigonometric polynomials up to the Nyquist cosine, at any x;
    periodic, so x = 1 is the node x = -1 (the PINN domain's right end)."""
    grid = _grid(16)
    (x,) = grid.axes

    def poly(x):
        return (
            0.3
            + np.sin(np.pi * x)
            - 0.5 * np.cos(7 * np.pi * x)
            + 0.2 * np.sin(3 * np.pi * x + 1)
            + 0.1 * np.cos(8 * np.pi * x)  # the Nyquist mode
        )

    points = np.concatenate([np.random.default_rng(1).uniform(-1, 1, 50), [1.0, 2.7]])
    with jax.enable_x64(True):
        stepper = solvers.AllenCahn1D(grid, 1e-3)
        u = jnp.asarray(np.stack([poly(x), np.cos(np.pi * x)]))
        interpolate = eqx.filter_jit(stepper.interpolate)
        values = np.asarray(interpolate(u, points))
        np.testing.assert_allclose(values[0], poly(points), rtol=0, atol=1e-13)
        np.testing.assert_allclose(values[1], np.cos(np.pi * points), atol=1e-13)
        np.testing.assert_allclose(values[:, -2], u[:, 0], atol=1e-13)  # x = 1
        at_nodes = np.asarray(interpolate(u, x))
        np.testing.assert_allclose(at_nodes, u, atol=1e-13)


def test_initial_condition_projects_the_sheets_u0():
    """`project=False`: x^2 cos(pi x) at the nodes. `project=True`: the truncated
    Fourier series of u0, checked against the FFT of 2^16 samples (aliasing 1e-10):
    its mean is -2/pi^2, and away from the kink at x = +-1 it is within
    O(N^-2) of u0."""
    grid = _grid(64)
    (x,) = grid.axes
    with jax.enable_x64(True):
        nodal = np.asarray(solvers.AllenCahn1D.initial_condition(grid, project=False))
        projected = np.asarray(solvers.AllenCahn1D.initial_condition(grid))
        single = solvers.AllenCahn1D.initial_condition(grid, jnp.float32)
    assert nodal.shape == projected.shape == single.shape == (1, 64)
    assert single.dtype == jnp.float32
    np.testing.assert_allclose(nodal[0], x**2 * np.cos(np.pi * x), rtol=1e-14)
    fine = -1 + 2 * np.arange(2**16) / 2**16
    spectrum = np.fft.rfft(fine**2 * np.cos(np.pi * fine))[:33] / 2**16 * 64
    spectrum[-1] = 2 * spectrum[-1].real  # the Nyquist pair
    np.testing.assert_allclose(projected[0], np.fft.irfft(spectrum, 64), atol=1e-9)
    assert abs(projected.mean() + 2 / np.pi**2) < 1e-14
    inner = np.abs(x) < 0.5
    assert np.abs(projected[0] - nodal[0])[inner].max() < 1e-3


def test_float32_step_agrees_with_float64():
    """The default dtype: 100 float32 steps of the sheet's problem (64 modes,
    dt = 1e-3) against float64. Measured: 3.7e-6."""
    grid = _grid(64)
    runs = []
    for x64 in (False, True):
        with jax.enable_x64(x64):
            u0 = solvers.AllenCahn1D.initial_condition(grid)
            runs.append(_run(solvers.AllenCahn1D(grid, 1e-3), u0, 0.1))
    assert runs[0].dtype == np.float32 and runs[1].dtype == np.float64
    assert np.abs(runs[0] - runs[1]).max() < 1e-5


def test_bad_input(no_typecheck):
    for grid in (solvers.Grid(16), _grid(15), solvers.Grid((8, 8), points="nodes")):
        with pytest.raises(
            ValueError, match="1-D periodic Grid of an even number >= 4 of nodes"
        ):
            solvers.AllenCahn1D(grid, 1e-3)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solvers.AllenCahn1D(_grid(16), 0.0)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        solvers.AllenCahn1D(_grid(16), 1e-3, -1e-4)
    with pytest.raises(ValueError, match="contour_points must be >= 4"):
        solvers.AllenCahn1D(_grid(16), 1e-3, contour_points=2)
    stepper = solvers.AllenCahn1D(_grid(16), 1e-3)
    with pytest.raises(ValueError, match=r"field of shape \(C, 16\)"):
        stepper(jnp.zeros(16))
    with pytest.raises(ValueError, match=r"field of shape \(C, 16\)"):
        stepper.trajectory(jnp.zeros((1, 8)), 2)
    with pytest.raises(ValueError, match="n_frames must be >= 1"):
        stepper.trajectory(jnp.zeros((1, 16)), 0)
    with pytest.raises(ValueError, match=r"points of shape \(P,\)"):
        stepper.interpolate(jnp.zeros((1, 16)), jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="even number of nodes on"):
        solvers.AllenCahn1D.initial_condition(_grid(16, 0.0, 2.0))
    with pytest.raises(ValueError, match="needs a 1-D Grid"):
        solvers.AllenCahn1D.initial_condition(solvers.Grid((4, 4)))


# --- jit, vmap, grad ----------------------------------------------------------
# On the trajectory test's grid, so that `_steps` (compiled there) is the unbatched
# reference: `trajectory(u0, 3, 5)` ends after ten steps.

GRID = _grid(32)
DT = 1e-2
WEIGHTS = 1.5 + GRID.axes[0]  # a weighted energy, so that u0 matters


def _loss(args):
    stepper, u0 = args
    frames = stepper.trajectory(u0, 3, 5)
    return jnp.sum(WEIGHTS * frames[-1, 0] ** 2), frames


_batched_value_and_grad = references.batched_value_and_grad(_loss)
EPS, GAMMA, H = 1e-3, 5.0, 1e-6  # the gradient's point and the difference step


def _stepper(eps, gamma):
    return solvers.AllenCahn1D(GRID, DT, eps, gamma)


def _batch_args(eps, gamma):
    """Steppers built by `eqx.filter_vmap` over the constructor, with the fields:
    the sheet's u0 five times, then displaced along a direction `v` either way."""
    u0 = solvers.AllenCahn1D.initial_condition(GRID)
    v = references.normal(jax.random.key(2), u0.shape, jnp.float64)
    u0s = jnp.stack([u0] * 5 + [u0 + H * v, u0 - H * v])
    return (eqx.filter_vmap(_stepper)(eps, gamma), u0s), v


@pytest.fixture(scope="module")
def batch():
    """The batched value and gradient at the gradient's point and at the points of
    central differences in `eps`, `gamma` and the field."""
    with jax.enable_x64(True):
        eps = jnp.array([EPS, EPS + H, EPS - H, EPS, EPS, EPS, EPS])
        gamma = jnp.array([GAMMA, GAMMA, GAMMA, GAMMA + H, GAMMA - H, GAMMA, GAMMA])
        (stepper_batch, u0s), v = _batch_args(eps, gamma)
        assert stepper_batch.eps.shape == stepper_batch.dt.shape == (7,)
        (values, frames), grads = _batched_value_and_grad((stepper_batch, u0s))
        assert frames.shape == (7, 3, 1, 32)
        values, frames, v, grads = jax.tree.map(np.asarray, (values, frames, v, grads))
        return types.SimpleNamespace(
            eps=eps,
            gamma=gamma,
            u0s=u0s,
            v=v,
            values=values,
            frames=frames,
            grads=grads,
        )


def test_vmap_over_fields_and_parameters(batch):
    """The batched trajectories end where ten unbatched jitted steps of each
    stepper do."""
    with jax.enable_x64(True):
        for i in (0, 1, 3, 5):
            stepper = _stepper(float(batch.eps[i]), float(batch.gamma[i]))
            single = _steps(stepper, batch.u0s[i], jnp.asarray(10))
            np.testing.assert_allclose(batch.frames[i, -1], single, rtol=0, atol=1e-13)


def test_grad_of_trajectory_matches_central_differences(batch):
    """jax.grad through `trajectory` with respect to `eps`, `gamma` and the initial
    field, against central differences (float64) of the batch."""
    values, (grad_stepper, grad_u0) = batch.values, batch.grads
    np.testing.assert_allclose(
        grad_stepper.eps[0], (values[1] - values[2]) / (2 * H), rtol=1e-6
    )
    np.testing.assert_allclose(
        grad_stepper.gamma[0], (values[3] - values[4]) / (2 * H), rtol=1e-6
    )
    fd_u = (values[5] - values[6]) / (2 * H)
    np.testing.assert_allclose(np.sum(grad_u0[0] * batch.v), fd_u, rtol=1e-6)
    assert grad_stepper.dt[0] != 0.0  # the step is a leaf as well


def test_new_parameters_do_not_recompile(batch):
    """The batched gradient is `assert_max_traces(max_traces=1)`: new values of
    `eps` and `gamma` reuse it."""
    with jax.enable_x64(True):
        (values, _), _ = _batched_value_and_grad(
            _batch_args(10 * batch.eps, 0.5 * batch.gamma)[0]
        )
    assert np.isfinite(values).all()
