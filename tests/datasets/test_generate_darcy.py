"""`generate_darcy`: the file layout and attributes, `load`, the saved pressure against
an independent stencil, chunk invariance and the batch-mean threshold, bad input."""

import h5py
import numpy as np
import pytest
import references

from sciml import datasets


@pytest.fixture(scope="module")
def darcy_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("darcy")
    return datasets.generate_darcy(
        out=out, beta=10.0, n_samples=5, nx=16, chunk_size=2, seed=3
    )


def test_file_layout_and_load(darcy_file):
    assert darcy_file.name == "2D_DarcyFlow_beta10.0_Train.hdf5"
    assert datasets.darcy_filename(0.01) == "2D_DarcyFlow_beta0.01_Train.hdf5"
    with h5py.File(darcy_file) as file:
        assert file["tensor"].shape == (5, 1, 16, 16)
        assert file["nu"].shape == (5, 16, 16)
        assert file["tensor"].dtype == file["nu"].dtype == np.float32
        assert file["x-coordinate"].shape == (16,) and "t-coordinate" not in file
        np.testing.assert_allclose(file["y-coordinate"][()], (np.arange(16) + 0.5) / 16)
        assert file.attrs["beta"] == 10.0
        assert file.attrs["sciml_generator"] == "darcy"
    with datasets.load(darcy_file) as ds:
        assert ds.u.shape == (5, 1, 16, 16, 1)
        assert ds.params["beta"] == 10.0
        assert ds.t.tolist() == [0.0]
        np.testing.assert_allclose(ds.x, (np.arange(16) + 0.5) / 16)
        a = ds.fields["nu"][...]
        u = ds.u[:, 0, :, :, 0]
        assert ds.fields["nu"][[3, 1]].shape == (2, 16, 16)
        assert ds.provenance["params"]["boundary"] == "face"
    assert set(np.unique(a)) <= {np.float32(0.1), np.float32(1.0)}
    for i in range(5):
        # per-sample threshold at the mean: both values present
        assert 0 < (a[i] == 1).mean() < 1
        residual = references.darcy_operator(
            u[i].astype(np.float64), a[i].astype(np.float64), 16
        )
        np.testing.assert_allclose(residual, 10.0, rtol=2e-5)
        assert (u[i] > 0).all()
    assert not np.array_equal(a[0], a[1])


def test_chunking_and_batch_mean(tmp_path, darcy_file):
    # Other chunks, and the batch mean over blocks of one sample (= the per-sample
    # mean): the same file.
    other = datasets.generate_darcy(
        out=tmp_path,
        beta=10.0,
        n_samples=5,
        nx=16,
        chunk_size=5,
        seed=3,
        batch_mean=True,
        batch_size=1,
    )
    with h5py.File(other) as new, h5py.File(darcy_file) as old:
        np.testing.assert_array_equal(new["nu"][()], old["nu"][()])
        np.testing.assert_allclose(new["tensor"][()], old["tensor"][()], rtol=1e-6)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"beta": -1.0}, ValueError, "beta must be > 0"),
        ({"permeability": "gauss"}, ValueError, "permeability must be one of"),
        ({"nx": 2}, ValueError, "nx must be >= 4"),
        ({"nx": 8.0}, TypeError, "nx must be an integer"),
        ({"boundary": "dirichlet"}, ValueError, "boundary must be one of"),
        ({"permeability": "lognormal", "batch_mean": True}, ValueError, "batch_mean"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    settings = {"n_samples": 1, "nx": 8, **params}
    with pytest.raises(error, match=match):
        datasets.generate_darcy(out=tmp_path, **settings)
    assert list(tmp_path.iterdir()) == []
