"""The Burgers generator `generate_burgers` (`generate("burgers")`): names, layout,
attributes, initial conditions shared across nu, chunk invariance, the file against
Cole-Hopf, mass, the step it records, the entropy-fix setting and bad arguments.
The numerics of the scheme are tested in tests/solvers/test_burgers.py."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import datasets, solvers
from sciml.datasets import _pipeline

FAMILY = solvers.PDEBenchSines()


@jax.jit
def pdebench_samples(key):
    """The draws (batched) and the float32 fields `(8, 64)` of samples 0 .. 7 of
    `key` by the public sampler (sample i from fold_in(key, i)), one compilation."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(8))
    params = jax.vmap(lambda k: FAMILY.params(key=k))(keys)
    return params, FAMILY.batch(solvers.Grid(64), 8, key=key)[:, 0]


def sampler(n):
    """The first `n` <= 8 samples of the public sampler in float32, `(n, 64)`."""
    return np.asarray(pdebench_samples(jax.random.key(0))[1])[:n]


@pytest.mark.parametrize(
    "nu, name",
    [(0.001, "Nu0.001"), (1, "Nu1.0"), (0.01, "Nu0.01"), (0.1234, "Nu0.123")],
)
def test_file_name(nu, name):
    assert datasets.burgers_filename(nu) == f"1D_Burgers_Sols_{name}.hdf5"


N, NX, NT, T_END = 5, 64, 11, 0.5
SETTINGS = dict(n_samples=N, nx=NX, nt=NT, t_end=T_END)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files of 5 samples in chunks of 2 for several nu (for nu < pi dx the step is
    advection-limited, the same for all: one compilation), one in a single chunk,
    and the pipeline's compilations after the chunked files."""
    out = tmp_path_factory.mktemp("burgers")
    _pipeline._solve_chunk._cached.clear_cache()
    paths = {
        nu: datasets.generate("burgers", nu=nu, out=out, chunk_size=2, **SETTINGS)
        for nu in (0.01, 0.04, 0.0)
    }
    traces = _pipeline._solve_chunk._cached._cache_size()
    paths["whole"] = datasets.generate(
        "burgers", nu=0.01, out=out / "whole", **SETTINGS
    )
    paths["pdebench"] = datasets.generate(  # PDEBench's flux
        "burgers", nu=0.0, entropy_fix=False, out=out / "pdebench", **SETTINGS
    )
    return paths, traces


def test_layout_attrs_and_initial_conditions(files):
    paths, traces = files
    assert traces == 1  # three nu, 5 samples in chunks of 2: one trace
    assert paths[0.01].name == "1D_Burgers_Sols_Nu0.01.hdf5"
    with h5py.File(paths[0.01]) as file:
        assert file.attrs["Nu"] == 0.01
    with datasets.load(paths[0.01]) as a, datasets.load(paths[0.04]) as b:
        assert a.u.shape == (N, NT, NX, 1) and a.u.dtype == np.float32
        np.testing.assert_allclose(a.x, (np.arange(NX) + 0.5) / NX, rtol=1e-7)
        np.testing.assert_allclose(a.t, 0.05 * np.arange(NT), rtol=1e-6)
        assert a.params == {"nu": pytest.approx(0.01)}
        assert a.provenance["generator"] == "burgers"
        assert a.provenance["seed"] == 0
        stored = a.provenance["params"]
        assert stored["nu"] == 0.01 and stored["dtype"] == "float32"
        assert stored["entropy_fix"] is True and stored["cfl"] is None
        # the same initial conditions for every nu, those of the public sampler (to
        # the last bit or two: XLA fuses the sampler into the solve differently)
        np.testing.assert_array_equal(a.u[:, 0], b.u[:, 0])
        np.testing.assert_allclose(a.u[:, 0, :, 0], sampler(N), rtol=0, atol=5e-7)
        assert not np.allclose(a.u[:, -1], b.u[:, -1])


def test_output_does_not_depend_on_chunking(files):
    paths, _ = files
    with datasets.load(paths["whole"]) as c, datasets.load(paths[0.01]) as a:
        np.testing.assert_array_equal(c.u[...], a.u[...])


def _check_step(dt, nu, cfl, interval, dx=1 / NX):
    if cfl is None:
        limit = 0.25 * min(dx / 2, dx**2 / (2 * nu / np.pi) if nu else np.inf)
    else:
        limit = cfl / (2 / dx + 2 * (nu / np.pi) / dx**2)
    m = round(interval / dt)
    assert interval / dt == pytest.approx(m, abs=1e-9)  # equal steps
    assert dt <= limit * (1 + 1e-12) and interval / (m - 1) > limit  # the fewest


def _check_maximum_principle(u):
    assert np.abs(u[:, 0]).max() < 2
    peak = np.abs(u).max(axis=-1)  # (samples, t)
    assert np.all(peak <= peak[:, :1] + 1e-5)


def test_generated_file_matches_cole_hopf(tmp_path):
    """The file itself, on PDEBench's smooth initial conditions (no |.|, no window),
    nu = 0.1, t = 0.5, float64 arithmetic and float32 storage, nx = 256, with the
    combined step bound at cfl = 0.9 (the step it records is the fewest equal
    steps within 0.9 / (2/dx + 2 (nu/pi)/dx^2)): the worst-sample L1 error that
    tests/solvers/test_burgers.py reaches at order 1.9 over nx = 64 .. 256 with
    either step rule (measured 3.8e-5)."""
    n_samples, nu, nx, cfl = 8, 0.1, 256, 0.9
    params = jax.tree.map(np.asarray, pdebench_samples(jax.random.key(0))[0])
    smooth = np.flatnonzero(~params.absolute & ~params.windowed)
    assert len(smooth) >= 4
    path = datasets.generate(
        "burgers",
        nu=nu,
        n_samples=n_samples,
        nx=nx,
        nt=3,
        t_end=0.5,
        dtype="float64",
        out=tmp_path,
        cfl=cfl,
    )
    with datasets.load(path) as ds:
        u, x = ds.u[...][..., 0], ds.x.astype(np.float64)
        stored = ds.provenance["params"]
    assert stored["cfl"] == cfl and stored["dtype"] == "float64"
    _check_step(stored["dt"], nu, cfl, 0.25, dx=1 / nx)
    _check_maximum_principle(u)
    errors = []
    for i in smooth:
        one = jax.tree.map(lambda a, i=i: a[i], params)
        start = references.cole_hopf_pdebench(one, x, 0.0, nu / np.pi)
        np.testing.assert_allclose(u[i, 0], start, atol=1e-6)  # the check's check
        exact = references.cole_hopf_pdebench(one, x, 0.5, nu / np.pi)
        errors.append(np.abs(u[i, -1] - exact).mean())
    assert max(errors) < 6e-5, errors


def test_mass_is_conserved(files):
    """The file: float32 arithmetic and storage (the scheme to round-off in
    float64: tests/solvers/test_burgers.py)."""
    paths, _ = files
    for path in paths.values():
        mass = datasets.load(path).u[...][..., 0].mean(axis=-1)
        np.testing.assert_allclose(mass, mass[:, :1] * np.ones((1, NT)), atol=2e-6)


def test_time_step_and_maximum_principle(files):
    """The step the file records is the fewest equal steps per save interval within
    0.25 min(dx/2, dx^2/(2 nu/pi)) (PDEBench); inviscid (shocks, with either flux)
    and advection-limited files stay within max|u0| < 2. (The combined bound:
    test_generated_file_matches_cole_hopf; every step rule and nu, diffusion-limited
    ones included, and the decay to the mean at nu = 4: tests/solvers/test_burgers.py.)"""
    paths, _ = files
    for key in (0.01, 0.04, 0.0, "pdebench"):
        with datasets.load(paths[key]) as ds:
            u, stored = ds.u[...][..., 0], ds.provenance["params"]
        _check_step(stored["dt"], stored["nu"], None, T_END / (NT - 1))
        _check_maximum_principle(u)


def test_entropy_fix_setting(files):
    """`entropy_fix=False` writes PDEBench's flux; it is recorded, and it changes
    the inviscid data (the sonic expansions of PDEBench's samples)."""
    paths, _ = files
    with datasets.load(paths[0.0]) as a, datasets.load(paths["pdebench"]) as b:
        assert a.provenance["params"]["entropy_fix"] is True
        assert b.provenance["params"]["entropy_fix"] is False
        np.testing.assert_array_equal(a.u[:, 0], b.u[:, 0])
        assert not np.array_equal(a.u[:, -1], b.u[:, -1])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": -0.1}, r"nu must be >= 0, got -0.1"),
        ({"nu": float("nan")}, "nu must be finite"),
        ({"nu": float("inf")}, "nu must be finite"),
        ({"nu": 0.1, "nx": 4}, "nx must be >= 5, got 4"),
        ({"nu": 0.1, "nt": 1}, "nt must be >= 2"),
        ({"nu": 0.1, "t_end": -1.0}, "t_end must be > 0"),
        ({"nu": 0.1, "chunk_size": 0}, "chunk_size must be >= 1"),
        ({"nu": 0.1, "dtype": "float16"}, "dtype must be one of 'float32', 'float64'"),
        ({"nu": 1e6, "nx": 1024}, "steps per save interval"),
        ({"nu": 0.1, "cfl": 0.0}, r"cfl must be > 0 and < 1"),
        ({"nu": 0.1, "cfl": 1.0}, r"cfl must be > 0 and < 1"),
        ({"nu": 0.1, "cfl": float("nan")}, "cfl must be finite"),
        ({"nu": 0.1, "beta": 0.4}, r"unknown parameters \['beta'\]"),
        ({}, r"needs \['nu'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("burgers", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "params", [{"nu": "0.1"}, {"nu": 0.1, "entropy_fix": 1}, {"nu": 0.1, "nx": 64.0}]
)
def test_wrong_types(tmp_path, no_typecheck, params):
    with pytest.raises(TypeError):
        datasets.generate("burgers", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
