"""Fisher source-term generator: manufactured solution, orders in space and time,
the MT-DeepONet coefficient encoding, the file layout and `load`, bad input."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets._fisher_sources import (
    A_VALUES,
    BETA_VALUES,
    coefficients,
    reaction,
    solve_fisher,
    substeps,
)

D, A, BETA = 0.01, 0.7, 1.3


def _exact(x, t):
    """u = 1/2 + cos(pi x) e^{-t}/4: zero flux at x = 0 and 1."""
    return 0.5 + 0.25 * jnp.cos(jnp.pi * x) * jnp.exp(-t)


def _rate(x):
    """F3 reaction plus the forcing that makes `_exact` the solution."""

    def rate(t, u):
        exact = _exact(x, t)
        u_t = -0.25 * jnp.cos(jnp.pi * x) * jnp.exp(-t)
        u_xx = -(jnp.pi**2) * 0.25 * jnp.cos(jnp.pi * x) * jnp.exp(-t)
        forcing = u_t - D * u_xx - reaction(exact, "F3", A, BETA)
        return reaction(u, "F3", A, BETA) + forcing

    return rate


_solve = jax.jit(solve_fisher, static_argnames=("n_frames", "n_sub", "rate"))


def _run(nx, n_sub):
    x = jnp.asarray((np.arange(nx) + 0.5) / nx)
    u = solve_fisher(_exact(x, 0.0), D, 0.5, 3, n_sub, _rate(x))
    return np.asarray(u[-1]), np.asarray(_exact(x, 1.0))


def test_manufactured_solution_second_order_in_space():
    sizes = [16, 32, 64]
    errors = []
    with jax.enable_x64(True):
        for nx in sizes:
            u, exact = _run(nx, substeps(0.5, D, 1 / nx, 1.0, 2.0))
            errors.append(np.abs(u - exact).max())
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    # measured: errors 5.2e-5, 1.3e-5, 3.3e-6; order 1.996
    assert slope > 1.95, (errors, slope)


def test_rk4_fourth_order_in_time():
    with jax.enable_x64(True):
        solutions = [_run(16, n_sub)[0] for n_sub in (2, 4, 8)]
    d1 = np.abs(solutions[0] - solutions[1]).max()
    d2 = np.abs(solutions[1] - solutions[2]).max()
    # measured: d1 = 4.6e-7, d2 = 2.6e-8; order 4.15
    assert np.log2(d1 / d2) > 3.8, (d1, d2)


def test_coefficients_encode_the_reactions():
    with jax.enable_x64(True):
        u = jnp.linspace(0.0, 1.0, 11)
        powers = jnp.stack([u, u**2, u**3, u**4], axis=-1)
        for family in ("F1", "F2"):
            c = coefficients(family, 0.4, 0.0)
            np.testing.assert_allclose(powers @ c, reaction(u, family, 0.4, 0.0))
        # F3: u(1-u) e^{beta(u-1)} with e^{beta u} Taylor-truncated at 2nd order
        c = coefficients("F3", 0.4, 1.5)
        taylor = 0.4 * u * (1 - u) * (1 + 1.5 * u + 1.125 * u**2) * np.exp(-1.5)
        np.testing.assert_allclose(powers @ c, taylor, rtol=1e-12, atol=1e-15)


def test_file_layout_and_load(tmp_path):
    path = datasets.generate(
        "fisher_sources",
        out=tmp_path,
        family="F3",
        n_samples=5,
        seed=2,
        nx=32,
        save_nx=8,
        nt=5,
        chunk_size=2,
    )
    assert path.name == "1D_Fisher_Sources_Form3.hdf5"
    with h5py.File(path) as file:
        assert file["tensor"].shape == (5, 5, 8)
        assert file["params"].shape == (5, 2)
        assert file["coefficients"].shape == (5, 4)
    with datasets.load(path) as ds:
        assert ds.u.shape == (5, 5, 8, 1)
        assert ds.params["form"] == 3 and ds.params["d"] == 0.01
        np.testing.assert_allclose(ds.t, np.arange(5) / 4)
        np.testing.assert_allclose(ds.x, (np.arange(8) + 0.5) / 8)
        params = ds.fields["params"][...]
        c = ds.fields["coefficients"][...]
        u = ds.u[...]
    assert np.isin(params[:, 0], A_VALUES.astype(np.float32)).all()
    assert np.isin(params[:, 1], BETA_VALUES.astype(np.float32)).all()
    for (a, beta), row in zip(params, c, strict=True):
        np.testing.assert_allclose(
            row, coefficients("F3", float(a), float(beta)), rtol=1e-5
        )
    assert (u > 0).all() and (u < 1).all()  # sigmoid initial data, invariant [0, 1]


def test_bad_input(tmp_path, no_typecheck):
    with pytest.raises(ValueError, match="family must be one of"):
        datasets.generate_fisher_sources(out=tmp_path, family="F4")
    with pytest.raises(ValueError, match="save_nx must divide"):
        datasets.generate_fisher_sources(out=tmp_path, nx=30, save_nx=8)
    with pytest.raises(ValueError, match="d must be a finite number > 0"):
        datasets.generate_fisher_sources(out=tmp_path, d=-1.0)
