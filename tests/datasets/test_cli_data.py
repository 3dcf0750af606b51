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
    return out / "1D_Advection_Sols_beta0.4_exact.hdf5"


def test_generate_parses_generator_params(advection_file):
    with datasets.load(advection_file) as ds:
        assert ds.u.shape == (3, 6, 32, 1)
        assert ds.provenance["params"]["nx"] == 32  # an int, not "32"
        assert ds.provenance["seed"] == 0
        assert ds.params == {"beta": pytest.approx(0.4)}


def test_generate_types_settings_by_their_defaults(tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_generate(name, **kwargs):
        seen.update(kwargs, name=name)
        return tmp_path / "f.hdf5"

    monkeypatch.setattr(datasets, "generate", fake_generate)
    argv = ["data", "generate", "burgers", "--nu=0.01", "--t-end", "2.5"]
    argv += ["--out", str(tmp_path), "--seed", "4", "--resume", "--cfl", "0.9"]
    argv += ["--no-entropy-fix", "--dtype", "float64", "--n-samples", "7"]
    assert cli.main(argv) == 0
    assert seen == {
        "name": "burgers",
        "out": str(tmp_path),
        "seed": 4,
        "resume": True,
        "nu": 0.01,
        "t_end": 2.5,
        "cfl": 0.9,
        "entropy_fix": False,
        "dtype": "float64",
        "n_samples": 7,
    }
    assert type(seen["seed"]) is int and type(seen["t_end"]) is float
    assert f"wrote {tmp_path / 'f.hdf5'}" in capsys.readouterr().out


def test_generate_unknown_generator_lists_known(tmp_path, capsys):
    assert cli.main(["data", "generate", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown generator 'nope'" in err and "advection" in err


def test_generate_bad_settings(tmp_path, capsys):
    argv = ["data", "generate", "advection", "--beta", "0.4", "--bogus", "1"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    assert "unrecognized arguments: --bogus 1" in capsys.readouterr().err
    assert cli.main(["data", "generate", "advection", "--beta", "--out", "x"]) == 2
    assert "--beta: expected one argument" in capsys.readouterr().err
    assert cli.main(["data", "generate", "advection", "--out", str(tmp_path)]) == 2
    assert "required: --beta" in capsys.readouterr().err
    argv = ["data", "generate", "advection", "--beta", "0.4", "--n-samples", "0"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    assert "n_samples must be >= 1, got 0" in capsys.readouterr().err
    assert cli.main([*argv[:-1], "x", "--out", str(tmp_path)]) == 2
    assert "invalid int value: 'x'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_generate_unwritable_out_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["data", "generate", "advection", "--beta", "0.4", "--nx", "8"]
    assert cli.main([*argv, "--nt", "2", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("sciml data generate: error: cannot write into --out")


def test_generate_help_lists_every_setting(capsys):
    assert cli.main(["data", "generate", "darcy", "--help"]) == 0
    out = capsys.readouterr().out
    for p in datasets.generator_parameters("darcy"):
        assert "--" + p.name.replace("_", "-") in out
        assert p.help, f"darcy's {p.name} has no meaning in its docstring"
    assert "(default: 1000)" in out and "{bumps,lognormal}" in out
    assert "--batch-mean, --no-batch-mean" in out


def test_every_generator_documents_every_setting():
    for name in datasets.list_generators():
        for p in datasets.generator_parameters(name):
            assert p.help, f"{name}: setting {p.name!r} is not in **Arguments:**"


def test_list_shows_the_generators(capsys):
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in datasets.list_generators():
        assert name in out
    assert "sciml data generate NAME --help" in out


def test_values_without_a_typed_default():
    value = data_command._value
    assert [value(v) for v in ("3", "-0.5", "1e-3", "none", "True", "fv")] == [
        3,
        -0.5,
        1e-3,
        None,
        True,
        "fv",
    ]


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


def test_info_reports_a_corrupted_sample(tmp_path, capsys, monkeypatch):
    """Bytes flipped in sample 2's chunk: one error line naming the file, the
    sample and the block read (blocks of two samples), status 2."""
    u = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4, 1)
    path = datasets.write(tmp_path / "f.hdf5", u, x=np.arange(4.0), t=np.arange(3.0))
    with h5py.File(path, "r") as file:
        offset = file["tensor"].id.get_chunk_info_by_coord((2, 0, 0)).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 8] ^= 0xFF
    path.write_bytes(raw)
    monkeypatch.setattr(data_command, "_INFO_BLOCK_BYTES", 2 * u[0].nbytes)
    assert cli.main(["data", "info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"sciml data info: error: {path}: sample 2 of `tensor`")
    assert "reading samples 2 to 3 failed" in err
