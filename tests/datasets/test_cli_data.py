"""`sciml data generate` and `sciml data info`, through `sciml.cli.main`."""

import h5py
import numpy as np
import pytest

from sciml import cli, datasets
from sciml._commands import data as data_command

SMALL = ["--nx", "32", "--nt", "6", "--n-samples", "3", "--scheme", "exact"]


@pytest.fixture(scope="module")
def advection_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    assert (
        cli.main(
            [
                "data",
                "generate",
                "advection",
                "--beta",
                "0.4",
                *SMALL,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out / "1D_Advection_Sols_beta0.4.hdf5"


def test_generate_parses_generator_params(advection_file):
    with datasets.load(advection_file) as ds:
        assert ds.u.shape == (3, 6, 32, 1)
        assert ds.provenance["params"]["nx"] == 32  # an int, not "32"
        assert ds.provenance["seed"] == 0
        assert ds.params == {"beta": pytest.approx(0.4)}


def test_generate_prints_path_and_resumes(tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_generate(name, **kwargs):
        seen.update(kwargs, name=name)
        return tmp_path / "f.hdf5"

    monkeypatch.setattr(datasets, "generate", fake_generate)
    argv = ["data", "generate", "burgers", "--nu=0.01", "--t-end", "2.5"]
    argv += ["--out", str(tmp_path), "--seed", "4", "--resume", "--flux", "rusanov"]
    assert cli.main(argv) == 0
    assert seen == {
        "name": "burgers",
        "out": str(tmp_path),
        "seed": 4,
        "resume": True,
        "nu": 0.01,
        "t_end": 2.5,
        "flux": "rusanov",
    }
    assert f"wrote {tmp_path / 'f.hdf5'}" in capsys.readouterr().out


def test_generate_unknown_generator_lists_known(tmp_path, capsys):
    assert cli.main(["data", "generate", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown generator 'nope'" in err and "'advection'" in err


def test_generate_bad_params(tmp_path, capsys):
    argv = ["data", "generate", "advection", "--beta", "0.4", "--bogus", "1"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    assert "unknown parameters ['bogus']" in capsys.readouterr().err
    assert cli.main(["data", "generate", "advection", "--beta", "--out", "x"]) == 2
    assert "--beta needs a value" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_param_values():
    assert data_command._generator_params(
        ["--a", "3", "--b", "-0.5", "--c", "1e-3", "--d", "true", "--e-f", "fv"]
    ) == {"a": 3, "b": -0.5, "c": 1e-3, "d": True, "e_f": "fv"}


def test_info_prints_everything(advection_file, capsys, tmp_path):
    plot = tmp_path / "p.png"
    assert cli.main(["data", "info", str(advection_file), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert str(advection_file) in out
    assert "tensor: shape (3, 6, 32), float32" in out
    assert "x-coordinate: shape (32,), float32" in out
    assert "t-coordinate: shape (6,)" in out
    assert "beta = 0.4" in out
    assert "generator = advection" in out and "seed = 0" in out
    with datasets.load(advection_file) as ds:
        u = ds.u[...]
    assert f"min {u.min():.6g}, max {u.max():.6g}" in out
    assert plot.stat().st_size > 0 and f"plot: {plot}" in out


def test_info_ranges_are_blockwise(tmp_path, capsys, monkeypatch):
    """Tiny blocks (one sample each) give the same per-channel ranges, and count
    non-finite values; a 2-D file plots as images."""
    u = np.arange(4 * 2 * 3 * 2 * 2, dtype=np.float32).reshape(4, 2, 3, 2, 2)
    path = datasets.write(
        tmp_path / "g.hdf5", u, x=np.arange(3.0), y=np.arange(2.0), t=np.arange(2.0)
    )
    with h5py.File(path, "r+") as file:
        file["tensor"][1, 0, 0, 0, 1] = np.nan
    monkeypatch.setattr(data_command, "_INFO_BLOCK_BYTES", 1)
    assert cli.main(["data", "info", str(path), "--plot", str(tmp_path / "i.png")]) == 0
    out = capsys.readouterr().out
    ch0, ch1 = u[..., 0], np.delete(u[..., 1].ravel(), 12)
    assert f"channel 0: min 0, max {ch0.max():.6g}, mean {ch0.mean():.6g}" in out
    assert (
        f"channel 1: min 1, max {ch1.max():.6g}, mean {ch1.mean():.6g}, 1 non-finite"
        in out
    )
    assert "provenance:" in out and (tmp_path / "i.png").stat().st_size > 0


def test_info_bad_files(tmp_path, capsys, advection_file):
    cut = tmp_path / "cut.hdf5"
    data = advection_file.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert cli.main(["data", "info", str(cut)]) == 2
    assert "cut.hdf5" in capsys.readouterr().err
    assert cli.main(["data", "info", str(tmp_path / "missing.hdf5")]) == 2
    assert "missing.hdf5" in capsys.readouterr().err


def test_info_lists_one_of_many_sample_groups(tmp_path):
    path = tmp_path / "1D_diff-sorp_NA_NA.h5"
    with h5py.File(path, "w") as file:
        for i in range(3):
            file[f"{i:04d}/data"] = np.zeros((3, 4, 1), np.float32)
            file[f"{i:04d}/grid/x"] = np.arange(4.0)
    lines = data_command._datasets(path)
    assert lines == [
        "  0000/data: shape (3, 4, 1), float32",
        "  0000/grid/x: shape (4,), float64",
        "  ... and 2 more groups like '0000'",
    ]
