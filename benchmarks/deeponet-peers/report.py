"""The DeepONet speed tables, from the committed results of
`benchmarks/deeponet-peers`."""

from benchmarks._report import load_group, ratio, table

FOLDER = "quick-cpu-intel-r-xeon-r-processor"
MAIN = [
    ("network_step", "network step"),
    ("network_step_all_cores", "network step, torch at all cores"),
    ("model_train_step", "Model.train step"),
    ("inference", "inference"),
]
PROFILE_CONFIGS = ["deeponet-128x100", "deeponet-512x1000-2d"]


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1e3:.3g} ms" if value >= 1e-3 else f"{value * 1e6:.3g} µs"


def _ratio(value: float | None) -> str:
    return "–" if value is None else ratio(value)


def _throughput(entry: dict, who: str) -> str:
    """Functions per second, for the inference rows."""
    value = entry.get(f"{who}_functions_per_s")
    return "" if value is None else f" ({value / 1e3:.3g}k functions/s)"


def _load(entry: dict) -> str:
    la = entry["load_average"]
    return f"{la['before'][0]:.1f} to {la['after'][0]:.1f}"


def _configs(run: dict) -> list[str]:
    seen = []
    for t in run["timings"]:
        if t.get("measure") in ("network_step", "profile") and t["config"] not in seen:
            seen.append(t["config"])
    return seen


def _label(entry: dict) -> str:
    return entry["what"].split(": ", 1)[0]


def _timings(g) -> str:
    run = g.latest
    rows = []
    for config in _configs(run):
        for kind, what in MAIN:
            hits = [
                t
                for t in run["timings"]
                if t.get("config") == config and t.get("measure") == kind
            ]
            if not hits:
                continue
            e = g.find("timings", config=config, measure=kind)
            rows.append(
                [
                    _label(e),
                    what,
                    str(e["torch_threads"]),
                    _ms(e["ours_s"]) + _throughput(e, "ours"),
                    _ms(e["peer_s"]) + _throughput(e, "peer"),
                    g.cell("ratio", _ratio, "timings", config=config, measure=kind),
                    _ratio(e["ratio_of_minimums"]),
                    _load(e),
                ]
            )
    header = [
        "configuration",
        "measurement",
        "torch threads",
        "ours (median)",
        "DeepXDE (median)",
        "DeepXDE / ours",
        "by the minimums",
        "load average",
    ]
    s = run["settings"]
    checks = [c["checks"]["max_relative_difference"] for c in run["configs"].values()]
    caption = (
        f"Ours: `sciml.operators` DeepONet / PODDeepONet / MIONet trained by "
        f"`sciml.training.make_step` (jitted, donated, NaN guard) on "
        f"`model.cartesian`; DeepXDE {run['versions'].get('deepxde', '?')} with "
        f"PyTorch {run['versions'].get('torch', '?')}: its `DeepONetCartesianProd` "
        f"(`PODDeepONet`, `MIONetCartesianProd`) network with a plain torch Adam "
        f"loop (network step), one `dde.Model.train` iteration on "
        f"`TripleCartesianProd` (`QuadrupleCartesianProd` for MIONet; Model.train "
        f"step), its forward under "
        f"`torch.no_grad()` (inference). Same data, the same initial weights (losses "
        f"at init agree to {max(checks):.1g} relative), branch and trunk "
        f"{s['depth']} hidden layers of {s['width']} tanh, latent {s['latent']}, "
        f"{s['sensors']} sensors, Adam {s['lr']:g}, {s['dtype']}. Per iteration, "
        f"median (and minimum) over {s['rounds']} interleaved rounds after a warm-up "
        f"on the same shapes; above 1x we are faster. torch runs with the faster of "
        f"1 and {s['cores']} threads (probed), JAX/XLA on the same {s['cores']} "
        f"cores (`XLA_FLAGS={run['xla_flags']}`); the load average (1 min, before "
        f"to after each configuration's rounds) is that of a shared {s['cores']}-"
        f"core CPU. Source: {g.source()}."
    )
    return table(header, rows, caption)


def forward_flops(config: dict, settings: dict) -> float:
    """The floating-point operations of one forward pass's matrix products (2 per
    multiply-add): the branch on every function, the trunk on every point, the
    contraction."""
    w, p, depth = settings["width"], settings["latent"], settings["depth"]
    n, pts, m, d = (
        config["functions"],
        config["points"],
        settings["sensors"],
        (config["coords"]),
    )
    branch = m * w + (depth - 1) * w * w + w * p
    trunk = d * w + (depth - 1) * w * w + w * p
    return 2.0 * (n * branch + pts * trunk + n * pts * p)


def _rates(g, configs) -> str:
    run, parts = g.latest, []
    for c in configs:
        flops = forward_flops(run["configs"][c], run["settings"])
        e = g.find(
            "timings",
            config=c,
            measure="profile",
            what=lambda w: w.endswith(": profile: forward + backward (value_and_grad)"),
        )
        parts.append(
            f"{_label(e)}: forward {flops / 1e6:.0f} MFLOP, forward + backward about "
            f"3x that, run by ours at {3 * flops / e['ours_s'] / 1e9:.0f} GFLOP/s and "
            f"by DeepXDE at {3 * flops / e['peer_s'] / 1e9:.0f} GFLOP/s"
        )
    return "; ".join(parts)


def _profile(g) -> str:
    run = g.latest
    configs = [c for c in PROFILE_CONFIGS if c in _configs(run)]
    whats = []
    for t in run["timings"]:
        if t.get("measure") == "profile" and t["config"] == configs[0]:
            whats.append(t["what"].split(": profile: ", 1)[1])
    rows = []
    for what in whats:
        row = [what]
        for config in configs:
            e = g.find(
                "timings",
                config=config,
                measure="profile",
                what=lambda w, what=what: w.endswith(f": profile: {what}"),
            )
            row += [_ms(e["ours_s"]), _ms(e["peer_s"]), _ratio(e["ratio"])]
        rows.append(row)
    step = {c: g.find("timings", config=c, measure="network_step") for c in configs}
    rows.insert(
        0,
        ["the step, `make_step` as it is"]
        + [
            x
            for c in configs
            for x in (
                _ms(step[c]["ours_s"]),
                _ms(step[c]["peer_s"]),
                _ratio(step[c]["ratio"]),
            )
        ],
    )
    header = ["piece"]
    for c in configs:
        label = _label(step[c]).replace("DeepONet ", "")
        header += [f"ours, {label}", "DeepXDE", "ratio"]
    loads = ", ".join(f"{_load(step[c])}" for c in configs)
    caption = (
        "Where our step spends its time: each piece jitted alone (`jax.jit`, "
        "asynchronous dispatch, waited for once per round) and timed in the same "
        "interleaved rounds as the steps; DeepXDE's counterpart beside it (its "
        "forward with the autograd graph, forward + backward, `Adam.step`, "
        "`torch.einsum`), and for the step variants its network step. Each piece "
        "alone also pays one dispatch (see the jax.jit no-op). Medians. The "
        f"work, counting the matrix products only: {_rates(g, configs)}. Load "
        f"average {loads}. Source: "
        f"{g.source()}."
    )
    return table(header, rows, caption)


def _flags(g) -> str:
    run = g.latest
    rows = []
    for t in run["timings"]:
        if t.get("measure") != "xla_flags":
            continue
        name = t["what"].split("XLA flags '", 1)[1].split("'", 1)[0]
        rows.append(
            [
                name,
                f"`{t['xla_flags']}`" if t["xla_flags"] else "(none)",
                t["item"],
                _ms(t["ours_s"]),
                _ms(t["ours_min_s"]),
                f"{t['relative_to_this_run']:.2f}",
            ]
        )
    probe = run.get("flag_probe") or {}
    header = ["XLA flags", "XLA_FLAGS", "step", "median", "minimum", "vs this run"]
    caption = (
        "Our step on the issue's configuration (128 functions x 100 points) under "
        "other XLA flags, which XLA reads once per process: child processes taking "
        "turns, each timing 2 rounds after a warm-up; `vs this run` is the median "
        "over the flags of `tune_cpu()` (below 1: faster). Load average at the end "
        f"{probe.get('load_average')}. Source: {g.source()}."
    )
    return table(header, rows, caption) if rows else "(no flag probe in this run)\n"


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("deeponet-peers", FOLDER, spread=spread)
    return {"timings": _timings(g), "profile": _profile(g), "xla-flags": _flags(g)}
