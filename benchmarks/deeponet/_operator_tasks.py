"""The PI-DeepONet notebook problems: the antiderivative (smooth and high
frequency), diffusion-reaction with a source, and 1-D Burgers, for each variant,
data-driven and physics-informed (spec deeponet.md §4); and, for MIONet, a
two-input operator, $G(u, v)(x) = \int_0^x u v$."""

import pathlib
from typing import Any

import h5py
import jax
import jax.numpy as jnp
import numpy as np

from sciml import datasets
from sciml.nn import initialise
from sciml.operators import DeepONet, MIONet, ModifiedDeepONet, PODDeepONet
from sciml.pinns import OperatorPINNLoss
from sciml.pinns.problems import (
    Antiderivative,
    PeriodicBurgers,
    SourceDiffusionReaction,
)

from ._train import adam, function_batches, mse_loss, predict, relative_l2, train

# the sheet's anchors (the PI-DeepONet notebooks' printed outputs, [C])
PAPER = {
    ("antiderivative", "DeepONet", "data"): 5.01e-3,
    ("antiderivative", "DeepONet", "physics"): 2.49e-3,
    ("antiderivative_hf", "DeepONet + Fourier trunk", "physics"): 6.35e-3,
    ("diffusion_reaction", "DeepONet", "data"): 9.71e-3,
    ("diffusion_reaction", "DeepONet", "physics"): 5.33e-3,
    ("burgers", "modified DeepONet (per network)", "physics"): 1.42e-2,
}


def _read(path: pathlib.Path, *keys: str) -> list[np.ndarray]:
    with h5py.File(path, "r") as f:
        return [np.asarray(f[k]) for k in keys]


def load(task: str, cfg: dict, tmp: pathlib.Path) -> dict[str, Any]:
    """Generate a task's data (train + test functions) and return the arrays:
    `inputs` `(N, m)`, `outputs` `(N, P, 1)`, `points` `(P, d)`, `sensors`."""
    n = cfg["n_train"] + cfg["n_test"]
    if task in ("antiderivative", "antiderivative_hf"):
        ell = 0.2 if task == "antiderivative" else 0.01
        path = datasets.generate_antiderivative(
            out=tmp, n_samples=n, length_scale=ell, seed=cfg["data_seed"]
        )
        u, s, x = _read(path, "u", "tensor", "x-coordinate")
        return dict(inputs=u, outputs=s.reshape(n, -1, 1), points=x[:, None], sensors=x)
    if task == "antiderivative_product":
        # u, v: independent draws of the l = 0.2 family on a 4x finer grid; the
        # cumulative trapezoid rule there (error ~1e-6 relative) gives int_0^x u v,
        # then every 4th point is kept (the 100 sensors)
        fine = 4 * 99 + 1
        path = datasets.generate_antiderivative(
            out=tmp, n_samples=2 * n, length_scale=0.2, m=fine, seed=cfg["data_seed"]
        )
        (w,) = _read(path, "u")
        uv = w[:n].astype(np.float64) * w[n:]
        steps = 0.5 * (uv[:, 1:] + uv[:, :-1]) / (fine - 1)
        s = np.concatenate([np.zeros((n, 1)), np.cumsum(steps, axis=1)], axis=1)
        x = np.arange(100) / 99
        return dict(
            inputs=(w[:n, ::4], w[n:, ::4]),
            outputs=s[:, ::4, None].astype(np.float32),
            points=x[:, None],
            sensors=x,
        )
    if task == "diffusion_reaction":
        path = datasets.generate_source_diffusion_reaction(
            out=tmp, n_samples=n, nx=cfg["nx"], nt=cfg["nx"], seed=cfg["data_seed"]
        )
        u, s, x, t = _read(path, "u", "tensor", "x-coordinate", "t-coordinate")
        tt, xx = np.meshgrid(t, x, indexing="ij")
        points = np.stack([tt.ravel(), xx.ravel()], axis=1)
        return dict(inputs=u, outputs=s.reshape(n, -1, 1), points=points, sensors=x)
    if task == "burgers":
        nx = cfg["nx"] + 1  # both ends of the periodic interval, as the notebook
        refine = max(4, -(-384 // (nx - 1)))  # resolve u0's 128 modes
        refine += ((nx - 1) * refine) % 2
        path = datasets.generate_burgers_grf(
            out=tmp, n_samples=n, nx=nx, nt=nx, refine=refine, seed=cfg["data_seed"]
        )
        s, x, t = _read(path, "tensor", "x-coordinate", "t-coordinate")
        tt, xx = np.meshgrid(t, x, indexing="ij")
        points = np.stack([tt.ravel(), xx.ravel()], axis=1)
        return dict(
            inputs=s[:, 0, :], outputs=s.reshape(n, -1, 1), points=points, sensors=x
        )
    raise ValueError(task)


def _problem_of(task: str, sensors: jax.Array):
    if task.startswith("antiderivative"):
        return lambda u: Antiderivative(u, sensors)
    if task == "burgers":
        return lambda u: PeriodicBurgers(u, sensors)
    return lambda u: SourceDiffusionReaction(u, sensors)


def _physics_batches(task: str, data: dict, size: int, n_points: int):
    """Random functions and collocation points for the PI loss: the antiderivative's
    residual at the sensors (where the input is known exactly) and s(0) = 0; the
    diffusion-reaction and Burgers residuals at uniform points of [0, 1]^2, the
    initial line, and both ends (diffusion-reaction) or the face x = 0 (Burgers,
    periodic)."""
    u_all, n = data["inputs"], data["n_train"]
    sensors = jnp.asarray(data["sensors"])

    def batch_of(rng):
        idx = rng.choice(n, min(size, n), replace=False)
        u = jnp.asarray(u_all[idx])
        if task.startswith("antiderivative"):
            return {
                "inputs": u,
                "interior": sensors[:, None],
                "conditions": (jnp.zeros((1, 1)),),
            }
        pts = rng.uniform(size=(n_points, 2))
        initial = np.stack(
            [np.zeros(n_points // 4), rng.uniform(size=n_points // 4)], 1
        )
        q = n_points // 4
        if task == "burgers":  # periodic: points on the face x = 0
            sides = np.stack([rng.uniform(size=q), np.zeros(q)], 1)
        else:  # zero values at both ends
            sides = np.stack(
                [rng.uniform(size=q), rng.integers(0, 2, q).astype(float)], 1
            )
        return {
            "inputs": u,
            "interior": jnp.asarray(pts, jnp.float32),
            "conditions": (
                jnp.asarray(initial, jnp.float32),
                jnp.asarray(sides, jnp.float32),
            ),
        }

    return batch_of


def _model(variant: str, data: dict, cfg: dict, key):
    m, d = jax.tree.leaves(data["inputs"])[0].shape[1], data["points"].shape[1]
    w, depth, p = cfg["width"], cfg["depth"], cfg["latent"]
    if variant == "MIONet":
        n_inputs = len(data["inputs"])
        return MIONet((m,) * n_inputs, d, latent=p, width=w, depth=depth, key=key)
    if variant == "DeepONet":
        return DeepONet(m, d, latent=p, width=w, depth=depth, key=key)
    if variant == "DeepONet + Fourier trunk":
        # the notebooks' B ~ N(0, 50^2) in sin(yB): 50 / 2 pi in our 2 pi B y form
        return DeepONet(
            m,
            d,
            latent=p,
            width=w,
            depth=depth,
            fourier_features=w // 2,
            fourier_scale=50 / (2 * np.pi),
            key=key,
        )
    if variant.startswith("modified DeepONet"):
        # the paper's encoders shared by both networks (its branch runs per point),
        # or each network's own (the notebooks' and jaxpi's; factorises)
        mixing = "cross" if variant.endswith("(cross)") else "per_network"
        return ModifiedDeepONet(
            m, d, latent=p, width=w, depth=depth, mixing=mixing, key=key
        )
    if variant == "POD-DeepONet":
        train = data["outputs"][: data["n_train"], :, 0]
        modes = min(cfg["pod_modes"], train.shape[0])
        return PODDeepONet(
            train, data["points"], modes, m, width=w, depth=depth, key=key
        )
    raise ValueError(variant)


DECAY = 0.9  # the learning rate times this every steps // 10 steps (staircase)


def physics_batch(task: str, cfg: dict) -> list[int]:
    """Functions and collocation points a physics-informed step of `task` sees."""
    return list(
        cfg.get("physics_batch", {}).get(task, (cfg["batch"], cfg["n_collocation"]))
    )


def train_one(
    task: str,
    variant: str,
    training: str,
    data: dict,
    cfg: dict,
    seed: int,
    *,
    batches: Any = None,
    init: str | None = None,
):
    """One model of a row: built (re-initialised with `init`, a
    `sciml.nn.initialise` scheme, when given), trained on data (MSE) or on the PDE
    residual alone, on `batches(rng)` or the task's own; returns the model, its
    mean relative L2 on the held-out functions and the training timing."""
    n = cfg["n_train"]
    model = _model(variant, data, cfg, jax.random.key(seed))
    if init is not None:
        model = initialise(model, init, key=jax.random.key(seed + 1000))
    opt = adam(cfg["lr"], cfg["steps"], decay=DECAY, every=max(cfg["steps"] // 10, 1))
    if training == "data":
        loss = mse_loss()
        if batches is None:
            n_points = None if variant == "POD-DeepONet" else cfg.get("n_points")
            # the cross-mixed branch runs once per (function, point): fewer
            # functions a step keep its cost near the others'
            size = cfg["cross_batch"] if variant.endswith("(cross)") else cfg["batch"]
            batches = function_batches(
                jax.tree.map(lambda a: a[:n], data["inputs"]),
                data["outputs"][:n],
                data["points"],
                size,
                n_points,
            )
    else:
        loss = OperatorPINNLoss(_problem_of(task, jnp.asarray(data["sensors"])))
        if batches is None:
            batches = _physics_batches(task, data, *physics_batch(task, cfg))
    model, t = train(model, loss, batches, steps=cfg["steps"], optimizer=opt, seed=seed)
    test_u = jax.tree.map(lambda a: jnp.asarray(a[n:]), data["inputs"])
    points = jnp.asarray(data["points"], jnp.float32)
    error = relative_l2(predict(model, test_u, points), data["outputs"][n:])
    return model, error, t


def run_task(task: str, runs: list[tuple[str, str]], cfg: dict, seeds, tmp) -> list:
    """Every (variant, training) of one task, each over `seeds`: rows with the final
    test error (mean per-sample relative L2 on held-out functions)."""
    data = load(task, cfg, tmp)
    data["n_train"] = n_train = cfg["n_train"]
    test_s = data["outputs"][n_train:]
    rows = []
    physics = physics_batch(task, cfg)
    for variant, training in runs:
        errors, timing = [], []
        for seed in seeds:
            _, error, t = train_one(task, variant, training, data, cfg, seed)
            errors.append(error)
            timing.append(t)
        rows.append(
            {
                "task": task,
                "param": {
                    "n_train": n_train,
                    "n_test": len(test_s),
                    "steps": cfg["steps"],
                    "width": cfg["width"],
                    "depth": cfg["depth"],
                    "latent": cfg["latent"],
                    **({"physics_batch": physics} if training == "physics" else {}),
                },
                "split": "test",
                "model": variant,
                "variant": training,
                "metric": "mean relative L2",
                "value": float(np.mean(errors)),
                "std": float(np.std(errors)),
                "seeds": len(seeds),
                "per_seed": errors,
                "paper": PAPER.get((task, variant, training)),
                "s_per_step": float(np.median([t["s_per_step"] for t in timing])),
                "train_s": float(np.mean([t["train_s"] for t in timing])),
            }
        )
        print(
            f"  {task:20s} {variant:26s} {training:8s} {rows[-1]['value']:.3e} "
            f"(+- {rows[-1]['std']:.1e}) {rows[-1]['s_per_step'] * 1e3:.1f} ms/step",
            flush=True,
        )
    return rows
