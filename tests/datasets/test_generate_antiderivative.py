"""`generate_antiderivative`: the file name, layout and attributes, `load`, each
sample as the documented draw of `SquaredExponentialSeries` and its exact
antiderivative, determinism by seed, and bad input."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets, solvers

SETTINGS = dict(n_samples=5, seed=3, length_scale=0.1, m=12)


@pytest.fixture(scope="module")
def antiderivative_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("antiderivative")
    return datasets.generate("antiderivative", out=out, chunk_size=2, **SETTINGS)


def test_file_layout_and_load(antiderivative_file):
    assert antiderivative_file.name == "1D_Antiderivative_l0.1.hdf5"
    assert datasets.antiderivative_filename(0.2) == "1D_Antiderivative_l0.2.hdf5"
    with h5py.File(antiderivative_file) as file:
        assert file["tensor"].shape == (5, 1, 12)
        assert file["u"].shape == (5, 12)
        assert "t-coordinate" not in file
    with datasets.load(antiderivative_file) as ds:
        assert ds.u.shape == (5, 1, 12, 1)
        assert ds.fields["u"].shape == (5, 12)
        assert ds.params == {"l": 0.1, "sigma": 1.0}
        assert ds.provenance["generator"] == "antiderivative"
        assert ds.provenance["seed"] == 3
        assert ds.provenance["params"]["series_modes"] == 29
        np.testing.assert_allclose(ds.x, np.arange(12) / 11, rtol=1e-7)
        s = ds.u[:, 0, :, 0]
        u = ds.fields["u"][...]
    assert (s[:, 0] == 0).all()
    # sample i is SquaredExponentialSeries drawn from fold_in(key(seed), i)
    family = solvers.SquaredExponentialSeries(0.1)
    with jax.enable_x64(True):
        x = jnp.asarray(np.arange(12) / 11)
        for i in (0, 4):
            params = family.params(key=jax.random.fold_in(jax.random.key(3), i))
            np.testing.assert_allclose(u[i], family.evaluate(params, x), rtol=1e-6)
            expected = family.antiderivative(params, x)
            np.testing.assert_allclose(s[i], expected, rtol=1e-6, atol=1e-7)
    # s' = u: the trapezoid rule on the 12 sensors is within its own O(h^2) error
    trapezoid = np.concatenate(
        [np.zeros((5, 1)), np.cumsum((u[:, 1:] + u[:, :-1]) / 2 / 11, axis=1)], axis=1
    )
    assert np.abs(trapezoid - s).max() < 0.05 * np.abs(s).max()


def test_determinism_by_seed(antiderivative_file, tmp_path):
    """The same seed writes the same data (another chunk size included); another
    seed other data."""
    again = datasets.generate("antiderivative", out=tmp_path, chunk_size=5, **SETTINGS)
    other = datasets.generate_antiderivative(
        out=tmp_path / "other", chunk_size=2, **(SETTINGS | {"seed": 4})
    )
    with (
        h5py.File(antiderivative_file) as a,
        h5py.File(again) as b,
        h5py.File(other) as c,
    ):
        for name in ("tensor", "u"):
            np.testing.assert_array_equal(a[name][...], b[name][...])
            assert not np.allclose(a[name][...], c[name][...])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"length_scale": 0.0}, ValueError, "length_scale must be > 0"),
        ({"sigma": -1.0}, ValueError, "sigma must be > 0"),
        ({"m": 1}, ValueError, "m must be >= 2"),
        ({"m": 10.0}, TypeError, "m must be an integer"),
        ({"dtype": "float16"}, ValueError, "dtype must be one of"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_antiderivative(out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
