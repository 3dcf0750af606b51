"""Checksummed files: bytes corrupted on disk are reported with the sample they hit.

Each writer's per-sample datasets carry HDF5's Fletcher-32 filter; the tests flip
bytes inside one sample's chunk and check that the lazy view, `check_finite` and
`load(check_finite=True)` name the file and that sample.
"""

import h5py
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets import _load

N = 6


def flip(path, name, sample):
    """Flip a few bytes inside the chunk of `name` (a dataset path) holding `sample`
    (`name` may contain `{i}` for a group-per-sample layout)."""
    first = 0 if "{i}" in name else sample  # a group's dataset is one chunk
    with h5py.File(path, "r") as file:
        dataset = file[name.format(i=f"{sample:04d}")]
        coord = (first,) + (0,) * (dataset.ndim - 1)
        info = dataset.id.get_chunk_info_by_coord(coord)
    raw = bytearray(path.read_bytes())
    for k in range(3):
        raw[info.byte_offset + 4 + k] ^= 0xFF
    path.write_bytes(raw)


@pytest.fixture
def u():
    return np.random.default_rng(0).standard_normal((N, 3, 8, 1)).astype(np.float32)


def write_tensor(path, u):
    return datasets.write(path, u, x=np.arange(8.0), t=np.arange(3.0))


def write_fields(path, u):
    chunks = [{"tensor": u[:4, :1, :, 0], "nu": u[:4, 0]}]
    chunks.append({"tensor": u[4:, :1, :, 0], "nu": u[4:, 0]})
    return datasets.write_fields(
        path, chunks, coordinates={"x-coordinate": np.arange(8.0)}
    )


def write_groups(path, u):
    blocks = [u[:4], u[4:]]
    return datasets.write_groups(
        path, blocks, x=np.arange(8.0), t=np.arange(3.0), config={"a": 1}
    )


# writer, the dataset corrupted, how to read that sample's data from the dataset
CASES = {
    "write": (write_tensor, "tensor", lambda ds: ds.u),
    "write_fields tensor": (write_fields, "tensor", lambda ds: ds.u),
    "write_fields nu": (write_fields, "nu", lambda ds: ds.fields["nu"]),
    "write_groups": (write_groups, "{i}/data", lambda ds: ds.u),
}


def test_every_per_sample_dataset_is_checksummed(tmp_path, u):
    names = {"write": ["tensor"], "write_fields": ["tensor", "nu"]}
    names["write_groups"] = [f"{i:04d}/data" for i in range(N)]
    writers = {"write": write_tensor, "write_fields": write_fields}
    writers["write_groups"] = write_groups
    for writer, expected in names.items():
        path = writers[writer](tmp_path / f"{writer}.hdf5", u)
        with h5py.File(path, "r") as file:
            for name in expected:
                assert file[name].fletcher32, (writer, name)
                assert file[name].chunks is not None
        with datasets.load(path, check_finite=True) as ds:  # an intact file reads
            np.testing.assert_array_equal(
                ds.u[...].reshape(N, -1)[:, :8], u[:, 0, :, 0]
            )


@pytest.mark.parametrize("case", CASES)
def test_lazy_view_names_the_corrupted_sample(tmp_path, u, no_typecheck, case):
    writer, name, view_of = CASES[case]
    path = writer(tmp_path / "f.hdf5", u)
    flip(path, name, 3)
    with datasets.load(path) as ds:
        view = view_of(ds)
        intact = view[2]  # the other samples still read
        np.testing.assert_array_equal(intact.ravel()[:8], u[2, 0, :, 0])
        for index in (3, slice(None), slice(1, 5), np.array([0, 3, 5]), (3, 0)):
            with pytest.raises(ValueError, match=r"sample 3 of .* cannot be read") as e:
                view[index]
            assert str(path) in str(e.value)
            assert "sample 2" not in str(e.value)
        with pytest.raises(ValueError, match="reading samples 1 to 4 failed"):
            view[1:5]


@pytest.mark.parametrize("case", CASES)
def test_check_finite_names_the_corrupted_sample(tmp_path, u, no_typecheck, case):
    writer, name, _ = CASES[case]
    path = writer(tmp_path / "f.hdf5", u)
    flip(path, name, 4)
    with datasets.load(path) as ds:  # opening reads no sample
        with pytest.raises(ValueError, match="sample 4 of") as e:
            ds.check_finite()
    assert str(path) in str(e.value)
    assert "reading samples 0 to 5 failed" in str(e.value)  # the block, narrowed
    with pytest.raises(ValueError, match=r"sample 4 of .* cannot be read"):
        datasets.load(path, check_finite=True)


def test_check_finite_narrows_within_its_block(tmp_path, u, monkeypatch, no_typecheck):
    """Blocks of two samples: the failing block is named, and inside it the sample;
    two corrupted samples in one block are both named."""
    path = write_tensor(tmp_path / "f.hdf5", u)
    flip(path, "tensor", 2)
    flip(path, "tensor", 3)
    flip(path, "tensor", 5)
    monkeypatch.setattr(_load, "_CHECK_BYTES", 2 * u[0].nbytes)
    with datasets.load(path) as ds:
        with pytest.raises(ValueError, match="samples 2 to 3 of `tensor` cannot be"):
            ds.check_finite()
        with pytest.raises(ValueError, match=r"samples 3, 5 .*reading samples 1, 3, 5"):
            ds.u[[1, 3, 5]]


def test_check_finite_scans_fields_for_nan(tmp_path, u):
    path = write_fields(tmp_path / "f.hdf5", u)
    with h5py.File(path, "r+") as file:
        file["nu"][4, 1, 0] = np.nan
    with datasets.load(path) as ds:
        with pytest.raises(ValueError, match="sample 4 of `nu` contains NaN"):
            ds.check_finite()
