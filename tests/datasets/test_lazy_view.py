"""The lazy `u` view: numpy semantics, and reading only the selection."""

import h5py
import numpy as np
import pytest

from sciml import datasets

INDICES = [
    0,
    -1,
    slice(1, 3),
    (slice(None), 2),
    (..., 0),
    (1, slice(None, None, 2)),
    (slice(None, None, -1),),
    (slice(3, 0, -2), 1, ..., slice(0, 1)),
    (slice(None), -1, slice(6, 1, -3), 0),
    [2, 0, 2],
    np.array([3, -4]),
    (np.array([1, 3]), 0, slice(2, 5)),
    slice(5, 5),
    (slice(None), slice(None), slice(4, 2)),
    (0, 0, 0, 0),
    (0, 0, 0, slice(None, None, -1)),
]


@pytest.fixture(params=[1, 2], ids=["one-channel", "two-channels"])
def stored(request, tmp_path):
    u = np.arange(4 * 3 * 8 * request.param, dtype=np.float32)
    u = u.reshape(4, 3, 8, request.param)
    path = datasets.write(tmp_path / "f.hdf5", u, x=np.arange(8.0), t=np.arange(3.0))
    with datasets.load(path) as ds:
        yield ds, u


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_indexing_matches_numpy(stored, index):
    ds, u = stored
    got = ds.u[index]
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, u[index])
    assert got.shape == u[index].shape


@pytest.mark.parametrize(
    "index, error",
    [
        ((0, 0, 0, 0, 0), "too many indices"),
        (4, "out of bounds"),
        (-5, "out of bounds"),
        ((..., ...), "single ellipsis"),
        (0.5, "unsupported index"),
        ((slice(None), [0, 1]), "unsupported index"),
        (np.array([0, 4]), "out of bounds"),
        (None, "unsupported index"),
    ],
)
def test_bad_indices(stored, index, error):
    ds, _ = stored
    with pytest.raises(IndexError, match=error):
        ds.u[index]


def test_asarray_and_attributes(stored):
    ds, u = stored
    np.testing.assert_array_equal(np.asarray(ds.u), u)
    assert np.asarray(ds.u, dtype=np.float64).dtype == np.float64
    assert (ds.u.shape, ds.u.ndim, len(ds.u), ds.u.dtype) == (u.shape, 4, 4, u.dtype)
    assert "LazyArray" in repr(ds.u) and "n_samples=4" in repr(ds)


def test_view_holds_no_data(stored):
    ds, _ = stored
    assert not any(isinstance(v, np.ndarray) for v in vars(ds.u).values())


def test_slicing_reads_only_the_selection(tmp_path, monkeypatch):
    u = np.random.default_rng(0).standard_normal((64, 11, 256, 1)).astype(np.float32)
    x, t = np.arange(256.0), np.arange(11.0)
    path = datasets.write(tmp_path / "big.hdf5", u, x=x, t=t)
    read: list[int] = []
    original = h5py.Dataset.__getitem__

    def spy(self, args, *rest, **kwargs):
        out = original(self, args, *rest, **kwargs)
        if self.name == "/tensor":
            read.append(np.asarray(out).size)
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    with datasets.load(path) as ds:
        assert read == []  # opening reads coordinates only
        np.testing.assert_array_equal(ds.u[17], u[17])
        np.testing.assert_array_equal(ds.u[[40, 3]], u[[40, 3]])
        np.testing.assert_array_equal(ds.u[5:7, 2, ::4], u[5:7, 2, ::4])
    assert read == [11 * 256, 2 * 11 * 256, 2 * 64]
