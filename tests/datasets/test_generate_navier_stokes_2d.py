"""`generate_navier_stokes_2d`: the file name, layout and attributes, `load`, the
saved (strided) vorticity, each sample's documented initial field, bad input."""

import h5py
import jax
import numpy as np
import pytest

from sciml import datasets, solvers

SETTINGS = dict(n_samples=3, nx=32, save_nx=16, nt=5, t_end=0.5)


@pytest.fixture(scope="module")
def vorticity_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("ns")
    return datasets.generate_navier_stokes_2d(out=out, chunk_size=2, **SETTINGS)


def test_file_layout_and_load(vorticity_file):
    assert vorticity_file.name == "2D_NS_Vort_Nu0.0001.hdf5"
    assert datasets.navier_stokes_filename(1e-3) == "2D_NS_Vort_Nu0.001.hdf5"
    with h5py.File(vorticity_file) as file:
        assert file["tensor"].shape == (3, 5, 16, 16)
        assert file["tensor"].dtype == np.float32
        assert file.attrs["nu"] == 1e-4
        np.testing.assert_allclose(file["y-coordinate"][()], np.arange(16) / 16)
    with datasets.load(vorticity_file) as ds:
        assert ds.u.shape == (3, 5, 16, 16, 1)
        assert ds.params["nu"] == pytest.approx(1e-4)
        np.testing.assert_allclose(ds.t, np.arange(5) / 8)
        np.testing.assert_allclose(ds.x, np.arange(16) / 16)
        assert ds.provenance["params"]["nx"] == 32
        w = ds.u[...]
    assert np.abs(w.mean(axis=(2, 3, 4))).max() < 1e-6  # mean stays 0
    assert np.abs(w[:, 0].std(axis=(1, 2, 3)) - 1).max() < 0.05  # strided grid
    assert not np.allclose(w[0, 0], w[1, 0])


def test_sample_i_starts_from_its_own_key(vorticity_file):
    """Sample i's first frame is `PeriodicGRF(0.8)` drawn from `fold_in(key(seed),
    i)` on the solver's grid, strided (the docstring's promise, which makes the file
    independent of the chunks and sample i the same at every resolution)."""
    grid = solvers.Grid((32, 32), points="nodes")

    @jax.jit
    def draw(i):
        key = jax.random.fold_in(jax.random.key(0), i)
        return solvers.PeriodicGRF(0.8)(grid, key=key)[0, ::2, ::2]

    expected = np.stack([np.asarray(draw(i)) for i in range(3)])
    with h5py.File(vorticity_file) as file:
        first = file["tensor"][:, 0]
    np.testing.assert_allclose(first, expected, atol=1e-6)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"cfl": 0.9}, ValueError, r"cfl must be <= 0.5 and > 0"),
        ({"nx": 32, "save_nx": 12}, ValueError, "save_nx must divide"),
        ({"nu": 0.0}, ValueError, "nu must be > 0"),
        ({"nx": 34.0}, TypeError, "nx must be an integer"),
        ({"nx": 33}, ValueError, "nx must be even"),
        ({"length_scale": 0.1}, ValueError, "length_scale must be >= 0.2"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_navier_stokes_2d(out=tmp_path, n_samples=1, **params)
    assert list(tmp_path.iterdir()) == []
