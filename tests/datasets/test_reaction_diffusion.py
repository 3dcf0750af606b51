"""The reaction-diffusion generator: naming, layout, the heat and logistic limits,
the order of the coupled splitting, bounds, steps and parameter checks."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets import _fv1d
from sciml.datasets._reaction_diffusion import (
    reaction_diffusion_fv,
    reaction_diffusion_time_step,
)


def loglog_slope(ns, errors):
    return -np.polyfit(np.log(ns), np.log(errors), 1)[0]


def solve(u0, nu, rho, t_end):
    """Integrate to `t_end` on the grid of `u0` with the generator's step rule."""
    n = u0.shape[-1]
    m = _fv1d.substeps(t_end, reaction_diffusion_time_step(nu, 1 / n), "test")
    run = jax.jit(reaction_diffusion_fv, static_argnums=(5, 6))
    return np.asarray(run(jnp.asarray(u0), nu, rho, 1 / n, t_end / m, 2, m)[-1])


@pytest.mark.parametrize(
    "nu, rho, name",
    [
        (0.5, 1, "Nu0.5_Rho1.0"),
        (2, 10.0, "Nu2.0_Rho10.0"),
        (0.001, 5, "Nu0.001_Rho5.0"),
    ],
)
def test_file_name(nu, rho, name):
    assert datasets.reaction_diffusion_filename(nu, rho) == f"ReacDiff_{name}.hdf5"


def test_layout_attrs_and_normalised_initial_conditions(tmp_path):
    _fv1d.sample_and_solve.clear_cache()
    settings = dict(n_samples=5, nx=64, nt=3, t_end=0.02)
    a = datasets.generate(
        "reaction_diffusion", nu=0.5, rho=1, out=tmp_path, chunk_size=2, **settings
    )
    # 5 samples in chunks of 2: one trace
    assert _fv1d.sample_and_solve._cache_size() == 1
    b = datasets.generate(
        "reaction_diffusion", nu=0.1, rho=10, out=tmp_path, **settings
    )
    assert a.name == "ReacDiff_Nu0.5_Rho1.0.hdf5"
    with h5py.File(a) as file:
        assert file.attrs["Nu"] == 0.5 and file.attrs["rho"] == 1.0
    with datasets.load(a) as da, datasets.load(b) as db:
        assert da.u.shape == (5, 3, 64, 1) and da.u.dtype == np.float32
        assert da.provenance["generator"] == "reaction_diffusion"
        np.testing.assert_allclose(da.t, [0.0, 0.01, 0.02], rtol=1e-6)
        u0 = da.u[:, 0, :, 0]
        np.testing.assert_array_equal(u0, db.u[:, 0, :, 0])  # IC independent of nu, rho
        np.testing.assert_allclose(u0.min(axis=-1), 0, atol=1e-7)  # per sample
        np.testing.assert_allclose(u0.max(axis=-1), 1, atol=1e-7)
        raw = np.asarray(
            datasets.sample_initial_conditions(jax.random.key(0), da.x, 5), np.float64
        )
        low, high = raw.min(-1, keepdims=True), raw.max(-1, keepdims=True)
        np.testing.assert_allclose(u0, (raw - low) / (high - low), atol=1e-6)
        u = da.u[...]
        assert u.min() >= 0 and u.max() <= 1  # the scheme keeps u in [0, 1]


def test_heat_limit_decays_a_fourier_mode_at_second_order():
    """rho = 0: u = 1/2 + 1/4 e^{-4 pi^2 nu t} sin(2 pi x) exactly. Measured max
    errors 2.1e-4, 5.3e-5, 1.3e-5, 3.3e-6 for n = 32 .. 256: order 2.00."""
    nu, t_end = 0.01, 1.0
    ns, errors = [32, 64, 128, 256], []
    with jax.enable_x64(True):
        for n in ns:
            x = (np.arange(n) + 0.5) / n
            u = solve(0.5 + 0.25 * np.sin(2 * np.pi * x), nu, 0.0, t_end)
            decay = np.exp(-4 * np.pi**2 * nu * t_end)
            errors.append(np.abs(u - 0.5 - 0.25 * decay * np.sin(2 * np.pi * x)).max())
    assert 1.9 < loglog_slope(ns, errors) < 2.1, errors
    assert errors[-1] < 5e-6


def test_logistic_limit_is_exact(tmp_path):
    """nu = 0: every cell follows u(t) = u0 e^{rho t} / (1 - u0 + u0 e^{rho t});
    the logistic step is the exact flow, so only round-off remains."""
    path = datasets.generate(
        "reaction_diffusion", nu=0, rho=5, n_samples=4, nx=32, nt=21, out=tmp_path
    )
    with datasets.load(path) as ds:
        u, t = ds.u[...][..., 0].astype(np.float64), ds.t.astype(np.float64)
        assert ds.provenance["params"]["dt"] == pytest.approx(0.05)  # one step a frame
    grow = np.exp(5 * t)[None, :, None]
    u0 = u[:, :1]
    np.testing.assert_allclose(u, u0 * grow / (1 - u0 + u0 * grow), atol=2e-6)
    with jax.enable_x64(True):
        u0 = np.linspace(0, 1, 16)
        exact = u0 * np.exp(5.0) / (1 - u0 + u0 * np.exp(5.0))
        np.testing.assert_allclose(solve(u0, 0.0, 5.0, 1.0), exact, atol=1e-14)


def test_coupled_splitting_converges_at_second_order():
    """nu, rho > 0 has no closed form: measure the order from the differences of
    successive grids (fine cells averaged in pairs onto the coarse ones). Lie
    splitting is first order in dt, but dt ~ dx^2. Measured: L1 differences 1.5e-3,
    3.7e-4, 9.2e-5 (n = 32/64 .. 128/256): order 2.00."""
    nu, rho, t_end = 0.01, 5.0, 0.5
    ns, solutions = [32, 64, 128, 256], []
    with jax.enable_x64(True):
        for n in ns:
            x = (np.arange(n) + 0.5) / n
            u0 = 0.2 + 0.15 * np.sin(2 * np.pi * x) + 0.1 * np.cos(4 * np.pi * x)
            solutions.append(solve(u0, nu, rho, t_end))
    differences = [
        np.abs(coarse - 0.5 * (fine[0::2] + fine[1::2])).mean()
        for coarse, fine in zip(solutions[:-1], solutions[1:], strict=True)
    ]
    assert 1.9 < loglog_slope(ns[:-1], differences) < 2.1, differences
    assert all(0 < s.min() and s.max() < 1 for s in solutions)


def test_time_step(tmp_path):
    """dt <= 0.25 dx^2/(2 nu), the fewest equal substeps per save interval."""
    path = datasets.generate(
        "reaction_diffusion",
        nu=2,
        rho=10,
        n_samples=2,
        nx=32,
        nt=3,
        t_end=0.02,
        out=tmp_path,
    )
    with datasets.load(path) as ds:
        dt, u = ds.provenance["params"]["dt"], ds.u[...]
    limit = 0.25 * (1 / 32) ** 2 / (2 * 2)
    assert dt <= limit * (1 + 1e-12) and 0.01 / (round(0.01 / dt) - 1) > limit
    assert np.isfinite(u).all() and u.min() >= 0 and u.max() <= 1


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": -0.5, "rho": 1.0}, r"nu must be >= 0.0, got -0.5"),
        ({"nu": 0.5, "rho": -1.0}, r"rho must be >= 0.0, got -1.0"),
        ({"nu": float("nan"), "rho": 1.0}, "nu must be finite"),
        ({"nu": 0.5, "rho": float("inf")}, "rho must be finite"),
        ({"nu": 0.5, "rho": 1.0, "nx": 3}, "nx must be >= 5, got 3"),
        ({"nu": 0.5, "rho": 1.0, "n_samples": 0}, "n_samples must be >= 1"),
        ({"nu": 0.5, "rho": 1.0, "seed": -3}, "seed must be >= 0"),
        ({"nu": 0.5, "rho": 1.0, "dtype": "bfloat16"}, "dtype must be"),
        ({"nu": 1e9, "rho": 1.0}, "steps per save interval"),
        ({"nu": 0.5}, r"needs \['rho'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("reaction_diffusion", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
