"""Our FNO and U-Net against the PyTorch FNOs and U-Net on the CPU (or a GPU):
training step and full autoregressive rollout, the same shapes and (near) the
same parameter counts, interleaved (issue 12 §1).

    .peers/pinn-venv/bin/python -m benchmarks.operators.run --scale quick

(PyTorch and neuraloperator live in the peer environment; see README.md.)

- **Ours**: `sciml.operators.FNO` (channels-last inside; `transform="auto"`:
  the truncated DFTs as matrix products at these sizes) with
  `sciml.training.make_step` and `optax.adam`; also `transform="fft"`, the
  FFT-and-scatter layer, as a row of its own. The autoregressive window loop is a
  `lax.scan` fully unrolled (`_ours.UNROLL`; 1.66x faster to train through than
  the rolled loop on this CPU, same compile time).
- **PDEBench**: its `FNO1d` / `FNO2d` (MIT), eager, `torch.optim.Adam`.
- **U-Net** (`unet-1d`, `unet-2d`; the CAPE paper's 1-D setting and a 2-D one):
  `sciml.operators.UNet` with `norm="group"` (GroupNorm in every block, so the
  work per block matches PDEBench's BatchNorm; the default `norm="none"` does
  less) against PDEBench's `UNet1d` / `UNet2d` (MIT) imported unchanged,
  BatchNorm in training mode for the step, in evaluation mode for the rollout
  (as PDEBench evaluates). Ours runs XLA's convolution op with canonical
  derivatives (`conv="auto"`); `conv="matmul"` (the stacked-tap products), the
  step only, is a row of its own. The step maps one frame to the next; the rollout
  feeds each output back in (`sciml.operators.rollout`, a rolled `lax.scan`;
  a Python loop in torch). neuraloperator has no U-Net: PDEBench is the only
  peer.
- **neuraloperator**: `neuralop.models.FNO` with a linear lift, linear skips, no
  channel MLP and a 128-channel projection (PDEBench's structure), eager.
- **Step**: forward over `unroll` frames (PDEBench's sliding window of `frames`
  input frames when `unroll > 1`), MSE, backward, Adam; random data of the right
  shapes (speed does not depend on the values).
- **Processes**: ours run in one worker process, the PyTorch peers in another
  (`_worker.py`); the parent sends each its turns. Neither library's threads or
  allocator then reach the other's timings: in one shared process,
  `sciml.training.reuse_host_memory` made our `1d-ar` step 3.9x slower while it
  sped up PyTorch's 2-D steps. `--host-memory default|reuse` sets glibc's malloc
  in both workers alike (its defaults, or `reuse_host_memory()`); the results
  record it, and the table shows the latest run of each.
- **Timing**: after a warm-up on the exact shapes, `rounds` rounds; each round
  times `reps` steps of every side in turn (the order rotates per round); the
  median over rounds. Torch runs on the faster of 1 and all cores (probed per
  configuration). The first step (compile for ours) is reported apart. The load
  average is printed and recorded beside every configuration.

Results: `benchmarks/operators/results/<scale>-<device>/`.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results

CONFIGS = {
    "1d": dict(
        label="1-D, batch 64, 256 points, width 64, 16 modes",
        grid=(256,), batch=64, width=64, modes=16, frames=1, unroll=1,
        padding=2, rollout_steps=None,
    ),
    "2d": dict(
        label="2-D, batch 16, 64x64, width 32, 12x12 modes",
        grid=(64, 64), batch=16, width=32, modes=(12, 12), frames=1, unroll=1,
        padding=2, rollout_steps=None,
    ),
    "1d-ar": dict(
        label="1-D autoregressive, batch 50, 256 points, 20 unrolled steps, "
        "width 20, 12 modes, 10 input frames",
        grid=(256,), batch=50, width=20, modes=12, frames=10, unroll=20,
        padding=2, rollout_steps=31,
    ),
    "unet-1d": dict(
        label="U-Net 1-D, batch 50, 128 points, 1 channel in and out, 32 features",
        model="unet", grid=(128,), batch=50, in_channels=1, out_channels=1,
        features=32, rollout_steps=40,
    ),
    "unet-2d": dict(
        label="U-Net 2-D, batch 16, 64x64, 4 channels in and out, 32 features",
        model="unet", grid=(64, 64), batch=16, in_channels=4, out_channels=4,
        features=32, rollout_steps=20,
    ),
    "cape-fno": dict(
        label="CAPE's FNO, batch 50, 128 points, 12 modes: CAPE + width 20 "
        "against the bare width 36",
        model="cape", base="fno", grid=(128,), batch=50, width=36, cape_width=20,
        modes=12, frames=1, unroll=1, padding=2, rollout_steps=40,
    ),
    "cape-unet": dict(
        label="CAPE's U-Net, batch 50, 128 points, 32 features: CAPE + U-Net "
        "against the bare U-Net",
        model="cape", base="unet", grid=(128,), batch=50, in_channels=1,
        out_channels=1, features=32, rollout_steps=40,
    ),
}  # fmt: skip
SCALES = {
    "quick": dict(rounds=7, reps=5, configs=tuple(CONFIGS)),
    "smoke": dict(rounds=2, reps=1, configs=tuple(CONFIGS)),
}
SIDES = ("sciml", "sciml (fft)", "PDEBench", "neuraloperator")
# "sciml (matmul conv)": conv="matmul" (the stacked-tap products), step only
UNET_SIDES = ("sciml", "sciml (matmul conv)", "PDEBench")
STEP_ONLY = ("sciml (matmul conv)",)
# "sciml" is the CAPE-conditioned model there; "sciml (base)" the bare one
CAPE_SIDES = ("sciml", "sciml (base)", "PDEBench")


def sides(cfg: dict) -> tuple[str, ...]:
    """The sides of a configuration, ours first."""
    model = cfg.get("model")
    return {"unet": UNET_SIDES, "cape": CAPE_SIDES}.get(model, SIDES)


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


class Worker:
    """A side's process (`_worker.py`): JSON commands in, JSON answers out."""

    def __init__(self, kind: str, host_memory: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.operators._worker", kind,
             "--host-memory", host_memory],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=pathlib.Path(__file__).resolve().parents[2],
        )  # fmt: skip
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"benchmarks/operators: a worker died ({self.proc.args})"
            )
        return json.loads(line)

    def ask(self, **msg) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
        self.proc.stdin.close()
        self.proc.wait()


def run_config(name: str, cfg: dict, scale: dict, workers: dict) -> tuple[list, dict]:
    compile_s, params = {}, {}
    names = sides(cfg)
    owner = {s: workers["jax" if s.startswith("sciml") else "torch"] for s in names}
    for side in names:
        built = owner[side].ask(cmd="build", config=name, side=side)
        compile_s[side], params[side] = built["first_s"], built["params"]
    # torch threads: the faster of 1 and all cores, on a few of PDEBench's steps
    probe = workers["torch"].ask(cmd="threads", config=name, side="PDEBench")
    chosen, threads = probe["threads"], probe["probe_s"]
    steps = {s: [] for s in names}
    rolls = {s: [] for s in names if s not in STEP_ONLY} if cfg["rollout_steps"] else {}
    for r in range(scale["rounds"]):
        order = names[r % len(names) :] + names[: r % len(names)]
        for side in order:
            ask = owner[side].ask
            steps[side].append(
                ask(
                    cmd="time", config=name, side=side, what="step", reps=scale["reps"]
                )["s"]
            )
            if side in rolls:
                reps = max(scale["reps"] // 2, 1)
                rolls[side].append(
                    ask(cmd="time", config=name, side=side, what="rollout", reps=reps)[
                        "s"
                    ]
                )
    load = load_average()
    med = {s: statistics.median(v) for s, v in steps.items()}
    print(f"{name} ({cfg['label']}), load {load}, torch threads {chosen}:", flush=True)
    for side in names:
        print(
            f"  {side:16s} step {med[side] * 1e3:8.2f} ms  first {compile_s[side]:5.2f} s"
            f"  params {params[side]}  peer/ours {med[side] / med['sciml']:.2f}"
            + (
                f"  rollout {statistics.median(rolls[side]) * 1e3:8.2f} ms"
                if side in rolls
                else ""
            ),
            flush=True,
        )
    timings = []
    for side in names[1:]:
        for what, table in (("training step", steps), ("rollout", rolls)):
            if side not in table:
                continue
            ours, peer = (
                statistics.median(table["sciml"]),
                statistics.median(table[side]),
            )
            timings.append(
                {
                    "what": f"{name}: {what}",
                    "config": name,
                    "label": cfg["label"],
                    "ours_s": ours,
                    "peer": side,
                    "peer_s": peer,
                    "ratio": peer / ours,
                    "ours_rounds_s": table["sciml"],
                    "peer_rounds_s": table[side],
                    "ours_first_s": compile_s["sciml"],
                    "peer_first_s": compile_s[side],
                    "ours_params": params["sciml"],
                    "peer_params": params[side],
                    "torch_threads": chosen,
                    "torch_probe_s": threads,
                    "load_average": load,
                }
            )
    return timings, {"rollout_steps": cfg["rollout_steps"]}


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--configs", nargs="*", choices=list(CONFIGS), default=None)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument(
        "--host-memory",
        choices=("default", "reuse"),
        default="default",
        help="glibc's malloc in both worker processes: its defaults, or "
        "sciml.training.reuse_host_memory()",
    )
    args = parser.parse_args(argv)
    flags = tune_cpu()  # the workers inherit XLA_FLAGS
    scale = SCALES[args.scale]
    names = args.configs or list(scale["configs"])
    before = load_average()
    workers = {k: Worker(k, args.host_memory) for k in ("jax", "torch")}
    print(
        f"load average {before}; {len(os.sched_getaffinity(0))} cores; torch "
        f"{workers['torch'].hello['torch']}; jax {workers['jax'].hello['jax']} "
        f"{workers['jax'].hello['devices']}; XLA_FLAGS={flags!r}; host memory "
        f"{args.host_memory}",
        flush=True,
    )
    timings = []
    try:
        for name in names:
            t, _ = run_config(name, CONFIGS[name], scale, workers)
            timings += t
    finally:
        for w in workers.values():
            w.close()
    path = write_results(
        "operators",
        args.scale,
        [],
        timings,
        extra={
            "settings": {**scale, "configs": {n: CONFIGS[n] for n in names}},
            "xla_flags": flags,
            "load_average_start": before,
            "cores": len(os.sched_getaffinity(0)),
            "host_memory_mode": args.host_memory,
            "workers": {k: w.hello for k, w in workers.items()},
        },
        packages=("torch", "neuraloperator", "optax", "equinox"),
        out_dir=args.out_dir,
    )
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(main() and 0)
