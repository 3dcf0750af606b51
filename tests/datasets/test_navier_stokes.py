"""2-D Navier-Stokes generator: Taylor-Green decay, conservation, temporal order."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets._grf import periodic_grf_2d, periodic_kernel_spectrum
from sciml.datasets._navier_stokes import solve_vorticity

_solve = jax.jit(solve_vorticity, static_argnames=("n_frames", "dt_max", "cfl"))


def _grid(n):
    x = np.arange(n) / n
    return np.meshgrid(x, x, indexing="ij")


def test_taylor_green_decay_rate_and_second_order():
    # w = sin(kx) sin(ky) + c is a steady Euler flow (u.grad w = 0) and decays like
    # exp(-2 nu k^2 t); the constant c (mean vorticity) must stay.
    n, k, nu, t_end = 32, 4 * np.pi, 1e-2, 2.0
    x, y = _grid(n)
    w0 = np.sin(k * x) * np.sin(k * y) + 0.3
    exact = np.exp(-2 * nu * k**2 * t_end) * np.sin(k * x) * np.sin(k * y) + 0.3
    errors = []
    with jax.enable_x64(True):
        for steps in (8, 16, 32):
            frames, substeps = _solve(
                jnp.asarray(w0),
                jnp.asarray(nu),
                jnp.asarray(t_end),
                n_frames=2,
                dt_max=t_end / steps,
                cfl=0.5,
            )
            assert int(substeps[0]) == steps
            errors.append(np.abs(np.asarray(frames[-1]) - exact).max())
            assert abs(float(frames[-1].mean()) - 0.3) < 1e-14
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured: errors 5.5e-4, 1.5e-4, 3.7e-5; orders 1.92, 1.98 (Crank-Nicolson)
    assert (orders > 1.85).all(), (errors, orders)
    assert errors[-1] < 5e-5


def test_nonlinear_temporal_order_and_mean_conservation():
    n, nu = 32, 1e-3
    spectrum = jnp.asarray(periodic_kernel_spectrum(0.8))
    solutions = []
    with jax.enable_x64(True):
        w0 = 0.3 * periodic_grf_2d(jax.random.key(1), spectrum.astype(float), n) + 0.1
        for steps in (16, 32, 64):
            frames, substeps = _solve(
                w0,
                jnp.asarray(nu),
                jnp.asarray(1.0),
                n_frames=2,
                dt_max=1 / steps,
                cfl=0.5,
            )
            assert int(substeps[0]) == steps  # the CFL limit does not bind here
            solutions.append(np.asarray(frames[-1]))
            # mean vorticity conserved to round-off
            assert abs(float(frames[-1].mean()) - float(w0.mean())) < 1e-13
    d1 = np.abs(solutions[0] - solutions[1]).max()
    d2 = np.abs(solutions[1] - solutions[2]).max()
    # measured: d1 = 7.7e-5, d2 = 1.9e-5, order 1.995 (Heun + Crank-Nicolson)
    assert np.log2(d1 / d2) > 1.8, (d1, d2)


def test_initial_field_is_resolution_independent_and_normalised():
    spectrum = jnp.asarray(periodic_kernel_spectrum(0.8))
    with jax.enable_x64(True):
        spectrum = spectrum.astype(float)
        coarse = np.asarray(periodic_grf_2d(jax.random.key(7), spectrum, 32))
        fine = np.asarray(periodic_grf_2d(jax.random.key(7), spectrum, 64))
    np.testing.assert_allclose(fine[::2, ::2], coarse, atol=1e-12)
    assert abs(coarse.mean()) < 1e-12 and abs(coarse.std() - 1) < 1e-12
    assert abs(fine.std() - 1) < 1e-12


def test_spectrum_matches_bessel_series():
    # exp(-(1 - cos 2 pi s)/l^2) = e^{-1/l^2} sum_k I_k(1/l^2) e^{2 pi i k s}
    from scipy.special import ive

    spectrum = periodic_kernel_spectrum(0.8)
    np.testing.assert_allclose(spectrum[:6], ive(np.arange(6), 1 / 0.64), rtol=1e-10)


def test_file_layout_and_load(tmp_path):
    path = datasets.generate_navier_stokes_2d(
        out=tmp_path,
        n_samples=3,
        resolution=32,
        save_resolution=16,
        nt=5,
        t_end=0.5,
        chunk_size=2,
    )
    assert path.name == "2D_NS_Vort_Nu0.0001.hdf5"
    with h5py.File(path) as file:
        assert file["tensor"].shape == (3, 5, 16, 16)
        assert file.attrs["nu"] == 1e-4
    with datasets.load(path) as ds:
        assert ds.u.shape == (3, 5, 16, 16, 1)
        assert ds.params["nu"] == pytest.approx(1e-4)
        np.testing.assert_allclose(ds.t, np.arange(5) / 8)
        np.testing.assert_allclose(ds.x, np.arange(16) / 16)
        w = ds.u[...]
    assert np.abs(w.mean(axis=(2, 3, 4))).max() < 1e-6  # mean stays 0
    assert np.abs(w[:, 0].std(axis=(1, 2, 3)) - 1).max() < 0.05  # strided grid
    assert not np.allclose(w[0, 0], w[1, 0])


def test_bad_input(tmp_path, no_typecheck):
    with pytest.raises(ValueError, match="cfl must be in"):
        datasets.generate_navier_stokes_2d(out=tmp_path, cfl=0.9, n_samples=1)
    with pytest.raises(ValueError, match="save_resolution must divide"):
        datasets.generate_navier_stokes_2d(
            out=tmp_path, resolution=32, save_resolution=12, n_samples=1
        )
    with pytest.raises(ValueError, match="nu must be > 0"):
        datasets.generate_navier_stokes_2d(out=tmp_path, nu=0.0, n_samples=1)
    with pytest.raises(ValueError, match="resolution must be even"):
        datasets.generate_navier_stokes_2d(out=tmp_path, resolution=33, n_samples=1)
