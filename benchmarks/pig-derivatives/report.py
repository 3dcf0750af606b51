"""The derivative-engine tables, from the committed results of
`benchmarks/pig-derivatives`: the time of nested reverse mode divided by each
engine's, measured in one run (above 1 is faster than nested reverse mode)."""

import re

from benchmarks._report import Group, load_group, ratio, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
OTHERS = ("forward_over_reverse", "forward", "jet")  # beside auto and taylor
OPERATORS = ("laplacian", "d(x,x)", "d(", "grad")  # table order (by prefix)
RESIDUALS = {
    "helmholtz": "Helmholtz",
    "allen-cahn": "Allen-Cahn",
    "klein-gordon": "Klein-Gordon",
    "flow mixing": "flow mixing (first order)",
    "nonlinear diffusion": "nonlinear diffusion",
    "navier-stokes (steady)": "steady Navier-Stokes",
}
TASK = re.compile(r"^(?P<model>[^:]+): (?P<label>.+), (?P<points>\d+) points$")


def _runs(g: Group) -> dict[tuple[str, str], dict]:
    """(model, label) -> {"reverse_s": ..., engine: ratio, "diff": worst float64
    difference from nested reverse mode over the engines}, in the run's order."""
    out: dict[tuple[str, str], dict] = {}
    run = g.latest
    for t in run["timings"]:
        task, engine = t["what"].rsplit("; ", 1)
        m = TASK.match(task)
        row = out.setdefault((m["model"], m["label"]), {"reverse_s": t["peer_s"]})
        row[engine] = t["ratio"]
    for a in run.get("agreement", []):
        m = TASK.match(a["what"])
        row = out[(m["model"], m["label"])]
        row["diff"] = max(row.get("diff", 0.0), a["max_rel_diff"])
    return out


def _best_other(row: dict) -> str:
    name = max(OTHERS, key=lambda e: row.get(e, 0.0))
    return f"{ratio(row[name])} ({name})"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _flags(run: dict) -> str:
    flags = run.get("settings", {}).get("xla_flags")
    return f" `XLA_FLAGS={flags}` (as `sciml bench pig` runs)." if flags else ""


def _caption(g: Group, what: str) -> str:
    run = g.latest
    s = run.get("settings", {})
    start = s.get("load_average_start")
    load = (
        f"load average (1, 5, 15 min) {start} at the start, {run['load_average']} at "
        f"the end"
        if start
        else f"load average {run['load_average']}"
    )
    return (
        f"{what} Ratio = time of nested reverse mode / time of the engine, measured "
        f"in one run (interleaved rounds, median of {s.get('reps', '?')}; above 1 is "
        f"faster); `{s.get('dtype', 'float32')}`, {s.get('points', '?')} points, "
        f"`jit` and `vmap`, warm. `auto` is what `Derivatives` runs by default; best "
        f"other: the fastest of {', '.join(f'`{e}`' for e in OTHERS)}. float64 diff: "
        f"the largest difference of any engine from nested reverse mode in float64 "
        f"on 64 points, relative to max(1, max |reference|). A shared 2-core CPU, "
        f"{load}.{_flags(run)} Source: {g.source()}."
    )


def _engines(g: Group) -> str:
    runs = _runs(g)
    rows = []
    for (model, label), r in runs.items():
        if "residual" in label:
            continue
        rows.append(
            [
                model,
                label,
                _ms(r["reverse_s"]),
                ratio(r["auto"]),
                ratio(r["taylor"]),
                _best_other(r),
                f"{r['diff']:.0e}",
            ]
        )
    header = [
        "model",
        "operator",
        "nested reverse",
        "auto",
        "taylor",
        "best other",
        "float64 diff",
    ]
    return table(header, rows, _caption(g, "Operators, one `Derivatives` each."))


def _residuals(g: Group) -> str:
    runs = _runs(g)
    rows = []
    for (model, label), r in runs.items():
        if not label.endswith(" residual"):
            continue
        name = label[: -len(" residual")]
        step = runs[(model, f"{name} residual-loss gradient")]
        rows.append(
            [
                RESIDUALS.get(name, name),
                model,
                _ms(r["reverse_s"]),
                ratio(r["auto"]),
                ratio(r["taylor"]),
                _best_other(r),
                _ms(step["reverse_s"]),
                ratio(step["auto"]),
                ratio(step["taylor"]),
                _best_other(step),
                f"{max(r['diff'], step['diff']):.0e}",
            ]
        )
    header = [
        "residual",
        "model",
        "nested reverse",
        "auto",
        "taylor",
        "best other",
        "training step: nested reverse",
        "auto",
        "taylor",
        "best other",
        "float64 diff",
    ]
    return table(
        header,
        rows,
        _caption(
            g,
            "The PIG problems' residuals (specs/pig.md §4) and the training step "
            "through each (the gradient of the mean squared residual with respect to "
            "the model's parameters).",
        ),
    )


def _summary(g: Group) -> str:
    runs = _runs(g)
    models = list(dict.fromkeys(model for model, _ in runs))
    rows = []
    for model in models:
        mine = {label: r for (m, label), r in runs.items() if m == model}
        lap = [r["auto"] for label, r in mine.items() if label.startswith("laplacian")]
        res = [r["auto"] for label, r in mine.items() if label.endswith(" residual")]
        step = [r["auto"] for label, r in mine.items() if label.endswith("gradient")]
        span = lambda v: (  # noqa: E731
            "–"
            if not v
            else ratio(v[0])
            if len(v) == 1
            else f"{ratio(min(v))} to {ratio(max(v))}"
        )
        rows.append([model, span(lap), span(res), span(step)])
    header = ["model", "Laplacian", "residuals", "training steps"]
    s = g.latest
    caption = (
        f"`Derivatives` (engine `auto`) against nested reverse mode: time of nested "
        f"reverse mode / time of `auto`, one run, {s['settings']['points']} points, "
        f"float32, a shared 2-core CPU (load average {s['load_average']} at the "
        f"end);{_flags(s)} The lowest residual and training-step ratios are the "
        f"first-order flow-mixing residual's, where nested reverse mode is one "
        f"reverse pass. Every engine agrees with nested reverse mode to "
        f"{max(r['diff'] for r in runs.values()):.0e} in float64. Per operator and "
        f"engine: docs/pinns.md. Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("pig-derivatives", FOLDER, spread=spread)
    return {"engines": _engines(g), "residuals": _residuals(g), "summary": _summary(g)}
