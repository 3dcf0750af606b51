"""Diffusion-sorption generator: the linear limit against the exact series, boundary
conditions, the group-per-sample layout and its lazy loading, bad input."""

import json

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from sciml import datasets
from sciml.datasets._diffusion_sorption import retardation, solve_diffusion_sorption

D = 5e-4


def _series(x, t, u0, terms=600):
    """Exact solution of u_t = D u_xx, u(0) = 1, u(1) = -D u_x(1), u(x, 0) = u0.

    u = u_s + sum_n c_n sin(mu_n x) exp(-D mu_n^2 t), u_s = 1 - x/(1 + D), with
    tan(mu) = -D mu (mu_n in ((n - 1/2) pi, n pi)).
    """
    mu = np.array(
        [
            brentq(
                lambda m: np.sin(m) + D * m * np.cos(m),
                (n - 0.5) * np.pi + 1e-12,
                n * np.pi + 1e-9,
            )
            for n in range(1, terms + 1)
        ]
    )
    s = 1 / (1 + D)
    int_sin = (1 - np.cos(mu)) / mu
    int_x_sin = (np.sin(mu) - mu * np.cos(mu)) / mu**2
    norm = 0.5 - np.sin(2 * mu) / (4 * mu)
    c = ((u0 - 1) * int_sin + s * int_x_sin) / norm
    modes = np.sin(mu[:, None] * x[None, :]) * np.exp(-D * mu[:, None] ** 2 * t)
    return 1 - s * x + c @ modes


def _linear_errors(sizes, boundary, rtol):
    # k_f = 0 gives R = 1: plain diffusion with the Dirichlet and Robin ends.
    u0, times = 0.1, np.array([0.0, 50.0, 500.0])
    errors = []
    solve = jax.jit(
        solve_diffusion_sorption, static_argnames=("boundary", "rtol", "atol")
    )
    with jax.enable_x64(True):
        for nx in sizes:
            x = (np.arange(nx) + 0.5) / nx
            u, ok = solve(
                jnp.full(nx, u0),
                jnp.asarray(times),
                k_f=0.0,
                boundary=boundary,
                rtol=rtol,
                atol=rtol * 1e-2,
            )
            assert bool(ok)
            errors.append(
                max(
                    np.abs(np.asarray(u[k]) - _series(x, times[k], u0)).max()
                    for k in (1, 2)
                )
            )
    return np.array(errors)


def test_linear_limit_matches_exact_series_at_second_order():
    sizes = [16, 32, 64]
    errors = _linear_errors(sizes, "face", 1e-8)
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    # measured: errors 4.65e-3, 1.15e-3, 2.86e-4; order 2.01 (boundaries included)
    assert slope > 1.9, (errors, slope)
    assert errors[-1] < 4e-4


@pytest.mark.slow
def test_linear_limit_fine_grids_and_pdebench_boundary():
    sizes = [32, 64, 128, 256]
    errors = _linear_errors(sizes, "face", 1e-10)
    orders = np.log2(errors[:-1] / errors[1:])
    assert (orders > 1.95).all(), (errors, orders)  # measured 2.006, 2.002, 2.000
    errors = _linear_errors(sizes, "pdebench", 1e-10)
    orders = np.log2(errors[:-1] / errors[1:])
    assert (np.abs(orders - 1) < 0.05).all(), (errors, orders)  # measured 0.996-1.000


def test_retardation_clamps_small_values():
    u = jnp.array([0.0, 1e-9, 1e-6, 1.0])
    r = np.asarray(retardation(u, 0.29, 2880.0, 3.5e-4, 0.874))
    assert r[0] == r[1] == r[2]  # clamped at 1e-6
    np.testing.assert_allclose(r[3], 1 + 0.71 / 0.29 * 2880 * 3.5e-4 * 0.874)


@pytest.fixture(scope="module")
def sorption_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("sorp")
    return datasets.generate(
        "diffusion_sorption", out=out, n_samples=3, seed=5, nx=32, nt=11, chunk_size=2
    )


def test_group_layout(sorption_file):
    assert sorption_file.name == "1D_diff-sorp_NA_NA.h5"
    with h5py.File(sorption_file) as file:
        assert sorted(file.keys()) == ["0000", "0001", "0002"]
        assert file["0001/data"].shape == (11, 32, 1)
        assert file["0001/data"].dtype == np.float32
        np.testing.assert_allclose(file["0002/grid/x"][()], (np.arange(32) + 0.5) / 32)
        np.testing.assert_allclose(file["0000/grid/t"][()], np.arange(11) * 50.0)
        config = json.loads(file.attrs["config"])
        assert config["d"] == D and config["nx"] == 32
        data = np.stack([file[f"{i:04d}/data"][()] for i in range(3)])
    initial = data[:, 0, :, 0]
    assert np.ptp(initial, axis=1).max() == 0  # constant initial value
    assert ((initial >= 0) & (initial <= 0.2)).all()
    last = data[:, -1, :, 0]
    assert (np.diff(last, axis=1) < 0).all()  # monotone front from the inflow
    assert (data >= 0).all() and (data <= 1).all()  # maximum principle
    # u(0) = 1 on the inflow face and u(1) = -D u_x(1) on the outflow face, to
    # second order: linear extrapolation from the two boundary cells
    left = 1.5 * last[:, 0] - 0.5 * last[:, 1]
    np.testing.assert_allclose(left, 1.0, atol=2e-3)
    right = 1.5 * last[:, -1] - 0.5 * last[:, -2]
    slope = (last[:, -1] - last[:, -2]) * 32
    np.testing.assert_allclose(right, -D * slope, atol=2e-3)


def test_load_reads_groups_lazily(sorption_file):
    with h5py.File(sorption_file) as file:
        data = np.stack([file[f"{i:04d}/data"][()] for i in range(3)])
    with datasets.load(sorption_file) as ds:
        assert ds.u.shape == (3, 11, 32, 1) and ds.n_samples == 3
        np.testing.assert_allclose(ds.t, np.arange(11) * 50.0)
        np.testing.assert_allclose(ds.x, (np.arange(32) + 0.5) / 32)
        np.testing.assert_array_equal(ds.u[1], data[1])
        np.testing.assert_array_equal(
            ds.u[[2, 0, 2], -1, ::3], data[[2, 0, 2], -1, ::3]
        )
        np.testing.assert_array_equal(ds.u[::-2, 2:5, 4], data[::-2, 2:5, 4])
        np.testing.assert_array_equal(np.asarray(ds.u), data)
        assert (
            "config" in ds.params and ds.provenance["generator"] == "diffusion_sorption"
        )


def test_bad_input(tmp_path, no_typecheck):
    with pytest.raises(ValueError, match="phi .* must be in"):
        datasets.generate_diffusion_sorption(out=tmp_path, phi=1.5, n_samples=1)
    with pytest.raises(ValueError, match="boundary must be"):
        datasets.generate_diffusion_sorption(out=tmp_path, boundary="x", n_samples=1)
    with pytest.raises(ValueError, match="nx must be >= 3"):
        datasets.generate_diffusion_sorption(out=tmp_path, nx=2, n_samples=1)
    with pytest.raises(ValueError, match="d must be a real number"):
        datasets.generate_diffusion_sorption(out=tmp_path, d="0.1", n_samples=1)
