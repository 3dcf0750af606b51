"""CAPE on seen and unseen PDE parameters (Takamoto, Alesiani and Niepert, ICML 2023;
method sheet `specs/cape.md`).

    python -m benchmarks.cape.run --scale quick|cpu|paper [--tasks ...] [--seeds N]

For 1-D advection (beta) and 1-D Burgers (nu), with the sheet's training and
unseen parameter sets, and one 2-D case (incompressible Navier-Stokes, viscosity
as the parameter), train one-step solvers with CAPE's recipe and report the nRMSE
of full autoregressive rollouts from the first frame on held-out trajectories, per
parameter value, seen and unseen (an nRMSE on the scale of each trajectory's
initial state, see `rollout_nrmse`):

- models: `FNO` (4 layers, 12 modes, grid channel, padding 2; width 36 bare and
  with channels, 20 with CAPE, the sheet's parameter-count match) and `UNet`
  (PDEBench's, 32 features), each as `"none"` (base), `"channels"` (parameters as
  constant channels) and `"cape"`; in 2-D the FNO only (width 28 bare, 20 with
  CAPE), base against CAPE;
- training (sheet §5-7): Adam 3e-3 with L2 weight decay 1e-4, halved every 20
  epochs after the warm-up (scaled with the epochs at the reduced scales); 3
  warm-up epochs in which only CAPE's block learns, on its auxiliary loss, with its
  own Adam; then `RolloutLoss` (relative L2 per step, CAPE's auxiliary term
  alpha = 5.7e-5 (2-D 8.34e-5), its gradient penalty 5.16e-4 in 1-D, input noise
  std 1e-3; [D] each step's error relative to the norm of its trajectory's
  first frame, `normalise="scale"`, as Burgers' frames underflow to zero at
  large viscosity and the per-step ratio is infinite there) over windows of T_train + 1 frames at random offsets, with the
  curriculum `curriculum_steps` ("curriculum") or fully autoregressive from the
  start ("no curriculum", [D]: PDEBench's own autoregressive training). The base
  models skip the warm-up and train the same main epochs;
- data: our PDEBench-layout generators, subsampled as the paper did (space to 128,
  time 201 -> 41 frames, Delta t = 0.05); every parameter value's file shares
  the initial conditions, split by sample index into train / validation / test
  (validation: full rollouts on seen parameters, disjoint from test; unseen
  values: test only);
- reported: test nRMSE of the FINAL model and of the best-on-validation one (both
  labelled), mean and std over seeds; parameter counts; rollout inference time
  per model (interleaved repetitions, median) and CAPE's overhead over the base.

`paper` is null in every row: the paper's tables were not readable (sheet §9). Our
data are PDEBench's corrected equations (advection at beta, Burgers on (0, 1)),
not the pre-fix files the paper trained on.

Scales: `quick` generates on 256 cells (subsampled by 2), few samples, 6 epochs
(4 for Navier-Stokes), T_train 5, one seed (a smoke run of the whole pipeline,
under 10 minutes); `cpu` (about an hour on two cores) the same grids with 32
training trajectories per parameter value, 30 epochs, batch 16, T_train 10, one
seed; both train a U-Net of 16 features (PDEBench's 32 costs four times the
arithmetic) and warm CAPE up for at least 300 steps (`cpu`; 40 at `quick`; 3
epochs are 30 steps there, the paper's 3000); `cpu` ablates the curriculum for
CAPE only, `quick` not at all, and `quick` trains the U-Net on advection only
(every model compiles its own steps, and compilation is most of a quick run). `paper`:
PDEBench's 1024 cells (by 8), the sheet's 100 epochs, batch 50, T_train 20, 32
features, every variant with and without the curriculum, 3 seeds (a GPU run). Burgers is generated
with `cfl=0.9` (the combined stability bound): PDEBench's explicit step at nu = 4
needs 21 million steps a trajectory at 1024 cells. Navier-Stokes is solved on
twice the saved grid with sub-steps up to 5e-3 (the CFL bound 0.5 binds first).
"""

import argparse
import math
import os
import pathlib
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
from sciml import datasets, operators, training

TASKS = {
    "advection": dict(
        generator="advection",
        name="beta",
        seen=(0.2, 0.4, 0.7, 2.0, 4.0),
        unseen=(0.1, 1.0, 7.0),
    ),
    "burgers": dict(
        generator="burgers",
        name="nu",
        seen=(0.002, 0.007, 0.02, 0.04, 0.2, 0.4, 2.0),
        unseen=(0.001, 0.004, 0.01, 0.1, 1.0, 4.0),
        extra=dict(cfl=0.9),
    ),
    "navier_stokes": dict(
        generator="navier_stokes_2d",
        name="nu",
        seen=(1e-3, 3e-4, 1e-4),
        unseen=(5e-4, 2e-4),
    ),
}

SCALES = {
    # a smoke run under 10 minutes on 2 cores, bound by compilation: 1,126 s with
    # 8 epochs, 10-step windows and 100 warm-up steps (at 6d5dfd6); about 790 s
    # with the settings below and the U-Net on Burgers too (at 4ab2e65)
    "quick": dict(
        task_models={"burgers": ("FNO",)},
        warmup_steps=40,
        gen_nx=256,
        n_train=16,
        n_val=4,
        n_test=8,
        epochs=6,
        warmup=1,
        batch=16,
        t_train=5,
        seeds=1,
        unet_features=16,
        variants="main",
        ns_nx=32,
        ns_train=8,
        ns_epochs=4,
    ),
    "cpu": dict(
        warmup_steps=300,
        gen_nx=256,
        n_train=32,
        n_val=8,
        n_test=16,
        epochs=30,
        warmup=3,
        batch=16,
        t_train=10,
        seeds=1,
        unet_features=16,
        variants="short",
        ns_nx=32,
        ns_train=48,
        ns_epochs=30,
    ),
    "paper": dict(
        warmup_steps=0,
        gen_nx=1024,
        n_train=400,
        n_val=50,
        n_test=100,
        epochs=100,
        warmup=3,
        batch=50,
        t_train=20,
        seeds=3,
        unet_features=32,
        variants="all",
        ns_nx=64,
        ns_train=400,
        ns_epochs=100,
    ),
}

VARIANTS = {  # (mode, curriculum)
    "all": (
        ("none", True),
        ("channels", True),
        ("cape", True),
        ("none", False),
        ("channels", False),
        ("cape", False),
    ),
    # the cpu scale: the curriculum ablation for CAPE only; quick: none
    "short": (("none", True), ("channels", True), ("cape", True), ("cape", False)),
    "main": (("none", True), ("channels", True), ("cape", True)),
}


# -- data -------------------------------------------------------------------------


def generate_task(task: str, cfg: dict, folder: pathlib.Path) -> dict:
    """Every parameter value's trajectories `(N, 41, C, X[, Y])`, split."""
    spec = TASKS[task]
    two_d = task == "navier_stokes"
    n_fit = (cfg["ns_train"] if two_d else cfg["n_train"]) + cfg["n_val"]
    out = {"seen": {}, "unseen": {}}
    for split in ("seen", "unseen"):
        for value in spec[split]:
            n = (n_fit if split == "seen" else 0) + cfg["n_test"]
            if two_d:
                nx = cfg["ns_nx"]
                path = datasets.generate(
                    spec["generator"],
                    out=folder,
                    nu=value,
                    n_samples=n,
                    nx=2 * nx,
                    save_nx=nx,
                    nt=21,
                    t_end=5.0,
                )
            else:
                path = datasets.generate(
                    spec["generator"],
                    out=folder,
                    n_samples=n,
                    nx=cfg["gen_nx"],
                    nt=201,
                    **{spec["name"]: value},
                    **spec.get("extra", {}),
                )
            with h5py.File(path, "r") as f:
                u = np.asarray(f["tensor"], np.float32)
            if two_d:  # (N, 21, X, Y): one channel
                u = u[:, :, None]
            else:  # (N, 201, 1024 / s) -> (N, 41, 1, 128)
                u = u[:, ::5, None, :: cfg["gen_nx"] // 128]
            out[split][value] = u
    return out


def splits(data: dict, cfg: dict, two_d: bool) -> dict:
    """Train / validation / test arrays with their parameters."""
    n_train = cfg["ns_train"] if two_d else cfg["n_train"]
    n_val = cfg["n_val"]

    def stack(pieces):
        u = np.concatenate([p for p, _ in pieces])
        lam = np.concatenate([np.full((len(p), 1), v, np.float32) for p, v in pieces])
        return jnp.asarray(u), jnp.asarray(lam)

    seen = data["seen"]
    return {
        "train": stack([(u[:n_train], v) for v, u in seen.items()]),
        "val": stack([(u[n_train : n_train + n_val], v) for v, u in seen.items()]),
        "test": {
            ("seen", v): stack([(u[n_train + n_val :], v)]) for v, u in seen.items()
        }
        | {("unseen", v): stack([(u, v)]) for v, u in data["unseen"].items()},
    }


# -- models -----------------------------------------------------------------------


def build(model: str, mode: str, grid: tuple[int, ...], train_range, features, key):
    """The conditioned solver, with the sheet's widths."""
    d = len(grid)
    cin, cout = operators.Conditioned.base_channels(mode, 1, 1)
    k_base, k_wrap = jax.random.split(key)
    if model == "FNO":
        width = 20 if mode == "cape" else (36 if d == 1 else 28)
        base = operators.FNO(cin, cout, (12,) * d, width=width, padding=2, key=k_base)
    else:
        base = operators.UNet(cin, cout, dims=d, features=features, key=k_base)
    return operators.Conditioned(
        base,
        mode,
        1,
        1,
        grid,
        train_range=train_range,
        param_transform="identity" if d == 1 else "log",
        key=k_wrap,
    )


# -- training ---------------------------------------------------------------------


def windows(u, lam, idx, key, t_train):
    """A batch of windows of `t_train + 1` frames at random offsets, with the
    norm of each trajectory's first frame (`RolloutLoss`'s `"scale"`)."""
    n_frames = u.shape[1]
    starts = jax.random.randint(key, (idx.shape[0],), 0, n_frames - t_train)
    pick = jax.vmap(
        lambda i, s: jax.lax.dynamic_slice_in_dim(u[i], s, t_train + 1, axis=0)
    )
    first = u[idx, 0].reshape(idx.shape[0], -1)
    return pick(idx, starts), lam[idx], jnp.sqrt(jnp.sum(first**2, axis=1))


@eqx.filter_jit
def rollout_all(model, u0, lam, n_steps: int):
    return jax.vmap(lambda a, p: model.rollout(a, p, n_steps)[0])(u0, lam)


def rollout_nrmse(model, u, lam, chunk: int) -> float:
    r"""The error of the full rollout from frame 0 against frames 1 to T, on the
    scale of each trajectory's initial state,
    $\|\hat u - u\|_{x,t} / (\sqrt{T}\,\|u^0\|_x)$, averaged over trajectories;
    in chunks of `chunk` trajectories (one size for validation and test: one
    compilation).

    [D] Not PDEBench's nRMSE (per frame $\|e^k\|/\|u^k\|$): at Burgers' large
    viscosities (nu = 1, 2, 4; diffusivity nu/pi) the field is damped to 1e-5 of
    its size by the first saved frame, and any ratio to the true frames divides
    by norms near zero (we measured 1e4 and more for a model whose rollout was
    1e-2 of the initial state). Where the norm is conserved (advection) this is
    the nRMSE with norms over space and time."""
    errors = []
    for s in range(0, len(u), chunk):
        us, ls = u[s : s + chunk], lam[s : s + chunk]
        pred = rollout_all(model, us[:, 0], ls, u.shape[1] - 1)
        n = len(us)
        error = jnp.linalg.norm((pred - us[:, 1:]).reshape(n, -1), axis=1)
        scale = jnp.linalg.norm(us[:, 0].reshape(n, -1), axis=1) * math.sqrt(
            u.shape[1] - 1
        )
        errors.append(float(jnp.sum(error / scale)))
    return sum(errors) / len(u)


class Trainer:
    """The compiled steps of one model structure, reused across tasks, seeds and
    curricula (every run of that structure has the same shapes)."""

    def __init__(self, mode, two_d, cfg, train_range):
        self.mode = mode
        alpha = 8.34e-5 if two_d else 5.7e-5
        gp = 0.0 if two_d else 5.16e-4
        lo, hi = train_range
        # [D] errors relative to the norm of each trajectory's first frame:
        # Burgers' fields decay to zero at large viscosity (`normalise`)
        self.loss = operators.RolloutLoss(
            alpha=alpha,
            gradient_penalty=gp,
            param_low=lo,
            param_high=hi,
            normalise="scale",
        )
        self.steps = {}

    def step(self, kind, optimizer, trainable=None):
        if kind not in self.steps:
            loss = self.loss
            if kind == "warmup":
                loss = operators.WarmupLoss(normalise="scale")
            self.steps[kind] = training.make_step(loss, optimizer, trainable=trainable)
        return self.steps[kind]


def train(model, trainer, data, cfg, curriculum, epochs, key):
    """Warm-up (CAPE only) and the main epochs; returns final and best models."""
    u, lam = data["train"]
    n = len(u)
    per_epoch = max(1, n // cfg["batch"])
    warmup = cfg["warmup"]
    main_epochs = epochs - warmup
    decay_every = max(1, round(20 * main_epochs / 97))  # 20 of the paper's 97
    lr = optax.exponential_decay(3e-3, decay_every * per_epoch, 0.5, staircase=True)
    # [D] gradients clipped to global norm 1 (not in the sheet): Burgers' windows
    # at large viscosity are 1e-5 of their trajectory's scale, where CAPE's guess
    # u + LN(z) (a unit-variance correction) is far off and the steps spike
    optimizer = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.add_decayed_weights(1e-4),
        optax.adam(lr),
    )
    k_warm, k_main, k_batch = jax.random.split(key, 3)
    batch_of = eqx.filter_jit(windows, donate="none")
    t_train = cfg["t_train"]

    def batches(epoch_key):
        perm = np.asarray(jax.random.permutation(epoch_key, n))
        for b in range(per_epoch):
            idx = jnp.asarray(perm[b * cfg["batch"] : (b + 1) * cfg["batch"]])
            yield batch_of(u, lam, idx, jax.random.fold_in(epoch_key, b), t_train)

    if trainer.mode == "cape":
        where = training.trainable_only(model, lambda m: m.cape)
        warm_opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(3e-3))
        step = trainer.step("warmup", warm_opt, where)
        state = training.init_train_state(model, warm_opt, key=k_warm, trainable=where)
        # [D] at least `warmup_steps` steps (the paper's 3 epochs were 3000):
        # CAPE's guess starts as u + LN(z), an O(1) perturbation, and a few dozen
        # Adam steps do not shrink it
        done, epoch = 0, 0
        while epoch < warmup or done < cfg["warmup_steps"]:
            for ub, lb, sb in batches(jax.random.fold_in(k_batch, 10_000 + epoch)):
                batch = {"u": ub, "params": lb, "t_ar": jnp.asarray(1), "scale": sb}
                state, _, _ = step(batch, state)
                done += 1
            epoch += 1
        model = state.model
    step = trainer.step("main", optimizer)
    state = training.init_train_state(model, optimizer, key=k_main)
    best, best_val = None, math.inf
    for epoch in range(warmup, epochs):
        t_ar = curriculum_t_ar(epoch, epochs, t_train, warmup, curriculum)
        for ub, lb, sb in batches(jax.random.fold_in(k_batch, epoch)):
            batch = {"u": ub, "params": lb, "t_ar": jnp.asarray(t_ar), "scale": sb}
            state, loss, _ = step(batch, state)
        if int(state.bad_step) >= 0:
            raise FloatingPointError(f"non-finite loss at step {int(state.bad_step)}")
        val = rollout_nrmse(state.model, *data["val"], cfg["n_val"])
        if val < best_val:  # a copy: the next step donates the state's buffers
            best, best_val = jax.tree.map(jnp.copy, state.model), val
    return state.model, best, best_val


def curriculum_t_ar(epoch, epochs, t_train, warmup, curriculum: bool) -> int:
    if not curriculum:
        return t_train
    return operators.curriculum_steps(epoch, epochs, t_train, warmup)


def inference_time(models: dict, u0, lam, n_steps, reps=5) -> dict:
    """Median time of a full rollout of the batch, per model, interleaved."""
    times = {k: [] for k in models}
    for m in models.values():  # compile and warm up on the timed shapes
        jax.block_until_ready(rollout_all(m, u0, lam, n_steps))
    for _ in range(reps):
        for k, m in models.items():
            t = time.perf_counter()
            jax.block_until_ready(rollout_all(m, u0, lam, n_steps))
            times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


# -- the run ----------------------------------------------------------------------


def run_task(task, cfg, models, seeds, folder, rows, timings, log):
    spec = TASKS[task]
    two_d = task == "navier_stokes"
    t0 = time.perf_counter()
    data = splits(generate_task(task, cfg, folder), cfg, two_d)
    log(
        f"{task}: data in {time.perf_counter() - t0:.0f} s, train {data['train'][0].shape}"
    )
    grid = tuple(data["train"][0].shape[3:])
    train_range = (min(spec["seen"]), max(spec["seen"]))
    epochs = cfg["ns_epochs"] if two_d else cfg["epochs"]
    variants = [("none", True), ("cape", True)] if two_d else VARIANTS[cfg["variants"]]
    if two_d:
        models = ("FNO",)
    models = [m for m in models if m in cfg.get("task_models", {}).get(task, models)]
    for model_name in models:
        trainers = {}
        final_models = {}
        for mode, curriculum in variants:
            trainers.setdefault(mode, Trainer(mode, two_d, cfg, train_range))
            results = {}
            for seed in range(seeds):
                key = jax.random.key(1000 * seed + 7)
                model = build(
                    model_name, mode, grid, train_range, cfg["unet_features"], key
                )
                t = time.perf_counter()
                final, best, best_val = train(
                    model,
                    trainers[mode],
                    data,
                    cfg,
                    curriculum,
                    epochs,
                    jax.random.fold_in(key, 1),
                )
                seconds = time.perf_counter() - t
                for (split, value), (u, lam) in data["test"].items():
                    for which, m in (("final", final), ("best_val", best)):
                        results.setdefault((split, value, which), []).append(
                            rollout_nrmse(m, u, lam, cfg["n_val"])
                        )
                log(
                    f"  {model_name} {mode} curriculum={curriculum} seed {seed}: "
                    f"{seconds:.0f} s, val {best_val:.4f}"
                )
                if seed == 0 and curriculum:
                    final_models[mode] = final
            variant = mode + ("" if curriculum else ", no curriculum")
            for (split, value, which), values in results.items():
                rows.append(
                    dict(
                        task=task,
                        param={spec["name"]: value},
                        split=split,
                        model=model_name,
                        variant=variant,
                        checkpoint=which,
                        metric="rollout error / initial state",
                        value=float(np.mean(values)),
                        std=float(np.std(values)),
                        seeds=len(values),
                        paper=None,
                        params=training.count_parameters(model),
                        train_s=seconds,
                    )
                )
        # timed on every seen test trajectory at once (a batch of n_test x values)
        seen = [data["test"][("seen", v)] for v in spec["seen"]]
        u = jnp.concatenate([a for a, _ in seen])
        lam = jnp.concatenate([b for _, b in seen])
        times = inference_time(final_models, u[:, 0], lam, u.shape[1] - 1)
        base_s = times["none"]
        for mode, s in times.items():
            timings.append(
                dict(
                    what=f"{task} {model_name} {mode}: rollout of {u.shape[1] - 1} "
                    f"steps, batch {len(u)}",
                    task=task,
                    model=model_name,
                    variant=mode,
                    ours_s=s,
                    peer=f"{model_name} base (ours)",
                    peer_s=base_s,
                    ratio=base_s / s,
                    params=training.count_parameters(final_models[mode]),
                )
            )
        log(f"  {model_name} rollout times {times}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=tuple(SCALES), default="quick")
    parser.add_argument("--tasks", nargs="+", choices=tuple(TASKS), default=list(TASKS))
    parser.add_argument(
        "--models", nargs="+", choices=("FNO", "UNet"), default=["FNO", "UNet"]
    )
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="reuse generated files here")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    xla_flags = tune_cpu()
    cfg = SCALES[args.scale]
    seeds = args.seeds or cfg["seeds"]
    rows, timings = [], []
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(args.data_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for task in args.tasks:
            run_task(task, cfg, args.models, seeds, folder / task, rows, timings, log)
    total = time.perf_counter() - start
    path = write_results(
        "cape",
        args.scale,
        rows,
        timings,
        extra=dict(
            settings=cfg,
            seeds=seeds,
            wall_s=total,
            xla_flags=xla_flags,
            cores=os.cpu_count(),
        ),
        out_dir=args.out_dir,
    )
    log(f"wrote {path} ({total:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
