"""The derivative engines of `sciml.pinns.Derivatives`, timed against nested reverse
mode on the models and residuals of the PIG benchmark (specs/pig.md §2).

    sciml bench pig-derivatives --scale quick [--points 4096] [--reps 5] [--only "pig d=3"]
    python -m benchmarks.pig-derivatives.run --scale quick   (the same)

Models (float32, as trained):

- `mlp 2-64x4-1`, `mlp 2-64x4-3`, `mlp 3-64x4-1`: tanh MLPs (`sciml.nn.MLP`);
- `pig d=2`, `pig d=3`: a PIG-like model, the per-channel Gaussian feature map
  $FE_c(x) = \\sum_i w_{ci} \\exp(-\\frac12 \\sum_j ((x_j - \\mu_{cij})/\\sigma_{cij})^2)$
  with k = 4 channels of N = 800 Gaussians, then a 4 -> 16 -> 1 tanh MLP.

For each model: the operators (Laplacian, d(x, x), a mixed derivative, the gradient)
and the residuals of the PIG benchmark problems with that input dimension
(Helmholtz and Allen-Cahn in 2-D; Klein-Gordon, flow mixing and nonlinear diffusion
in 2+1-D; a steady incompressible Navier-Stokes residual for the 3-output MLP;
the gradient and the first-order flow-mixing residual with `order=1`, as
`sciml.pinns` builds its Neumann conditions and `FlowMixing`), each
as a jit-compiled, vmapped function of `--points` points; for each residual also the
gradient of its mean squared residual with respect to the model parameters (the cost
of a training step). Every engine is timed warm, in interleaved rounds (the order
rotates each round; in a round each engine runs back to back, at least twice and
for about a quarter of a second, and keeps its fastest); the median over rounds is reported, with the ratio (time of nested
reverse mode) / (time of the engine): above 1 is faster than nested reverse mode.
The compiled temporary memory (XLA's `memory_analysis`) is recorded beside it, and
every engine's result is checked against nested reverse mode in float64 on 64
points (the largest difference relative to max(1, max |reference|)).

On a CPU the run sets XLA's flags as `benchmarks/pig` does (`benchmarks/_cpu.py`:
YNNPACK fusions off on jaxlib 0.10), so the engines are timed as the PIG benchmark
trains, and records them. Results:
`benchmarks/pig-derivatives/results/quick-<device>/<date>-<commit>.json` (and its
`.md`). The load average is printed beside the table, since the machine may be
shared.
"""

import argparse
import math
import os
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._cpu import tune_cpu
from benchmarks._results import write_results
from sciml.nn import MLP
from sciml.pinns import Derivatives

PEER = "reverse"
ENGINES = ["reverse", "forward_over_reverse", "forward", "jet", "taylor", "auto"]


class GaussianFeatures(eqx.Module):
    """PIG's per-channel Gaussian feature map followed by a tiny tanh MLP."""

    mu: jax.Array
    sigma: jax.Array
    w: jax.Array
    head: MLP

    def __init__(self, d: int, k: int = 4, n: int = 800, *, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.mu = jax.random.uniform(k1, (k, n, d), minval=-1.0, maxval=1.0)
        self.sigma = jnp.full((k, n, d), 0.1)
        self.w = 0.01 * jax.random.normal(k2, (k, n))
        self.head = MLP(k, 1, 16, 1, key=k3)

    def __call__(self, x):
        z = (x - self.mu) / self.sigma
        fe = jnp.sum(self.w * jnp.exp(-0.5 * jnp.sum(z**2, axis=-1)), axis=-1)
        return self.head(fe)


def _scalar(model):
    return lambda y: model(y)[0]


# --- residuals (pointwise), as in specs/pig.md §4 -----------------------------------


def helmholtz(model, x, engine):
    a1, a2, k = 1.0, 4.0, 1.0
    D = Derivatives(_scalar(model), x, names=("x", "y"), engine=engine)
    q = (k**2 - (a1 * jnp.pi) ** 2 - (a2 * jnp.pi) ** 2) * (
        jnp.sin(a1 * jnp.pi * x[0]) * jnp.sin(a2 * jnp.pi * x[1])
    )
    return D.laplacian() + k**2 * D.value - q


def allen_cahn(model, x, engine):
    D = Derivatives(_scalar(model), x, names=("t", "x"), engine=engine)
    u = D.value
    return D.d("t") - 1e-4 * D.d("x", "x") + 5.0 * u**3 - 5.0 * u


def klein_gordon(model, x, engine):
    D = Derivatives(_scalar(model), x, names=("t", "x", "y"), engine=engine)
    t, xx, yy = x
    exact = (xx + yy) * jnp.cos(2 * t) + xx * yy * jnp.sin(2 * t)
    f = exact**2 - 4.0 * exact
    return D.d("t", "t") - D.laplacian() + D.value**2 - f


def flow_mixing(model, x, engine):
    # first order: order=1, as sciml.pinns.problems.FlowMixing builds it
    D = Derivatives(_scalar(model), x, names=("t", "x", "y"), engine=engine, order=1)
    _, xx, yy = x
    r = jnp.sqrt(xx**2 + yy**2) + 1e-6
    vt = jnp.tanh(r) / jnp.cosh(r) ** 2
    a = -(vt / 0.385) * (yy / r)
    b = (vt / 0.385) * (xx / r)
    return D.d("t") + a * D.d("x") + b * D.d("y")


def nonlinear_diffusion(model, x, engine):
    D = Derivatives(_scalar(model), x, names=("t", "x", "y"), engine=engine)
    g = D.grad(("x", "y"))
    return D.d("t") - 0.05 * (jnp.sum(g**2) + D.value * D.laplacian())


def navier_stokes(model, x, engine):
    nu = 0.01
    D = Derivatives(model, x, names=("x", "y"), engine=engine)
    (u, v, _), g, lap = D.value, D.grad(), D.laplacian()
    return jnp.stack(
        [
            u * g[0, 0] + v * g[0, 1] + g[2, 0] - nu * lap[0],
            u * g[1, 0] + v * g[1, 1] + g[2, 1] - nu * lap[1],
            g[0, 0] + g[1, 1],
        ]
    )


# --- operators -----------------------------------------------------------------------


def _op(kind: str, names, vector: bool):
    spatial = [n for n in names if n != "t"]
    mixed = ("t", "x") if "t" in names else (spatial[0], spatial[1])

    def op(model, x, engine):
        u = model if vector else _scalar(model)
        order = 1 if kind == "grad" else None  # as a Neumann condition builds it
        D = Derivatives(u, x, names=names, engine=engine, order=order)
        if kind == "laplacian":
            return D.laplacian()
        if kind == "d2":
            return D.d("x", "x")
        if kind == "mixed":
            return D.d(*mixed)
        return D.grad()

    label = {
        "laplacian": f"laplacian ({','.join(spatial)})",
        "d2": "d(x,x)",
        "mixed": f"d({','.join(mixed)})",
        "grad": "grad",
    }[kind]
    return label, op


MODELS = {
    "mlp 2-64x4-1": dict(
        make=lambda key: MLP(2, 1, 64, 4, key=key),
        names=("x", "y"),
        vector=False,
        residuals={"helmholtz": helmholtz, "allen-cahn": allen_cahn},
    ),
    "mlp 2-64x4-3": dict(
        make=lambda key: MLP(2, 3, 64, 4, key=key),
        names=("x", "y"),
        vector=True,
        residuals={"navier-stokes (steady)": navier_stokes},
    ),
    "mlp 3-64x4-1": dict(
        make=lambda key: MLP(3, 1, 64, 4, key=key),
        names=("t", "x", "y"),
        vector=False,
        residuals={
            "klein-gordon": klein_gordon,
            "flow mixing": flow_mixing,
            "nonlinear diffusion": nonlinear_diffusion,
        },
        operators=False,
    ),
    "pig d=2": dict(
        make=lambda key: GaussianFeatures(2, key=key),
        names=("x", "y"),
        vector=False,
        residuals={"helmholtz": helmholtz, "allen-cahn": allen_cahn},
    ),
    "pig d=3": dict(
        make=lambda key: GaussianFeatures(3, key=key),
        names=("t", "x", "y"),
        vector=False,
        residuals={
            "klein-gordon": klein_gordon,
            "flow mixing": flow_mixing,
            "nonlinear diffusion": nonlinear_diffusion,
        },
    ),
}


def _batched(pointwise: Callable, engine: str, loss: bool):
    """A function of (params, static, X): the vmapped pointwise function, or the
    gradient of its mean squared value with respect to params."""

    def values(params, static, X):
        model = eqx.combine(params, static)
        return jax.vmap(lambda x: pointwise(model, x, engine))(X)

    if not loss:
        return values

    def grad(params, static, X):
        mse = lambda p: jnp.mean(
            jnp.sum(values(p, static, X).reshape(len(X), -1) ** 2, 1)
        )
        return jax.grad(mse)(params)

    return grad


def _compile(fn, params, static, X):
    jitted = jax.jit(fn, static_argnums=1)
    compiled = jitted.lower(params, static, X).compile()
    try:
        mem = compiled.memory_analysis()
        temp = None if mem is None else int(mem.temp_size_in_bytes)
    except Exception:  # noqa: BLE001 - not every backend reports it
        temp = None
    return (lambda: compiled(params, X)), temp


def _rel_diff(a, b) -> float:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    worst = 0.0
    for x, y in zip(la, lb, strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        scale = max(1.0, float(np.max(np.abs(y)))) if y.size else 1.0
        worst = max(worst, float(np.max(np.abs(x - y))) / scale if y.size else 0.0)
    return worst


def _agreement(model, pointwise, loss: bool, X64) -> dict[str, float]:
    with jax.enable_x64(True):
        m64 = jax.tree.map(
            lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a, model
        )
        params, static = eqx.partition(m64, eqx.is_inexact_array)
        X = jnp.asarray(X64, jnp.float64)
        out = {}
        for engine in ENGINES:
            fn = jax.jit(_batched(pointwise, engine, loss), static_argnums=1)
            out[engine] = jax.device_get(fn(params, static, X))
        return {e: _rel_diff(out[e], out[PEER]) for e in ENGINES}


def _time(
    calls: dict[str, Callable], reps: int, inner: int = 2, block_s: float = 0.25
) -> dict[str, list]:
    """Warm each call, then `reps` rounds over the engines (the order rotating each
    round); in a round each engine runs back to back at least `inner` times, and
    for about `block_s` seconds where one call is shorter (at most 50 times), and
    keeps its fastest, so every engine is timed as a training loop runs it: right
    after itself, with its buffers allocated (timing an engine right after a
    different one instead charges it for faulting in fresh memory, up to 40 % for
    the PIG models), and a millisecond call is not judged on two samples of a
    shared machine."""
    counts = {}
    for n, call in calls.items():
        jax.block_until_ready(call())
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        counts[n] = max(inner, min(50, math.ceil(block_s / (time.perf_counter() - t0))))
    names = list(calls)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n in order:
            best = math.inf
            for _ in range(counts[n]):
                t0 = time.perf_counter()
                jax.block_until_ready(calls[n]())
                best = min(best, time.perf_counter() - t0)
            times[n].append(best)
    return times


def run(points: int, reps: int, only: str | None) -> dict:
    key = jax.random.key(0)
    timings, agreement, memory = [], [], []
    for model_name, spec in MODELS.items():
        if only and only not in model_name:
            continue
        model = spec["make"](jax.random.fold_in(key, 1))
        d = len(spec["names"])
        X = jax.random.uniform(jax.random.fold_in(key, 2), (points, d), minval=-1.0)
        X64 = np.asarray(X[:64], np.float64)
        params, static = eqx.partition(model, eqx.is_inexact_array)
        tasks = []
        if spec.get("operators", True):
            for kind in ("laplacian", "d2", "mixed", "grad"):
                label, op = _op(kind, spec["names"], spec["vector"])
                tasks.append((label, op, False))
        for res_name, res in spec["residuals"].items():
            tasks.append((f"{res_name} residual", res, False))
            tasks.append((f"{res_name} residual-loss gradient", res, True))
        for label, pointwise, loss in tasks:
            calls, temps = {}, {}
            for engine in ENGINES:
                calls[engine], temps[engine] = _compile(
                    _batched(pointwise, engine, loss), params, static, X
                )
            slow = loss and model_name.startswith("pig")
            runs = _time(calls, 3 if slow else reps)
            t = {e: float(np.median(v)) for e, v in runs.items()}
            agree = _agreement(model, pointwise, loss, X64)
            what = f"{model_name}: {label}, {points} points"
            line = [f"{what:66s}", f"reverse {t[PEER] * 1e3:9.2f} ms"]
            for engine in ENGINES:
                if engine == PEER:
                    continue
                ratio = t[PEER] / t[engine]
                line.append(f"{engine} {ratio:5.2f}x")
                timings.append(
                    dict(
                        what=f"{what}; {engine}",
                        ours_s=t[engine],
                        peer="nested reverse mode (jacrev of jacrev)",
                        peer_s=t[PEER],
                        ratio=ratio,
                        ours_min_s=float(np.min(runs[engine])),
                        peer_min_s=float(np.min(runs[PEER])),
                        reps=len(runs[engine]),
                    )
                )
            for engine in ENGINES:
                agreement.append(
                    dict(what=what, engine=engine, max_rel_diff=agree[engine])
                )
                memory.append(dict(what=what, engine=engine, temp_bytes=temps[engine]))
            worst = max(agree.values())
            load = os.getloadavg()[0]
            print(
                "  ".join(line),
                f" float64 diff {worst:.0e}, load {load:.1f}",
                flush=True,
            )
    return dict(timings=timings, agreement=agreement, memory=memory)


def summary(timings: list[dict]) -> str:
    """The table: one row per model and task, one column per engine (the ratio
    time(nested reverse) / time(engine); above 1 is faster)."""
    engines = [e for e in ENGINES if e != PEER]
    rows: dict[str, dict[str, float]] = {}
    for t in timings:
        what, engine = t["what"].rsplit("; ", 1)
        rows.setdefault(what, {})[engine] = t["ratio"]
        rows[what]["reverse_s"] = t["peer_s"]
    lines = [
        "| model: task | reverse (s) | " + " | ".join(engines) + " |",
        "|---|---|" + "---|" * len(engines),
    ]
    for what, r in rows.items():
        cells = " | ".join(f"{r[e]:.2f}" for e in engines)
        lines.append(f"| {what} | {r['reverse_s']:.4g} | {cells} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["quick"], default="quick")
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--only", default=None, help="run the models whose name has this"
    )
    parser.add_argument(
        "--out-dir", default=None, help="results folder (default: this benchmark's)"
    )
    args = parser.parse_args(argv)
    xla_flags = tune_cpu()  # before the first computation, as benchmarks/pig
    t0 = time.time()
    load0 = os.getloadavg()
    print(f"load average at start (1, 5, 15 min): {load0}")
    out = run(args.points, args.reps, args.only)
    print(
        f"load average at end (1, 5, 15 min): {os.getloadavg()}; {time.time() - t0:.0f} s"
    )
    print(summary(out["timings"]))
    path = write_results(
        "pig-derivatives",
        args.scale,
        rows=[],
        timings=out["timings"],
        extra=dict(
            settings=dict(
                points=args.points,
                reps=args.reps,
                dtype="float32",
                engines=ENGINES,
                peer=PEER,
                agreement_check="float64, 64 points, max |engine - reverse| / max(1, max |reverse|)",
                load_average_start=[round(v, 2) for v in load0],
                xla_flags=xla_flags,
            ),
            agreement=out["agreement"],
            memory=out["memory"],
        ),
        out_dir=args.out_dir,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
