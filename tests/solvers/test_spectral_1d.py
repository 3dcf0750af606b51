"""The periodic 1-D Fourier steppers (`AbstractSpectralStepper1D`): `resample`,
ETDRK4's coefficients for a complex symbol, `SpectralAdvection1D` (exact),
`SpectralReactionDiffusion1D` (the logistic ODE exactly, fourth order in time,
spectral in space), `SpectralBurgers1D` on cell centres against Cole-Hopf, frames
interpolated onto a finer grid, and jit / vmap / grad of the new steppers.

Fixed-step runs go through one jitted `_advance(stepper, u, n)` (a `fori_loop`
with a traced count), so each grid compiles once."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_spectral_burgers import cole_hopf

from sciml import solvers
from sciml.solvers._etdrk import etdrk4_coefficients


@eqx.filter_jit
def _advance(stepper, u, n):
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), u)


def _trig(x, length=1.0):
    """A trigonometric polynomial of degree 5 on [0, length)."""
    k = 2 * np.pi / length
    return 0.3 + np.sin(k * x) - 0.4 * np.cos(3 * k * x + 0.2) + 0.1 * np.sin(5 * k * x)


# --- resample --------------------------------------------------------------------


@pytest.mark.parametrize("points", ["nodes", "cells"])
def test_resample_is_exact_for_a_resolved_field(points):
    """Degree 5 sampled on 16 points of [-1, 2) and interpolated onto 48 and 50:
    the polynomial itself at the finer points, to round-off; onto 16, the samples."""
    coarse = solvers.Grid(16, -1.0, 2.0, points=points)
    with jax.enable_x64(True):
        v = jnp.fft.rfft(jnp.asarray(_trig(coarse.axes[0] + 1.0, 3.0)))
        for n in (48, 50):
            fine = solvers.Grid(n, -1.0, 2.0, points=points).axes[0]
            got = np.asarray(solvers.resample(v, coarse, n))
            np.testing.assert_allclose(got, _trig(fine + 1.0, 3.0), atol=1e-13)
        same = np.asarray(solvers.resample(v, coarse, 16))
        np.testing.assert_allclose(same, _trig(coarse.axes[0] + 1.0, 3.0), atol=1e-13)


@pytest.mark.parametrize("points", ["nodes", "cells"])
def test_resample_takes_the_nyquist_mode_as_a_cosine(points):
    """The samples (-1)^j on N = 8 points are cos(pi N (x - x_0)) there: the real
    interpolant, which the resampled field is at 32 points."""
    coarse = solvers.Grid(8, points=points)
    x0 = coarse.axes[0][0]
    fine = solvers.Grid(32, points=points).axes[0]
    with jax.enable_x64(True):
        v = jnp.fft.rfft(jnp.asarray((-1.0) ** np.arange(8)))
        got = np.asarray(solvers.resample(v, coarse, 32))
    np.testing.assert_allclose(got, np.cos(8 * np.pi * (fine - x0)), atol=1e-13)


@pytest.mark.parametrize("points", ["nodes", "cells"])
def test_resample_onto_fewer_points_truncates_the_series(points):
    """Degree 5 plus the mode 9 on 32 points, onto 16: mode 9 is dropped (|m| >=
    8), the degree-5 part is exact at the 16 points; sampling there would alias
    mode 9 onto mode 7."""
    fine = solvers.Grid(32, points=points)
    coarse = solvers.Grid(16, points=points).axes[0]
    with jax.enable_x64(True):
        u = _trig(fine.axes[0]) + 0.2 * np.cos(18 * np.pi * fine.axes[0])
        got = np.asarray(solvers.resample(jnp.fft.rfft(jnp.asarray(u)), fine, 16))
    np.testing.assert_allclose(got, _trig(coarse), atol=1e-13)
    with pytest.raises(ValueError, match="points must be >= 2"):
        solvers.resample(jnp.zeros(9, jnp.complex64), solvers.Grid(16), 1)


# --- ETDRK4 coefficients for a complex symbol -----------------------------------------


def _phi_coefficients(z):
    """(Q, f1, f2, f3) at complex z, h = 1, from the phi-functions' Taylor series
    (|z| < 1) or Cox and Matthews' closed forms."""
    if abs(z) < 1:

        def phi(k, x):
            return sum(x**j / math.factorial(j + k) for j in range(40))

        p1, p2, p3 = (phi(k, z) for k in (1, 2, 3))
        return phi(1, z / 2) / 2, p1 - 3 * p2 + 4 * p3, p2 - 2 * p3, 4 * p3 - p2
    e = np.exp(z)
    return (
        (np.exp(z / 2) - 1) / z,
        (-4 - z + e * (4 - 3 * z + z**2)) / z**3,
        (2 + z + e * (z - 2)) / z**3,
        (-4 - 3 * z - z**2 + e * (4 - z)) / z**3,
    )


def test_contour_coefficients_of_a_complex_symbol():
    """The whole-circle contour means against the phi-functions at imaginary and
    complex hL (advection, advection-diffusion), z = 0 included. Measured: at
    most 2.4e-15 relative."""
    z = np.array([0, 1e-6j, -0.3j, 2.5j, -40j, -2 + 3j, -100 + 50j])
    with jax.enable_x64(True):
        got = etdrk4_coefficients(jnp.asarray(z), jnp.asarray(1.0))
    np.testing.assert_allclose(got[0], np.exp(z), rtol=1e-14)
    for i, zi in enumerate(z):
        expected = _phi_coefficients(complex(zi))
        for g, e in zip(got[2:], expected, strict=True):
            np.testing.assert_allclose(g[i], e, rtol=1e-12, atol=1e-15)


# --- advection: exact --------------------------------------------------------------


@pytest.mark.parametrize("points", ["nodes", "cells"])
def test_advection_is_exact(points):
    """A resolved field advected at beta = 0.7 over t = 1.3 in one step, and in 7:
    the shifted field at every point, to round-off (float64)."""
    grid = solvers.Grid(32, points=points)
    x = grid.axes[0]
    with jax.enable_x64(True):
        u0 = jnp.asarray(_trig(x))[None]
        for steps in (1, 7):
            stepper = solvers.SpectralAdvection1D(grid, 1.3 / steps, 0.7)
            u = np.asarray(_advance(stepper, u0, jnp.asarray(steps)))[0]
            np.testing.assert_allclose(u, _trig((x - 0.7 * 1.3) % 1.0), atol=1e-12)


def test_advection_frames_on_a_finer_grid_are_exact():
    """16 cells solve, the frames are written on 40: the exact field there."""
    grid = solvers.Grid(16)
    fine = solvers.Grid(40).axes[0]
    with jax.enable_x64(True):
        stepper = solvers.SpectralAdvection1D(grid, 0.25, -1.1)
        u0 = jnp.asarray(_trig(grid.axes[0]))[None]
        frames = np.asarray(stepper.trajectory(u0, 5, output_points=40))
    assert frames.shape == (5, 1, 40)
    for k, frame in enumerate(frames):
        exact = _trig((fine + 1.1 * 0.25 * k) % 1.0)
        np.testing.assert_allclose(frame[0], exact, atol=1e-12)


# --- reaction-diffusion -------------------------------------------------------------


def _logistic(u0, rho, t):
    return u0 * np.exp(rho * t) / (1 - u0 + u0 * np.exp(rho * t))


def test_reaction_diffusion_constant_state_is_the_logistic_ode_to_fourth_order():
    """A constant u0 = 0.1 stays constant and follows u' = rho u (1 - u), rho = 5,
    to t = 1; 10, 20, 40 steps: errors 8.1e-4, 3.8e-5, 2.1e-6 (orders 4.4, 4.2)."""
    grid = solvers.Grid(8)
    errors = []
    with jax.enable_x64(True):
        for steps in (10, 20, 40):
            stepper = solvers.SpectralReactionDiffusion1D(grid, 1 / steps, 0.5, 5.0)
            u = np.asarray(_advance(stepper, jnp.full((1, 8), 0.1), jnp.asarray(steps)))
            np.testing.assert_allclose(u, u[0, 0], rtol=1e-13)
            errors.append(abs(u[0, 0] - _logistic(0.1, 5.0, 1.0)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 3.8).all(), (errors, orders)


def _reaction_diffusion(n, steps, t_end=0.5, nu=0.01, rho=4.0):
    grid = solvers.Grid(n, points="nodes")
    x = grid.axes[0]
    stepper = solvers.SpectralReactionDiffusion1D(grid, t_end / steps, nu, rho)
    u0 = jnp.asarray(0.5 + 0.4 * np.sin(2 * np.pi * x) * np.cos(4 * np.pi * x))
    return np.asarray(_advance(stepper, u0[None], jnp.asarray(steps)))[0]


def test_reaction_diffusion_converges_spectrally_and_to_fourth_order():
    """nu = 0.01, rho = 4 from a smooth field to t = 1/2, on nodes. Space (400
    steps; 16, 32, 64 nodes against 128): 3.1e-4, 3.2e-8, 1.2e-15, the error ratios
    growing (1e4, then 3e7: faster than any power). Time (64 nodes; 10, 20, 40 steps
    against 640): 1.7e-5, 9.5e-7, 5.6e-8, orders 4.15, 4.08."""
    with jax.enable_x64(True):
        fine = _reaction_diffusion(128, 400)
        space = [
            np.abs(_reaction_diffusion(n, 400) - fine[:: 128 // n]).max()
            for n in (16, 32, 64)
        ]
        reference = _reaction_diffusion(64, 640)
        time = [
            np.abs(_reaction_diffusion(64, s) - reference).max() for s in (10, 20, 40)
        ]
    ratios = np.array(space[:-1]) / np.array(space[1:])
    assert ratios[1] > 100 * ratios[0] > 1e5 and space[-1] < 1e-13, space
    orders = np.log2(np.array(time[:-1]) / np.array(time[1:]))
    assert (orders > 3.8).all(), (time, orders)


# --- Burgers on cell centres ----------------------------------------------------------


def test_burgers_on_cells_matches_cole_hopf_and_its_finer_frames():
    """u0 = sin(2 pi x)/2, nu = 0.01, on 128 cell centres to t = 1/2 (250 steps):
    relative max error 3.5e-9 against Cole-Hopf at the cells, and at the 512 cells of
    the frames interpolated onto them (`output_points`)."""
    grid = solvers.Grid(128)
    x = grid.axes[0]
    fine = solvers.Grid(512).axes[0]
    with jax.enable_x64(True):
        stepper = solvers.SpectralBurgers1D(grid, 0.5 / 250, 0.01)
        u0 = jnp.asarray(0.5 * np.sin(2 * np.pi * x))[None]
        frames = np.asarray(stepper.trajectory(u0, 3, 125, output_points=512))
        coarse = np.asarray(stepper.trajectory(u0, 3, 125))
    exact = cole_hopf(0.5, x, 0.5)
    assert np.abs(coarse[-1, 0] - exact).max() < 1e-8 * np.abs(exact).max()
    exact_fine = cole_hopf(0.5, fine, 0.5)
    assert np.abs(frames[-1, 0] - exact_fine).max() < 1e-8 * np.abs(exact_fine).max()
    np.testing.assert_allclose(frames[0, 0], 0.5 * np.sin(2 * np.pi * fine), atol=1e-14)


# --- jit, vmap, grad ------------------------------------------------------------------


def test_vmap_and_grad_over_the_parameters():
    """Steppers vmapped over beta and over (nu, rho) equal the single solves; the
    gradients with respect to beta and rho match central differences."""
    grid = solvers.Grid(16)
    x = grid.axes[0]
    weights = jnp.linspace(1.0, 2.0, 16)

    def advection_loss(beta, u0):
        frames = solvers.SpectralAdvection1D(grid, 0.1, beta).trajectory(u0, 3)
        return jnp.sum(weights * frames[-1, 0] ** 2)

    def reaction_loss(rho, u0):
        stepper = solvers.SpectralReactionDiffusion1D(grid, 0.05, 0.02, rho)
        return jnp.sum(weights * stepper.trajectory(u0, 3, 2)[-1, 0] ** 2)

    with jax.enable_x64(True):
        u0 = jnp.asarray(
            0.5 + 0.3 * np.sin(2 * np.pi * x) + 0.1 * np.cos(6 * np.pi * x)
        )
        u0 = u0[None]
        for eager, p in ((advection_loss, 0.7), (reaction_loss, 3.0)):
            loss = jax.jit(eager)
            batch = jnp.array([p, p + 0.5])
            values = jax.jit(jax.vmap(eager, (0, None)))(batch, u0)
            singles = [loss(b, u0) for b in batch]
            np.testing.assert_allclose(values, singles, rtol=1e-13)
            grad = jax.jit(jax.grad(eager))(jnp.asarray(p), u0)
            h = 1e-6
            fd = (loss(p + h, u0) - loss(p - h, u0)) / (2 * h)
            np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="even number >= 4"):
        solvers.SpectralAdvection1D(solvers.Grid(15), 0.1, 1.0)
    with pytest.raises(ValueError, match="1-D periodic Grid"):
        solvers.SpectralReactionDiffusion1D(solvers.Grid((8, 8)), 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="nu must be >= 0"):
        solvers.SpectralReactionDiffusion1D(solvers.Grid(8), 0.1, -1.0, 1.0)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solvers.SpectralAdvection1D(solvers.Grid(8), 0.0, 1.0)
    assert solvers.SpectralAdvection1D.max_dt(solvers.Grid(8), 3.0) == math.inf
    assert solvers.SpectralReactionDiffusion1D.max_dt(5.0, cfl=2.0) == 0.2
    assert solvers.SpectralReactionDiffusion1D.max_dt(0.0) == math.inf
