import json
import math

import matplotlib
import pytest

from sciml import cli
from sciml._commands import _demo_job as _demo


def strict_json(text: str):
    """Parse JSON as the standard defines it: NaN and Infinity are errors."""

    def refuse(constant):
        raise ValueError(f"{constant} is not valid JSON")

    return json.loads(text, parse_constant=refuse)


def test_parser_knows_demo():
    args = cli.build_parser().parse_args(["demo", "--out", "x", "--seed", "3"])
    assert args.out == "x" and args.seed == 3
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["nope"])


def test_demo_runs_end_to_end_at_a_tiny_size(tmp_path, monkeypatch):
    """The whole slice at toy sizes: files, plots, report and printed figures; the
    summary is valid JSON, and the user's matplotlib backend is left alone."""
    monkeypatch.setattr(_demo, "ADVECTION", dict(beta=0.4, nx=64, nt=6, n_samples=20))
    monkeypatch.setattr(_demo, "N_TEST", 4)
    monkeypatch.setattr(_demo, "FNO_STEPS", 20)
    monkeypatch.setattr(_demo, "ODE_TRAIN_STEPS", 20)
    backend = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        assert cli.main(["demo", "--out", str(tmp_path), "--no-progress"]) == 0
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(backend)
    for name in ("report.md", "loss.png", "fno_rollout.png", "convergence.png"):
        assert (tmp_path / name).stat().st_size > 0
    summary = strict_json((tmp_path / "summary.json").read_text())
    assert summary["odenet_verdict"] in {"PASS", "FAIL", "INCONCLUSIVE"}
    assert summary["fno_nrmse_rollout"] > 0
    order = summary["odenet_observed_order"]
    assert order is None or math.isfinite(order)
    report = (tmp_path / "report.md").read_text()
    assert "nRMSE" in report and summary["odenet_verdict"] in report
    words = " ".join(report.split())  # Markdown: a line break is a space
    assert "PDEBench's finite-volume scheme" in words
    assert "exact periodic solution" not in words
    assert (tmp_path / "fno" / "model.eqx").exists()


def test_demo_json_turns_nan_and_inf_into_null(tmp_path):
    path = tmp_path / "s.json"
    _demo._write_json(path, {"order": float("nan"), "big": float("inf"), "x": 1.5})
    assert strict_json(path.read_text()) == {"order": None, "big": None, "x": 1.5}
