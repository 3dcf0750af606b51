"""The PIG table, from the committed results of `benchmarks/pig`."""

from benchmarks._report import ROOT, load_group, ratio, seconds, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
CPU_FOLDER = "cpu-cpu-intel-r-xeon-r-processor"
PAPER_CPU_FOLDER = "paper-cpu-intel-r-xeon-r-processor"
# an MLP that ends above this error has learned next to nothing (an untrained net is
# near 1): reaching it says nothing, so the table sets no target there
MEANINGFUL = 0.9
PROBLEMS = [
    ("allen_cahn", "Allen-Cahn"),
    ("helmholtz", "Helmholtz"),
    ("nonlinear_diffusion", "nonlinear diffusion"),
    ("flow_mixing", "flow mixing"),
    ("klein_gordon", "Klein-Gordon"),
]


def _runs_of(g, task: str) -> list[tuple[str, str]]:
    """The optimisers the latest run trained PIG with on `task`, Adam first."""
    found = {r.get("optimizer", "Adam") for r in g.latest["rows"] if r["task"] == task}
    return [(task, o) for o in ("Adam", "L-BFGS") if o in found]


def _table1(g) -> str:
    rows = []
    for task, label in PROBLEMS:
        for _, optimizer in _runs_of(g, task):
            rows.append(_table1_row(g, task, label, optimizer))
    header = [
        "problem",
        "PIG (ours, final)",
        "PIG (paper, best seen)",
        "MLP PINN (ours, final)",
        "PINN (paper)",
        "PIG time / iteration",
    ]
    s = g.latest
    scale = (
        "Scale `paper`: the paper's recipe (steps, points, Gaussians in `settings`)"
        if s["scale"] == "paper"
        else f"Scale `{s['scale']}`: a reduction of the paper's training (steps, "
        f"points, Gaussians in `settings`), not its setting"
    )
    caption = (
        f"Relative L2 error on each problem's test grid of the FINAL model, mean over "
        f"seeds {s['seeds']}, trained with Adam (and L-BFGS where the paper used it); "
        f"the paper's PIG numbers are the best test error its "
        f"scripts saw during training, its PINN numbers the baselines' own papers'. "
        f"{scale}. Source: {g.source()}."
    )
    return table(header, rows, caption)


def _is(optimizer: str):
    """A test for a row's optimiser (rows before L-BFGS was added name none: Adam)."""
    return lambda have: (have or "Adam") == optimizer


def _table1_row(g, task: str, label: str, optimizer: str) -> list[str]:
    entries = [
        r
        for r in g.latest["rows"]
        if r["task"] == task and r.get("optimizer", "Adam") == optimizer
    ]
    cells = [label if optimizer == "Adam" else f"{label}, {optimizer}"]
    for model in ("PIG", "MLP"):
        if not any(r["model"] == model for r in entries):
            cells += ["–", "–"]
            continue
        match = dict(task=task, model=model, optimizer=_is(optimizer))
        entry = g.find(metric="relative L2", **match)
        text = g.cell(metric="relative L2", **match)
        if entry.get("std") is not None:
            text += f" ± {entry['std']:.2g}"
        if entry.get("diverged"):
            steps = ", ".join(str(d["step"]) for d in entry["diverged"])
            text = (
                f"diverged (step {steps})"
                if text == "–"
                else f"{text}; diverged (step {steps})"
            )
        cells.append(text)
        cells.append(g.cell("paper", metric="relative L2", **match))
    cells.append(
        g.cell(
            "per_iteration_s",
            lambda s: f"{s * 1e3:.0f} ms",
            task=task,
            model="PIG",
            optimizer=_is(optimizer),
        )
    )
    return cells


def _speed(g) -> str:
    rows = []
    for task, label in PROBLEMS:
        hits = [t for t in g.latest["timings"] if t["what"].startswith(f"{task}:")]
        if len(hits) != 2:
            continue
        per_it, reach = hits
        reached = reach["ours_s"] is not None
        mlp = g.find(task=task, model="MLP", optimizer=_is("Adam"))["value"]
        cells = [
            label,
            f"{per_it['ours_s'] * 1e3:.0f} ms",
            f"{per_it['peer_s'] * 1e3:.0f} ms",
            f"{mlp:.3g}",
        ]
        if mlp >= MEANINGFUL:
            cells += ["–", "–", f"no target (MLP final error ≥ {MEANINGFUL})"]
        else:
            cells += [
                seconds(reach["ours_s"]) if reached else "not reached",
                seconds(reach["peer_s"]),
                ratio(reach["ratio"]) if reached else "–",
            ]
        rows.append(cells)
    header = [
        "problem",
        "PIG / iteration",
        "MLP PINN / iteration",
        "MLP final error",
        "PIG: time to the MLP's final error",
        "MLP PINN: time to its final error",
        "PIG sooner by",
    ]
    curve = max((c for r in g.latest["rows"] for c in r.get("curves", [])), key=len)
    at = ", ".join(str(step) for step, _, _ in curve)
    caption = (
        "Training time only (the first steps include compilation; the test error "
        f"is evaluated after steps {at}, untimed, so a time to reach is that of "
        f"the first evaluation at or below the error), Adam on the "
        f"same points, mean over the seeds where both ran; the last column is the "
        f"MLP's time over PIG's. Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("pig", FOLDER, spread=spread)
    tables = {"table1": _table1(g)}
    if any("reach the MLP" in t["what"] for t in g.latest["timings"]):
        tables["speed"] = _speed(g)
    if (ROOT / "pig" / "results" / CPU_FOLDER).is_dir():
        cpu = load_group("pig", CPU_FOLDER, spread=spread)
        tables["table1-cpu"] = _table1(cpu)
        tables["speed-cpu"] = _speed(cpu)
    if (ROOT / "pig" / "results" / PAPER_CPU_FOLDER).is_dir():
        # the paper's recipe for the problems cheap enough to run it on the CPU
        paper = load_group("pig", PAPER_CPU_FOLDER, spread=spread)
        tables["table1-paper-cpu"] = _table1(paper)
    return tables
