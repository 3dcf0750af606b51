"""`generate_diffusion_sorption`: the group-per-sample layout, its attributes and lazy
loading, the physics visible in the file (boundary values, maximum principle), the
documented per-sample initial values, bad arguments."""

import json

import h5py
import jax
import numpy as np
import pytest

from sciml import datasets, solvers

D = 5e-4


@pytest.fixture(scope="module")
def sorption_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("sorp")
    return datasets.generate(
        "diffusion_sorption", out=out, n_samples=3, seed=5, nx=32, nt=11, chunk_size=2
    )


def _data(path):
    with h5py.File(path) as file:
        return np.stack([file[f"{i:04d}/data"][()] for i in range(3)])


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
        assert config["boundary"] == "face" and config["dtype"] == "float64"
    data = _data(sorption_file)
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


def test_sample_i_starts_from_its_own_key(sorption_file):
    """Sample i's constant is `RandomConstant(0, 0.2)` drawn from `fold_in(key(seed),
    i)` in the float64 of the solve (the docstring's promise), whatever the chunks."""
    initial = _data(sorption_file)[:, 0, :, 0]
    grid = solvers.Grid(32)
    with jax.enable_x64(True):
        expected = [
            solvers.RandomConstant(0.0, 0.2)(
                grid, key=jax.random.fold_in(jax.random.key(5), i)
            )
            for i in range(3)
        ]
    np.testing.assert_array_equal(
        initial, np.stack([np.asarray(e[0], np.float32) for e in expected])
    )


def test_load_reads_groups_lazily(sorption_file):
    data = _data(sorption_file)
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


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"phi": 1.5}, ValueError, r"phi must be > 0 and < 1"),
        ({"boundary": "x"}, ValueError, "boundary must be one of"),
        ({"nx": 2}, ValueError, "nx must be >= 3"),
        ({"d": "0.1"}, TypeError, "d must be a real number"),
        ({"d": 0.0}, ValueError, "d must be > 0"),
        ({"nt": 1}, ValueError, "nt must be >= 2"),
        ({"dtype": "float16"}, ValueError, "dtype must be one of"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_diffusion_sorption(out=tmp_path, n_samples=1, **params)
    assert list(tmp_path.iterdir()) == []
