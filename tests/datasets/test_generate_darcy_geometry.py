"""`generate_darcy_geometry`: the file layout and attributes, `load`, the saved
pressure against an independent masked stencil, zero outside the mask, determinism
by seed and chunk invariance, a byte-identical resume, the registry, bad input."""

import h5py
import numpy as np
import pytest

from sciml import datasets, solvers
from sciml.datasets._generators import darcy_geometry

N, NX = 3, 16


@pytest.fixture(scope="module")
def circle_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("darcy_geometry")
    return datasets.generate_darcy_geometry(
        out=out, geometry="circle", n_samples=N, nx=NX, chunk_size=2, seed=3
    )


def _masked_stencil(u, a, mask, h):
    """-div(a grad u) on the inside cells, written independently of the solver: the
    mean of `a` on a face between two inside cells, `2 a` (u = 0 on the face) on a
    face to an outside cell or to the box."""
    n = u.shape[0]
    out = np.zeros_like(u)
    for i, j in zip(*np.nonzero(mask), strict=True):
        total = 0.0
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            k, m = i + di, j + dj
            if 0 <= k < n and 0 <= m < n and mask[k, m]:
                total += 0.5 * (a[i, j] + a[k, m]) * (u[i, j] - u[k, m])
            else:
                total += 2.0 * a[i, j] * u[i, j]
        out[i, j] = total / h**2
    return out


def test_file_layout_and_load(circle_file):
    assert circle_file.name == "2D_DarcyFlow_Geometry_circle.hdf5"
    assert (
        datasets.darcy_geometry_filename("square_cross")
        == "2D_DarcyFlow_Geometry_square_cross.hdf5"
    )
    centres = -1.0 + 2.0 * (np.arange(NX) + 0.5) / NX
    with h5py.File(circle_file) as file:
        assert file["tensor"].shape == (N, 1, NX, NX)
        for key in ("nu", "log_nu", "mask"):
            assert file[key].shape == (N, NX, NX)
        assert {file[k].dtype for k in ("tensor", "nu", "log_nu", "mask")} == {
            np.dtype(np.float32)
        }
        np.testing.assert_allclose(file["x-coordinate"][()], centres, rtol=1e-6)
        np.testing.assert_allclose(file["y-coordinate"][()], centres, rtol=1e-6)
        assert "t-coordinate" not in file
        assert file.attrs["beta"] == 1.0 and file.attrs["geometry"] == "circle"
        assert file.attrs["sciml_generator"] == "darcy_geometry"
    with datasets.load(circle_file) as ds:
        assert ds.u.shape == (N, 1, NX, NX, 1)
        assert ds.params["geometry"] == "circle" and ds.params["beta"] == 1.0
        assert ds.provenance["params"]["length_scale"] == 0.2
        assert ds.provenance["params"]["sigma"] == 1.0
        h = ds.u[:, 0, :, :, 0].astype(np.float64)
        k = ds.fields["nu"][...].astype(np.float64)
        log_k = ds.fields["log_nu"][...].astype(np.float64)
        masks = ds.fields["mask"][...]
    mask = solvers.geometry_mask("circle", NX)
    np.testing.assert_array_equal(masks, np.broadcast_to(mask, (N, NX, NX)))
    np.testing.assert_allclose(k, np.exp(log_k), rtol=1e-6)
    assert not np.array_equal(k[0], k[1])
    for i in range(N):
        assert np.all(h[i][~mask] == 0.0)
        assert np.all(h[i][mask] > 0.0)
        residual = _masked_stencil(h[i], k[i], mask, 2.0 / NX)
        # f = 1 inside, up to the float32 rounding of the stored fields
        np.testing.assert_allclose(residual[mask], 1.0, rtol=1e-4)


def test_determinism_by_seed_and_chunking(tmp_path, circle_file):
    again = datasets.generate_darcy_geometry(
        out=tmp_path / "a", geometry="circle", n_samples=N, nx=NX, chunk_size=3, seed=3
    )
    other_seed = datasets.generate_darcy_geometry(
        out=tmp_path / "b", geometry="circle", n_samples=N, nx=NX, seed=4
    )
    other_shape = datasets.generate_darcy_geometry(
        out=tmp_path / "c", geometry="triangle", n_samples=N, nx=NX, seed=3
    )
    with h5py.File(circle_file) as old, h5py.File(again) as new:
        np.testing.assert_array_equal(new["nu"][()], old["nu"][()])
        np.testing.assert_array_equal(new["log_nu"][()], old["log_nu"][()])
        np.testing.assert_allclose(new["tensor"][()], old["tensor"][()], rtol=1e-6)
        with h5py.File(other_seed) as seed4, h5py.File(other_shape) as triangle:
            assert not np.array_equal(seed4["nu"][0], old["nu"][0])
            # each geometry draws its own permeabilities
            assert not np.array_equal(triangle["nu"][0], old["nu"][0])
            inside = triangle["mask"][0] == 1
            assert np.all(triangle["tensor"][:, 0][:, ~inside] == 0.0)


def test_registered_and_resumes_byte_identically(tmp_path, monkeypatch):
    assert "darcy_geometry" in datasets.list_generators()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    settings = dict(geometry="square_cross", n_samples=4, nx=10, seed=1, chunk_size=2)
    whole = datasets.generate("darcy_geometry", out=tmp_path / "a", **settings)

    real = darcy_geometry.write_fields

    def interrupted(path, chunks, **kwargs):
        def source(first=0):
            for k, block in enumerate(chunks(first)):
                if k == 1:
                    raise KeyboardInterrupt
                yield block

        return real(path, source, **kwargs)

    monkeypatch.setattr(darcy_geometry, "write_fields", interrupted)
    with pytest.raises(KeyboardInterrupt):
        datasets.generate("darcy_geometry", out=tmp_path / "b", **settings)
    monkeypatch.setattr(darcy_geometry, "write_fields", real)
    path = tmp_path / "b" / whole.name
    assert not path.exists()
    resumed = datasets.generate(
        "darcy_geometry", out=tmp_path / "b", resume=True, **settings
    )
    assert resumed == path
    assert resumed.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"geometry": "hexagon"}, ValueError, "geometry must be one of"),
        ({"nx": 2}, ValueError, "nx must be >= 4"),
        ({"nx": 8.0}, TypeError, "nx must be an integer"),
        ({"beta": 0.0}, ValueError, "beta must be > 0"),
        ({"sigma": -1.0}, ValueError, "sigma must be >= 0"),
        ({"length_scale": 0.0}, ValueError, "length_scale must be > 0"),
        ({"boundary": "dirichlet"}, ValueError, "boundary must be one of"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    settings = {"n_samples": 1, "nx": 8, **params}
    with pytest.raises(error, match=match):
        datasets.generate_darcy_geometry(out=tmp_path, **settings)
    assert list(tmp_path.iterdir()) == []
