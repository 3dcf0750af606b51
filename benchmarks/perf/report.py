"""The performance harness's table, from the committed results of
`benchmarks/perf`."""

from benchmarks._report import ROOT, load_scale, ratio, table

HEADER = [
    "training step", "side", "one step", "side's", "ratio",
    "XLA's FLOPs / bytes per step", "one step's GFLOP/s / GB/s", "load average",
]  # fmt: skip


def _row(t: dict) -> list[str]:
    side = t["peer"].replace("k steps", f"{t['k']} steps per call")
    return [
        t["label"], side,
        f"{t['ours_s'] * 1e3:.2f} ms", f"{t['peer_s'] * 1e3:.2f} ms",
        ratio(t["ratio"]),
        f"{t['flops_per_step'] / 1e6:.0f} M / {t['bytes_per_step'] / 1e6:.0f} MB",
        f"{t['flop_per_s'] / 1e9:.1f} / {t['bytes_per_s'] / 1e9:.1f}",
        str(t["load_average"]),
    ]  # fmt: skip


def tables(spread: bool = False) -> dict[str, str]:
    """`perf/steps` once a run is committed."""
    if not any((ROOT / "perf" / "results").glob("quick-*")):
        return {}
    g = load_scale("perf", "quick", spread=spread)
    caption = (
        "Time per training step (forward, MSE, backward, Adam) in the loop "
        "`sciml.training.fit` runs, median over interleaved rounds: one step per "
        "compiled call, against `k` steps per call (`steps_per_call=k`, one "
        "`lax.scan` over `k` stacked batches) and against the one-step loop "
        "with the data-parallel placement on a one-device mesh (`fit(mesh=...)`'s "
        "extra work). Ratio = the side's time / one step's: below 1 the side is "
        "faster. FLOPs and bytes: XLA's cost analysis of the compiled one-step "
        "function; the fraction of the device's peak is not given for a CPU. "
        f"Source: {g.source()}."
    )
    return {"steps": table(HEADER, [_row(t) for t in g.latest["timings"]], caption)}
