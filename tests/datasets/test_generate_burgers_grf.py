"""`generate_burgers_grf`: the file name, layout and attributes, `load`, frame 0 as
the documented draw of `PeriodicMaternGRF`, the periodic copy at x = 1, the
conserved zero mean and the maximum principle, determinism by seed, and bad
input."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets, solvers

SETTINGS = dict(n_samples=3, seed=5, nx=17, nt=5, n_modes=8, refine=2)


@pytest.fixture(scope="module")
def burgers_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("burgers_grf")
    return datasets.generate("burgers_grf", out=out, chunk_size=2, **SETTINGS)


def test_file_layout_and_load(burgers_file):
    assert burgers_file.name == "1D_Burgers_GRF_Nu0.01.hdf5"
    with h5py.File(burgers_file) as file:
        assert file["tensor"].shape == (3, 5, 17)
        assert set(file) == {"tensor", "x-coordinate", "t-coordinate"}
    with datasets.load(burgers_file) as ds:
        assert ds.u.shape == (3, 5, 17, 1)
        assert ds.params == {"nu": 0.01, "sigma": 625.0, "tau": 5.0, "gamma": 4.0}
        settings = ds.provenance["params"]
        assert settings["solver_nodes"] == 32 and settings["n_modes"] == 8
        np.testing.assert_allclose(ds.x, np.arange(17) / 16, rtol=1e-7)
        np.testing.assert_allclose(ds.t, np.arange(5) / 4, rtol=1e-7)
        u = ds.u[..., 0]
    np.testing.assert_array_equal(u[..., -1], u[..., 0])  # x = 1 is x = 0
    family = solvers.PeriodicMaternGRF(n_modes=8)
    with jax.enable_x64(True):
        for i in (0, 2):
            params = family.params(key=jax.random.fold_in(jax.random.key(5), i))
            u0 = family.evaluate(params, jnp.asarray(np.arange(17) / 16))
            np.testing.assert_allclose(u[i, 0], u0, rtol=1e-6, atol=1e-7)
    # zero mean, kept (the 16 distinct points hold the 8 modes exactly), and
    # max|u| never above max|u0|
    assert np.abs(u[..., :-1].mean(axis=-1)).max() < 1e-6
    peak = np.abs(u).max(axis=-1)
    assert (peak <= peak[:, :1] * (1 + 1e-6)).all()
    assert (peak[:, -1] < peak[:, 0]).all()  # viscosity: it decays


def test_determinism_by_seed(burgers_file, tmp_path):
    again = datasets.generate_burgers_grf(out=tmp_path, chunk_size=2, **SETTINGS)
    other = datasets.generate_burgers_grf(
        out=tmp_path / "other", chunk_size=2, **(SETTINGS | {"seed": 6})
    )
    with h5py.File(burgers_file) as a, h5py.File(again) as b, h5py.File(other) as c:
        np.testing.assert_array_equal(a["tensor"][...], b["tensor"][...])
        assert not np.allclose(a["tensor"][...], c["tensor"][...])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"nu": -0.1}, ValueError, "nu must be >= 0"),
        ({"refine": 1}, ValueError, "resolve the 128 modes"),
        ({"nx": 16, "refine": 1, "n_modes": 4}, ValueError, "must be even"),
        ({"cfl": 0.0}, ValueError, "cfl must be > 0"),
        ({"gamma": 0.5}, ValueError, "gamma must be > 0.5"),
        ({"nt": 1}, ValueError, "nt must be >= 2"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_burgers_grf(out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
