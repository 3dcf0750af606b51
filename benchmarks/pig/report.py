"""The PIG table, from the committed results of `benchmarks/pig`."""

from benchmarks._report import load_group, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
PROBLEMS = [
    ("allen_cahn", "Allen-Cahn"),
    ("helmholtz", "Helmholtz"),
    ("nonlinear_diffusion", "nonlinear diffusion"),
    ("flow_mixing", "flow mixing"),
    ("klein_gordon", "Klein-Gordon"),
]


def _table1(g) -> str:
    rows = []
    for task, label in PROBLEMS:
        entries = [r for r in g.latest["rows"] if r["task"] == task]
        if not entries:
            continue
        cells = [label]
        for model in ("PIG", "MLP"):
            if not any(r["model"] == model for r in entries):
                cells += ["–", "–"]
                continue
            entry = g.find(task=task, model=model, metric="relative L2")
            text = g.cell(task=task, model=model, metric="relative L2")
            if entry.get("diverged"):
                steps = ", ".join(str(d["step"]) for d in entry["diverged"])
                text = (
                    f"diverged (step {steps})"
                    if text == "–"
                    else f"{text}; diverged (step {steps})"
                )
            cells.append(text)
            cells.append(g.cell("paper", task=task, model=model, metric="relative L2"))
        cells.append(
            g.cell(
                "per_iteration_s", lambda s: f"{s * 1e3:.0f} ms", task=task, model="PIG"
            )
        )
        rows.append(cells)
    header = [
        "problem",
        "PIG (ours, final)",
        "PIG (paper, best seen)",
        "MLP PINN (ours, final)",
        "PINN (paper)",
        "PIG time / iteration",
    ]
    s = g.latest
    caption = (
        f"Relative L2 error on each problem's test grid of the FINAL model, mean over "
        f"seeds {s['seeds']}; the paper's PIG numbers are the best test error its "
        f"scripts saw during training, its PINN numbers the baselines' own papers'. "
        f"Scale `{s['scale']}`: a reduction of the paper's training (steps, points, "
        f"Gaussians in `settings`), not its setting. Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("pig", FOLDER, spread=spread)
    return {"table1": _table1(g)}
