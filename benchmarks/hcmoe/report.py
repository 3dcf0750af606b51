"""The PI-HC-MoE tables, from the committed results of `benchmarks/hcmoe`."""

from benchmarks._report import ROOT, load_scale, ratio, table

VARIANTS = ("PI-SC", "PI-HC", "PI-HC-MoE")
SPLITS = [
    ("diffusion_sorption", "test", "diffusion-sorption"),
    ("diffusion_sorption", "extrapolation", "diffusion-sorption, t > 400 s"),
    ("navier_stokes", "test", "Navier-Stokes"),
]


def _pm(row) -> str:
    return f"{row['value']:.2f} ± {row['std']:.2f}"


def _paper(row) -> str:
    if row.get("paper") is None:
        return "–"
    return f"{row['paper']:.2f} ± {row['paper_std']:.2f}"


def _accuracy(g) -> str:
    rows = []
    for task, split, label in SPLITS:
        cells = [label]
        for variant in VARIANTS:
            row = g.find(task=task, split=split, variant=variant)
            cells += [_pm(row), _paper(row)]
        moe = g.find(task=task, split=split, variant="PI-HC-MoE")
        jump = moe.get("interface_jump")
        cells.append("–" if jump is None else f"{jump:.2g}")
        rows.append(cells)
    header = ["problem"]
    for v in VARIANTS:
        header += [f"{v} (ours, final)", f"{v} (paper)"]
    header.append("MoE interface jump (RMS)")
    run = g.latest
    settings = run["settings"]
    caption = (
        f"Relative L2 error (%) on held-out samples of the FINAL model, mean ± std "
        f"over the test samples, one seed, at scale `{run['scale']}` (DS "
        f"{settings['ds']['nx']} cells x 101 frames, {settings['ds']['steps']} "
        f"steps; NS {settings['ns']['nx']}² x {settings['ns']['nt']} frames, "
        f"{settings['ns']['steps']} steps; the paper trains 4000 DS steps on 1024 "
        f"cells and 20 NS epochs on 64³), so far from the paper's budget. "
        f"Source: {g.source()}."
    )
    return table(header, rows, caption)


def _speed(g) -> str:
    rows = []
    for t in g.latest["timings"]:
        if t.get("phase") not in ("train", "inference"):
            continue
        rows.append(
            [
                t["task"].replace("_", "-"),
                t["phase"],
                f"{t['points']:,}",
                f"{t['peer_s'] * 1e3:.0f} ms",
                f"{t['ours_s'] * 1e3:.0f} ms",
                ratio(t["ratio"]),
                "–" if t.get("paper") is None else ratio(t["paper"]),
            ]
        )
    header = [
        "problem",
        "phase",
        "points (total)",
        "PI-HC",
        "PI-HC-MoE (K = 4)",
        "MoE speed-up",
        "paper (A100)",
    ]
    caption = (
        "Time per batch of 2, median of interleaved rounds after a compiling call, "
        "freshly initialised basis networks; MoE splits the points over its 4 "
        f"experts. Load average {g.latest['load_average']}. Source: {g.source()}."
    )
    return table(header, rows, caption)


def _experts(g) -> str:
    rows = []
    for t in g.latest["timings"]:
        if t.get("phase") != "sweep":
            continue
        k = t["experts_k"]
        row = g.find(variant=f"MoE K={k}")
        rows.append(
            [
                str(k),
                f"{row['points_per_expert']:,}",
                f"{t['ours_s'] * 1e3:.0f} ms",
                f"{t['infer_s'] * 1e3:.0f} ms",
                _pm(row),
                f"{row['interface_jump']:.2g}" if row.get("interface_jump") else "–",
            ]
        )
    header = [
        "experts K",
        "points each",
        "train step",
        "inference / sample",
        "relative L2 % (final)",
        "interface jump",
    ]
    settings = g.latest["settings"]
    caption = (
        f"Diffusion-sorption, the experts along x, {settings['experts']['steps']} "
        f"training steps each (not in the paper). Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    out = {}
    for scale, suffix in (("quick", ""), ("cpu", "-cpu")):
        if scale != "quick" and not list(
            (ROOT / "hcmoe" / "results").glob(f"{scale}-*")
        ):
            continue
        g = load_scale("hcmoe", scale, spread=spread)
        out[f"accuracy{suffix}"] = _accuracy(g)
        out[f"speed{suffix}"] = _speed(g)
        out[f"experts{suffix}"] = _experts(g)
    return out
