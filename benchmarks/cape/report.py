"""The CAPE tables, from the committed results of `benchmarks/cape`."""

import numpy as np

from benchmarks._report import ROOT, load_scale, table

SCALES = ("cpu", "quick")  # the largest committed scale is reported


def _mean(rows, **match) -> float | None:
    values = [r["value"] for r in rows if all(r.get(k) == v for k, v in match.items())]
    return float(np.mean(values)) if values else None


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _keys(rows):
    seen = []
    for r in rows:
        key = (r["task"], r["model"], r["variant"])
        if key not in seen:
            seen.append(key)
    return seen


def _summary(g) -> str:
    s = g.latest
    rows = s["rows"]
    times = {(t["task"], t["model"], t["variant"]): t for t in s["timings"]}
    out = []
    for task, model, variant in _keys(rows):
        cells = [
            _mean(
                rows,
                task=task,
                model=model,
                variant=variant,
                split=split,
                checkpoint=which,
            )
            for which in ("final", "best_val")
            for split in ("seen", "unseen")
        ]
        params = next(
            r["params"]
            for r in rows
            if (r["task"], r["model"], r["variant"]) == (task, model, variant)
        )
        t = times.get((task, model, variant))
        out.append(
            [
                task,
                model,
                variant,
                *map(_fmt, cells),
                f"{params:,}",
                "–" if t is None else f"{t['ours_s'] * 1e3:.0f} ms",
                "–" if t is None else f"{1 / t['ratio'] - 1:+.0%}",
            ]
        )
    caption = (
        "Error of full autoregressive rollouts from the first frame, "
        "||pred - true|| over space and the T frames / (sqrt(T) ||initial "
        "state||), T = 40 in 1-D and 20 in 2-D (an nRMSE on the initial state's "
        "scale; see docs/cape.md), on "
        "held-out "
        "trajectories, the mean over the parameter values of each split (seen: "
        "the training values; unseen: values never trained on), of the FINAL "
        "model and of the best-on-validation one (validation: full rollouts on "
        "seen values, disjoint from test). Rollout: median time of one rollout "
        "of the test batch (all variants of a model interleaved); overhead: "
        "against the same model's base. Widths as the sheet: FNO 36 bare and 20 "
        "with CAPE in 1-D, 28 and 20 in 2-D. The paper's table values are not "
        f"available (null). Scale `{s['scale']}`, {s['seeds']} seed(s), "
        f"{s['device']}. Source: {g.source()}."
    )
    header = [
        "task",
        "model",
        "variant",
        "seen (final)",
        "unseen (final)",
        "seen (best val)",
        "unseen (best val)",
        "parameters",
        "rollout",
        "overhead",
    ]
    return table(header, out, caption)


def _unseen(g) -> str:
    s = g.latest
    rows = [
        r for r in s["rows"] if r["split"] == "unseen" and r["checkpoint"] == "final"
    ]
    out, wins, total = [], 0, 0
    tasks = []
    for r in rows:
        key = (r["task"], r["model"], tuple(r["param"].items()))
        if key not in tasks:
            tasks.append(key)
    for task, model, param in tasks:
        match = dict(task=task, model=model, param=dict(param))
        base, channels, cape = (
            _mean(rows, variant=v, **match) for v in ("none", "channels", "cape")
        )
        won = cape is not None and base is not None and cape < base
        wins += won
        total += cape is not None and base is not None
        name, v = param[0]
        out.append(
            [
                task,
                model,
                f"{name} = {v:g}",
                _fmt(base),
                _fmt(channels),
                _fmt(cape),
                "yes" if won else "no",
            ]
        )
    caption = (
        f"Unseen parameter values, final models with the curriculum: CAPE beat the "
        f"base model on {wins} of {total} rows (target: 3 of every 4). Scale "
        f"`{s['scale']}`, {s['seeds']} seed(s). Source: {g.source()}."
    )
    header = ["task", "model", "parameter", "base", "channels", "CAPE", "CAPE < base"]
    return table(header, out, caption)


def tables(spread: bool = False) -> dict[str, str]:
    """`cape/summary` and `cape/unseen` from the largest committed scale."""
    for scale in SCALES:
        if any((ROOT / "cape" / "results").glob(f"{scale}-*")):
            g = load_scale("cape", scale, spread=spread)
            return {"summary": _summary(g), "unseen": _unseen(g)}
    return {}
