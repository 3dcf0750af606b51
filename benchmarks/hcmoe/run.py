"""The PI-HC-MoE benchmarks (Chalapathi, Du and Krishnapriyan, "Scaling
physics-informed hard constraints with mixture-of-experts", ICLR 2024; method sheet
`specs/hard-constraints.md`).

    python -m benchmarks.hcmoe.run --scale quick|cpu|paper [--parts ...]

Parts:

- `accuracy`: 1-D diffusion-sorption (DS) and 2-D Navier-Stokes (NS), data from
  our generators; the same FNO basis network trained on the physics loss only as
  PI-SC (soft constraint: the network's output is the field), PI-HC (one global
  hard constraint) and PI-HC-MoE (experts); relative L2 of the FINAL model on
  held-out samples, in %, beside the paper's table. DS also trains on the first
  81 frames (t <= 400 s) and scores the frames t > 400 s (temporal
  extrapolation): the basis is evaluated and the constraint solved on all 101.
- `scaling`: training and inference time per batch as the number of sampled
  points grows (10^2 to 10^5 on DS, to 10^4 on NS), PI-HC against PI-HC-MoE
  (K = 4), freshly initialised basis networks, interleaved rounds. The points are
  the total over experts: each of the K experts solves on P / K of them [U: the
  paper does not say whether its axis counts points per expert or in all].
- `experts`: DS time per training step and final error as the number of experts
  grows (1, 2, 4, 8, 16 spatial blocks), which the paper does not report.

Everything runs in float64 (`JAX_ENABLE_X64`), as the reference code requires.
Results: `benchmarks/hcmoe/results/<scale>-<device>/<date>-<commit>.json` (and
`.md`).
"""

import argparse
import dataclasses
import pathlib
import statistics
import tempfile
import time

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results
from sciml import datasets, operators, pinns, training

# The paper's relative L2 (%) mean and std (spec §5), by (task, split, variant).
PAPER = {
    ("diffusion_sorption", "test", "PI-SC"): (85.93, 5.07),
    ("diffusion_sorption", "test", "PI-HC"): (7.55, 8.10),
    ("diffusion_sorption", "test", "PI-HC-MoE"): (3.60, 2.93),
    ("diffusion_sorption", "extrapolation", "PI-SC"): (805.58, 19.06),
    ("diffusion_sorption", "extrapolation", "PI-HC"): (48.05, 1.23),
    ("diffusion_sorption", "extrapolation", "PI-HC-MoE"): (14.79, 3.00),
    ("navier_stokes", "test", "PI-SC"): (18.081, 3.740),
    ("navier_stokes", "test", "PI-HC"): (11.754, 2.951),
    ("navier_stokes", "test", "PI-HC-MoE"): (8.298, 2.345),
}
# The paper's MoE speed-ups over PI-HC at its smallest and largest point counts.
PAPER_SPEEDUP = {
    ("diffusion_sorption", "train", 100): 1.613,
    ("diffusion_sorption", "train", 100_000): 3.189,
    ("diffusion_sorption", "inference", 100): 2.030,
    ("diffusion_sorption", "inference", 100_000): 3.048,
    ("navier_stokes", "train", 100): 2.117,
    ("navier_stokes", "train", 10_000): 12.838,
    ("navier_stokes", "inference", 100): 2.538,
    ("navier_stokes", "inference", 10_000): 12.864,
}
VARIANTS = ("PI-SC", "PI-HC", "PI-HC-MoE")

# Per scale. DS: nx cells, nt frames over 500 s (PDEBench: 1024 x 101); NS: nx^2 at
# nt frames over T = 5 (the paper: 64^3 training grid). `points` is per expert for
# the accuracy runs (the paper: 20 000 each, and 20 000 for PI-HC); the loss points
# are drawn on the whole grid.
SCALES = {
    "quick": dict(
        ds=dict(
            nx=128,
            n_train=48,
            n_test=8,
            steps=60,
            batch=4,
            points=1000,
            width=16,
            modes=8,
            layers=4,
            n_basis=16,
            experts=(1, 4),
            loss_points=4000,
        ),
        ns=dict(
            nx=32,
            nt=16,
            n_train=24,
            n_test=4,
            steps=40,
            batch=2,
            points=1000,
            width=12,
            modes=(4, 8, 8),
            layers=3,
            n_basis=16,
            experts=(1, 2, 2),
            loss_points=4000,
        ),
        scaling=dict(
            ds_nx=256,
            ds_points=(100, 10_000),
            ns_nx=32,
            ns_nt=16,
            ns_points=(100, 10_000),
            rounds=3,
            batch=2,
        ),
        experts=dict(counts=(1, 2, 4, 8, 16), steps=30),
    ),
    # about an hour on a 2-core CPU: quick's grids, ten times the steps
    "cpu": dict(
        ds=dict(
            nx=128,
            n_train=200,
            n_test=32,
            steps=600,
            batch=4,
            points=1000,
            width=24,
            modes=8,
            layers=4,
            n_basis=16,
            experts=(1, 4),
            loss_points=4000,
        ),
        ns=dict(
            nx=32,
            nt=16,
            n_train=100,
            n_test=16,
            steps=300,
            batch=2,
            points=1000,
            width=12,
            modes=(4, 8, 8),
            layers=3,
            n_basis=16,
            experts=(1, 2, 2),
            loss_points=4000,
        ),
        scaling=dict(
            ds_nx=1024,
            ds_points=(100, 1000, 10_000, 100_000),
            ns_nx=32,
            ns_nt=16,
            ns_points=(100, 1000, 10_000),
            rounds=5,
            batch=2,
        ),
        experts=dict(counts=(1, 2, 4, 8, 16), steps=200),
    ),
    "paper": dict(
        ds=dict(
            nx=1024,
            n_train=8000,
            n_test=1000,
            steps=4000,
            batch=6,
            points=20_000,
            width=64,
            modes=8,
            layers=5,
            n_basis=16,
            experts=(1, 4),
            loss_points=20_000,
        ),
        ns=dict(
            nx=64,
            nt=64,
            n_train=4000,
            n_test=100,
            steps=40_000,
            batch=2,
            points=20_000,
            width=32,
            modes=(8, 8, 8),
            layers=8,
            n_basis=64,
            experts=(1, 2, 2),
            loss_points=20_000,
        ),
        scaling=dict(
            ds_nx=1024,
            ds_points=(100, 1000, 10_000, 100_000),
            ns_nx=64,
            ns_nt=64,
            ns_points=(100, 1000, 10_000),
            rounds=5,
            batch=2,
        ),
        experts=dict(counts=(1, 2, 4, 8, 16), steps=4000),
    ),
}
SCALES["smoke"] = dict(  # a check of the code path at tiny size (benchmarks/gpu.sh)
    ds={**SCALES["quick"]["ds"], "nx": 32, "n_train": 4, "n_test": 2, "steps": 2,
        "points": 100, "width": 8, "layers": 2, "loss_points": 200},
    ns={**SCALES["quick"]["ns"], "nx": 16, "nt": 8, "n_train": 2, "n_test": 2,
        "steps": 2, "points": 100, "width": 8, "modes": (4, 4, 4), "layers": 2,
        "loss_points": 200},
    scaling={**SCALES["quick"]["scaling"], "ds_nx": 32, "ds_points": (100, 200),
             "ns_nx": 16, "ns_nt": 8, "ns_points": (100, 200), "rounds": 1},
    experts=dict(counts=(1, 2), steps=2),
)  # fmt: skip
DS_FRAMES, DS_TRAIN_FRAMES, DS_T_END = 101, 81, 500.0
NS_T_END, NS_NU = 5.0, 1e-4


# -- data ---------------------------------------------------------------------------


def ds_data(cfg: dict, folder: pathlib.Path) -> dict:
    """Diffusion-sorption trajectories `(N, 101, nx)`, train and test."""
    n = cfg["n_train"] + cfg["n_test"]
    path = datasets.generate(
        "diffusion_sorption", out=folder, n_samples=n, nx=cfg["nx"], nt=DS_FRAMES
    )
    with h5py.File(path, "r") as f:
        u = np.stack([np.asarray(f[k]["data"][..., 0]) for k in sorted(f.keys())])
    u = u.astype(np.float64)
    return {"train": u[: cfg["n_train"]], "test": u[cfg["n_train"] :]}


def ns_data(cfg: dict, folder: pathlib.Path) -> dict:
    """Vorticity trajectories `(N, nt, nx, nx)` (solved on 2 nx), train and test."""
    n = cfg["n_train"] + cfg["n_test"]
    path = datasets.generate(
        "navier_stokes_2d",
        out=folder,
        nu=NS_NU,
        n_samples=n,
        nx=2 * cfg["nx"],
        save_nx=cfg["nx"],
        nt=cfg["nt"],
        t_end=NS_T_END,
    )
    with h5py.File(path, "r") as f:
        u = np.asarray(f["tensor"], np.float64)
    return {"train": u[: cfg["n_train"]], "test": u[cfg["n_train"] :]}


# -- models -------------------------------------------------------------------------


class Basis(eqx.Module):
    """An FNO from the initial condition broadcast over the grid (with the grid's
    coordinates appended) to `n_basis` functions on it, channels last."""

    fno: operators.FNO

    def __call__(self, ic: jax.Array) -> jax.Array:
        return jnp.moveaxis(self.fno(ic[None]), 0, -1)


def make_basis(cfg: dict, dims: int, n_out: int, key) -> Basis:
    modes = cfg["modes"] if dims == 3 else (cfg["modes"],) * dims
    fno = operators.FNO(
        1,
        n_out,
        modes,
        width=cfg["width"],
        n_layers=cfg["layers"],
        padding=4,
        projection_width=2 * cfg["width"],
        key=key,
    )
    return Basis(fno)


class Model(eqx.Module):
    """One variant: PI-SC (`layer` None: the basis network's one output, through the
    constraint's ansatz, is the field) or a hard-constraint layer."""

    basis: Basis
    constraint: pinns.AbstractConstraint
    layer: pinns.HardConstraintMoE | None

    def __call__(self, ic_field, data, key):
        """`(u, converged, solver steps)` for one sample."""
        if self.layer is None:
            phi = self.basis(ic_field)
            field = self.constraint.ansatz(phi, data)
            u = pinns.affine_values(field, jnp.ones((1,), phi.dtype))
            return u, jnp.asarray(True), jnp.asarray(0)
        out = self.layer(ic_field, data, key=key)
        return out.u, jnp.all(out.info.converged), jnp.max(out.info.steps)


def make_model(variant, cfg, constraint, grid, key, experts=None, points=None):
    dims = len(grid)
    if variant == "PI-SC":
        return Model(make_basis(cfg, dims, 1, key), constraint, None)
    basis = make_basis(cfg, dims, cfg["n_basis"], key)
    if experts is None:
        experts = cfg["experts"] if variant == "PI-HC-MoE" else (1,) * dims
    c0 = 0.0 if isinstance(constraint, pinns.VorticityConstraint) else 1.0
    layer = pinns.HardConstraintMoE(
        basis, constraint, grid, experts, points or cfg["points"], c0=c0
    )
    return Model(basis, constraint, layer)


def with_grid(model: Model, grid: tuple[int, ...]) -> Model:
    """The same weights on another grid (the extrapolation test's 101 frames)."""
    if model.layer is None:
        return model
    # every other setting (solver, tolerances, mesh, adjoint) carried over
    new = dataclasses.replace(model.layer, grid=grid)
    return eqx.tree_at(lambda m: m.layer, model, new)


def ic_field(u0: jax.Array, grid: tuple[int, ...]) -> jax.Array:
    return jnp.broadcast_to(u0, grid)


def make_loss(grid, loss_points):
    def loss(model, batch, key):
        u0 = batch
        keys = jax.random.split(key, 2 * u0.shape[0]).reshape(u0.shape[0], 2)

        def one(u0, k):
            u, ok, steps = model(ic_field(u0, grid), u0, k[0])
            value, terms = pinns.physics_loss(
                model.constraint, u, u0, points=loss_points, key=k[1]
            )
            return value, ok, steps, terms

        values, ok, steps, terms = jax.vmap(one)(u0, keys)
        mean, unconverged = pinns.converged_mean(values, ok)
        metrics = {name: jnp.mean(v) for name, v in terms.items()}
        metrics.update(unconverged=unconverged, solver_steps=jnp.mean(steps))
        return mean, metrics

    return loss


def train(model, data, grid, cfg, key, steps=None):
    """Adam 1e-3, gradient norm clipped at 1 (the official code's); batches of
    initial conditions drawn from the training set; non-converged solves masked,
    a step with no converged sample skipped and counted."""
    steps = steps or cfg["steps"]
    u0 = jnp.asarray(data[:, 0])
    n, b = u0.shape[0], cfg["batch"]
    base = jax.random.fold_in(key, 1)

    def batches(i):
        return u0[jax.random.choice(jax.random.fold_in(base, i), n, (b,), False)]

    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    t0 = time.perf_counter()
    result = training.fit(
        model,
        make_loss(grid, cfg["loss_points"]),
        batches,
        optimizer,
        steps=steps,
        key=key,
        log_every=max(steps // 6, 1),
        progress=False,
        on_non_finite="skip",
    )
    seconds = time.perf_counter() - t0
    last = result.history[-1]
    log = {
        "train_s": seconds,
        "step_s": 1.0 / last["steps_per_s"],  # the last interval: compiled
        "final_loss": last["loss"],
        "skipped_steps": last.get("skipped_steps", 0),
        "unconverged_per_batch": [r["metrics"]["unconverged"] for r in result.history],
        "solver_steps": [r["metrics"]["solver_steps"] for r in result.history],
    }
    return result.model, log


def evaluate(model, data, grid, frames=slice(None), key=None):
    """Relative L2 (%) per test sample over `frames` (mean and std), the samples
    whose solve did not converge, the mean interface jump and the median
    inference time per sample (after one compiling call)."""
    u0 = jnp.asarray(data[:, 0])
    ref = jnp.asarray(data)
    key = jax.random.key(12345) if key is None else key
    moe = model.layer is not None and model.layer.n_experts > 1

    @eqx.filter_jit
    def predict(model, u0, k):
        field = ic_field(u0, grid)
        if not moe:
            return (*model(field, u0, k), jnp.nan)
        out = model.layer(field, u0, key=k)
        jump = jnp.nanmean(model.layer.interface_jump(out, field, u0))
        return out.u, jnp.all(out.info.converged), jnp.max(out.info.steps), jump

    errors, failed, jumps, seconds = [], 0, [], []
    for i in range(u0.shape[0]):
        t0 = time.perf_counter()
        u, ok, _, jump = jax.block_until_ready(
            predict(model, u0[i], jax.random.fold_in(key, i))
        )
        seconds.append(time.perf_counter() - t0)
        diff = jnp.linalg.norm((u - ref[i])[frames])
        errors.append(100 * float(diff / jnp.linalg.norm(ref[i][frames])))
        failed += int(not bool(ok))
        jumps.append(float(jump))
    return {
        "mean": statistics.fmean(errors),
        "std": statistics.pstdev(errors),
        "unconverged": failed,
        "interface_jump": statistics.fmean(jumps) if moe else None,
        "infer_s": statistics.median(seconds[1:]) if len(seconds) > 1 else None,
    }


# -- parts --------------------------------------------------------------------------


def _row(task, split, variant, result, seeds, log, n_params, extra=None):
    paper = PAPER.get((task, split, variant))
    return {
        "task": task,
        "param": {},
        "split": split,
        "model": "FNO basis",
        "variant": variant,
        "metric": "relative L2 %",
        "value": result["mean"],
        "std": result["std"],
        "seeds": seeds,
        "paper": None if paper is None else paper[0],
        "paper_std": None if paper is None else paper[1],
        "unconverged_test": result["unconverged"],
        "interface_jump": result["interface_jump"],
        "parameters": n_params,
        "infer_s": result["infer_s"],
        **{k: v for k, v in log.items()},
        **(extra or {}),
    }


def accuracy(scale: dict, data: dict, seed: int) -> list[dict]:
    rows = []
    ds_cfg, ns_cfg = scale["ds"], scale["ns"]
    ds = pinns.DiffusionSorptionConstraint(dt=DS_T_END / (DS_FRAMES - 1))
    ns = pinns.VorticityConstraint(re=1 / NS_NU, t_end=NS_T_END)
    ds_grid = (DS_FRAMES, ds_cfg["nx"])
    short = (DS_TRAIN_FRAMES, ds_cfg["nx"])
    ns_grid = (ns_cfg["nt"], ns_cfg["nx"], ns_cfg["nx"])
    for variant in VARIANTS:
        key = jax.random.key(seed)
        # DS on the whole window
        model = make_model(variant, ds_cfg, ds, ds_grid, key)
        model, log = train(model, data["ds"]["train"], ds_grid, ds_cfg, key)
        res = evaluate(model, data["ds"]["test"], ds_grid)
        n_params = training.count_parameters(model)
        rows.append(_row("diffusion_sorption", "test", variant, res, 1, log, n_params))
        print(f"DS {variant}: {res['mean']:.2f} % ({log['train_s']:.0f} s)", flush=True)
        # DS extrapolation: train on t <= 400 s, solve on all 101 frames
        model = make_model(variant, ds_cfg, ds, short, key)
        model, log = train(
            model, data["ds"]["train"][:, :DS_TRAIN_FRAMES], short, ds_cfg, key
        )
        res = evaluate(
            with_grid(model, ds_grid),
            data["ds"]["test"],
            ds_grid,
            frames=slice(DS_TRAIN_FRAMES, None),
        )
        rows.append(
            _row("diffusion_sorption", "extrapolation", variant, res, 1, log, n_params)
        )
        print(f"DS extrapolation {variant}: {res['mean']:.2f} %", flush=True)
        # NS
        model = make_model(variant, ns_cfg, ns, ns_grid, key)
        model, log = train(model, data["ns"]["train"], ns_grid, ns_cfg, key)
        res = evaluate(model, data["ns"]["test"], ns_grid)
        rows.append(
            _row(
                "navier_stokes",
                "test",
                variant,
                res,
                1,
                log,
                training.count_parameters(model),
            )
        )
        print(f"NS {variant}: {res['mean']:.2f} % ({log['train_s']:.0f} s)", flush=True)
    return rows


def _timed_pair(fns: dict, rounds: int) -> dict:
    """Median seconds per call of each function, interleaved, after one warm-up
    call each (compilation)."""
    times = {name: [] for name in fns}
    for fn in fns.values():
        jax.block_until_ready(fn())
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _step_fns(model, grid, cfg, u0):
    """`train()` and `infer()` for one model on one batch: a full training step
    (forward, implicit backward, Adam) and a forward pass."""
    loss = make_loss(grid, min(cfg["loss_points"], int(np.prod(grid))))
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    state = {"s": training.init_train_state(model, optimizer, key=jax.random.key(0))}
    step = training.make_step(loss, optimizer)

    def train_once():
        state["s"], value, _ = step(u0, state["s"])
        return value

    @eqx.filter_jit
    def forward(model, u0, key):
        keys = jax.random.split(key, u0.shape[0])
        return jax.vmap(lambda a, k: model(ic_field(a, grid), a, k)[0])(u0, keys)

    return train_once, lambda: forward(model, u0, jax.random.key(1))


def scaling(scale: dict, data: dict) -> list[dict]:
    """Time per batch of PI-HC and PI-HC-MoE (K = 4) as the points grow."""
    cfg = scale["scaling"]
    timings = []
    cases = [
        (
            "diffusion_sorption",
            scale["ds"],
            (DS_FRAMES, cfg["ds_nx"]),
            (1, 4),
            pinns.DiffusionSorptionConstraint(dt=DS_T_END / (DS_FRAMES - 1)),
            cfg["ds_points"],
        ),
        (
            "navier_stokes",
            scale["ns"],
            (cfg["ns_nt"], cfg["ns_nx"], cfg["ns_nx"]),
            (1, 2, 2),
            pinns.VorticityConstraint(re=1 / NS_NU, t_end=NS_T_END),
            cfg["ns_points"],
        ),
    ]
    for task, mcfg, grid, experts, constraint, counts in cases:
        rng = np.random.default_rng(0)
        if task == "diffusion_sorption":
            u0 = jnp.asarray(
                np.repeat(rng.uniform(0, 0.2, (cfg["batch"], 1)), grid[1], axis=1)
            )
        else:
            u0 = jnp.asarray(data["ns"]["test"][: cfg["batch"], 0])
            if u0.shape[-1] != grid[-1]:
                raise ValueError("the NS scaling grid must be the accuracy grid")
        for points in counts:
            key = jax.random.key(0)
            single = make_model("PI-HC", mcfg, constraint, grid, key, points=points)
            moe = make_model(
                "PI-HC-MoE",
                mcfg,
                constraint,
                grid,
                key,
                experts=experts,
                points=points // 4,
            )
            hc_train, hc_infer = _step_fns(single, grid, mcfg, u0)
            moe_train, moe_infer = _step_fns(moe, grid, mcfg, u0)
            t = _timed_pair(
                {
                    "hc_train": hc_train,
                    "moe_train": moe_train,
                    "hc_infer": hc_infer,
                    "moe_infer": moe_infer,
                },
                cfg["rounds"],
            )
            for what in ("train", "inference"):
                short = "train" if what == "train" else "infer"
                hc, moe_s = t[f"hc_{short}"], t[f"moe_{short}"]
                timings.append(
                    {
                        "what": f"{task} {what} per batch of {cfg['batch']}, "
                        f"{points} points",
                        "task": task,
                        "phase": what,
                        "points": points,
                        "grid": list(grid),
                        "experts": list(experts),
                        "ours": "PI-HC-MoE",
                        "ours_s": moe_s,
                        "peer": "PI-HC (ours, one expert)",
                        "peer_s": hc,
                        "ratio": hc / moe_s,
                        "paper": PAPER_SPEEDUP.get((task, what, points)),
                    }
                )
                print(
                    f"{task} {what} {points}: HC {hc:.3f} s, MoE {moe_s:.3f} s, "
                    f"{hc / moe_s:.2f}x",
                    flush=True,
                )
    return timings


def experts_sweep(scale: dict, data: dict, seed: int) -> tuple[list, list]:
    """DS time per training step and final error for K = 1, 2, 4, 8, 16 experts
    along x, the same total points (the K = 4 accuracy run's) split over them."""
    cfg = dict(scale["ds"])
    sweep = scale["experts"]
    ds = pinns.DiffusionSorptionConstraint(dt=DS_T_END / (DS_FRAMES - 1))
    grid = (DS_FRAMES, cfg["nx"])
    total = cfg["points"] * 4
    rows, timings = [], []
    for k in sweep["counts"]:
        key = jax.random.key(seed)
        model = make_model(
            "PI-HC-MoE", cfg, ds, grid, key, experts=(1, k), points=total // k
        )
        model, log = train(
            model, data["ds"]["train"], grid, cfg, key, steps=sweep["steps"]
        )
        res = evaluate(model, data["ds"]["test"], grid)
        rows.append(
            _row(
                "diffusion_sorption",
                "test",
                f"MoE K={k}",
                res,
                1,
                log,
                training.count_parameters(model),
                extra={"experts": k, "points_per_expert": total // k, "sweep": True},
            )
        )
        timings.append(
            {
                "what": f"diffusion_sorption train step, K={k} experts, {total} points",
                "task": "diffusion_sorption",
                "phase": "sweep",
                "experts_k": k,
                "ours": f"MoE K={k}",
                "ours_s": log["step_s"],
                "infer_s": res["infer_s"],
                "peer": None,
                "peer_s": None,
                "ratio": None,
                "paper": None,
            }
        )
        print(
            f"experts {k}: {res['mean']:.2f} %, step {log['step_s']:.3f} s", flush=True
        )
    return rows, timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=tuple(SCALES), default="quick")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["accuracy", "scaling", "experts"],
        choices=["accuracy", "scaling", "experts"],
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    tune_cpu()
    jax.config.update("jax_enable_x64", True)
    scale = SCALES[args.scale]
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        data = {
            "ds": ds_data(scale["ds"], folder / "ds"),
            "ns": ns_data(scale["ns"], folder / "ns"),
        }
    gen_s = time.perf_counter() - t_start
    rows, timings = [], []
    if "accuracy" in args.parts:
        rows += accuracy(scale, data, args.seed)
    if "scaling" in args.parts:
        timings += scaling(scale, data)
    if "experts" in args.parts:
        more_rows, more_timings = experts_sweep(scale, data, args.seed)
        rows += more_rows
        timings += more_timings
    total = time.perf_counter() - t_start
    path = write_results(
        "hcmoe",
        args.scale,
        rows,
        timings,
        extra={
            "settings": scale,
            "parts": args.parts,
            "seed": args.seed,
            "generation_s": gen_s,
            "total_s": total,
            "float64": True,
            "solver": "optimistix Levenberg-Marquardt, "
            "rtol = atol = 1e-4, at most 100 steps (the code's cap; the paper "
            "says 50), c0 = 1 (DS) / 0 (NS), implicit adjoint (exact "
            "linearisation)",
        },
        out_dir=args.out_dir,
    )
    print(f"wrote {path} ({total:.0f} s)")


if __name__ == "__main__":
    main()
