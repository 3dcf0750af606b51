"""The demo's figures as a results file: `sciml demo` run as a user runs it.

    python -m benchmarks.demo.run

Runs `sciml demo` (the command behind `make demo`) in a subprocess into a temporary
folder and records its `summary.json`: the FNO's held-out rollout nRMSE on the
advection data it generates, and the ODE-Net's convergence verdict with its
plateau. The wall time is the whole command's, install excluded. There is one
scale (the demo's own sizes), recorded as `quick`.

Results: `benchmarks/demo/results/quick-<device>/<date>-<commit>.json` (one file a run, and its `.md`).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._results import write_results


def _row(metric, value, model, variant, **extra):
    return {
        "task": "demo",
        "param": {},
        "split": "held-out",
        "model": model,
        "variant": variant,
        "metric": metric,
        "value": value,
        "seeds": 1,
        "std": None,
        "paper": None,
        **extra,
    }


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["quick"], default="quick")
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "sciml.cli", "demo", "--out", tmp]
        t0 = time.perf_counter()
        subprocess.run([*command, "--no-progress"], check=True)
        wall = time.perf_counter() - t0
        summary = json.loads(Path(tmp, "summary.json").read_text())
    fno = "FNO, advection beta = 0.4, 256 cells x 41 frames, 40-step rollouts"
    ode = "ODE-Net (MLP in RK4, dt = 0.1) on the pendulum"
    rows = [
        _row("nRMSE", summary["fno_nrmse_rollout"], "FNO", fno),
        _row(
            "convergence verdict",
            summary["odenet_verdict"],
            "ODE-Net",
            ode,
            note=summary["odenet_reason"],
        ),  # fmt: skip
        _row("plateau (own error)", summary["odenet_plateau"], "ODE-Net", ode),
        _row("wall_s", wall, "sciml demo", "whole command"),
    ]
    path = write_results("demo", "quick", rows, [], extra={"summary": summary})
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
