"""The performance harness's tables, from the committed results of
`benchmarks/perf`."""

from benchmarks._report import ROOT, load_scale, ratio, table

HEADER = [
    "training step", "side", "one step", "side's", "ratio",
    "XLA's FLOPs / bytes per step", "one step's GFLOP/s / GB/s",
    "of peak (FLOP/s / bytes/s)", "load average",
]  # fmt: skip
PROFILE_HEADER = [
    "training step", "one step", "XLA operations busy",
    "largest XLA operations (ms per step, calls per step)",
]  # fmt: skip


def _fraction(t: dict) -> str:
    peak = t.get("peak_fraction")
    if not peak:
        return "n/a"
    return f"{peak['flops']:.1%} / {peak['bytes']:.1%}"


def _row(t: dict) -> list[str]:
    side = t["peer"].replace("k steps", f"{t['k']} steps per call")
    return [
        t["label"], side,
        f"{t['ours_s'] * 1e3:.2f} ms", f"{t['peer_s'] * 1e3:.2f} ms",
        ratio(t["ratio"]),
        f"{t['flops_per_step'] / 1e6:.0f} M / {t['bytes_per_step'] / 1e6:.0f} MB",
        f"{t['flop_per_s'] / 1e9:.1f} / {t['bytes_per_s'] / 1e9:.1f}",
        _fraction(t), str(t["load_average"]),
    ]  # fmt: skip


def _profile_row(t: dict) -> list[str]:
    profile = t.get("profile") or {}
    ops = ", ".join(
        f"`{op['op']}` {op['ms_per_step']:.2f} (x{op['calls_per_step']:.0f})"
        for op in profile.get("ops", [])[:3]
    )
    busy = profile.get("busy_ms_per_step")
    return [
        t["label"], f"{t['ours_s'] * 1e3:.2f} ms",
        "n/a" if busy is None else f"{busy:.2f} ms", ops or "n/a",
    ]  # fmt: skip


def tables(spread: bool = False) -> dict[str, str]:
    """`perf/steps` and `perf/profile` once a run is committed."""
    if not any((ROOT / "perf" / "results").glob("quick-*")):
        return {}
    g = load_scale("perf", "quick", spread=spread)
    timings = g.latest["timings"]
    peak = g.latest.get("peak", {}).get("source", "not recorded")
    caption = (
        "Time per training step (forward, loss, backward, Adam) in the loop "
        "`sciml.training.fit` runs, median over interleaved rounds: one step per "
        "compiled call, against `k` steps per call (`steps_per_call=k`, one "
        "`lax.scan` over `k` stacked batches) and against the one-step loop "
        "with the data-parallel placement on a one-device mesh (`fit(mesh=...)`'s "
        "extra work). Ratio = the side's time / one step's: below 1 the side is "
        "faster. FLOPs and bytes: XLA's cost analysis of the compiled one-step "
        "function (bytes count every access, cached or not: above 100 % of a "
        f"memory bandwidth means the step works in cache). Peak: {peak}. "
        f"Source: {g.source()}."
    )
    once = [t for t in timings if t["peer"] == "k steps"]
    profile_caption = (
        "Where one compiled step spends its time, from `jax.profiler`'s trace of "
        "the one-step loop: the time per step all XLA operations were busy (on "
        "a CPU several run at once, so it can exceed the step; far below the "
        "step, the step waits on dispatch and the host), and the three "
        "operations (fusions, library calls) with the most time per step; "
        "control flow's containers are left out, their bodies' operations are "
        "counted. Names are XLA's, in the step's optimised HLO. "
        f"Source: {g.source()}."
    )
    return {
        "steps": table(HEADER, [_row(t) for t in timings], caption),
        "profile": table(
            PROFILE_HEADER, [_profile_row(t) for t in once], profile_caption
        ),
    }
