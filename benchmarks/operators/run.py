"""Our FNO and U-Net against the PyTorch FNOs and U-Net on the CPU (or a GPU):
training step and full autoregressive rollout, the same shapes and (near) the
same parameter counts, in one process, interleaved (issue 12 §1).

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
  (as PDEBench evaluates). The step maps one frame to the next; the rollout
  feeds each output back in (`sciml.operators.rollout`, a rolled `lax.scan`;
  a Python loop in torch). neuraloperator has no U-Net: PDEBench is the only
  peer.
- **neuraloperator**: `neuralop.models.FNO` with a linear lift, linear skips, no
  channel MLP and a 128-channel projection (PDEBench's structure), eager.
- **Step**: forward over `unroll` frames (PDEBench's sliding window of `frames`
  input frames when `unroll > 1`), MSE, backward, Adam; random data of the right
  shapes (speed does not depend on the values).
- **Timing**: after a warm-up on the exact shapes, `rounds` rounds; each round
  times `reps` steps of every side in turn (the order rotates per round); the
  median over rounds. Torch runs on the faster of 1 and all cores (probed per
  configuration). The first step (compile for ours) is reported apart. The load
  average is printed and recorded beside every configuration.

Results: `benchmarks/operators/results/<scale>-<device>/`.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

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
UNET_SIDES = ("sciml", "PDEBench")
# "sciml" is the CAPE-conditioned model there; "sciml (base)" the bare one
CAPE_SIDES = ("sciml", "sciml (base)", "PDEBench")


def sides(cfg: dict) -> tuple[str, ...]:
    """The sides of a configuration, ours first."""
    model = cfg.get("model")
    return {"unet": UNET_SIDES, "cape": CAPE_SIDES}.get(model, SIDES)


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _timed(fn, reps: int, sync) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    sync(out)
    return (time.perf_counter() - t0) / reps


def run_config(name: str, cfg: dict, scale: dict, torch) -> tuple[list, dict]:
    import jax

    from . import _ours, _torch

    runners, compile_s, params = {}, {}, {}
    names = sides(cfg)
    for side in names:
        t0 = time.perf_counter()
        if side.startswith("sciml"):
            transform = "fft" if side.endswith("(fft)") else "auto"
            model, step, state, batch = _ours.build(
                cfg, transform=transform, bare=side.endswith("(base)")
            )
            holder = {"state": state}

            def run(step=step, batch=batch, holder=holder):
                holder["state"], loss, _ = step(batch, holder["state"])
                return loss

            jax.block_until_ready(run())
            params[side] = _ours.n_params(model)
            roll = None
            if cfg["rollout_steps"]:
                fn = _ours.rollout_fn(cfg)
                x0 = batch[:2] if cfg.get("model") == "cape" else batch[0]

                def roll(fn=fn, x0=x0, holder=holder):
                    return fn(holder["state"].model, x0)

                jax.block_until_ready(roll())
            runners[side] = (run, roll, jax.block_until_ready)
        else:
            kind = "pdebench" if side == "PDEBench" else "neuralop"
            peer_cfg = cfg
            if cfg.get("model") == "cape":  # the peer is the bare base model
                peer_cfg = {**cfg, "model": cfg["base"]}
            _, step, roll, params[side] = _torch.build(torch, kind, peer_cfg)
            step()
            runners[side] = (step, roll if cfg["rollout_steps"] else None, lambda o: o)
        compile_s[side] = time.perf_counter() - t0
    # torch threads: the faster of 1 and all cores, on a few steps
    threads = {}
    for n in sorted({1, len(os.sched_getaffinity(0))}):
        torch.set_num_threads(n)
        threads[n] = min(
            _timed(runners["PDEBench"][0], 2, lambda o: o) for _ in range(2)
        )
    torch.set_num_threads(min(threads, key=threads.get))
    chosen = torch.get_num_threads()
    steps = {s: [] for s in names}
    rolls = {s: [] for s in names if runners[s][1] is not None}
    for r in range(scale["rounds"]):
        order = names[r % len(names) :] + names[: r % len(names)]
        for side in order:
            run, roll, sync = runners[side]
            steps[side].append(_timed(run, scale["reps"], sync))
            if roll is not None:
                rolls[side].append(_timed(roll, max(scale["reps"] // 2, 1), sync))
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
    args = parser.parse_args(argv)
    flags = tune_cpu()
    import jax
    import torch

    scale = SCALES[args.scale]
    names = args.configs or list(scale["configs"])
    before = load_average()
    print(
        f"load average {before}; {len(os.sched_getaffinity(0))} cores; torch "
        f"{torch.__version__}; jax {jax.__version__} {jax.devices()}; "
        f"XLA_FLAGS={flags!r}",
        flush=True,
    )
    timings = []
    for name in names:
        t, _ = run_config(name, CONFIGS[name], scale, torch)
        timings += t
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
        },
        packages=("torch", "neuraloperator", "optax", "equinox"),
        out_dir=args.out_dir,
    )
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(main() and 0)
