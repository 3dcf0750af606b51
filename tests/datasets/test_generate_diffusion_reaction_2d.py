"""`generate_diffusion_reaction_2d`: the group layout and attributes, `load`, the
initial values, chunk invariance and seeds, bad parameters."""

import json

import h5py
import numpy as np
import pytest

from sciml import datasets

SETTINGS = dict(n_samples=3, nx=8, ny=6, nt=5, t_end=0.5)


def cell_centres(n):
    return -1.0 + 2.0 * (np.arange(n) + 0.5) / n


@pytest.fixture(scope="module")
def reaction_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("dr2d")
    return datasets.generate("diffusion_reaction_2d", out=out, **SETTINGS)


def test_file_layout_and_loading(reaction_file):
    assert reaction_file.name == "2D_diff-react_NA_NA.h5"
    with h5py.File(reaction_file) as f:
        assert sorted(f) == ["0000", "0001", "0002"]
        assert f["0001/data"].shape == (5, 8, 6, 2)
        assert f["0001/data"].dtype == np.float32
        np.testing.assert_allclose(f["0000/grid/x"][()], cell_centres(8))
        np.testing.assert_allclose(f["0000/grid/y"][()], cell_centres(6))
        np.testing.assert_allclose(f["0000/grid/t"][()], np.linspace(0, 0.5, 5))
        config = json.loads(f.attrs["config"])
        assert config["du"] == 1e-3 and config["dv"] == 5e-3 and config["k"] == 5e-3
        assert config["nx"] == 8 and config["ny"] == 6 and config["rtol"] == 1e-6
    with datasets.load(reaction_file) as ds:
        assert ds.u.shape == (3, 5, 8, 6, 2)
        assert ds.n_channels == 2 and ds.spatial_shape == (8, 6)
        np.testing.assert_allclose(ds.y, cell_centres(6))
        assert ds.provenance["generator"] == "diffusion_reaction_2d"
        u = ds.u[...]
    assert np.all(np.isfinite(u))
    start = u[:, 0].ravel()  # i.i.d. standard normal initial values
    assert abs(start.mean()) < 0.2 and 0.8 < start.std() < 1.2


def test_chunking_changes_nothing_and_seeds_differ(tmp_path, reaction_file):
    b = datasets.generate(
        "diffusion_reaction_2d", out=tmp_path / "b", chunk_size=1, **SETTINGS
    )
    c = datasets.generate(
        "diffusion_reaction_2d", out=tmp_path / "c", seed=1, **SETTINGS
    )
    with (
        datasets.load(reaction_file) as da,
        datasets.load(b) as db,
        datasets.load(c) as dc,
    ):
        np.testing.assert_array_equal(da.u[...], db.u[...])
        assert not np.allclose(da.u[...], dc.u[...])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"du": -1.0}, ValueError, "du must be >= 0"),
        ({"dv": -1.0}, ValueError, "dv must be >= 0"),
        ({"k": float("nan")}, ValueError, "k must be finite"),
        ({"t_end": 0.0}, ValueError, "t_end must be > 0"),
        ({"rtol": -1e-3}, ValueError, "rtol must be > 0"),
        ({"nx": 1}, ValueError, "nx must be >= 2"),
        ({"ny": 2.5}, TypeError, "ny must be an integer"),
        ({"nt": 1}, ValueError, "nt must be >= 2"),
        ({"dtype": "float16"}, ValueError, "dtype must be one of 'float32', 'float64'"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be >= 1"),
        ({"beta": 0.4}, ValueError, r"unknown parameters \['beta'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate("diffusion_reaction_2d", out=tmp_path, n_samples=1, **params)
    assert list(tmp_path.iterdir()) == []
