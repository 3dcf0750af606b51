"""Round trips, PDEBench compatibility and error messages of write/load."""

import json

import h5py
import numpy as np
import pytest

import sciml
from sciml import datasets


def test_round_trip_1d(tmp_path, field):
    u, x, t = field
    path = datasets.write(
        tmp_path / "f.hdf5",
        u,
        x=x,
        t=t,
        params={"beta": 0.4},
        provenance={"generator": "test", "seed": 7, "params": {"beta": 0.4, "nx": 8}},
    )
    with h5py.File(path) as file:
        assert file["tensor"].shape == (4, 3, 8)  # PDEBench: no channel axis for C=1
        assert file["tensor"].chunks == (1, 3, 8)  # one sample, one chunk
        assert file["tensor"].dtype == np.float32
        assert file["t-coordinate"].shape == (3,)
        assert file.attrs["t_coordinate_convention"] == "exact"
        assert file.attrs["beta"] == 0.4
    with datasets.load(path) as ds:
        assert ds.u.shape == (4, 3, 8, 1)
        np.testing.assert_array_equal(ds.u[...], u)
        np.testing.assert_allclose(ds.x, x, rtol=1e-7)
        np.testing.assert_allclose(ds.t, t, rtol=1e-7)
        assert ds.y is None
        assert ds.params == {"beta": pytest.approx(0.4)}
        assert (len(ds), ds.n_samples, ds.n_t) == (4, 4, 3)
        assert (ds.spatial_shape, ds.n_channels) == ((8,), 1)
        prov = ds.provenance
        assert prov["generator"] == "test" and prov["seed"] == 7
        assert prov["version"] == sciml.__version__
        assert prov["params"] == {"beta": 0.4, "nx": 8}
        assert prov["created"].startswith("20")
    assert [p.name for p in tmp_path.iterdir()] == ["f.hdf5"]


@pytest.mark.parametrize(
    "shape, stored",
    [
        ((2, 3, 5, 2), (2, 3, 5, 2)),
        ((2, 3, 5, 4, 1), (2, 3, 5, 4)),
        ((2, 3, 5, 4, 3), (2, 3, 5, 4, 3)),
    ],
)
def test_round_trip_channels_and_2d(tmp_path, shape, stored):
    u = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    y = np.linspace(0, 1, shape[3]) if len(shape) == 5 else None
    path = datasets.write(
        tmp_path / "g.hdf5", u, x=np.arange(5.0), t=np.arange(3.0), y=y
    )
    with h5py.File(path) as file:
        assert file["tensor"].shape == stored
    with datasets.load(path) as ds:
        assert ds.u.shape == shape
        assert ds.spatial_shape == shape[2:-1] and ds.n_channels == shape[-1]
        np.testing.assert_array_equal(np.asarray(ds.u), u)
        assert (ds.y is None) == (y is None)


def test_write_streams_chunks(tmp_path, field):
    u, x, t = field
    path = datasets.write(tmp_path / "c.hdf5", (u[:1], u[1:3], u[3:]), x=x, t=t)
    with datasets.load(path) as ds:
        np.testing.assert_array_equal(ds.u[...], u)
        assert ds.provenance["params"] == {}


def test_pdebench_file_loads_with_params_from_its_name(pdebench_file):
    path, tensor = pdebench_file("1D_Burgers_Sols_Nu0.01.hdf5")
    with datasets.load(path) as ds:
        assert ds.params == {"nu": 0.01}
        assert ds.provenance == {}
        assert ds.t.shape == (4,)  # T + 1 = 5 entries on disk, first T kept
        np.testing.assert_allclose(ds.t, [0.0, 0.01, 0.02, 0.03])
        np.testing.assert_array_equal(ds.u[2, :, :, 0], tensor[2])


def test_attributes_merge_with_name_and_win(pdebench_file):
    path, _ = pdebench_file("ReacDiff_Nu0.5_Rho1.0.hdf5", attrs={"Nu": 0.5, "rho": 1.0})
    with datasets.load(path) as ds:
        assert ds.params == {"nu": 0.5, "rho": 1.0}
    path, _ = pdebench_file("1D_Advection_Sols_beta0.4.hdf5", attrs={"beta": 0.2})
    with pytest.warns(UserWarning, match="file name says beta=0.4"):
        ds = datasets.load(path)
    assert ds.params == {"beta": 0.2}
    ds.close()


@pytest.mark.parametrize(
    "name, params",
    [
        ("1D_Advection_Sols_beta0.4.hdf5", {"beta": 0.4}),
        ("/a/b/1D_Burgers_Sols_Nu0.001.hdf5", {"nu": 0.001}),
        ("ReacDiff_Nu0.5_Rho1.0.hdf5", {"nu": 0.5, "rho": 1.0}),
        ("2D_DarcyFlow_beta100.0_Train.hdf5", {"beta": 100.0}),
        (
            "2D_CFD_Rand_M0.1_Eta0.01_Zeta0.01_periodic_128_Train.hdf5",
            {"m": 0.1, "eta": 0.01, "zeta": 0.01},
        ),
        ("1D_diff-sorp_NA_NA.h5", {}),
    ],
)
def test_params_from_filename(name, params):
    assert datasets.params_from_filename(name) == params


def test_check_finite_names_first_bad_sample(pdebench_file):
    tensor = np.zeros((5, 4, 6), np.float32)
    tensor[3, 1, 2] = np.inf
    tensor[2, 0, 0] = np.nan
    path, _ = pdebench_file(tensor=tensor)
    with datasets.load(path) as ds:  # no scan by default
        with pytest.raises(ValueError, match="sample 2 contains NaN"):
            ds.check_finite()
    with pytest.raises(ValueError, match="sample 2"):
        datasets.load(path, check_finite=True)
    good, _ = pdebench_file(name="ok.hdf5")
    with datasets.load(good, check_finite=True) as ds:
        ds.check_finite()


def test_closed_dataset_cannot_be_read(tmp_path, field):
    u, x, t = field
    path = datasets.write(tmp_path / "f.hdf5", u, x=x, t=t)
    with datasets.load(path) as ds:
        view = ds.u
    with pytest.raises(ValueError, match="closed"):
        view[0]


# ---- bad writes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda u, x, t: (
                np.where(np.arange(4)[:, None, None, None] == 1, np.nan, u),
                x,
                t,
            ),
            "NaN or inf .*sample 1",
        ),
        (lambda u, x, t: (_with_inf(u), x, t), "sample 3"),
        (lambda u, x, t: (u[..., 0], x, t), "rank 4 .*u\\[\\.\\.\\., None\\]"),
        (lambda u, x, t: (u, x[:-1], t), "`x` must be 1-D with 8 entries"),
        (lambda u, x, t: (u, x, np.append(t, 2.0)), "`t` must be 1-D with 3 entries"),
        (lambda u, x, t: (u, x * np.nan, t), "`x` contains NaN"),
        (lambda u, x, t: (u[:0], x, t), "no samples"),
    ],
)
def test_write_rejects_bad_input(tmp_path, field, change, match):
    u, x, t = change(*field)
    with pytest.raises(ValueError, match=match):
        datasets.write(tmp_path / "bad.hdf5", u, x=x, t=t)
    assert list(tmp_path.iterdir()) == []


def _with_inf(u):
    u = u.copy()
    u[3, 2, 1, 0] = -np.inf
    return u


def test_write_rejects_bad_y_and_params(tmp_path, field):
    u, x, t = field
    u2 = np.zeros((2, 3, 8, 4, 1), np.float32)
    with pytest.raises(ValueError, match="`y` must be 1-D with 4 entries"):
        datasets.write(tmp_path / "a.hdf5", u2, x=x, t=t, y=np.arange(5.0))
    with pytest.raises(ValueError, match="rank 5"):
        datasets.write(tmp_path / "a.hdf5", u, x=x, t=t, y=np.arange(8.0))
    with pytest.raises(ValueError, match="reserved"):
        datasets.write(tmp_path / "a.hdf5", u, x=x, t=t, params={"sciml_seed": 1})
    with pytest.raises(ValueError, match="number or a string"):
        datasets.write(tmp_path / "a.hdf5", u, x=x, t=t, params={"beta": [1, 2]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_write_leaves_no_file(tmp_path, field, monkeypatch, error):
    u, x, t = field
    from sciml.datasets import _hdf5

    def explode(*args, **kwargs):
        raise error("midway")

    monkeypatch.setattr(_hdf5, "_coordinate", explode)  # after the tensor is written
    with pytest.raises(error):
        datasets.write(tmp_path / "f.hdf5", u, x=x, t=t)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_stream_keeps_previous_file(tmp_path, field):
    u, x, t = field
    path = datasets.write(tmp_path / "f.hdf5", u, x=x, t=t)

    def chunks():
        yield u[:2]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        datasets.write(path, chunks(), x=x, t=t)
    assert [p.name for p in tmp_path.iterdir()] == ["f.hdf5"]
    with datasets.load(path) as ds:
        np.testing.assert_array_equal(ds.u[...], u)


# ---- bad reads ----------------------------------------------------------------


def test_load_missing_file(tmp_path):
    missing = tmp_path / "nope.hdf5"
    with pytest.raises(FileNotFoundError, match="nope.hdf5"):
        datasets.load(missing)


def test_load_not_hdf5(tmp_path):
    path = tmp_path / "text.hdf5"
    path.write_text("hello")
    with pytest.raises(ValueError, match="text.hdf5 is not an HDF5 file"):
        datasets.load(path)


def test_load_truncated(tmp_path, field):
    u, x, t = field
    path = datasets.write(tmp_path / "f.hdf5", u, x=x, t=t)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="f.hdf5"):
        datasets.load(path)


def test_load_wrong_keys(tmp_path):
    path = tmp_path / "other.hdf5"
    with h5py.File(path, "w") as file:
        file["data"] = np.zeros(3)
        file["x-coordinate"] = np.zeros(3)
    with pytest.raises(ValueError) as info:
        datasets.load(path)
    message = str(info.value)
    assert "other.hdf5" in message and "['data', 'x-coordinate']" in message
    assert "'tensor'" in message and "'t-coordinate'" in message and "Fix" in message


def test_load_pdebench_group_per_sample_file(tmp_path):
    """A diffusion-sorption file laid out as PDEBench writes it (one group a sample,
    no sciml attributes) loads lazily with the right shapes and values."""
    path = tmp_path / "1D_diff-sorp_NA_NA.h5"
    with h5py.File(path, "w") as file:
        for i in range(3):
            file[f"{i:04d}/data"] = np.full((5, 4, 1), float(i), np.float32)
            file[f"{i:04d}/grid/x"] = (np.arange(4) + 0.5) / 4
            file[f"{i:04d}/grid/t"] = np.linspace(0, 500, 5)
        file.attrs["config"] = json.dumps({})
    with datasets.load(path) as ds:
        assert ds.u.shape == (3, 5, 4, 1)
        np.testing.assert_array_equal(ds.u[2], np.full((5, 4, 1), 2.0))
        np.testing.assert_allclose(ds.t, np.linspace(0, 500, 5))


def test_load_mismatched_coordinates(tmp_path):
    path = tmp_path / "m.hdf5"
    with h5py.File(path, "w") as file:
        file["tensor"] = np.zeros((2, 4, 6), np.float32)
        file["x-coordinate"] = np.zeros(6)
        file["t-coordinate"] = np.zeros(7)
    with pytest.raises(ValueError, match="expected 4 .* or 5"):
        datasets.load(path)
    with h5py.File(path, "r+") as file:
        del file["t-coordinate"]
        file["t-coordinate"] = np.zeros(4)
        del file["x-coordinate"]
        file["x-coordinate"] = np.zeros(5)
    with pytest.raises(ValueError, match="x-coordinate"):
        datasets.load(path)
