"""The separable-PIG tables, from the committed results of `benchmarks/pig-separable`:
the training step on as many points, and the final errors with the verdict."""

import math

from benchmarks._report import load_group, ratio, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
PROBLEMS = [("klein_gordon", "Klein-Gordon (2+1)-D"), ("helmholtz", "Helmholtz 2-D")]
DENSE = "dense, random points, final model"
GRID = "product grid, final model"
GRID_SAME = "product grid, PIG's training time, final model"
POINTWISE_SAME = "random points, PIG's training time, final model"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _err(row: dict) -> str:
    return "diverged" if row["value"] is None else f"{row['value']:.3g}"


def _load(run: dict) -> str:
    start = run.get("settings", {}).get("load_average_start")
    end = run["load_average"]
    return f"load average (1, 5, 15 min) {start} at the start, {end} at the end"


def _step(g, name: str, variant: str) -> dict:
    return g.find(
        "timings",
        what=lambda w: w.startswith(f"{name}: training step, {variant} vs dense"),
    )


def _steps(g) -> str:
    rows = []
    for name, label in PROBLEMS:
        grid = _step(g, name, "SeparablePIG grid")
        point = _step(g, name, "SeparablePIG pointwise")
        points = g.find(task=name, variant=DENSE)["param"]["points"]
        n = g.latest["settings"]["problems"][name]["grid"]
        d = round(math.log(points) / math.log(n))
        rows.append(
            [
                label,
                f"{points} ({n}^{d} on the grid)",
                _ms(grid["peer_s"]),
                _ms(grid["ours_s"]),
                ratio(grid["ratio"]),
                _ms(point["ours_s"]),
                ratio(point["ratio"]),
            ]
        )
    header = [
        "problem",
        "residual points",
        "dense PIG",
        "SeparablePIG, grid",
        "dense / grid",
        "SeparablePIG, pointwise",
        "dense / pointwise",
    ]
    s = g.latest
    caption = (
        f"One training step (loss, gradient and Adam update; `make_step`, float32, "
        f"warm): dense `PIG` with `PINNLoss` on random points, `SeparablePIG` with "
        f"`GridPINNLoss` on a product grid of as many points (drawn anew each "
        f"step), and `SeparablePIG` with `PINNLoss` on the same random points; the same "
        f"condition points for all. Median of {s['settings']['reps']} interleaved "
        f"rounds in one run; a ratio above 1 is faster than dense PIG. A shared "
        f"2-core CPU, {_load(s)}. Source: {g.source()}."
    )
    return table(header, rows, caption)


def _within(run: dict, budget_s: float) -> str:
    """The error at the run's last evaluation within `budget_s` of training (that
    step's model is the final model of a run of that many steps)."""
    inside = [c for c in run["curve"] if c[1] <= budget_s]
    if not inside or inside[-1][0] == run["param"]["steps"]:
        return ""
    step, t, err = inside[-1]
    return f"; {err:.3g} at step {step}, {t:.0f} s"


def _verdict(v: dict, same: dict) -> str:
    if v["pays_off"] is None:
        return "no verdict (a run diverged)"
    if v["pays_off"]:
        return f"yes: reached dense PIG's final error {v['sooner']:.2g}x sooner"
    if v.get("sooner"):
        return (
            f"no: reached dense PIG's final error {v['sooner']:.2g}x sooner, then "
            f"training collapsed (final {_err(same)})"
        )
    return "no: never reached dense PIG's final error"


def _errors(g) -> str:
    rows = []
    verdicts = {v["problem"]: v for v in g.latest["verdicts"]}
    for name, label in PROBLEMS:
        dense = g.find(task=name, variant=DENSE)
        grid = g.find(task=name, variant=GRID)
        same = g.find(task=name, variant=GRID_SAME)
        point = g.find(task=name, variant=POINTWISE_SAME)
        v = verdicts[name]
        paper = dense["paper"], same["paper"]
        budget = dense["wall_s"]
        rows.append(
            [
                label,
                f"{_err(dense)} ({dense['param']['steps']} steps, {budget:.0f} s)",
                f"{_err(grid)} ({grid['param']['steps']} steps, {grid['wall_s']:.0f} s)",
                f"{_err(same)} ({same['param']['steps']} steps, {same['wall_s']:.0f} s"
                f"{_within(same, budget)})",
                f"{_err(point)} ({point['param']['steps']} steps, "
                f"{point['wall_s']:.0f} s{_within(point, budget)})",
                f"{paper[0]:.3g} / " + ("–" if paper[1] is None else f"{paper[1]:.3g}"),
                _verdict(v, same),
            ]
        )
    header = [
        "problem",
        "dense PIG",
        "SeparablePIG, grid (same steps)",
        "SeparablePIG, grid (PIG's time)",
        "SeparablePIG, pointwise (PIG's time)",
        "paper: PIG / separable PIG",
        "pays off?",
    ]
    s = g.latest
    caption = (
        f"Relative L2 error of the FINAL model on each problem's test grid, one "
        f"seed ({s['settings']['seed']}), scale `quick` (a reduction, not the "
        f"paper's recipe): Adam at the PIG sheet's rate and decay; dense PIG for "
        f"{s['settings']['steps']} steps, each separable variant for as many steps "
        f"as fit dense PIG's training time at its measured step time (and the grid "
        f"variant also after {s['settings']['steps']} steps: the same run's model "
        f"there). Training time only; the training loop fetches each step's batch "
        f"from the point sampler, a cost the step timing leaves out, so the "
        f"separable runs took longer than dense PIG's: after the "
        f"semicolon, the error at the last evaluation within dense PIG's time (the "
        f"model of that step is the final model of a run that long). Pays off: the "
        f"grid variant, trained for dense PIG's training time, ends below dense "
        f"PIG's final error (how much sooner it first reached that error, at "
        f"log-spaced evaluations). The paper's "
        f"numbers are best-seen test errors of its full recipe (PIG: Table 1; "
        f"separable PIG: a figure, for Klein-Gordon and a 3-D Helmholtz, so none "
        f"for this 2-D one). Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("pig-separable", FOLDER, spread=spread)
    return {"steps": _steps(g), "errors": _errors(g)}
