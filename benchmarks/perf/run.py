"""Every model's training step, as `sciml.training.fit` runs it, at the papers'
configurations and at large ones (issue 14 §4, §5): one step per compiled call
against `k` steps per call, the data-parallel path on a one-device mesh against
none, the work XLA counts, the fraction of the device's peak, and the
profiler's largest operations.

    python -m benchmarks.perf.run --scale quick

- **Models** (`CONFIGS`), random data (speed does not depend on it), Adam:
  - at the papers' configurations: the DeepONet of the antiderivative problem
    (128 functions at 100 shared points, 3 x 128 tanh), CAPE's FNO and U-Net
    (1-D, batch 50, 128 points; width 20 and 12 modes, 32 features), CAPE on
    that FNO with its rollout loss (10 autoregressive steps, its auxiliary loss,
    gradient penalty and noise), PIG on Helmholtz (800 Gaussians, 10 000
    interior points, `benchmarks/pig`'s loss), and PI-HC-MoE on
    diffusion-sorption (`benchmarks/hcmoe`'s `quick` model: an FNO basis on
    the 101 x 128 grid, 4 experts, Levenberg-Marquardt, implicit backward; in
    float64, as its normal equations need);
  - large (`size="large"`, fewer steps timed, no mesh side): a DeepONet of 512 functions x
    1000 points and 4 x 256, a 2-D FNO (batch 8, 128 x 128, width 64, 16 x 16
    modes: the configuration of the GPU bandwidth target), a 2-D U-Net at 128 x
    128 and PIG on flow mixing (4000 Gaussians, 27 000 points).
  The FNO, U-Net and DeepONet train on MSE; the others on their own losses.
- **Sides**, each the loop `fit` runs, timed over `steps` steps after a
  warm-up on the same shapes: `one step` (`steps_per_call=1`), `k steps`
  (`steps_per_call=k`: `k` NumPy batches stacked on the host, one `lax.scan`
  call), and `mesh (1 device)`: the one-step loop with every batch placed by
  `DataParallel.shard` on a one-device mesh and the state replicated, the work
  `fit(mesh=...)` adds. The order of the sides rotates per round; the median
  over rounds. Ratio = the other side's time / one step's (above 1: one step is
  faster).
- **Work**: XLA's cost analysis of the compiled one-step function (FLOPs and
  bytes accessed per step) over the one-step time: achieved FLOP/s and bytes/s,
  and their fraction of the device's peak (`device_peak`: the vendor's float32
  figures for the GPUs in `PEAKS`, else measured on this machine).
- **Profile** (`top_ops`): `jax.profiler`'s trace of a few one-step calls, the
  XLA operations with the most device time per step.

Results: `benchmarks/perf/results/<scale>-<device>/`.
"""

import argparse
import collections
import gzip
import json
import os
import pathlib
import re
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results
from sciml import pinns
from sciml.operators import FNO, Conditioned, DeepONet, RolloutLoss, UNet
from sciml.training import DataParallel, init_train_state, make_step, stack_batches

CONFIGS = {
    "deeponet": dict(
        label="DeepONet, antiderivative: 128 functions x 100 points, 3 x 128 tanh",
        model="deeponet", batch=128, sensors=100, points=100, width=128, depth=3,
    ),
    "fno-1d": dict(
        label="FNO, CAPE's 1-D: batch 50, 128 points, width 20, 12 modes",
        model="fno", batch=50, grid=(128,), width=20, modes=12,
    ),
    "unet-1d": dict(
        label="U-Net, CAPE's 1-D: batch 50, 128 points, 32 features",
        model="unet", batch=50, grid=(128,), features=32,
    ),
    "cape-fno-1d": dict(
        label="CAPE + FNO, 1-D: batch 50, 128 points, width 20, 12 modes, "
        "10-step rollout loss",
        model="cape", batch=50, grid=(128,), width=20, modes=12, t_train=10,
        size="medium",
    ),
    "pig": dict(
        label="PIG, Helmholtz: 800 Gaussians, 10 000 interior points",
        model="pig", problem="helmholtz", gaussians=800, interior=10_000,
        size="medium",
    ),
    "hcmoe-ds": dict(
        label="PI-HC-MoE, diffusion-sorption: batch 4, 101 x 128 grid, "
        "4 experts x 1000 points",
        model="hcmoe", batch=4, size="medium",
        x64=True,  # the normal equations need float64 (benchmarks/hcmoe)
    ),
    # large configurations: the FNO one is the GPU bandwidth target's (issue 14)
    "deeponet-large": dict(
        label="DeepONet, large: 512 functions x 1000 points, 4 x 256 tanh",
        model="deeponet", batch=512, sensors=1000, points=1000, width=256,
        depth=4, size="large",
    ),
    "fno-2d-large": dict(
        label="FNO, large 2-D: batch 8, 128 x 128, width 64, 16 x 16 modes",
        model="fno", batch=8, grid=(128, 128), width=64, modes=16, size="large",
    ),
    "unet-2d-large": dict(
        label="U-Net, large 2-D: batch 8, 128 x 128, 32 features",
        model="unet", batch=8, grid=(128, 128), features=32, size="large",
    ),
    "pig-large": dict(
        label="PIG, flow mixing: 4000 Gaussians, 27 000 interior points",
        model="pig", problem="flow_mixing", gaussians=4000, interior=27_000,
        size="large",
    ),
}  # fmt: skip
# per scale: the configurations, and the timing per size (on a 2-core CPU a
# medium step takes about half a second, a large one seconds); large steps skip
# the one-device mesh side (its host cost is a tenth of a millisecond a step)
SCALES = {
    "quick": dict(
        configs=tuple(CONFIGS),
        small=dict(rounds=5, steps=64, k=16),
        medium=dict(rounds=3, steps=8, k=4),
        large=dict(rounds=2, steps=4, k=2, sides=2),
        profile_steps=3,
    ),
    "smoke": dict(
        configs=("deeponet", "cape-fno-1d", "pig", "hcmoe-ds", "fno-2d-large"),
        small=dict(rounds=2, steps=4, k=2),
        medium=dict(rounds=1, steps=2, k=2),
        large=dict(rounds=1, steps=2, k=2, sides=2),
        profile_steps=2,
        shrink=True,  # each model at a toy size: checks the harness, times nothing
    ),
}
ALL_SIDES = ("one step", "k steps", "mesh (1 device)")
# the vendors' dense float32 peaks (FLOP/s without tensor cores; memory bytes/s):
# the fraction of peak is given for these devices, by `jax.devices()[0].device_kind`
PEAKS = {
    "NVIDIA H200": (67e12, 4.8e12),
    "NVIDIA H100 80GB HBM3": (67e12, 3.35e12),
    "NVIDIA A100-SXM4-80GB": (19.5e12, 2.04e12),
}


def _mse(apply):
    def loss(m, b, key):
        x, y = b
        return jnp.mean((apply(m, x) - y) ** 2), {}

    return loss


def build(cfg: dict, key, shrink: bool = False):
    """(model, loss, batch maker) for a configuration; `batch(i)` is the NumPy
    batch of step `i`. `shrink`: a toy size of the same model (the smoke scale)."""
    rng = np.random.default_rng(0)
    kind = cfg["model"]
    if kind in ("pig", "hcmoe"):
        return (_build_pig if kind == "pig" else _build_hcmoe)(cfg, key, shrink)
    batch = 4 if shrink else cfg["batch"]
    if kind == "deeponet":
        n, p = (8, 8) if shrink else (cfg["sensors"], cfg["points"])
        model = DeepONet(n, 1, cfg["width"], cfg["width"], cfg["depth"], key=key)
        # one set of points shared by every function, as the paper's data has
        shapes = [(batch, n), (p, 1), (batch, p, 1)]

        def loss(m, b, key):
            u, y, s = b
            return jnp.mean((jax.vmap(m, in_axes=(0, None))(u, y) - s) ** 2), {}
    elif kind == "cape":
        grid = cfg["grid"]
        cin, cout = Conditioned.base_channels("cape", 1, 1)
        base = FNO(cin, cout, (cfg["modes"],) * len(grid), width=cfg["width"],
                   padding=2, key=key)  # fmt: skip
        model = Conditioned(base, "cape", 1, 1, grid, train_range=(0.2, 4.0),
                            key=jax.random.fold_in(key, 1))  # fmt: skip
        t = 2 if shrink else cfg["t_train"]
        # CAPE's 1-D loss weights (benchmarks/cape), fully autoregressive
        loss = RolloutLoss(alpha=5.7e-5, gradient_penalty=5.16e-4, param_low=0.2,
                           param_high=4.0, normalise="scale")  # fmt: skip
        pool = [{"u": rng.standard_normal((batch, t + 1, 1, *grid), np.float32),
                 "params": rng.uniform(0.2, 4.0, (batch, 1)).astype(np.float32),
                 "t_ar": np.asarray(t),
                 "scale": np.full((batch,), 10.0, np.float32)}
                for _ in range(4)]  # fmt: skip
        return model, loss, lambda i: pool[i % len(pool)]
    else:
        grid = (16,) * len(cfg["grid"]) if shrink else cfg["grid"]
        if kind == "fno":
            modes = (4 if shrink else cfg["modes"],) * len(grid)
            model = FNO(1, 1, modes, width=cfg["width"], key=key)
        else:
            model = UNet(1, 1, dims=len(grid), features=cfg["features"], key=key)
        shapes = [(batch, 1, *grid)] * 2
        loss = _mse(lambda m, x: jax.vmap(m)(x))

    pool = [tuple(rng.standard_normal(s, dtype=np.float32) for s in shapes)
            for _ in range(4)]  # fmt: skip
    return model, loss, lambda i: pool[i % len(pool)]


def _build_pig(cfg, key, shrink):
    """The PIG benchmark's model and loss for one problem, at its paper recipe's
    Gaussians and interior points (`benchmarks/pig`)."""
    from benchmarks.pig.run import RECIPES

    recipe = RECIPES[cfg["problem"]]
    problem = recipe["problem"]()
    box = problem.domain
    pig = {**recipe["pig"], "n_gaussians": 16 if shrink else cfg["gaussians"]}
    model = pinns.PIG(box.ndim, 1, lower=box.lower, upper=box.upper, key=key, **pig)
    loss = pinns.PINNLoss(problem, causal_chunks=recipe.get("causal"))
    points = pinns.Collocation(
        problem, 64 if shrink else cfg["interior"], recipe["n_condition"],
        resample_every=1, key=jax.random.fold_in(key, 1),
    )  # fmt: skip
    pool = [jax.tree.map(np.asarray, points(i)) for i in range(4)]
    return model, loss, lambda i: pool[i % len(pool)]


def _build_hcmoe(cfg, key, shrink):
    """The hard-constraint benchmark's PI-HC-MoE on diffusion-sorption at its
    `quick` configuration (`benchmarks/hcmoe`): an FNO basis of 16 functions on
    the (t, x) grid, 4 experts in x, Levenberg-Marquardt, implicit backward."""
    from benchmarks.hcmoe import run as hc

    mcfg = dict(hc.SCALES["quick"]["ds"])
    nx, nt = (16, 11) if shrink else (mcfg["nx"], hc.DS_FRAMES)
    if shrink:
        mcfg.update(points=20, width=8, modes=4, loss_points=80)
    grid = (nt, nx)
    constraint = pinns.DiffusionSorptionConstraint(dt=hc.DS_T_END / (nt - 1))
    model = hc.make_model("PI-HC-MoE", mcfg, constraint, grid, key)
    loss = hc.make_loss(grid, min(mcfg["loss_points"], nt * nx))
    rng = np.random.default_rng(0)
    batch = 2 if shrink else cfg["batch"]
    pool = [np.repeat(rng.uniform(0, 0.2, (batch, 1)), nx, axis=1) for _ in range(4)]
    return model, loss, lambda i: pool[i % len(pool)]


def run_config(name: str, cfg: dict, scale: dict, peak: dict) -> list[dict]:
    with jax.enable_x64(cfg.get("x64", False)):
        return _run_config(name, cfg, scale, peak)


def _run_config(name: str, cfg: dict, scale: dict, peak: dict) -> list[dict]:
    key = jax.random.key(0)
    model, loss, batch = build(cfg, key, shrink=scale.get("shrink", False))
    opt = optax.adam(1e-3)
    timing = scale[cfg.get("size", "small")]
    sides = ALL_SIDES[: timing.get("sides", 3)]
    k, n = timing["k"], timing["steps"]
    one = make_step(loss, opt)
    placed = make_step(loss, opt)  # its own: other input shardings
    fused = make_step(loss, opt, steps_per_call=k)
    parallel = DataParallel(Mesh(np.array(jax.devices()[:1]), ("data",)))
    states = {s: init_train_state(model, opt, key=key) for s in sides}
    if "mesh (1 device)" in states:
        states["mesh (1 device)"] = parallel.replicate(states["mesh (1 device)"])

    def loop(side, state, start):
        if side == "k steps":
            for i in range(start, start + n, k):
                b = stack_batches([batch(j) for j in range(i, i + k)])
                state, loss_value, _ = fused(b, state)
        elif side == "mesh (1 device)":
            for i in range(start, start + n):
                state, loss_value, _ = placed(parallel.shard(batch(i)), state)
        else:
            for i in range(start, start + n):
                state, loss_value, _ = one(batch(i), state)
        jax.block_until_ready(loss_value)
        return state

    first = {}
    for side in sides:  # warm-up: compile, then one timed-shape pass
        t0 = time.perf_counter()
        states[side] = loop(side, states[side], 0)
        first[side] = time.perf_counter() - t0
    times = {s: [] for s in sides}
    for r in range(timing["rounds"]):
        turn = r % len(sides)
        for side in sides[turn:] + sides[:turn]:
            t0 = time.perf_counter()
            states[side] = loop(side, states[side], n * (r + 1))
            times[side].append((time.perf_counter() - t0) / n)
    med = {s: statistics.median(v) for s, v in times.items()}
    # compiled once more, for its cost analysis and its operations' names
    compiled = one.lower(batch(0), states["one step"]).compile()
    cost = step_cost(compiled)
    flop_s, bytes_s = cost["flops"] / med["one step"], cost["bytes"] / med["one step"]
    load = [round(v, 2) for v in os.getloadavg()]
    print(f"{name} ({cfg['label']}), load {load}:", flush=True)
    for side in sides:
        print(f"  {side:16s} {med[side] * 1e3:8.3f} ms/step  "
              f"ratio {med[side] / med['one step']:.3f}", flush=True)  # fmt: skip
    print(f"  {flop_s / 1e9:.2f} GFLOP/s ({flop_s / peak['flop_per_s']:.1%} of "
          f"{peak['source']}), {bytes_s / 1e9:.2f} GB/s "
          f"({bytes_s / peak['bytes_per_s']:.1%})", flush=True)  # fmt: skip
    profile = top_ops(
        one, batch, states["one step"], scale["profile_steps"], op_names(compiled)
    )
    if profile["busy_ms_per_step"] is not None:
        print(f"  profile: XLA operations busy {profile['busy_ms_per_step']:.3f} "
              "ms/step", flush=True)  # fmt: skip
    for op in profile["ops"][:3]:
        print(f"    {op['ms_per_step']:8.3f} ms/step  {op['op']}", flush=True)
    out = []
    for side in sides[1:]:
        out.append({
            "what": f"{name}: {side}", "config": name, "label": cfg["label"],
            "size": cfg.get("size", "small"),
            "ours_s": med["one step"], "peer": side, "peer_s": med[side],
            "ratio": med[side] / med["one step"], "k": k,
            "ours_rounds_s": times["one step"], "peer_rounds_s": times[side],
            "first_s": first, "flops_per_step": cost["flops"],
            "bytes_per_step": cost["bytes"],
            "flop_per_s": flop_s, "bytes_per_s": bytes_s,
            "peak_fraction": {"flops": flop_s / peak["flop_per_s"],
                              "bytes": bytes_s / peak["bytes_per_s"],
                              "of": peak["source"]},
            "profile": profile, "load_average": load,
        })  # fmt: skip
    return out


def device_peak() -> dict:
    """The device's peak FLOP/s and bytes/s: the vendor's figures for a GPU in
    `PEAKS`; otherwise (a CPU) measured here, as the best of 5 calls of a float32
    2048 x 2048 matrix product (FLOP/s) and of `x + 1` in place over 64 M floats
    (bytes read and written per second), both jitted and warmed up. A measured peak is
    what this machine reaches on the easiest kernels, not the vendor's figure."""
    kind = jax.devices()[0].device_kind
    if kind in PEAKS:
        flops, bandwidth = PEAKS[kind]
        return {"flop_per_s": flops, "bytes_per_s": bandwidth,
                "source": f"{kind}'s float32 peak (vendor)"}  # fmt: skip
    a = jnp.ones((2048, 2048), jnp.float32)
    x = jnp.ones((64 * 2**20,), jnp.float32)
    nbytes = 2 * x.nbytes  # read and written
    # the add in place (its input donated): a fresh 256 MB output would measure
    # the page faults of new memory on a CPU (5 GB/s here against 50 in place)
    matmul, add = jax.jit(lambda a: a @ a), jax.jit(lambda x: x + 1, donate_argnums=0)

    def best(f, arg, chain: bool):
        ts = []
        for _ in range(6):
            t0 = time.perf_counter()
            out = jax.block_until_ready(f(arg))
            ts.append(time.perf_counter() - t0)
            arg = out if chain else arg
        return min(ts[1:])  # the first call compiles

    return {"flop_per_s": 2 * 2048**3 / best(matmul, a, False),
            "bytes_per_s": nbytes / best(add, x, True),
            "source": "measured peak (a 2048^2 matmul, a 256 MB add in place)"}  # fmt: skip


def top_ops(step, batch, state, steps: int, names: set[str], top: int = 8) -> dict:
    """The profiler's view of `steps` calls of the compiled step, from the trace
    `jax.profiler` writes (`create_perfetto_trace`): `ops`, the device time per
    step of each XLA operation (thunk on a CPU, kernel on a GPU) named in `names`
    (`op_names`), largest first, and `busy_ms_per_step`, all operations' time
    per step (against the step's time: the share spent outside XLA's operations,
    in dispatch and host work). Host-side
    events (Python, dispatch) are left out: their names are not XLA's. So are
    control flow's containers (`while`, `conditional`, `call`): their time is
    their bodies', whose operations are counted themselves."""
    if steps <= 0:
        return {"ops": [], "busy_ms_per_step": None}
    with tempfile.TemporaryDirectory() as folder:
        jax.profiler.start_trace(folder, create_perfetto_trace=True)
        for i in range(steps):
            state, value, _ = step(batch(i), state)
        jax.block_until_ready(value)
        jax.profiler.stop_trace()
        (trace,) = pathlib.Path(folder).rglob("*.trace.json.gz")
        events = json.loads(gzip.decompress(trace.read_bytes()))["traceEvents"]
    total, count = collections.Counter(), collections.Counter()
    for e in events:
        if (
            e.get("ph") == "X"
            and e.get("name") in names
            and not CONTAINER.match(e["name"])
        ):
            total[e["name"]] += e.get("dur", 0.0)
            count[e["name"]] += 1
    ops = [{"op": op, "ms_per_step": us / 1e3 / steps,
            "calls_per_step": count[op] / steps} for op, us in total.most_common(top)]  # fmt: skip
    return {"ops": ops, "busy_ms_per_step": sum(total.values()) / 1e3 / steps}


CONTAINER = re.compile(r"(while|cond|conditional|call)(\.|$)")


def op_names(compiled) -> set[str]:
    """The instruction names in a compiled step's optimised HLO."""
    text = compiled.as_text()
    return set(re.findall(r"^\s*(?:ROOT )?%?([\w.\-]+) = ", text, flags=re.M))


def step_cost(compiled) -> dict:
    """XLA's cost analysis (FLOPs, bytes accessed) of one call of a compiled
    step (`step.lower(batch, state).compile()`)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return {"flops": float(analysis.get("flops", 0.0)),
            "bytes": float(analysis.get("bytes accessed", 0.0))}  # fmt: skip


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    tune_cpu()
    scale = SCALES[args.scale]
    peak = device_peak()
    print(f"peak: {peak}", flush=True)
    timings = []
    for name in scale["configs"]:
        timings += run_config(name, CONFIGS[name], scale, peak)
    path = write_results(
        "perf", args.scale, [], timings,
        extra={"peak": peak,
               "settings": {**scale, "configs": {n: CONFIGS[n]
                                                 for n in scale["configs"]}}},
        out_dir=args.out_dir,
    )  # fmt: skip
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
