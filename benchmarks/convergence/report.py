"""The convergence-test tables, from the committed results of
`benchmarks/convergence` (Krishnapriyan et al., Commun. Phys. 6:319, 2023)."""

from benchmarks._report import load_group, ratio, seconds, table

FOLDER = "paper-cpu-intel-r-xeon-r-processor"
SYSTEMS = ("harmonic_oscillator", "pendulum", "lotka_volterra", "lorenz63")
TRAINERS = ("euler", "rk4")


def _verdicts(g) -> str:
    rows = []
    for system in SYSTEMS:
        cells = [system.replace("_", " ")]
        for trainer in TRAINERS:
            groups = [
                r
                for r in g.latest["rows"]
                if r["task"] == system
                and r["metric"] == "verdict"
                and r["model"] == f"ODE-Net ({trainer}-trained)"
            ]
            passed = sum(r["value"] == "PASS" for r in groups)
            nets = sum(len(r["verdicts"]) for r in groups)
            cells.append(f"{passed} of {len(groups)} PASS ({nets} nets)")
        rows.append(cells)
    header = ["system", "Euler-trained ODE-Nets", "RK4-trained ODE-Nets"]
    s = g.latest["settings"]
    caption = (
        f"One group is one training step `dt_train` ({s['seeds']} seeds). MLPs "
        f"{s.get('width', '?')}x{s.get('depth', '?')}, {s['steps']} training steps; "
        f"the whole run took {seconds(g.latest['wall_s'])}. Source: {g.source()}."
    )
    return table(header, rows, caption)


def _refinement(g) -> str:
    rows = []
    for split, label in [
        ("interp", "held-out initial conditions"),
        ("new_ic", "initial conditions from a 25 % wider box"),
        ("horizon_2x", "a 2x longer horizon"),
    ]:
        cells = [label]
        for verdict in ("PASS", "FAIL"):
            cells.append(
                g.cell(
                    fmt="{:.2f}",
                    split=split,
                    variant="geometric mean",
                    model=lambda m, v=verdict: m is not None and m.startswith(v),
                )
            )
        rows.append(cells)
    header = ["test", "passing models", "failing models"]
    caption = (
        "RMSE of a trajectory run at dt_train / 4 over its RMSE at dt_train "
        f"(geometric mean over models). Source: {g.source()}."
    )
    return table(header, rows, caption)


def _timings(g) -> str:
    rows = []
    for t in g.latest["timings"]:
        if "warm" not in t["what"]:
            continue
        rows.append(
            [
                t["peer"],
                g.cell(
                    "peer_s", seconds, kind="timings", what=t["what"], peer=t["peer"]
                ),
                g.cell(
                    "ours_s", seconds, kind="timings", what=t["what"], peer=t["peer"]
                ),
                g.cell("ratio", ratio, kind="timings", what=t["what"], peer=t["peer"]),
            ]
        )
    what = next(t["what"] for t in g.latest["timings"] if "warm" in t["what"])
    header = ["way to run the sweep", "its time", "`convergence.test`", "ratio"]
    return table(header, rows, f"{what}. Source: {g.source()}.")


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("convergence", FOLDER, spread=spread)
    return {
        "verdicts": _verdicts(g),
        "refinement": _refinement(g),
        "timings": _timings(g),
    }
