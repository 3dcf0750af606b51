"""DeepONet and POD-DeepONet against DeepXDE's implementation of the same variant,
on the same data, in the same run (issue 11; spec deeponet.md §4, "Protocol").

    .peers/pinn-venv/bin/python -m benchmarks.deeponet.peer --scale quick

(DeepXDE and PyTorch live in the peer environment; `DDE_BACKEND=pytorch` is set
here before DeepXDE is imported).

- **Data**: the main benchmark's (`_operator_tasks.load` at `run.SCALES[scale]`):
  the first `n_train` functions train, the rest are held out.
- **Ours**: the main benchmark's model (`_operator_tasks._model`), loss
  (`_train.mse_loss`), optimiser (`_train.adam`: Adam at `lr`, times 0.9 every
  `steps // 10` steps, staircase) and loop (`_train.train`).
- **DeepXDE**: `dde.nn.DeepONetCartesianProd` with branch `[m, w, w, w, p]` and
  trunk `[d, w, w, w, p]`, tanh, "Glorot normal" (DeepXDE's own initialisation,
  `torch.manual_seed(seed)`; its trunk applies tanh to its last layer, as ours does
  by default), and `dde.nn.PODDeepONet` given the basis of
  `sciml.operators.pod_basis` (the one our model holds) plus its mean phi_0 as an
  output transform (ours adds phi_0); trained by a plain PyTorch loop: forward,
  MSE, backward, `torch.optim.Adam.step`, `torch.optim.lr_scheduler.StepLR`
  (`gamma` 0.9, `step_size` `steps // 10`: optax's staircase decay); float32.
- **Batches**: per step, the same function indices (and, where the grid has more
  points than `n_points`, the same sorted point indices) for both, drawn once per
  seed with numpy; POD-DeepONet takes every grid point (as in the main benchmark).
- **Metric**: mean per-sample relative L2 of the FINAL model on the held-out
  functions (`_train.relative_l2`), mean and std over the seeds.
- **Time per step**: each training run's loop time (the first step, which compiles
  ours, excluded) over its steps, batch assembly included; the median over seeds.
  The two sides alternate seed by seed (the order flips each seed). Torch gets the
  faster of 1 and all cores, probed on a few steps per configuration.

Results: `benchmarks/deeponet/results/peer-<scale>-<device>/`.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import jax  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._cpu import tune_cpu  # noqa: E402
from benchmarks._results import write_results  # noqa: E402

from ._operator_tasks import DECAY  # noqa: E402
from .run import SCALES  # noqa: E402

PEER = "DeepXDE 1.15 (PyTorch)"
RUNS = {
    "antiderivative": ("DeepONet", "POD-DeepONet"),
    "antiderivative_hf": ("DeepONet",),
    "antiderivative_product": ("MIONet",),
    "diffusion_reaction": ("DeepONet", "POD-DeepONet"),
    "burgers": ("DeepONet", "POD-DeepONet"),
}
# physics-informed rows (DeepXDE's PDEOperatorCartesianProd, through dde.Model)
PI_RUNS = ("antiderivative",)
# ours again, with DeepXDE's initialisation (sciml.nn.initialise): an accuracy row
# that separates the initialisation from the rest
GLOROT = "sciml (Glorot normal)"
SIDES = ("sciml", "DeepXDE", GLOROT)


def load_average() -> list[float]:
    return [float(v) for v in open("/proc/loadavg").read().split()[:3]]


def cores() -> int:
    return len(os.sched_getaffinity(0))


def draws(cfg: dict, n_train: int, n_grid: int, all_points: bool, seed: int):
    """Per step: the function indices and the point indices (None: every point)."""
    rng = np.random.default_rng(seed)
    size = min(cfg["batch"], n_train)
    n_points = None if all_points else cfg.get("n_points")
    if n_points is not None and n_points >= n_grid:
        n_points = None
    out = []
    for _ in range(cfg["steps"]):
        idx = rng.choice(n_train, size, replace=False)
        pick = (
            None if n_points is None else np.sort(rng.choice(n_grid, n_points, False))
        )
        out.append((idx, pick))
    return out


# -- ours --------------------------------------------------------------------------


def train_ours(task, variant, data, cfg, seed, schedule, init=None):
    """The main benchmark's `train_one` on this seed's shared batch schedule (the
    data on the device once; each step gathers its indices there)."""
    from ._operator_tasks import train_one
    from ._train import function_batches

    n = cfg["n_train"]
    batch_of = function_batches(
        jax.tree.map(lambda a: a[:n], data["inputs"]),
        data["outputs"][:n],
        data["points"],
        cfg["batch"],
        schedule=schedule,
    )
    _, error, t = train_one(
        task, variant, "data", data, cfg, seed, batches=batch_of, init=init
    )
    return error, t


# -- DeepXDE -----------------------------------------------------------------------


def peer_net(dde, torch, variant, data, cfg, seed, our_model):
    """DeepXDE's network of the same sizes, its own Glorot-normal initialisation."""
    from sciml.operators import pod_basis

    torch.manual_seed(seed)
    m, d = jax.tree.leaves(data["inputs"])[0].shape[1], data["points"].shape[1]
    w, depth, p = cfg["width"], cfg["depth"], cfg["latent"]
    hidden = [w] * depth
    if variant == "DeepONet":
        return dde.nn.DeepONetCartesianProd(
            [m, *hidden, p], [d, *hidden, p], "tanh", "Glorot normal"
        )
    if variant == "MIONet":  # tanh on the trunk's last layer, as ours
        return dde.nn.MIONetCartesianProd(
            [m, *hidden, p],
            [m, *hidden, p],
            [d, *hidden, p],
            "tanh",
            "Glorot normal",
            trunk_last_activation=True,
        )
    train_s = data["outputs"][: cfg["n_train"], :, 0]
    modes = min(cfg["pod_modes"], train_s.shape[0])
    basis, mean = pod_basis(train_s, modes)
    # the basis our model holds (the same function, float32)
    ours = np.asarray(our_model.basis.value)
    if not np.allclose(ours, basis.astype(np.float32), atol=1e-6):
        raise RuntimeError("pod_basis differs from the basis of our PODDeepONet")
    net = dde.nn.PODDeepONet(
        basis[:, 0, :], [m, *hidden, modes], "tanh", "Glorot normal"
    )
    phi0 = torch.as_tensor(mean[:, 0], dtype=torch.float32)
    net.apply_output_transform(lambda inputs, out: out + phi0)
    return net


def train_peer(torch, net, data, cfg, schedule):
    n = cfg["n_train"]
    inputs = data["inputs"] if isinstance(data["inputs"], tuple) else (data["inputs"],)
    u = [torch.as_tensor(a[:n], dtype=torch.float32) for a in inputs]
    s = torch.as_tensor(data["outputs"][:n, :, 0], dtype=torch.float32)
    y = torch.as_tensor(data["points"], dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    every = max(cfg["steps"] // 10, 1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=DECAY)
    times = []
    t_loop = None
    for i, (idx, pick) in enumerate(schedule):
        if i == 1:
            t_loop = time.perf_counter()
        t0 = time.perf_counter()
        idx = torch.as_tensor(idx)
        target = s[idx]
        points = y
        if pick is not None:
            pick = torch.as_tensor(pick)
            target, points = target[:, pick], y[pick]
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net((*(a[idx] for a in u), points)) - target) ** 2)
        loss.backward()
        opt.step()
        sched.step()
        times.append(time.perf_counter() - t0)
    train_s = time.perf_counter() - t_loop
    if not np.isfinite(loss.item()):
        raise FloatingPointError("DeepXDE training hit a non-finite loss")
    with torch.no_grad():
        test_u = [torch.as_tensor(a[n:], dtype=torch.float32) for a in inputs]
        pred = net((*test_u, y)).numpy()[..., None]
    from ._train import relative_l2

    return relative_l2(pred, data["outputs"][n:]), {
        "train_s": train_s,
        "s_per_step": train_s / max(len(schedule) - 1, 1),
        "median_step_s": statistics.median(times[1:]),
        "final_loss": loss.item(),
        "final_lr": opt.param_groups[0]["lr"],
    }


def probe_threads(torch, time_once) -> dict:
    """The faster of 1 and all cores for torch: `time_once()` runs a few steps and
    returns seconds per step (twice per setting, the second counted)."""
    seen = {}
    for n in sorted({1, cores()}):
        torch.set_num_threads(n)
        time_once()
        seen[n] = time_once()
    best = min(seen, key=seen.get)
    torch.set_num_threads(best)
    return {"chosen": best, "probe_s_per_step": seen}


def alternate(seeds, run, label: str, after=()) -> tuple[dict, dict]:
    """`run(side, seed) -> (error, timing)` for both sides each seed, the order of
    sciml and DeepXDE flipping seed by seed, then the sides in `after`; the
    errors and timings per side."""
    err, tim = {}, {}
    for k, seed in enumerate(seeds):
        pair = ("sciml", "DeepXDE") if k % 2 == 0 else ("DeepXDE", "sciml")
        for side in (*pair, *after):
            e, t = run(side, seed)
            err.setdefault(side, []).append(e)
            tim.setdefault(side, []).append(t)
            print(
                f"  {label} {side:7s} seed {seed}: {e:.3e} "
                f"{t['s_per_step'] * 1e3:.2f} ms/step (load {load_average()[0]})",
                flush=True,
            )
    return err, tim


# -- physics-informed: DeepXDE's PDEOperatorCartesianProd through dde.Model --------


def train_peer_pi(dde, torch, data, cfg, seed, steps=None):
    """The antiderivative's PI-DeepONet as DeepXDE's example builds it (a
    `TimeDomain`, `dde.data.PDE` with the residual $ds/dx - u$ and the condition
    $s(0) = 0$, `PDEOperatorCartesianProd`, `dde.Model`), on our training functions
    (a `FunctionSpace` that looks them up) with the residual at the same sensors."""
    n, steps = cfg["n_train"], steps or cfg["steps"]
    u_train, x = data["inputs"][:n], data["sensors"]

    class Table(dde.data.function_spaces.FunctionSpace):
        def random(self, size):  # the training functions, in order
            return np.arange(size)[:, None]

        def eval_one(self, feature, y):
            return np.interp(y, x, u_train[int(feature[0])])

        def eval_batch(self, features, ys):
            rows = [np.interp(ys[:, 0], x, u_train[int(f[0])]) for f in features]
            return np.asarray(rows, dtype=np.float32)

    geom = dde.geometry.TimeDomain(0.0, 1.0)
    ic = dde.icbc.IC(geom, lambda _: 0.0, lambda _, on_initial: on_initial)
    pde = dde.data.PDE(
        geom,
        lambda y, s, u: dde.grad.jacobian(s, y) - u,
        ic,
        num_domain=0,
        num_boundary=0,
        anchors=x[:, None],
    )
    problem = dde.data.PDEOperatorCartesianProd(
        pde, Table(), x[:, None], n, batch_size=min(cfg["batch"], n)
    )
    torch.manual_seed(seed)
    m, w, depth, p = len(x), cfg["width"], cfg["depth"], cfg["latent"]
    net = dde.nn.DeepONetCartesianProd(
        [m, *[w] * depth, p], [1, *[w] * depth, p], "tanh", "Glorot normal"
    )
    model = dde.Model(problem, net)
    every = max(cfg["steps"] // 10, 1)
    model.compile("adam", lr=cfg["lr"], decay=("step", every, DECAY))
    model.train(iterations=1, display_every=10**9, verbose=0)  # set-up, untimed
    t0 = time.perf_counter()
    model.train(iterations=steps - 1, display_every=10**9, verbose=0)
    train_s = time.perf_counter() - t0
    net.eval()
    with torch.no_grad():
        test_u = torch.as_tensor(data["inputs"][n:], dtype=torch.float32)
        y = torch.as_tensor(x[:, None], dtype=torch.float32)
        pred = net((test_u, y)).numpy()[..., None]
    from ._train import relative_l2

    return relative_l2(pred, data["outputs"][n:]), {
        "train_s": train_s,
        "s_per_step": train_s / max(steps - 1, 1),
    }


def run_pi_task(task, cfg, tmp):
    """PI-DeepONet (residual only) against DeepXDE's: Model.train-level on their
    side (its loss loops over the functions of a batch in Python)."""
    import deepxde as dde
    import torch

    from ._operator_tasks import load

    data = load(task, cfg, tmp)
    data["n_train"] = n = cfg["n_train"]
    from ._operator_tasks import train_one

    threads = probe_threads(
        torch,
        lambda: train_peer_pi(dde, torch, data, cfg, 0, steps=20)[1]["s_per_step"],
    )
    chosen = threads["chosen"]

    def run(side, seed):
        if side == "sciml":
            return train_one(task, "DeepONet", "physics", data, cfg, seed)[1:]
        return train_peer_pi(dde, torch, data, cfg, seed)

    err, tim = alternate(cfg["seeds"], run, f"{task:18s} PI-DeepONet ")
    step = {k: statistics.median(x["s_per_step"] for x in v) for k, v in tim.items()}
    rows = [
        {
            "task": task,
            "param": {
                "n_train": n,
                "n_test": len(data["outputs"]) - n,
                "steps": cfg["steps"],
                "batch": cfg["batch"],
                "width": cfg["width"],
                "depth": cfg["depth"],
                "latent": cfg["latent"],
                "lr": cfg["lr"],
                "residual_points": "the sensors",
            },
            "split": "test",
            "model": "DeepONet",
            "variant": side,
            "training": "physics",
            "metric": "mean relative L2",
            "value": float(np.mean(err[side])),
            "std": float(np.std(err[side])),
            "seeds": len(cfg["seeds"]),
            "per_seed": err[side],
            "paper": None,
            "s_per_step": step[side],
            "per_seed_timing": tim[side],
            "torch_threads": threads if side == "DeepXDE" else None,
        }
        for side in ("sciml", "DeepXDE")
    ]
    timings = [
        {
            "what": f"{task}, DeepONet (physics): training step",
            "ours_s": step["sciml"],
            "peer": PEER + ", dde.Model.train",
            "peer_s": step["DeepXDE"],
            "ratio": step["DeepXDE"] / step["sciml"],
            "torch_threads": chosen,
            "load_average": load_average(),
        }
    ]
    return rows, timings


# -- the run -----------------------------------------------------------------------


def run_task(task, cfg, tmp):
    import deepxde as dde
    import torch

    from ._operator_tasks import _model, load

    data = load(task, cfg, tmp)
    data["n_train"] = n = cfg["n_train"]
    n_test, n_grid = len(data["outputs"]) - n, data["points"].shape[0]
    rows, timings = [], []
    seeds = cfg["seeds"]
    for variant in RUNS[task]:
        sched0 = draws(cfg, n, n_grid, variant == "POD-DeepONet", seeds[0])
        ours0 = _model(variant, data, cfg, jax.random.key(seeds[0]))

        def time_once(v=variant, o=ours0, schedule=sched0[:20]):
            net = peer_net(dde, torch, v, data, cfg, seeds[0], o)
            return train_peer(torch, net, data, dict(cfg, steps=20), schedule)[1][
                "s_per_step"
            ]

        threads = probe_threads(torch, time_once)

        def run(side, seed, variant=variant):
            schedule = draws(cfg, n, n_grid, variant == "POD-DeepONet", seed)
            if side == "DeepXDE":
                ours = _model(variant, data, cfg, jax.random.key(seed))
                net = peer_net(dde, torch, variant, data, cfg, seed, ours)
                return train_peer(torch, net, data, cfg, schedule)
            init = "glorot_normal" if side == GLOROT else None
            return train_ours(task, variant, data, cfg, seed, schedule, init=init)

        err, tim = alternate(seeds, run, f"{task:18s} {variant:12s}", after=(GLOROT,))
        step = {
            k: statistics.median(x["s_per_step"] for x in v) for k, v in tim.items()
        }  # the GLOROT side's steps are the same network's: not compared
        for side in SIDES:
            rows.append(
                {
                    "task": task,
                    "param": {
                        "n_train": n,
                        "n_test": n_test,
                        "steps": cfg["steps"],
                        "batch": cfg["batch"],
                        "n_points": None
                        if variant == "POD-DeepONet" or cfg["n_points"] >= n_grid
                        else cfg["n_points"],
                        "grid_points": n_grid,
                        "width": cfg["width"],
                        "depth": cfg["depth"],
                        "latent": cfg["latent"],
                        "pod_modes": cfg["pod_modes"]
                        if variant == "POD-DeepONet"
                        else None,
                        "lr": cfg["lr"],
                        "decay": f"x{DECAY} every {max(cfg['steps'] // 10, 1)} steps",
                    },
                    "split": "test",
                    "model": variant,
                    "variant": side,
                    "training": "data",
                    "metric": "mean relative L2",
                    "value": float(np.mean(err[side])),
                    "std": float(np.std(err[side])),
                    "seeds": len(seeds),
                    "per_seed": err[side],
                    "paper": None,
                    "s_per_step": step[side],
                    "per_seed_timing": tim[side],
                    "torch_threads": threads if side == "DeepXDE" else None,
                }
            )
        timings.append(
            {
                "what": f"{task}, {variant}: training step",
                "ours_s": step["sciml"],
                "peer": PEER,
                "peer_s": step["DeepXDE"],
                "ratio": step["DeepXDE"] / step["sciml"],
                "torch_threads": threads["chosen"],
                "load_average": load_average(),
            }
        )
    return rows, timings


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--tasks", nargs="*", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    flags = tune_cpu()
    import torch

    cfg = dict(SCALES[args.scale])
    start = time.perf_counter()
    before = load_average()
    print(
        f"load average {before}; {cores()} cores; torch {torch.__version__}; "
        f"jax {jax.__version__} {jax.devices()}; XLA_FLAGS={flags!r}",
        flush=True,
    )
    rows, timings, wall = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            t0 = time.perf_counter()
            print(f"{task}:", flush=True)
            r, t = run_task(task, cfg, pathlib.Path(tmp) / task)
            rows += r
            timings += t
            if task in PI_RUNS:
                r, t = run_pi_task(task, cfg, pathlib.Path(tmp) / f"{task}-pi")
                rows += r
                timings += t
            wall[task] = time.perf_counter() - t0
    path = write_results(
        "deeponet",
        f"peer-{args.scale}",
        rows,
        timings,
        extra={
            "settings": {**cfg, "decay": DECAY, "dtype": "float32", "cores": cores()},
            "wall_s": wall,
            "xla_flags": flags,
            "load_average_start": before,
            "notes": (
                "Ours: _train.train on _operator_tasks._model; DeepXDE: "
                "DeepONetCartesianProd / PODDeepONet (Glorot normal, its own init) "
                "with a torch Adam + StepLR loop; the same per-step function and "
                "point indices; time per step: loop time / steps (first excluded), "
                "median over seeds."
            ),
        },
        packages=("deepxde", "torch", "optax", "h5py", "numpy"),
        out_dir=args.out_dir,
    )
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s)")
    return path


if __name__ == "__main__":
    sys.exit(main() and 0)
