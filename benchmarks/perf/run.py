"""Training steps at the papers' small configurations, as `sciml.training.fit`
runs them (issue 14 §4, §5): one step per compiled call against `k` steps per
call, and the data-parallel path on a one-device mesh against none.

    python -m benchmarks.perf.run --scale quick

- **Models** (`CONFIGS`): the DeepONet of the antiderivative problem (batch
  of 128 functions at 100 shared points, 3 x 128 tanh), CAPE's FNO (1-D, batch 50, 128
  points, width 20, 12 modes) and CAPE's U-Net (1-D, batch 50, 128 points,
  32 features); Adam, MSE, random data (speed does not depend on it).
- **Sides**, each the loop `fit` runs, timed over `steps` steps after a
  warm-up on the same shapes: `one step` (`steps_per_call=1`), `k steps`
  (`steps_per_call=k`: `k` NumPy batches stacked on the host, one `lax.scan`
  call), and `mesh (1 device)`: the one-step loop with every batch placed by
  `jax.device_put` on a one-device `NamedSharding` and the state replicated,
  the work `fit(mesh=...)` adds. The order of the sides rotates per round;
  the median over rounds. Ratio = the other side's time / one step's (above
  1: one step is faster).
- **Work**: XLA's cost analysis of the compiled one-step function (FLOPs and
  bytes accessed per step) over the one-step time: achieved FLOP/s and bytes/s.
  The fraction of the device's peak needs the peak, which this harness does
  not know for a CPU: it is recorded only for a GPU it knows (none yet).

Results: `benchmarks/perf/results/<scale>-<device>/`.
"""

import argparse
import os
import pathlib
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from benchmarks._results import write_results
from sciml.operators import FNO, DeepONet, UNet
from sciml.training import DataParallel, init_train_state, make_step, stack_batches

CONFIGS = {
    "deeponet": dict(
        label="DeepONet, antiderivative: 128 functions x 100 points, 3 x 128 tanh",
        model="deeponet", batch=128, sensors=100, points=100,
    ),
    "fno-1d": dict(
        label="FNO, CAPE's 1-D: batch 50, 128 points, width 20, 12 modes",
        model="fno", batch=50, grid=128,
    ),
    "unet-1d": dict(
        label="U-Net, CAPE's 1-D: batch 50, 128 points, 32 features",
        model="unet", batch=50, grid=128,
    ),
}  # fmt: skip
SCALES = {
    "quick": dict(rounds=5, steps=64, k=16, configs=tuple(CONFIGS)),
    "smoke": dict(rounds=2, steps=8, k=4, configs=("deeponet",)),
}
SIDES = ("one step", "k steps", "mesh (1 device)")


def build(cfg: dict, key):
    """(model, loss, batch maker) for a configuration; `batch(i)` is the NumPy
    batch of step `i`."""
    rng = np.random.default_rng(0)
    if cfg["model"] == "deeponet":
        model = DeepONet(cfg["sensors"], 1, 128, 128, 3, key=key)
        # one set of points shared by every function, as the paper's data has
        shapes = [(cfg["batch"], cfg["sensors"]), (cfg["points"], 1),
                  (cfg["batch"], cfg["points"], 1)]  # fmt: skip

        def loss(m, b, key):
            u, y, s = b
            return jnp.mean((jax.vmap(m, in_axes=(0, None))(u, y) - s) ** 2), {}
    else:
        if cfg["model"] == "fno":
            model = FNO(1, 1, 12, width=20, key=key)
        else:
            model = UNet(1, 1, features=32, key=key)
        shapes = [(cfg["batch"], 1, cfg["grid"])] * 2

        def loss(m, b, key):
            x, y = b
            return jnp.mean((jax.vmap(m)(x) - y) ** 2), {}

    pool = [tuple(rng.standard_normal(s, dtype=np.float32) for s in shapes)
            for _ in range(4)]  # fmt: skip
    return model, loss, lambda i: pool[i % len(pool)]


def run_config(name: str, cfg: dict, scale: dict) -> list[dict]:
    key = jax.random.key(0)
    model, loss, batch = build(cfg, key)
    opt = optax.adam(1e-3)
    k, n = scale["k"], scale["steps"]
    one = make_step(loss, opt)
    placed = make_step(loss, opt)  # its own: other input shardings
    fused = make_step(loss, opt, steps_per_call=k)
    parallel = DataParallel(Mesh(np.array(jax.devices()[:1]), ("data",)))
    states = {s: init_train_state(model, opt, key=key) for s in SIDES}
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
    for side in SIDES:  # warm-up: compile, then one timed-shape pass
        t0 = time.perf_counter()
        states[side] = loop(side, states[side], 0)
        first[side] = time.perf_counter() - t0
    times = {s: [] for s in SIDES}
    for r in range(scale["rounds"]):
        for side in SIDES[r % 3 :] + SIDES[: r % 3]:
            t0 = time.perf_counter()
            states[side] = loop(side, states[side], n * (r + 1))
            times[side].append((time.perf_counter() - t0) / n)
    med = {s: statistics.median(v) for s, v in times.items()}
    cost = step_cost(one, batch(0), states["one step"])
    load = [round(v, 2) for v in os.getloadavg()]
    print(f"{name} ({cfg['label']}), load {load}:", flush=True)
    for side in SIDES:
        print(f"  {side:16s} {med[side] * 1e3:8.3f} ms/step  "
              f"ratio {med[side] / med['one step']:.3f}", flush=True)  # fmt: skip
    print(f"  {cost['flops'] / med['one step'] / 1e9:.2f} GFLOP/s, "
          f"{cost['bytes'] / med['one step'] / 1e9:.2f} GB/s", flush=True)  # fmt: skip
    out = []
    for side in SIDES[1:]:
        out.append({
            "what": f"{name}: {side}", "config": name, "label": cfg["label"],
            "ours_s": med["one step"], "peer": side, "peer_s": med[side],
            "ratio": med[side] / med["one step"], "k": k,
            "ours_rounds_s": times["one step"], "peer_rounds_s": times[side],
            "first_s": first, "flops_per_step": cost["flops"],
            "bytes_per_step": cost["bytes"],
            "flop_per_s": cost["flops"] / med["one step"],
            "bytes_per_s": cost["bytes"] / med["one step"],
            "peak_fraction": None, "load_average": load,
        })  # fmt: skip
    return out


def step_cost(step, batch, state) -> dict:
    """XLA's cost analysis (FLOPs, bytes accessed) of one compiled call of
    `step`."""
    analysis = step.lower(batch, state).compile().cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return {"flops": float(analysis.get("flops", 0.0)),
            "bytes": float(analysis.get("bytes accessed", 0.0))}  # fmt: skip


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    timings = []
    for name in scale["configs"]:
        timings += run_config(name, CONFIGS[name], scale)
    path = write_results(
        "perf", args.scale, [], timings,
        extra={"settings": {**scale, "configs": {n: CONFIGS[n]
                                                 for n in scale["configs"]}}},
        out_dir=args.out_dir,
    )  # fmt: skip
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
