"""`sciml convergence run` on a model saved by `sciml.training.fit`."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciml import cli, convergence, solvers, training
from sciml.nn import MLP
from sciml.operators import ODENet


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """An ODE-Net (Euler, dt = 0.1) trained a few steps on pendulum pairs."""
    run_dir = tmp_path_factory.mktemp("run")
    pendulum = solvers.Pendulum()
    traj = pendulum.trajectories(
        pendulum.sample_initial_conditions(8), 0.1 * np.arange(6)
    ).astype(np.float32)
    batch = {
        "input": traj[:, :-1].reshape(-1, 2),
        "target": traj[:, 1:].reshape(-1, 2),
    }

    def loss(model, batch, key):
        err = jnp.mean((jax.vmap(model)(batch["input"]) - batch["target"]) ** 2)
        return err, {}

    model = ODENet(MLP(2, 2, width=8, depth=1, key=jax.random.key(0)), "euler", 0.1)
    training.fit(
        model, loss, lambda i: batch, optax.adam(1e-2), steps=5, run_dir=run_dir,
        progress=False,
    )  # fmt: skip
    return run_dir


def test_cli_runs_on_a_saved_model(saved_model, tmp_path, capsys):
    out = tmp_path / "conv"
    argv = ["convergence", "run", str(saved_model / "model.eqx"), "--system",
            "pendulum", "--solvers", "rk4", "--out", str(out), "--n-ic", "4",
            "--fine", "3", "--coarse", "1"]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split(":")[0] in {"PASS", "FAIL", "INCONCLUSIVE"}
    data = json.loads((out / "convergence.json").read_text())
    assert list(data["sweeps"]) == ["euler", "rk4"]  # the training solver is added
    assert data["dt_train"] == 0.1 and len(data["dts"]) == 5
    assert data["t1"] == pytest.approx(2.0)
    assert (out / "convergence.png").stat().st_size > 1000
    # a run_dir works too, and --strict turns a non-PASS into exit status 1
    strict = ["convergence", "run", str(saved_model), "--system", "pendulum",
              "--solvers", "euler", "--out", str(out), "--n-ic", "2", "--fine", "2",
              "--coarse", "1", "--strict"]  # fmt: skip
    code = cli.main(strict)
    verdict = json.loads((out / "convergence.json").read_text())["verdict"]
    assert code == (0 if verdict == "PASS" else 1)


def test_cli_bad_input(saved_model, tmp_path, capsys):
    base = ["convergence", "run", str(saved_model), "--out", str(tmp_path)]
    assert cli.main([*base, "--system", "nope"]) == 2
    assert "Unknown system 'nope'" in capsys.readouterr().err
    assert cli.main([*base, "--system", "lorenz63"]) == 2  # 3 states, model has 2
    assert "shape (3,)" in capsys.readouterr().err
    missing = ["convergence", "run", str(tmp_path / "none"), "--system", "pendulum"]
    assert cli.main(missing) == 2
    assert "No model file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["convergence", "run", str(saved_model)])  # --system is required


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("sciml convergence run: error: ")
    return err


def test_cli_unwritable_out(saved_model, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    base = ["convergence", "run", str(saved_model), "--system", "pendulum",
            "--solvers", "rk4", "--n-ic", "2", "--fine", "2", "--coarse", "1"]  # fmt: skip
    assert cli.main([*base, "--out", str(tmp_path / "file" / "conv")]) == 2
    assert "Cannot write to the output folder" in one_line_error(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_cli_read_only_out(saved_model, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    base = ["convergence", "run", str(saved_model), "--system", "pendulum",
            "--solvers", "rk4", "--n-ic", "2", "--fine", "2", "--coarse", "1"]  # fmt: skip
    assert cli.main([*base, "--out", str(locked)]) == 2
    assert "Cannot write to the output folder" in one_line_error(capsys)


def test_cli_zero_initial_conditions(saved_model, tmp_path, capsys):
    argv = ["convergence", "run", str(saved_model), "--system", "pendulum",
            "--out", str(tmp_path), "--n-ic", "0"]  # fmt: skip
    assert cli.main(argv) == 2
    err = one_line_error(capsys)
    with pytest.raises(ValueError) as library:
        convergence.test(solvers.Pendulum().vector_field, np.zeros((0, 2)), 1.0,
                         "rk4", [0.5, 0.25, 0.125])  # fmt: skip
    assert str(library.value) in err
