"""The results file every benchmark writes (see DESIGN.md, "Results files").

Each run writes a new file and never erases an earlier one:
`benchmarks/<name>/results/<scale>-<device-slug>/<UTC date>-<commit>.json`, with a
Markdown table beside it. The folder is the history of that benchmark, scale and
device; `benchmarks._report` reads the latest run of each and the spread across
them.
"""

import datetime
import json
import os
import pathlib
import re
import subprocess
from typing import Any

import jax

from benchmarks._cpu import HOST_MEMORY


def device_name() -> str:
    """The accelerator's name, e.g. "NVIDIA H100 80GB HBM3", or the CPU's."""
    dev = jax.devices()[0]
    if dev.platform == "cpu":
        try:
            for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return f"CPU: {line.split(':', 1)[1].strip()}"
        except OSError:
            pass
        return "CPU"
    return dev.device_kind


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]


def git_commit() -> str:
    """The checkout's commit (with "-dirty" if tracked files changed), or
    `$SCIML_COMMIT` where the code runs from a copy without git (a device machine)."""
    if os.environ.get("SCIML_COMMIT"):
        return os.environ["SCIML_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(*packages: str) -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("jax", "jaxlib", "equinox", "diffrax", "sciml-jax", *packages):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def write_results(
    benchmark: str,
    scale: str,
    rows: list[dict[str, Any]],
    timings: list[dict[str, Any]],
    *,
    extra: dict[str, Any] | None = None,
    packages: tuple[str, ...] = (),
    out_dir: str | pathlib.Path | None = None,
) -> pathlib.Path:
    """Write the JSON results file and its Markdown table; return the JSON path.

    **Arguments:**

    - `benchmark`, `scale`: names, e.g. `"convergence"`, `"quick"`.
    - `rows`: accuracy rows, each with `task`, `param`, `split`, `model`, `variant`,
      `metric`, `value`, `seeds`, `std`, `paper` (None where no published number).
    - `timings`: `what`, `ours_s`, `peer`, `peer_s`, `ratio`, measured in one run.
    - `extra`: any further fields (settings, notes).
    - `packages`: extra package names whose versions to record (peers).
    - `out_dir`: the folder of the `<scale>-<device>/` folders; default
      `benchmarks/<benchmark>/results`, or `$SCIML_RESULTS_DIR/<benchmark>/results`
      where that variable is set (`benchmarks/gpu.sh` sends a run's files there).
    """
    device = device_name()
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    root = os.environ.get("SCIML_RESULTS_DIR") or pathlib.Path(__file__).parent
    out_dir = pathlib.Path(out_dir or pathlib.Path(root) / benchmark / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": benchmark,
        "scale": scale,
        "device": device,
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(*packages),
        "load_average": load,
        "host_memory": dict(HOST_MEMORY),
        "rows": rows,
        "timings": timings,
        **(extra or {}),
    }
    path = out_dir / f"{scale}-{slug(device)}" / run_file_name(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # two runs in one second on one commit: keep both
        path = path.with_name(f"{path.stem}-{os.getpid()}.json")
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n")
    path.with_suffix(".md").write_text(markdown(data))
    return path


def run_file_name(data: dict[str, Any]) -> str:
    """`<date>-<commit>.json` for a results dict: sorting the names sorts the runs
    by time (the date is UTC, ISO 8601 without separators)."""
    stamp = re.sub(r"[^0-9T]", "", data["date"].split("+")[0])
    return f"{stamp}Z-{data['commit'][:12]}.json"


def _plain(value):
    try:
        return value.item()
    except AttributeError:
        return str(value)


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def markdown(data: dict[str, Any]) -> str:
    """A Markdown rendering of a results dict: a header, the rows, the timings."""
    lines = [
        f"# {data['benchmark']} — {data['scale']}",
        "",
        f"Device: {data['device']}; commit {data['commit'][:12]}; {data['date']}."
        + (
            f" Load average at the end (1, 5, 15 min): {data['load_average']}."
            if data.get("load_average")
            else ""
        ),
        "",
    ]
    if data["rows"]:
        cols = [
            "task",
            "param",
            "split",
            "model",
            "variant",
            "metric",
            "value",
            "std",
            "seeds",
            "paper",
        ]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in data["rows"]:
            lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
        lines.append("")
    if data["timings"]:
        cols = ["what", "ours_s", "peer", "peer_s", "ratio"]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in data["timings"]:
            lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
        lines.append("")
    return "\n".join(lines)
