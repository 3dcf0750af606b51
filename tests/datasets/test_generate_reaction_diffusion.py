"""The reaction-diffusion generator `generate_reaction_diffusion`
(`generate("reaction_diffusion")`): names, layout, attributes, normalised initial
conditions shared across (nu, rho), chunk invariance, the logistic limit, the step
it records and bad arguments. The numerics of the scheme are tested in
tests/solvers/test_reaction_diffusion.py."""

import equinox as eqx
import h5py
import jax
import numpy as np
import pytest

from sciml import datasets, solvers
from sciml.datasets import _pipeline

sample = eqx.filter_jit(solvers.PDEBenchSines().batch)  # the public sampler


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


def test_integer_parameters_are_accepted(tmp_path):
    """nu and rho are real numbers, ints included (checked as such, so a bad nt is
    the error here, not the type of nu or rho)."""
    with pytest.raises(ValueError, match="nt must be >= 2"):
        datasets.generate_reaction_diffusion(nu=0, rho=5, nt=1, out=tmp_path)


def _check_step(dt, nu, cfl, interval, dx):
    """The fewest equal substeps per save interval within c dx^2/(2 nu)."""
    limit = cfl * dx**2 / (2 * nu)
    m = round(interval / dt)
    assert interval / dt == pytest.approx(m, abs=1e-9)
    assert dt <= limit * (1 + 1e-12) and interval / (m - 1) > limit


def test_layout_attrs_and_normalised_initial_conditions(tmp_path):
    """Two files with the same step count (164 a frame: nu/cfl is the same; nu and
    rho are leaves of the recipe): one compilation for both chunked files; the
    second at cfl = 0.9 and rho = 10."""
    _pipeline._solve_chunk._cached.clear_cache()
    settings = dict(n_samples=5, nx=64, nt=3, t_end=0.02, chunk_size=2)
    a = datasets.generate(
        "reaction_diffusion", nu=0.5, rho=1.0, out=tmp_path, **settings
    )
    b = datasets.generate(
        "reaction_diffusion", nu=1.8, rho=10.0, cfl=0.9, out=tmp_path, **settings
    )
    # 5 samples in chunks of 2, two parameter pairs: one trace
    assert _pipeline._solve_chunk._cached._cache_size() == 1
    assert a.name == "ReacDiff_Nu0.5_Rho1.0.hdf5"
    with h5py.File(a) as file:
        assert file.attrs["Nu"] == 0.5 and file.attrs["rho"] == 1.0
    with datasets.load(a) as da, datasets.load(b) as db:
        assert da.u.shape == (5, 3, 64, 1) and da.u.dtype == np.float32
        assert da.params == {"nu": pytest.approx(0.5), "rho": pytest.approx(1.0)}
        assert da.provenance["generator"] == "reaction_diffusion"
        for ds, cfl in ((da, 0.25), (db, 0.9)):  # PDEBench: c = 0.25 (the default)
            stored = ds.provenance["params"]
            assert stored["cfl"] == cfl
            _check_step(stored["dt"], stored["nu"], cfl, 0.01, 1 / 64)
        np.testing.assert_allclose(da.x, (np.arange(64) + 0.5) / 64, rtol=1e-7)
        np.testing.assert_allclose(da.t, [0.0, 0.01, 0.02], rtol=1e-6)
        u0 = da.u[:, 0, :, 0]
        np.testing.assert_array_equal(u0, db.u[:, 0, :, 0])  # IC independent of nu, rho
        np.testing.assert_allclose(u0.min(axis=-1), 0, atol=1e-7)  # per sample
        np.testing.assert_allclose(u0.max(axis=-1), 1, atol=1e-7)
        raw = np.asarray(
            sample(solvers.Grid(64), 5, key=jax.random.key(0))[:, 0], np.float64
        )
        low, high = raw.min(-1, keepdims=True), raw.max(-1, keepdims=True)
        np.testing.assert_allclose(u0, (raw - low) / (high - low), atol=1e-6)
        for u in (da.u[...], db.u[...]):  # the scheme keeps u in [0, 1]
            assert np.isfinite(u).all() and u.min() >= 0 and u.max() <= 1
        assert not np.allclose(da.u[:, -1], db.u[:, -1])
    whole = datasets.generate(
        "reaction_diffusion",
        nu=0.5,
        rho=1.0,
        out=tmp_path / "whole",
        **(settings | {"chunk_size": None}),
    )
    with datasets.load(whole) as c, datasets.load(a) as da:
        np.testing.assert_array_equal(c.u[...], da.u[...])  # chunking changes nothing


def test_logistic_limit_is_exact(tmp_path):
    """nu = 0: every cell follows u(t) = u0 e^{rho t} / (1 - u0 + u0 e^{rho t});
    the logistic step is the exact flow, so only round-off remains (float32), in
    one step a frame (nothing limits the step)."""
    path = datasets.generate(
        "reaction_diffusion", nu=0.0, rho=5.0, n_samples=4, nx=32, nt=21, out=tmp_path
    )
    with datasets.load(path) as ds:
        u, t = ds.u[...][..., 0].astype(np.float64), ds.t.astype(np.float64)
        assert ds.provenance["params"]["dt"] == pytest.approx(0.05)  # one step a frame
    grow = np.exp(5 * t)[None, :, None]
    u0 = u[:, :1]
    np.testing.assert_allclose(u, u0 * grow / (1 - u0 + u0 * grow), atol=2e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": -0.5, "rho": 1.0}, r"nu must be >= 0, got -0.5"),
        ({"nu": 0.5, "rho": -1.0}, r"rho must be >= 0, got -1.0"),
        ({"nu": float("nan"), "rho": 1.0}, "nu must be finite"),
        ({"nu": 0.5, "rho": float("inf")}, "rho must be finite"),
        ({"nu": 0.5, "rho": 1.0, "nx": 3}, "nx must be >= 5, got 3"),
        ({"nu": 0.5, "rho": 1.0, "n_samples": 0}, "n_samples must be >= 1"),
        ({"nu": 0.5, "rho": 1.0, "seed": -3}, "seed must be >= 0"),
        ({"nu": 0.5, "rho": 1.0, "dtype": "bfloat16"}, "dtype must be"),
        ({"nu": 0.5, "rho": 1.0, "cfl": 1.0}, r"cfl must be > 0 and < 1"),
        ({"nu": 1e9, "rho": 1.0}, "steps per save interval"),
        ({"nu": 0.5}, r"needs \['rho'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("reaction_diffusion", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "params", [{"nu": "0.5", "rho": 1.0}, {"nu": 0.5, "rho": None}]
)
def test_wrong_types(tmp_path, no_typecheck, params):
    with pytest.raises(TypeError, match="must be a real number"):
        datasets.generate("reaction_diffusion", out=tmp_path, **params)
