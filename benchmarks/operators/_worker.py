"""One side's process of `benchmarks/operators/run.py`: JAX (ours) or PyTorch (the
peers), each in a process of its own, so that neither library's threads, allocator
or process settings reach the other's timings.

    python -m benchmarks.operators._worker jax|torch --host-memory default|reuse

It reads one JSON command a line on stdin and answers one JSON line on stdout:

- `{"cmd": "build", "config": NAME, "side": SIDE}`: build and run once (compile,
  or torch's first eager step) -> `{"first_s", "params"}`;
- `{"cmd": "threads", "config": NAME, "side": SIDE}` (torch): time a few steps on 1
  and on all cores, keep the faster -> `{"threads", "probe_s"}`;
- `{"cmd": "time", "config": NAME, "side": SIDE, "what": "step"|"rollout",
  "reps": N}` -> `{"s"}`, the mean over `reps` calls after one sync;
- `{"cmd": "quit"}`.
"""

import argparse
import json
import os
import sys
import time


def _timed(fn, reps: int, sync) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    sync(out)
    return (time.perf_counter() - t0) / reps


def _jax_side(cfg: dict, side: str):
    """(step, rollout or None, sync, n_params) for one of our sides."""
    import jax

    from sciml.training import count_parameters

    from . import _ours

    transform = "fft" if side.endswith("(fft)") else "auto"
    conv = "matmul" if side.endswith("(matmul conv)") else "auto"
    model, step, state, batch = _ours.build(
        cfg, transform=transform, conv=conv, bare=side.endswith("(base)")
    )
    holder = {"state": state}

    def run():
        holder["state"], loss, _ = step(batch, holder["state"])
        return loss

    roll = None
    if cfg["rollout_steps"] and conv == "auto":
        fn = _ours.rollout_fn(cfg)
        x0 = batch[:2] if cfg.get("model") == "cape" else batch[0]

        def roll():
            return fn(holder["state"].model, x0)

    return run, roll, jax.block_until_ready, count_parameters(model)


def _torch_side(torch, cfg: dict, side: str):
    from . import _torch

    kind = "pdebench" if side == "PDEBench" else "neuralop"
    if cfg.get("model") == "cape":  # the peer is the bare base model
        cfg = {**cfg, "model": cfg["base"]}
    _, step, roll, n = _torch.build(torch, kind, cfg)
    return step, roll if cfg["rollout_steps"] else None, lambda o: o, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("jax", "torch"))
    parser.add_argument("--host-memory", choices=("default", "reuse"), required=True)
    args = parser.parse_args()
    from benchmarks._cpu import HOST_MEMORY, tune_cpu

    from .run import CONFIGS

    tune_cpu(host_memory=args.host_memory == "reuse")
    torch = None
    if args.kind == "torch":
        import torch
    sides = {}
    hello = {"pid": os.getpid(), "host_memory": dict(HOST_MEMORY)}
    if torch is not None:
        hello["torch"] = torch.__version__
    else:
        import jax

        hello["jax"] = jax.__version__
        hello["devices"] = [str(d) for d in jax.devices()]
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        key = (msg["config"], msg["side"])
        cfg = CONFIGS[msg["config"]]
        if msg["cmd"] == "build":
            if any(c != msg["config"] for c, _ in sides):  # a new configuration
                sides.clear()
            t0 = time.perf_counter()
            if torch is None:
                built = _jax_side(cfg, msg["side"])
            else:
                built = _torch_side(torch, cfg, msg["side"])
            run, roll, sync, n_params = built
            sync(run())
            if roll is not None:
                sync(roll())
            sides[key] = built
            out = {"first_s": time.perf_counter() - t0, "params": n_params}
        elif msg["cmd"] == "threads":
            run, _, sync, _ = sides[key]
            probe = {}
            for n in sorted({1, len(os.sched_getaffinity(0))}):
                torch.set_num_threads(n)
                probe[n] = min(_timed(run, 2, sync) for _ in range(2))
            torch.set_num_threads(min(probe, key=probe.get))
            out = {"threads": torch.get_num_threads(), "probe_s": probe}
        else:
            run, roll, sync, _ = sides[key]
            fn = run if msg["what"] == "step" else roll
            out = {"s": _timed(fn, msg["reps"], sync)}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
