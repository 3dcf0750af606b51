import json

import pytest

from sciml import _demo, cli


def test_parser_knows_demo():
    args = cli.build_parser().parse_args(["demo", "--out", "x", "--seed", "3"])
    assert args.out == "x" and args.seed == 3
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["nope"])


def test_demo_runs_end_to_end_at_a_tiny_size(tmp_path, monkeypatch):
    """The whole slice at toy sizes: files, plots, report and printed figures."""
    monkeypatch.setattr(_demo, "ADVECTION", dict(beta=0.4, nx=64, nt=6, n_samples=20))
    monkeypatch.setattr(_demo, "N_TEST", 4)
    monkeypatch.setattr(_demo, "FNO_STEPS", 20)
    monkeypatch.setattr(_demo, "ODE_TRAIN_STEPS", 20)
    assert cli.main(["demo", "--out", str(tmp_path), "--no-progress"]) == 0
    for name in ("report.md", "loss.png", "fno_rollout.png", "convergence.png"):
        assert (tmp_path / name).stat().st_size > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["odenet_verdict"] in {"PASS", "FAIL", "INCONCLUSIVE"}
    assert summary["fno_nrmse_rollout"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "nRMSE" in report and summary["odenet_verdict"] in report
    assert (tmp_path / "fno" / "model.eqx").exists()
