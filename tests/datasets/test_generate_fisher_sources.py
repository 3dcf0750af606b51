"""`generate_fisher_sources`: the file name, layout and attributes, `load`, the drawn
parameters and their MT-DeepONet coefficients, bad input."""

import h5py
import numpy as np
import pytest

from sciml import datasets, solvers

A_VALUES = np.linspace(0.1, 1.0, 10)  # the documented grids of a and beta
BETA_VALUES = np.linspace(0.5, 2.0, 10)
SETTINGS = dict(family="F3", n_samples=5, seed=2, nx=32, save_nx=8, nt=5)


@pytest.fixture(scope="module")
def fisher_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("fisher")
    return datasets.generate("fisher_sources", out=out, chunk_size=2, **SETTINGS)


def test_file_layout_and_load(fisher_file):
    assert fisher_file.name == "1D_Fisher_Sources_Form3.hdf5"
    assert datasets.fisher_sources_filename("F1") == "1D_Fisher_Sources_Form1.hdf5"
    with h5py.File(fisher_file) as file:
        assert file["tensor"].shape == (5, 5, 8)
        assert file["params"].shape == (5, 2)
        assert file["coefficients"].shape == (5, 4)
        assert file.attrs["param_names"] == "a,beta"
    with datasets.load(fisher_file) as ds:
        assert ds.u.shape == (5, 5, 8, 1)
        assert ds.params["form"] == 3 and ds.params["d"] == 0.01
        np.testing.assert_allclose(ds.t, np.arange(5) / 4)
        np.testing.assert_allclose(ds.x, (np.arange(8) + 0.5) / 8)
        assert ds.provenance["params"]["nx"] == 32
        params = ds.fields["params"][...]
        c = ds.fields["coefficients"][...]
        u = ds.u[...]
    assert np.isin(params[:, 0], A_VALUES.astype(np.float32)).all()
    assert np.isin(params[:, 1], BETA_VALUES.astype(np.float32)).all()
    for (a, beta), row in zip(params, c, strict=True):
        expected = solvers.source_coefficients("F3", float(a), float(beta))
        np.testing.assert_allclose(row, expected, rtol=1e-5)
    assert (u > 0).all() and (u < 1).all()  # sigmoid initial data, invariant [0, 1]
    assert not np.allclose(u[0, 0], u[1, 0])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"family": "F4"}, ValueError, "family must be one of"),
        ({"nx": 30, "save_nx": 8}, ValueError, "save_nx must divide"),
        ({"d": -1.0}, ValueError, "d must be > 0"),
        ({"d": "0.01"}, TypeError, "d must be a real number"),
        ({"nt": 1}, ValueError, "nt must be >= 2"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_fisher_sources(out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
