"""The DeepONet tables, from the committed results of `benchmarks/deeponet`."""

from benchmarks._report import load_scale, ratio, table

GLOROT = "sciml (Glorot normal)"  # peer.py's side: ours with DeepXDE's init
LABELS = {
    "antiderivative": "antiderivative, ℓ = 0.2",
    "antiderivative_hf": "antiderivative, ℓ = 0.01",
    "antiderivative_product": "two inputs, ∫ u v",
    "diffusion_reaction": "diffusion-reaction",
    "burgers": "Burgers 1-D",
}


def _err(row) -> str:
    return f"{row['value']:.3g} ± {row['std']:.2g}"


def _operators(g) -> str:
    # each problem from the latest run that holds it (a run may cover a few)
    picked, runs = [], []
    for task in LABELS:
        run = g.holding(lambda run, t=task: any(r["task"] == t for r in run["rows"]))
        if run is not None:
            picked += [r for r in run.latest["rows"] if r["task"] == task]
            runs.append(run)
    rows = []
    for r in picked:
        paper = "–" if r["paper"] is None else f"{r['paper']:.3g}"
        rows.append(
            [
                LABELS[r["task"]],
                r["model"],
                r["variant"],
                _err(r),
                paper,
                f"{r['s_per_step'] * 1e3:.1f} ms",
            ]
        )
    s = runs[0].latest
    first = picked[0]["param"]
    per_task = {
        LABELS[r["task"]]: r["param"]["physics_batch"]
        for r in picked
        if "physics_batch" in r["param"]
    }
    # name the problems whose physics batch differs from the scale's usual one
    values = [tuple(v) for v in per_task.values()]
    usual = max(values, key=values.count, default=None)
    batches = "".join(
        f"; {task} physics-informed on {f} functions x {n} points a step"
        for task, (f, n) in per_task.items()
        if (f, n) != usual
    )
    caption = (
        f"Mean per-sample relative L2 error of the FINAL model on {first['n_test']} "
        f"held-out functions, mean ± std over {len(s['settings']['seeds'])} seeds; "
        f"{first['n_train']} training functions, {first['steps']} Adam steps, "
        f"width {first['width']}, depth {first['depth']}, latent {first['latent']} "
        f"(scale `{s['scale']}`, a reduction of the notebooks' training: the paper "
        f"column is their printed error at their own, larger setting). `data`: MSE on "
        f"the outputs; `physics`: the PDE residual only (`OperatorPINNLoss`){batches}. "
        f"Source: {'; '.join(dict.fromkeys(r.source() for r in runs))}."
    )
    header = [
        "problem",
        "model",
        "training",
        "rel. L2 (ours, final)",
        "paper (notebook)",
        "time / step",
    ]
    return table(header, rows, caption)


def _fisher(g) -> str:
    rows = []
    for name in ("multi-task", "single-task"):
        cells = [
            g.find(task="fisher", variant=name, split=s)
            for s in ("all", "F1", "F2", "F3")
        ]
        rows.append([cells[0]["model"], *(_err(c) for c in cells)])
    p = g.find(task="fisher", variant="multi-task", split="all")["param"]
    caption = (
        f"Fisher equation, three source-term forms: relative Frobenius error of the "
        f"FINAL models over the de-normalised test tensor ({p['n_test']} held-out "
        f"samples; {p['n_train']} training samples pooled), mean ± std over seeds. "
        f"Equal total optimiser steps ({p['steps_total']}): the single-task models get "
        f"a third each. The paper's tables could not be read (sheet gap): no paper "
        f"column. Source: {g.source()}."
    )
    return table(["model", "all forms", "F1", "F2", "F3"], rows, caption)


def _darcy(g) -> str:
    rows = []
    for variant, split, label in (
        ("source model", "square", "source model, square"),
        ("source model", "circle", "source model, circle"),
        ("source model", "triangle", "source model, triangle"),
        ("transfer", "square_cross", "transfer (fine-tune chosen layers)"),
        ("scratch", "square_cross", "from scratch on the same samples"),
    ):
        rows.append([label, _err(g.find(task="darcy", variant=variant, split=split))])
    p = g.find(task="darcy", variant="transfer")["param"]
    src = g.find(task="darcy", variant="source model", split="square")["param"]
    caption = (
        f"Darcy flow with a mask channel and masked loss, {p['nx']}x{p['nx']} grid: "
        f"mean masked relative L2 of the FINAL models on {p['n_test']} held-out "
        f"samples per geometry, mean ± std over seeds. Source model: "
        f"{src['n_train']} samples per geometry, {src['steps']} steps; transfer to "
        f"the square with a cross-shaped cut-out from {p['n_train']} samples, "
        f"{p['tune_steps']} steps, against a new model trained on them for as long. "
        f"Source: {g.source()}."
    )
    return table(["model", "rel. L2 (final)"], rows, caption)


def _peer(g) -> str:
    """sciml against DeepXDE, each variant on the same data in one run (peer.py)."""
    s = g.latest
    rows = []
    for t in s["timings"]:
        task, model = t["what"].split(": ")[0].split(", ")
        training = "physics" if model.endswith(" (physics)") else "data"
        model = model.removesuffix(" (physics)")
        # runs before the training field and the Glorot rows: data rows only
        match = dict(task=task, model=model)
        if any("training" in r for r in s["rows"]):
            match["training"] = training
        ours = g.find(variant="sciml", **match)
        peer = g.find(variant="DeepXDE", **match)
        glorot = [
            r for r in s["rows"] if r.items() >= {**match, "variant": GLOROT}.items()
        ]
        rows.append(
            [
                LABELS[task],
                model if training == "data" else f"{model}, physics-informed",
                _err(ours),
                _err(glorot[0]) if glorot else "–",
                _err(peer),
                f"{t['ours_s'] * 1e3:.2f} ms",
                f"{t['peer_s'] * 1e3:.2f} ms"
                + (" (`Model.train`)" if "Model.train" in t["peer"] else ""),
                ratio(t["ratio"]),
            ]
        )
    p, c = s["rows"][0]["param"], s["settings"]
    threads = ", ".join(
        str(n) for n in sorted({t["torch_threads"] for t in s["timings"]})
    )
    caption = (
        f"DeepONet (cartesian product), POD-DeepONet and MIONet against DeepXDE "
        f"{s['versions'].get('deepxde', '?')} (PyTorch "
        f"{s['versions'].get('torch', '?')}, `DeepONetCartesianProd`, "
        f"`PODDeepONet`, `MIONetCartesianProd`; physics-informed: "
        f"`PDEOperatorCartesianProd` through `dde.Model.train`, whose loss loops "
        f"over a batch's functions in Python), on the main benchmark's data at scale "
        f"`{s['scale'].removeprefix('peer-')}`: mean per-sample relative L2 of the "
        f"FINAL model on {p['n_test']} held-out functions, mean ± std over seeds "
        f"{tuple(c['seeds'])} (each side its own initialisation: ours as built "
        f"(equinox's), DeepXDE's Glorot normal; the Glorot column is ours again with "
        f"DeepXDE's scheme, `sciml.nn.initialise`); {p['n_train']} training "
        f"functions, {p['steps']} "
        f"Adam steps at {p['lr']:g} times {c['decay']:g} every "
        f"{max(p['steps'] // 10, 1)} steps (optax staircase; torch `StepLR`), "
        f"{p['batch']} functions a step (the same indices for both, and the same "
        f"{c['n_points']} random points a step where the grid has more; "
        f"POD-DeepONet every point, {c['pod_modes']} modes of the same "
        f"`pod_basis`), branch and trunk {p['depth']} hidden layers of "
        f"{p['width']} tanh, latent {p['latent']}, float32 (DeepXDE has no "
        f"modified DeepONet and no Fourier-feature trunk in its PyTorch backend: "
        f"those variants have no peer row). Time / step: each "
        f"training loop's time over its steps (first excluded, batch assembly "
        f"included), median over seeds, the two sides alternating seed by seed; "
        f"torch on the faster of 1 and all cores ({threads} here); ratio = DeepXDE / "
        f"ours. "
        f"Load average (1, 5, 15 min) {s.get('load_average_start')} at the start, "
        f"{s['load_average']} at the end (a shared {c['cores']}-core machine). "
        f"Source: {g.source()}."
    )
    header = [
        "problem",
        "model",
        "rel. L2 (sciml, final)",
        "rel. L2 (sciml, Glorot normal)",
        "rel. L2 (DeepXDE, final)",
        "time / step (sciml)",
        "time / step (DeepXDE)",
        "ratio",
    ]
    return table(header, rows, caption)


def tables(spread: bool = False) -> dict[str, str]:
    """`deeponet/operators`, `deeponet/fisher`, `deeponet/darcy`, `deeponet/peer`,
    and the same three at scale `cpu` (`-cpu`) once such a run is committed."""
    out = {"peer": _peer(load_scale("deeponet", "peer-quick", spread=spread))}
    # a run may cover part of the tasks: each table from the latest run that holds
    # its tasks (quick: `operators`, ...; cpu: `operators-cpu`, ...)
    for scale, suffix in (("quick", ""), ("cpu", "-cpu")):
        g = load_scale("deeponet", scale, spread=spread)
        for name, make, tasks in (
            ("operators", _operators, set(LABELS)),
            ("fisher", _fisher, {"fisher"}),
            ("darcy", _darcy, {"darcy"}),
        ):
            runs = g.holding(lambda run, t=tasks: t & {r["task"] for r in run["rows"]})
            if runs is not None:
                out[name + suffix] = make(runs)
    return out
