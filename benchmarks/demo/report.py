"""The demo's table: what `make demo` reports, from its committed results."""

from benchmarks._report import load_group, seconds, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("demo", FOLDER, spread=spread)
    fno = g.find(model="FNO", metric="nRMSE")
    ode = g.find(model="ODE-Net", metric="convergence verdict")
    rows = [
        [fno["model"], fno["variant"], "held-out rollout nRMSE", g.cell(model="FNO")],
        [
            ode["model"],
            ode["variant"],
            "convergence verdict (own error at the plateau)",
            f"{ode['value']} ("
            + g.cell(model="ODE-Net", metric="plateau (own error)")
            + ")",
        ],
        [
            "`sciml demo`",
            "the whole command",
            "wall time",
            g.cell(fmt=seconds, metric="wall_s"),
        ],
    ]
    header = ["model", "setting", "metric", "result"]
    return {"summary": table(header, rows, f"Source: {g.source()}.")}
