"""The peers table, from the committed results of `benchmarks/pinn-peers`."""

from benchmarks._report import load_group, ratio, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
PROBLEMS = [("helmholtz", "Helmholtz 2-D"), ("klein_gordon", "Klein-Gordon (2+1)-D")]
PEERS = [
    ("jinns", "jinns (JAX + Equinox)"),
    ("jaxpi", "jaxpi (JAX + Flax)"),
    ("deepxde", "DeepXDE (PyTorch)"),
]


def _ms(value: float) -> str:
    return f"{value * 1e3:.3g} ms"


def _rounds(entry: dict) -> str:
    """The range of the per-round ratios (ours and the peer timed back to back)."""
    r = entry.get("round_ratios")
    return f" ({min(r):.2g} to {max(r):.2g})" if r else ""


def _to_error(g, task: str, peer: str) -> list[str]:
    hits = [
        t
        for t in g.latest["timings"]
        if t.get("task") == task and t.get("peer_name") == peer
        and t.get("kind") == "to_error"
    ]  # fmt: skip
    if not hits:
        return ["–", "–", "–"]
    entry = hits[0]
    ours = f"{entry['ours_s']:.1f} s ({entry['ours_steps']} steps)"
    if entry["peer_s"] is None:
        miss = entry["not_reached"]
        return [
            ours,
            f"not reached ({miss['step']} steps, {miss['train_s']:.0f} s, "
            f"error {miss['error']:.3g})",
            f"> {miss['train_s'] / entry['ours_s']:.2g}x",
        ]
    theirs = f"{entry['peer_s']:.1f} s ({entry['peer_steps']} steps)"
    return [ours, theirs, ratio(entry["ratio"])]


def _timings(g) -> str:
    rows = []
    targets = g.latest["problems"]
    for task, label in PROBLEMS:
        if task not in targets:
            continue
        target = targets[task]["target_error"]
        for peer, peer_label in PEERS:
            sel = dict(kind="timings", task=task, peer_name=peer)
            sel["what"] = lambda w: w is not None and w.endswith("time per iteration")
            if not any(
                t.get("task") == task and t.get("peer_name") == peer
                for t in g.latest["timings"]
            ):
                continue
            rows.append(
                [
                    label,
                    peer_label,
                    g.cell("ours_s", _ms, **sel),
                    g.cell("peer_s", _ms, **sel),
                    g.cell("ratio", ratio, **sel) + _rounds(g.find(**sel)),
                    "–" if target is None else f"{target:.3g}",
                    *_to_error(g, task, peer),
                ]
            )
    header = [
        "problem",
        "peer",
        "ours / iteration",
        "peer / iteration",
        "peer / ours (range over rounds)",
        "target rel. L2",
        "ours to target",
        "peer to target",
        "peer / ours",
    ]
    s = g.latest
    c = s["settings"]
    none = [label for task, label in PROBLEMS if task in targets and
            targets[task]["target_error"] is None]  # fmt: skip
    untargeted = (
        f" No target for {', '.join(none)}: our MLP's test error is still above "
        f"0.9 there after {c['target_steps']} steps."
        if none
        else ""
    )
    caption = (
        f"Same points ({c['n_interior']} interior, {c['n_condition']} a face of "
        f"each condition, one draw), same tanh MLP {c['depth']}x{c['width']} with "
        f"the same initial weights, same loss (each implementation's loss at "
        f"those weights agrees with ours to float32 rounding), Adam at a constant "
        f"{c['lr']:g}, float32, each with its own training step. Time per "
        f"iteration: median of {c['rounds']} interleaved rounds of "
        f"{c['steps_per_round']} warm steps, the range that of each round's "
        f"ratio; above 1x we are faster. Target: our "
        f"test error after {c['target_steps']} steps, checked every "
        f"{c['check_every']} steps (training time only; from the same weights the "
        f"runs part by rounding, so a peer may need more or fewer steps); a peer gets "
        f"{c['peer_cap']} steps or {c['peer_budget_s']:.0f} s.{untargeted} "
        f"Load average at the end {s['load_average']} on this shared 2-core "
        f"CPU. Source: {g.source()}."
    )
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("pinn-peers", FOLDER, spread=spread)
    return {"timings": _timings(g)}
