"""Fixtures for the dataset tests: small fields and raw PDEBench-style files."""

import h5py
import numpy as np
import pytest


@pytest.fixture
def field():
    """A small 1-D field (samples=4, t=3, x=8, channels=1) and its grid."""
    rng = np.random.default_rng(0)
    u = rng.standard_normal((4, 3, 8, 1)).astype(np.float32)
    x = (np.arange(8) + 0.5) / 8
    t = np.linspace(0.0, 1.0, 3)
    return u, x, t


@pytest.fixture
def pdebench_file(tmp_path):
    """Write a file as PDEBench does (raw h5py, no sciml attributes, T+1 times)."""

    def _write(name="1D_Advection_Sols_beta0.4.hdf5", tensor=None, attrs=None):
        if tensor is None:
            tensor = np.arange(5 * 4 * 6, dtype=np.float32).reshape(5, 4, 6)
        path = tmp_path / name
        with h5py.File(path, "w") as file:
            file["tensor"] = tensor
            file["x-coordinate"] = (np.arange(tensor.shape[2]) + 0.5) / tensor.shape[2]
            file["t-coordinate"] = np.arange(tensor.shape[1] + 1) * 0.01
            for key, value in (attrs or {}).items():
                file.attrs[key] = value
        return path, tensor

    return _write
