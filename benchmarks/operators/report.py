"""The operator speed table, from the committed results of `benchmarks/operators`."""

from benchmarks._report import ROOT, load_scale, ratio, table

MODES = ("default", "reuse")
"""glibc's malloc in a run (`--host-memory`); runs from before the option had its
defaults."""


def _mode(run: dict) -> str:
    return run.get("host_memory_mode", "default")


def _speed(group) -> str:
    groups = [group.holding(lambda r, m=m: _mode(r) == m) for m in MODES]
    groups = [g for g in groups if g is not None]
    s = groups[-1].latest
    rows = []
    for g in groups:
        for t in g.latest["timings"]:
            rows.append(_row(t, _mode(g.latest)))
    sources = "; ".join(f"{_mode(g.latest)} malloc: {g.source()}" for g in groups)
    return table(HEADER, rows, _caption(s, sources))


def _row(t: dict, mode: str) -> list[str]:
    return [
        t["label"] + ("" if t["what"].endswith("step") else ", rollout"),
        mode,
        t["peer"],
        f"{t['ours_s'] * 1e3:.1f} ms",
        f"{t['peer_s'] * 1e3:.1f} ms",
        ratio(t["ratio"]),
        f"{t['ours_first_s']:.1f} s / {t['peer_first_s']:.1f} s",
        f"{t['ours_params']:,} / {t['peer_params']:,}",
        str(t["load_average"]),
    ]


def _caption(s: dict, sources: str) -> str:
    configs = s["settings"]["configs"]
    unet = {
        t["config"]: configs[t["config"]]
        for t in s["timings"]
        if configs[t["config"]].get("model") == "unet"
    }
    steps = " and ".join(
        f"{c['rollout_steps']} ({len(c['grid'])}-D)" for c in unet.values()
    )
    cape = any(configs[t["config"]].get("model") == "cape" for t in s["timings"])
    return (
        "Training step (forward, MSE, backward, Adam) and full autoregressive "
        'rollout: `sciml.operators.FNO` (`transform="auto"`) against each other '
        "side, median over interleaved rounds, ours in one process and the "
        "PyTorch peers in another; ratio = the other "
        "side's time / ours (above 1: ours is faster). `sciml (fft)` is our FNO "
        "with the FFT-and-scatter spectral layer. First step: compile (ours) or "
        "first eager step (torch); the first side built also pays the first "
        "JAX compilations of the process. malloc: glibc's defaults in both "
        "processes, or `sciml.training.reuse_host_memory()` in both. Ours and PDEBench pad the grid by 2 "
        "points (PDEBench's default; 258 in 1-D), neuraloperator runs unpadded "
        "(256): a little less work on its side. Parameters: real numbers (a complex weight "
        "counts twice). "
        + (
            'U-Net rows: `sciml.operators.UNet` with `norm="group"` against '
            "PDEBench's `UNet1d`/`UNet2d` (BatchNorm: batch statistics in the step, "
            "running ones in the rollout), one frame to the next, rollouts of "
            f"{steps} steps; the same parameters (GroupNorm's affine weights for "
            "BatchNorm's); ours runs XLA's convolution op (`conv=\"auto\"`), "
            '`sciml (matmul conv)` is the same U-Net with `conv="matmul"` (the '
            "stacked taps times the flattened kernel, the default before "
            "`canonical_conv`), its step only. "
            if unet
            else ""
        )
        + (
            "CAPE rows: `sciml` is the CAPE-conditioned model (`Conditioned`, "
            'mode="cape"), `sciml (base)` the bare base at about the same '
            "parameter count, PDEBench's the bare base; the parameter reaches "
            "only ours. "
            if cape
            else ""
        )
        + f"Torch eager, {s['versions'].get('torch', '?')}; "
        f"{s['cores']} cores. Sources: {sources}."
    )


HEADER = [
    "configuration",
    "malloc",
    "other side",
    "sciml",
    "other",
    "ratio",
    "first step (sciml / other)",
    "parameters (sciml / other)",
    "load average",
]


def tables(spread: bool = False) -> dict[str, str]:
    """`operators/speed` once a run is committed."""
    if not any((ROOT / "operators" / "results").glob("quick-*")):
        return {}
    return {"speed": _speed(load_scale("operators", "quick", spread=spread))}
