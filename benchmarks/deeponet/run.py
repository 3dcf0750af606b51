"""The DeepONet family and MT-DeepONet on their benchmarks (spec deeponet.md §4-§5).

    python -m benchmarks.deeponet.run --scale quick|cpu|paper [--tasks ...]

Rows (the FINAL model's error on held-out functions, mean and std over seeds):

- **operators**: the antiderivative ($\\ell = 0.2$; and $\\ell = 0.01$ with a
  Fourier-feature trunk), diffusion-reaction with a source, and 1-D Burgers, for
  the variants DeepONet, POD-DeepONet and the modified DeepONet, trained on data
  and physics-informed only; MIONet on $G(u, v)(x) = \\int_0^x u v$ (two inputs)
  (`sciml.pinns.OperatorPINNLoss`); mean per-sample relative L2, beside the
  PI-DeepONet notebooks' printed errors (the sheet's anchors; at their own,
  larger training);
- **fisher**: one MT-DeepONet on the three source-term forms pooled, against three
  single-task DeepONets each trained on one form with a third of the optimiser
  steps (equal total steps); one global relative Frobenius error over the test
  tensor, and per form;
- **darcy**: the mask-channel model trained on square, circle and triangle
  (masked MSE), its error per geometry; transfer to the square with a cross-shaped
  cut-out by fine-tuning only the code's layers on a few samples, against the
  same model trained from scratch on those samples (mean masked relative L2).

The paper has no readable error tables for MT-DeepONet (the sheet's gap): its
rows have `paper = null`. Data come from `sciml.datasets` generators in a
temporary directory. Results: `benchmarks/deeponet/results/<scale>-<device>/`.
"""

import argparse
import pathlib
import sys
import tempfile
import time

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results

SCALES = {
    "quick": dict(
        seeds=(0, 1),
        data_seed=0,
        n_train=500,
        n_test=200,
        nx=32,
        steps=1500,
        lr=1e-3,
        batch=64,
        cross_batch=64,
        n_points=256,
        n_collocation=256,
        width=64,
        depth=3,
        latent=64,
        pod_modes=32,
        fisher_samples=(150, 150, 300),
        fisher_steps=1500,
        fisher_batch=100,
        fisher_latent=150,
        fisher_branch_width=64,
        fisher_trunk_width=64,
        darcy_nx=32,
        darcy_source=150,
        darcy_test=100,
        darcy_few=50,
        darcy_steps=600,
        darcy_tune_steps=200,
        darcy_batch=32,
    ),
    "cpu": dict(
        # the largest reduction that fits about an hour of this 2-core CPU
        seeds=(0, 1, 2),
        data_seed=0,
        n_train=2000,
        n_test=500,
        nx=64,
        steps=8000,
        lr=1e-3,
        batch=128,
        cross_batch=32,
        n_points=512,
        n_collocation=512,
        # PI Burgers (second derivatives of a modified DeepONet) costs ~200 ms a
        # step at 128 functions x 512 points here; 32 x 256 costs ~30 ms
        physics_batch={"burgers": (32, 256)},
        width=100,
        depth=3,
        latent=100,
        pod_modes=64,
        fisher_samples=(1000, 1000, 2000),
        fisher_steps=9000,
        fisher_batch=200,
        fisher_latent=300,
        fisher_branch_width=128,
        fisher_trunk_width=128,
        darcy_nx=48,
        darcy_source=400,
        darcy_test=150,
        darcy_few=100,
        darcy_steps=2000,
        darcy_tune_steps=800,
        darcy_batch=32,
    ),
    "paper": dict(
        # the notebooks' and MT-DeepONet code's settings where the sheet gives them
        seeds=(0, 1, 2),
        data_seed=0,
        n_train=10000,
        n_test=1000,
        nx=100,
        steps=40000,
        lr=1e-3,
        batch=1000,
        cross_batch=100,
        n_points=1000,
        n_collocation=1000,
        width=100,
        depth=5,
        latent=100,
        pod_modes=64,
        fisher_samples=(1000, 1000, 2000),
        fisher_steps=100000,
        fisher_batch=200,
        fisher_latent=300,
        fisher_branch_width=128,
        fisher_trunk_width=128,
        darcy_nx=100,
        darcy_source=1800,
        darcy_test=600,
        darcy_few=100,
        darcy_steps=20000,
        darcy_tune_steps=5000,
        darcy_batch=100,
    ),
}

OPERATOR_RUNS = {
    "antiderivative": [
        ("DeepONet", "data"),
        ("POD-DeepONet", "data"),
        ("modified DeepONet (cross)", "data"),
        ("DeepONet", "physics"),
    ],
    "antiderivative_hf": [
        ("DeepONet", "data"),
        ("DeepONet + Fourier trunk", "data"),
        ("DeepONet + Fourier trunk", "physics"),
    ],
    "antiderivative_product": [("MIONet", "data")],
    "diffusion_reaction": [
        ("DeepONet", "data"),
        ("POD-DeepONet", "data"),
        ("DeepONet", "physics"),
    ],
    "burgers": [
        ("DeepONet", "data"),
        ("POD-DeepONet", "data"),
        ("modified DeepONet (per network)", "data"),
        ("modified DeepONet (per network)", "physics"),
    ],
}
TASKS = (*OPERATOR_RUNS, "fisher", "darcy")


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--tasks", nargs="*", choices=TASKS, default=list(TASKS))
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    flags = tune_cpu()
    from ._multitask_tasks import run_darcy, run_fisher
    from ._operator_tasks import run_task

    cfg = SCALES[args.scale]
    seeds = cfg["seeds"]
    rows, wall = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for task in args.tasks:
            t0 = time.perf_counter()
            print(f"{task}:", flush=True)
            if task == "fisher":
                rows += run_fisher(cfg, seeds, tmp)
            elif task == "darcy":
                rows += run_darcy(cfg, seeds, tmp)
            else:
                rows += run_task(task, OPERATOR_RUNS[task], cfg, seeds, tmp / task)
            wall[task] = time.perf_counter() - t0
    path = write_results(
        "deeponet",
        args.scale,
        rows,
        [],
        extra={"settings": dict(cfg), "wall_s": wall, "xla_flags": flags},
        packages=("optax", "h5py"),
        out_dir=args.out_dir,
    )
    print(f"wrote {path} ({sum(wall.values()):.0f} s)")
    return path


if __name__ == "__main__":
    sys.exit(main() and 0)
