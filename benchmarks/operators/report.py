"""The operator speed table, from the committed results of `benchmarks/operators`."""

from benchmarks._report import ROOT, load_scale, ratio, table


def _speed(g) -> str:
    s = g.latest
    rows = []
    for t in s["timings"]:
        rows.append(
            [
                t["label"] + ("" if t["what"].endswith("step") else ", rollout"),
                t["peer"],
                f"{t['ours_s'] * 1e3:.1f} ms",
                f"{t['peer_s'] * 1e3:.1f} ms",
                ratio(t["ratio"]),
                f"{t['ours_first_s']:.1f} s / {t['peer_first_s']:.1f} s",
                f"{t['ours_params']:,} / {t['peer_params']:,}",
                str(t["load_average"]),
            ]
        )
    configs = s["settings"]["configs"]
    unet = {
        t["config"]: configs[t["config"]]
        for t in s["timings"]
        if configs[t["config"]].get("model") == "unet"
    }
    steps = " and ".join(
        f"{c['rollout_steps']} ({len(c['grid'])}-D)" for c in unet.values()
    )
    caption = (
        "Training step (forward, MSE, backward, Adam) and full autoregressive "
        'rollout: `sciml.operators.FNO` (`transform="auto"`) against each other '
        "side, median over interleaved rounds in one process; ratio = the other "
        "side's time / ours (above 1: ours is faster). `sciml (fft)` is our FNO "
        "with the FFT-and-scatter spectral layer. First step: compile (ours) or "
        "first eager step (torch); the first side built also pays the first "
        "JAX compilations of the process. Ours and PDEBench pad the grid by 2 "
        "points (PDEBench's default; 258 in 1-D), neuraloperator runs unpadded "
        "(256): a little less work on its side. Parameters: real numbers (a complex weight "
        "counts twice). "
        + (
            'U-Net rows: `sciml.operators.UNet` with `norm="group"` against '
            "PDEBench's `UNet1d`/`UNet2d` (BatchNorm: batch statistics in the step, "
            "running ones in the rollout), one frame to the next, rollouts of "
            f"{steps} steps; the same parameters (GroupNorm's affine weights for "
            "BatchNorm's). "
            if unet
            else ""
        )
        + f"Torch eager, {s['versions'].get('torch', '?')}; "
        f"{s['cores']} cores. Source: {g.source()}."
    )
    header = [
        "configuration",
        "other side",
        "sciml",
        "other",
        "ratio",
        "first step (sciml / other)",
        "parameters (sciml / other)",
        "load average",
    ]
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    """`operators/speed` once a run is committed."""
    if not any((ROOT / "operators" / "results").glob("quick-*")):
        return {}
    return {"speed": _speed(load_scale("operators", "quick", spread=spread))}
