"""Separable PIG against dense PIG on product domains: does it pay off?

    sciml bench pig-separable --scale quick [--problems klein_gordon helmholtz] [--steps N]
    python -m benchmarks.pig-separable.run --scale quick   (the same)

The PIG sheet (specs/pig.md §5) lists a "separable PIG" on (2+1)-D Klein-Gordon
(3.68e-4) and 3-D Helmholtz (1.50e-3) with no code. `sciml.pinns.SeparablePIG` is
our reading of it (SPINN-style: one 1-D Gaussian mixture and head per axis, a rank-R
sum of products, residuals on a product grid by per-axis forward mode). sciml has
no 3-D Helmholtz, so this measures Klein-Gordon (2+1)-D and the 2-D Helmholtz of the
PIG benchmark, on the CPU, in one run:

- (a) the cost of one training step (loss, gradient, Adam update) of three models on
  the same number of residual points P: dense `PIG` on P random points
  (`PINNLoss`), `SeparablePIG` on a product grid of P points (`GridPINNLoss`:
  16^3 = 4096 for Klein-Gordon, 45^2 = 2025 for Helmholtz) and `SeparablePIG` on
  the P random points (`PINNLoss`, pointwise); the same condition points for all.
  Warm (compiled, two calls), then interleaved rounds (the order rotating; in a
  round each model runs back to back for about a quarter of a second and keeps
  its fastest); the medians over rounds and their ratios.
- (b) short training runs, each from its initial model with the step compiled for
  (a) (the PIG benchmark's `quick` recipe: Adam at the sheet's rate and decay,
  conditions and random points redrawn every 100 steps; the grid is redrawn every
  step, as SPINN trains [D]): dense PIG for 1000 steps, and each separable variant
  for as many steps as fit dense PIG's training time at the step time of (a) (at
  most 20 000); the grid variant's model after 1000 steps is reported too. Each
  with the FINAL model's relative L2 error on the problem's test grid (never the
  best seen), the training wall time, and the training time to reach dense PIG's
  final error (the test error is evaluated, untimed, at log-spaced steps).
- (c) the verdict: the grid variant pays off on a problem if, trained for dense
  PIG's training time, its final error is lower than dense PIG's.

On a CPU the run sets XLA's flags as `benchmarks/pig` does (`benchmarks/_cpu.py`)
and records them and the load average (the machine may be shared). Results:
`benchmarks/pig-separable/results/quick-<device>/<date>-<commit>.json` (and `.md`).
"""

import argparse
import importlib
import os
import time

import jax
import numpy as np
import optax

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results
from sciml import pinns, training
from sciml.pinns import problems

# The PIG benchmark's recipes (specs/pig.md §3) at its `quick` reduction; the
# separable model's sizes are ours [D]: the same N per channel, one mixture per
# axis, k = 4 channels, rank 16, head width 16 (as PIG's head).
PROBLEMS = {
    "klein_gordon": dict(
        problem=problems.KleinGordon,
        pig=dict(n_gaussians=100, sigma0=0.5, scale_to=2.0),
        grid=16,  # 16^3 = 4096, the paper's number of interior points
        lr=1e-2,
        decay=("every_2000", 0.9),
        n_condition=128,
        paper={"PIG": 2.76e-3, "SeparablePIG": 3.68e-4},
    ),
    "helmholtz": dict(
        problem=problems.Helmholtz2D,
        pig=dict(n_gaussians=400, sigma0=0.1, scale_to=None),
        grid=45,  # 45^2 = 2025, about the quick run's 2048
        lr=1e-2,
        decay=("per_step", 0.9995),
        n_condition=128,
        # the paper's separable number is for a 3-D Helmholtz, not this one
        paper={"PIG": 4.13e-5, "SeparablePIG": None},
    ),
}
SEPARABLE = dict(channels=4, rank=16, head_width=16)
QUICK = dict(steps=1000, resample_every=100, reps=5)
VARIANTS = ("PIG", "SeparablePIG grid", "SeparablePIG pointwise")
CURVE_POINTS = 8
MAX_STEPS = 20_000  # the separable runs' cap in dense PIG's training time
SEED = 100

# the timing loop of the derivative benchmark (interleaved rounds, blocks of about a
# quarter of a second, fastest of each block)
_time = importlib.import_module("benchmarks.pig-derivatives.run")._time


def _schedule(lr: float, decay: tuple[str, float]):
    kind, rate = decay
    if kind == "per_step":
        return optax.exponential_decay(lr, 1, rate)
    return optax.exponential_decay(lr, 2000, rate)


def _setup(name: str, variant: str, seed: int, resample_every: int):
    """The model, loss and batches (a function of the step) of one variant."""
    spec = PROBLEMS[name]
    problem = spec["problem"]()
    box = problem.domain
    p = spec["grid"] ** box.ndim
    key = jax.random.key(seed)
    if variant == "PIG":
        model = pinns.PIG(
            box.ndim, 1, lower=box.lower, upper=box.upper, key=key, **spec["pig"]
        )
    else:
        model = pinns.SeparablePIG(
            box.ndim,
            1,
            spec["pig"]["n_gaussians"],
            lower=box.lower,
            upper=box.upper,
            scale_to=spec["pig"]["scale_to"],
            sigma0=spec["pig"]["sigma0"],
            key=key,
            **SEPARABLE,
        )
    # the same interior and condition points for PIG and the pointwise variant
    points = pinns.Collocation(
        problem,
        p,
        spec["n_condition"],
        resample_every=resample_every,
        key=jax.random.key(seed + 1),
    )
    if variant == "SeparablePIG grid":
        # the grid is drawn from the step's key: new coordinates every step
        loss = pinns.GridPINNLoss(problem, spec["grid"])

        def batches(i):
            return {"conditions": points(i)["conditions"]}

    else:
        loss = pinns.PINNLoss(problem)
        batches = points
    return problem, model, loss, batches, p


def _optimizer(name: str):
    spec = PROBLEMS[name]
    return optax.adam(_schedule(spec["lr"], spec["decay"]))


def _steps(name: str, resample_every: int) -> dict[str, tuple]:
    """Each variant's problem, model, batches and compiled training step (one
    compilation serves the timing and the training run)."""
    out = {}
    for variant in VARIANTS:
        problem, model, loss, batches, p = _setup(name, variant, SEED, resample_every)
        optim = _optimizer(name)
        out[variant] = (
            problem,
            model,
            batches,
            p,
            optim,
            training.make_step(loss, optim),
        )
    return out


def step_times(steps: dict[str, tuple], reps: int) -> dict[str, dict]:
    """(a): the warm time of one training step of each variant, interleaved."""
    calls, info = {}, {}
    for variant, (_, model, batches, p, optim, step) in steps.items():
        state = training.init_train_state(model, optim, key=jax.random.key(SEED + 2))
        batch = batches(0)
        holder = {"state": state}

        def call(step=step, batch=batch, holder=holder):
            holder["state"], value, _ = step(batch, holder["state"])
            return value

        t0 = time.perf_counter()
        jax.block_until_ready(call())
        info[variant] = dict(
            compile_s=time.perf_counter() - t0,
            parameters=training.count_parameters(model),
            points=p,
        )
        jax.block_until_ready(call())
        calls[variant] = call
    runs = _time(calls, reps)
    for variant, times in runs.items():
        info[variant].update(
            median_s=float(np.median(times)),
            min_s=float(np.min(times)),
            rounds=[float(t) for t in times],
        )
    return info


def curve_steps(steps: int) -> list[int]:
    """Log-spaced evaluation steps from steps / 100 to `steps` (the last: final)."""
    ends = np.geomspace(max(steps / 100, 1), steps, CURVE_POINTS)
    return sorted({int(round(e)) for e in ends} | {steps})


def train_one(setup: tuple, steps: int, reference, also: tuple[int, ...] = ()):
    """(b): train one variant from its initial model for `steps` steps; the FINAL
    model's test error and a learning curve at log-spaced steps (and at `also`),
    training time only (the step was compiled by the timing)."""
    problem, model, batches, p, optim, step = setup
    state = training.init_train_state(model, optim, key=jax.random.key(SEED + 2))
    curve, train_s, done, blocks = [], 0.0, 0, []
    for end in sorted(set(curve_steps(steps)) | {a for a in also if a < steps}):
        t0 = time.perf_counter()
        for i in range(done, end):
            state, value, _ = step(batches(i), state)
        jax.block_until_ready(value)
        blocks.append((end - done, time.perf_counter() - t0))
        train_s += blocks[-1][1]
        done = end
        if int(state.bad_step) >= 0:
            return dict(
                error=None,
                diverged=int(state.bad_step),
                wall_s=train_s,
                curve=curve,
                steps=steps,
                points=p,
            )
        curve.append(
            [done, train_s, pinns.relative_l2(state.model, problem, reference)]
        )
    late = blocks[len(blocks) // 2 :]
    return dict(
        error=curve[-1][2],  # the FINAL model's test error
        final_loss=float(value),
        wall_s=train_s,
        per_iteration_s=sum(t for _, t in late) / sum(n for n, _ in late),
        parameters=training.count_parameters(model),
        points=p,
        steps=steps,
        curve=curve,
    )


def truncated(run: dict, steps: int) -> dict:
    """The run as a run of `steps` steps: its model at step `steps` IS that run's
    final model (the same seed, batches and step-indexed schedule; CPU steps are
    deterministic), with the curve and the time up to there."""
    curve = [c for c in run["curve"] if c[0] <= steps]
    if run.get("error") is None or curve[-1][0] != steps:
        return {**run, "error": None, "steps": steps, "curve": curve}
    return {
        **run,
        "error": curve[-1][2],
        "wall_s": curve[-1][1],
        "steps": steps,
        "curve": curve,
        "final_loss": None,
    }


def time_to_reach(curve: list, target: float) -> float | None:
    """The training time at which a learning curve first reaches `target`."""
    return next((t for _, t, e in curve if e <= target), None)


def verdict(name: str, times: dict, runs: dict) -> dict:
    """(c): does the grid variant pay off on this problem? Yes if, trained for as
    long as dense PIG, its FINAL test error is lower."""
    dense, grid = runs["PIG"], runs["SeparablePIG grid"]
    same = runs["SeparablePIG grid, PIG's training time"]
    step_ratio = times["PIG"]["median_s"] / times["SeparablePIG grid"]["median_s"]
    if any(r.get("error") is None for r in (dense, grid, same)):
        return dict(problem=name, pays_off=None, text=f"{name}: a run diverged")
    reach = time_to_reach(same["curve"], dense["error"])
    pays = same["error"] < dense["error"]
    text = (
        f"{name}: a grid step costs 1/{step_ratio:.3g} of a dense PIG step on as many "
        f"points. After {dense['steps']} steps: {grid['error']:.3g} (grid) vs "
        f"{dense['error']:.3g} (dense). In dense PIG's training time "
        f"({dense['wall_s']:.0f} s, {same['steps']} grid steps): {same['error']:.3g}; "
        + (
            f"it first reached dense PIG's final error after {reach:.3g} s "
            f"({dense['wall_s'] / reach:.3g}x sooner)"
            if reach is not None
            else "it never reached dense PIG's final error"
        )
        + (": pays off." if pays else ": does not pay off.")
    )
    return dict(
        problem=name,
        pays_off=pays,
        step_ratio=step_ratio,
        error_dense=dense["error"],
        error_grid_same_steps=grid["error"],
        error_grid_same_time=same["error"],
        grid_steps_same_time=same["steps"],
        time_to_dense_error_s=reach,
        sooner=None if reach is None else dense["wall_s"] / reach,
        text=text,
    )


HOW = {
    "PIG": ("PIG", "dense, random points"),
    "SeparablePIG grid": ("SeparablePIG", "product grid"),
    "SeparablePIG pointwise, PIG's training time": (
        "SeparablePIG",
        "random points, PIG's training time",
    ),
    "SeparablePIG grid, PIG's training time": (
        "SeparablePIG",
        "product grid, PIG's training time",
    ),
}


def _rows(name: str, runs: dict) -> list[dict]:
    out = []
    for variant, r in runs.items():
        model, how = HOW[variant]
        out.append(
            dict(
                task=name,
                param={"steps": r["steps"], "points": r.get("points")},
                split="test grid",
                model=model,
                variant=f"{how}, final model",
                metric="relative L2",
                value=r["error"],
                seeds=1,
                std=None,
                paper=PROBLEMS[name]["paper"][model],
                wall_s=r["wall_s"],
                per_iteration_s=r.get("per_iteration_s"),
                parameters=r.get("parameters"),
                diverged=r.get("diverged"),
                curve=r["curve"],
            )
        )
    return out


def _timings(name: str, times: dict, runs: dict) -> list[dict]:
    dense = times["PIG"]
    out = []
    for variant in VARIANTS[1:]:
        t = times[variant]
        out.append(
            dict(
                what=f"{name}: training step, {variant} vs dense PIG, {t['points']} "
                f"residual points",
                ours_s=t["median_s"],
                peer="sciml PIG (dense), PINNLoss on random points",
                peer_s=dense["median_s"],
                ratio=dense["median_s"] / t["median_s"],
                ours_min_s=t["min_s"],
                peer_min_s=dense["min_s"],
                compile_s=t["compile_s"],
                peer_compile_s=dense["compile_s"],
                reps=len(t["rounds"]),
            )
        )
    d = runs["PIG"]
    for variant in (
        "SeparablePIG grid, PIG's training time",
        "SeparablePIG pointwise, PIG's training time",
    ):
        r = runs[variant]
        if r.get("error") is None or d.get("error") is None:
            continue
        reach = time_to_reach(r["curve"], d["error"])
        out.append(
            dict(
                what=f"{name}: training time to reach dense PIG's final test error "
                f"({d['error']:.3g}), {variant.split(',')[0]} vs dense PIG",
                ours_s=reach,
                peer="sciml PIG (dense): its whole run",
                peer_s=d["wall_s"],
                ratio=None if reach is None else d["wall_s"] / reach,
            )
        )
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["quick"], default="quick")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--steps", type=int, default=None, help="override (smoke)")
    parser.add_argument("--reps", type=int, default=None, help="timing rounds")
    parser.add_argument(
        "--out-dir", default=None, help="results folder (default: this benchmark's)"
    )
    args = parser.parse_args(argv)
    xla_flags = tune_cpu()  # before the first computation
    load0 = os.getloadavg()
    print(f"load average at start (1, 5, 15 min): {load0}", flush=True)
    steps = args.steps or QUICK["steps"]
    reps = args.reps or QUICK["reps"]
    start = time.perf_counter()
    rows, timings, verdicts, step_info = [], [], [], {}
    for name in args.problems:
        steps_of = _steps(name, QUICK["resample_every"])
        times = step_times(steps_of, reps)
        step_info[name] = times
        for variant, t in times.items():
            print(
                f"{name:13s} {variant:23s} step {t['median_s'] * 1e3:8.2f} ms "
                f"(compile {t['compile_s']:.1f} s), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        reference = PROBLEMS[name]["problem"]().reference()
        runs = {"PIG": train_one(steps_of["PIG"], steps, reference)}
        # the separable variants for as many steps as fit dense PIG's training time
        # (at the step times measured in (a)); the grid variant's model at `steps`
        # is also the `steps`-step run's
        budget = runs["PIG"]["wall_s"]
        n = {
            v: max(10, min(MAX_STEPS, int(budget / times[v]["median_s"])))
            for v in VARIANTS[1:]
        }
        long = train_one(
            steps_of["SeparablePIG grid"], max(n["SeparablePIG grid"], steps),
            reference, (steps,),
        )  # fmt: skip
        runs["SeparablePIG grid"] = truncated(long, steps)
        runs["SeparablePIG grid, PIG's training time"] = long
        runs["SeparablePIG pointwise, PIG's training time"] = train_one(
            steps_of["SeparablePIG pointwise"], n["SeparablePIG pointwise"], reference
        )
        for variant, r in runs.items():
            err = "diverged" if r["error"] is None else f"{r['error']:.3g}"
            print(
                f"{name:13s} {variant:39s} {r['steps']:6d} steps: final rel. L2 "
                f"{err}, {r['wall_s']:.0f} s training, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        rows += _rows(name, runs)
        timings += _timings(name, times, runs)
        verdicts.append(verdict(name, times, runs))
        print(verdicts[-1]["text"], flush=True)
    wall = time.perf_counter() - start
    print(f"load average at end (1, 5, 15 min): {os.getloadavg()}; {wall:.0f} s")
    path = write_results(
        "pig-separable",
        args.scale,
        rows,
        timings,
        extra=dict(
            settings=dict(
                problems={
                    n: {k: v for k, v in PROBLEMS[n].items() if k != "problem"}
                    for n in args.problems
                },
                separable=SEPARABLE,
                steps=steps,
                max_grid_steps_same_time=MAX_STEPS,
                resample_every=QUICK["resample_every"],
                grid_resample="every step (drawn from the step's key)",
                reps=reps,
                seed=SEED,
                dtype="float32",
                load_average_start=[round(v, 2) for v in load0],
                xla_flags=xla_flags,
            ),
            steps_timed=step_info,
            verdicts=verdicts,
            wall_s=wall,
            notes="value = relative L2 of the FINAL model on the problem's test grid, "
            "one seed; the paper's PIG column is Table 1 (best test error seen, the "
            "paper's full recipe), its separable column the sheet's figure numbers "
            "(Klein-Gordon; its Helmholtz is 3-D, not this 2-D one). quick is a "
            "reduction (1000 steps), not the paper's setting.",
        ),
        out_dir=args.out_dir,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
