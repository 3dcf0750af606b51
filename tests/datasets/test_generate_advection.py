"""The advection generator `generate_advection` (`generate("advection")`): names,
layout, attributes, initial conditions shared across speeds, the exact and the
finite-volume files, chunk invariance and bad arguments. The numerics of the
scheme are tested in tests/solvers/test_advection.py."""

import equinox as eqx
import jax
import numpy as np
import pytest

from sciml import datasets, solvers
from sciml.datasets import _pipeline

NX, NT, N = 100, 21, 5  # t_k = 0.1 k, so beta t_k nx = 10 beta k cells
FAMILY = solvers.PDEBenchSines()
sample = eqx.filter_jit(FAMILY.batch)  # the public sampler


def sampler(nx, n, seed=0):
    """The first `n` samples of the public sampler in float32, `(n, nx)`."""
    return np.asarray(sample(solvers.Grid(nx), n, key=jax.random.key(seed))[:, 0])


@pytest.fixture(scope="module")
def exact_files(tmp_path_factory):
    """Exact files for three speeds, 5 samples in chunks of 2, and the compilations
    of the pipeline's chunk function they took."""
    out = tmp_path_factory.mktemp("advection_exact")
    _pipeline._solve_chunk._cached.clear_cache()
    paths = {
        beta: datasets.generate(
            "advection",
            beta=beta,
            n_samples=N,
            nx=NX,
            nt=NT,
            seed=0,
            out=out,
            chunk_size=2,
            scheme="exact",
        )
        for beta in (0.4, -0.7, 0.37)
    }
    return paths, _pipeline._solve_chunk._cached._cache_size()


@pytest.fixture(scope="module")
def fv_files(tmp_path_factory):
    """The finite-volume file (the default scheme) for beta = 0.37, in chunks of 2
    and in one chunk, and the compilations the chunked one took."""
    out = tmp_path_factory.mktemp("advection_fv")
    settings = dict(beta=0.37, n_samples=N, nx=NX, nt=NT)
    _pipeline._solve_chunk._cached.clear_cache()
    chunked = datasets.generate_advection(out=out / "a", chunk_size=2, **settings)
    traces = _pipeline._solve_chunk._cached._cache_size()
    whole = datasets.generate_advection(out=out / "b", **settings)
    return chunked, whole, traces


@pytest.mark.parametrize(
    "beta, name",
    [
        (0.4, "beta0.4"),
        (1, "beta1.0"),
        (0.001, "beta0.001"),
        (0.1, "beta0.1"),
        (4.0, "beta4.0"),
        (0.123456, "beta0.123"),
    ],
)
def test_file_name(beta, name):
    assert datasets.advection_filename(beta) == f"1D_Advection_Sols_{name}.hdf5"
    exact = datasets.advection_filename(beta, "exact")
    assert exact == f"1D_Advection_Sols_{name}_exact.hdf5"  # never overwrites fv


def test_layout_and_provenance(exact_files):
    paths, traces = exact_files
    assert paths[0.4].name == "1D_Advection_Sols_beta0.4_exact.hdf5"
    # 5 samples in chunks of 2, three speeds: one trace (the last chunk is padded,
    # beta is a leaf of the recipe)
    assert traces == 1
    with datasets.load(paths[0.4]) as ds:
        assert ds.u.shape == (N, NT, NX, 1) and ds.u.dtype == np.float32
        np.testing.assert_allclose(ds.x, (np.arange(NX) + 0.5) / NX, rtol=1e-7)
        np.testing.assert_allclose(ds.t, 2 * np.arange(NT) / (NT - 1), rtol=1e-7)
        assert ds.params == {"beta": pytest.approx(0.4)}
        assert ds.provenance["generator"] == "advection"
        assert ds.provenance["seed"] == 0
        assert ds.provenance["params"] == {
            "beta": 0.4,
            "n_samples": N,
            "nx": NX,
            "nt": NT,
            "t_end": 2.0,
            "scheme": "exact",
            "dtype": "float64",  # evaluated in float64, stored as float32
        }
        ds.check_finite()


def test_initial_conditions_depend_on_seed_only(exact_files, tmp_path):
    paths, _ = exact_files
    with datasets.load(paths[0.4]) as a, datasets.load(paths[-0.7]) as b:
        first = a.u[:, 0, :, 0]
        np.testing.assert_array_equal(first, b.u[:, 0, :, 0])
        assert not np.array_equal(a.u[:, 5], b.u[:, 5])
        # the public sampler gives the same fields (it evaluates in float32 here)
        np.testing.assert_allclose(first, sampler(NX, N), atol=1e-5)
    other = datasets.generate(
        "advection",
        beta=0.4,
        n_samples=N,
        nx=NX,
        nt=NT,
        seed=1,
        out=tmp_path,
        chunk_size=2,
        scheme="exact",
    )
    with datasets.load(other) as c:
        assert not np.allclose(c.u[:, 0], first[..., None])
        np.testing.assert_allclose(c.u[:, 0, :, 0], sampler(NX, N, seed=1), atol=1e-5)


@pytest.mark.parametrize("beta", [0.4, -0.7])
def test_solution_is_the_shifted_initial_condition(exact_files, beta):
    paths, _ = exact_files
    with datasets.load(paths[beta]) as ds:
        u = ds.u[..., 0]
    for k in range(NT):
        shift = round(beta * ds.t[k] * NX)  # an integer number of cells
        np.testing.assert_allclose(u[:, k], np.roll(u[:, 0], shift, axis=-1), atol=1e-5)


def test_mass_is_conserved(exact_files):
    paths, _ = exact_files
    with datasets.load(paths[0.37]) as ds:  # shifts by fractions of a cell
        mass = ds.u[..., 0].mean(axis=-1)
    np.testing.assert_allclose(mass, mass[:, :1] * np.ones((1, NT)), atol=1e-5)


def test_output_does_not_depend_on_chunking(exact_files, tmp_path):
    paths, _ = exact_files
    whole = datasets.generate(
        "advection", beta=0.4, n_samples=N, nx=NX, nt=NT, out=tmp_path, scheme="exact"
    )
    with datasets.load(whole) as a, datasets.load(paths[0.4]) as b:
        np.testing.assert_array_equal(a.u[...], b.u[...])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"beta": float("nan")}, "beta must be finite"),
        ({"beta": float("inf")}, "beta must be finite"),
        ({"beta": 0.4, "nx": 4}, "nx must be >= 5, got 4; e.g. nx=5"),
        (
            {"beta": 0.4, "nx": 1, "scheme": "exact"},
            "nx must be >= 2, got 1; e.g. nx=2",
        ),
        ({"beta": 0.4, "nt": 1}, "nt must be >= 2"),
        ({"beta": 0.4, "n_samples": 0}, "n_samples must be >= 1"),
        ({"beta": 0.4, "seed": -1}, "seed must be >= 0"),
        ({"beta": 0.4, "chunk_size": 0}, "chunk_size must be"),
        ({"beta": 0.4, "t_end": 0.0}, "t_end must be"),
        ({"beta": 0.4, "cfl": 0.0}, "cfl must be > 0 and < 1, got 0.0"),
        ({"beta": 0.4, "cfl": 1.0}, "cfl must be > 0 and < 1, got 1.0"),
        ({"beta": 0.4, "nu": 0.1}, r"unknown parameters \['nu'\].*accepts"),
        ({}, r"needs \['beta'\]"),
    ],
)
def test_bad_parameters(tmp_path, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("advection", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []


def test_the_exact_scheme_needs_no_stencil(tmp_path):
    """The exact file evaluates u0 at shifted points: any nx >= 2 works (only the
    finite-volume scheme needs its five-cell stencil)."""
    path = datasets.generate_advection(
        beta=1.0, n_samples=2, nx=4, nt=3, t_end=0.5, scheme="exact", out=tmp_path
    )
    with datasets.load(path) as ds:
        u = ds.u[..., 0]
    np.testing.assert_allclose(u[:, 1], np.roll(u[:, 0], 1, axis=-1), atol=1e-6)


@pytest.mark.parametrize(
    "params", [{"beta": "0.4"}, {"beta": 0.4, "nt": 2.5}, {"beta": 0.4, "cfl": "1"}]
)
def test_wrong_types(tmp_path, params):
    with pytest.raises(TypeError):  # a TypeCheckError where runtime checks are on
        datasets.generate("advection", out=tmp_path, **params)


def test_unknown_generator_lists_known_ones(tmp_path):
    assert "advection" in datasets.list_generators()
    with pytest.raises(ValueError, match=r"Unknown generator 'burgerz'.*'advection'"):
        datasets.generate("burgerz", out=tmp_path)


# ---- the finite-volume scheme (the default) --------------------------------------


def test_fv_file_is_close_to_the_exact_file(fv_files, exact_files):
    """The finite-volume file against the exact file of the same settings (beta =
    0.37, nx = 100, t up to 2: 74 cells), float32. The scheme's convergence to the
    exact shift (second order on smooth samples) is measured on finer grids in
    tests/solvers/test_advection.py; here the error grows with t and stays small.
    Measured L1 error (mean over samples) 8.4e-4 at t = 0.1, 9.5e-3 at t = 2."""
    _, whole, _ = fv_files
    with datasets.load(whole) as a, datasets.load(exact_files[0][0.37]) as b:
        fv, exact = a.u[..., 0], b.u[..., 0]
    np.testing.assert_allclose(fv[:, 0], exact[:, 0], atol=2e-6)  # the same u0
    error = np.abs(fv - exact).mean(axis=(0, 2))  # per frame
    assert np.all(np.diff(error) > -1e-4), error
    assert error[1] < 1.2e-3 and error[-1] < 1.3e-2, error


def test_fv_conserves_mass(fv_files):
    """In float32 arithmetic and storage; to round-off in float64:
    tests/solvers/test_fv1d.py."""
    _, whole, _ = fv_files
    mass = datasets.load(whole).u[...][..., 0].mean(axis=-1)
    np.testing.assert_allclose(mass, mass[:, :1] * np.ones((1, NT)), atol=2e-6)


def test_fv_sub_steps_at_the_courant_number(fv_files):
    """The save interval (0.1, 3.7 cells) is split into the fewest equal steps at
    Courant number <= cfl = 0.4 (10 steps); the scheme stays bounded. (Any speed:
    beta = 40, 256 cells an interval, stays bounded when split and blows up in one
    step, tests/solvers/test_advection.py.)"""
    _, whole, _ = fv_files
    with datasets.load(whole) as ds:
        fv, dt = ds.u[...][..., 0], ds.provenance["params"]["dt"]
        assert ds.provenance["params"]["cfl"] == 0.4
    beta, dx, interval = 0.37, 1 / NX, 0.1
    m = round(interval / dt)
    assert interval / dt == pytest.approx(m, abs=1e-9) and m == 10
    assert beta * dt / dx <= 0.4 < beta * interval / (m - 1) / dx  # the fewest
    assert np.abs(fv).max() <= np.abs(fv[:, 0]).max() + 1e-6  # no overshoot


def test_fv_traces_once_and_ignores_chunking(fv_files):
    chunked, whole, traces = fv_files
    assert traces == 1  # 5 samples in chunks of 2: one trace
    np.testing.assert_array_equal(
        datasets.load(chunked).u[...], datasets.load(whole).u[...]
    )
    with datasets.load(whole) as ds:
        assert whole.name == "1D_Advection_Sols_beta0.37.hdf5"
        assert ds.params == {"beta": pytest.approx(0.37)}
        stored = ds.provenance["params"]
        assert stored["scheme"] == "fv" and stored["dtype"] == "float32"
        assert stored["cfl"] == 0.4 and stored["dt"] <= 0.4 * 0.01 / 0.37
        # the same initial conditions as the exact file: the public sampler's (to
        # the last bit or two: XLA fuses the sampler into the solve differently)
        np.testing.assert_allclose(ds.u[:, 0, :, 0], sampler(NX, N), rtol=0, atol=5e-7)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"scheme": "weno"},
            "scheme must be one of 'fv', 'exact', 'spectral', got 'weno'",
        ),
        ({"dtype": "float16"}, "dtype must be one of 'float32', 'float64'"),
    ],
)
def test_bad_choices(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("advection", beta=0.4, out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
