"""MT-DeepONet's benchmarks (spec deeponet.md §5): the Fisher equation with three
source-term forms, one multi-task model against three single-task ones at equal
total optimiser steps; Darcy flow on three geometries with masks, and transfer to
a fourth with few samples against training from scratch on them."""

import pathlib

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax

from sciml import datasets
from sciml.nn import CNN, MLP
from sciml.operators import DeepONet, masked_relative_l2, task_input, with_mask_channel
from sciml.training import trainable_only

from ._train import (
    adam,
    frobenius_error,
    function_batches,
    mse_loss,
    predict,
    relative_l2,
    train,
)

FORMS = ("F1", "F2", "F3")


def _fisher(cfg: dict, tmp: pathlib.Path) -> dict:
    parts = []
    for i, form in enumerate(FORMS):
        path = datasets.generate_fisher_sources(
            out=tmp,
            family=form,
            n_samples=cfg["fisher_samples"][i],
            seed=cfg["data_seed"],
        )
        with h5py.File(path, "r") as f:
            s = np.asarray(f["tensor"])  # (N, nt, nx)
            c = np.asarray(f["coefficients"])
            x, t = np.asarray(f["x-coordinate"]), np.asarray(f["t-coordinate"])
        parts.append((s, c, np.full(len(s), i)))
    s = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    form = np.concatenate([p[2] for p in parts])
    order = np.random.default_rng(42).permutation(len(s))  # the code's one 80/20 split
    s, c, form = s[order], c[order], form[order]
    tt, xx = np.meshgrid(
        (t - t.min()) / (t.max() - t.min()),
        (x - x.min()) / (x.max() - x.min()),
        indexing="ij",
    )
    points = np.stack([tt.ravel(), xx.ravel()], axis=1)
    n_train = int(0.8 * len(s))
    return dict(s=s, c=c, form=form, points=points, n_train=n_train)


def _fisher_model(key, cfg):
    branch = MLP(
        68,
        cfg["fisher_latent"],
        cfg["fisher_branch_width"],
        2,
        "leaky_relu",
        layer_norm=True,
        key=key,
    )
    return DeepONet(
        68,
        2,
        latent=cfg["fisher_latent"],
        width=cfg["fisher_trunk_width"],
        depth=3,
        bias=False,
        branch=branch,
        key=jax.random.fold_in(key, 1),
    )


def _fit_fisher(data: dict, idx: np.ndarray, steps: int, seed: int, cfg: dict):
    """Train one model on the samples `idx` (z-scored with their own statistics, [D])
    and return a predictor of de-normalised outputs for any samples."""
    s = data["s"].reshape(len(data["s"]), -1)
    ic = data["s"][:, 0, :]
    mu_ic, sd_ic = ic[idx].mean(0), ic[idx].std(0) + 1e-6
    mu_s, sd_s = s[idx].mean(0), s[idx].std(0) + 1e-6
    inputs = np.asarray(task_input(data["c"], (ic - mu_ic) / sd_ic))
    outputs = ((s - mu_s) / sd_s)[..., None]
    opt = adam(1e-3, steps, decay=0.95, every=max(steps // 100, 1), weight_decay=1e-3)
    batches = function_batches(
        inputs[idx], outputs[idx], data["points"], cfg["fisher_batch"]
    )
    model, timing = train(
        _fisher_model(jax.random.key(seed), cfg),
        mse_loss(),
        batches,
        steps=steps,
        optimizer=opt,
        seed=seed,
    )
    points = jnp.asarray(data["points"], jnp.float32)

    def predictor(which):
        out = predict(model, jnp.asarray(inputs[which]), points)[..., 0]
        return out * sd_s + mu_s

    return predictor, timing


def run_fisher(cfg: dict, seeds, tmp) -> list:
    data = _fisher(cfg, tmp)
    n_train, form = data["n_train"], data["form"]
    train_idx = np.arange(n_train)
    test_idx = np.arange(n_train, len(form))
    truth = data["s"].reshape(len(form), -1)
    steps = cfg["fisher_steps"]
    results = {"multi-task": [], "single-task": []}
    for seed in seeds:
        mt, _ = _fit_fisher(data, train_idx, steps, seed, cfg)
        pred_mt = mt(test_idx)
        pred_st = np.empty_like(pred_mt)
        for k in range(3):
            st, _ = _fit_fisher(
                data, train_idx[form[train_idx] == k], steps // 3, seed, cfg
            )
            on = form[test_idx] == k
            pred_st[on] = st(test_idx[on])
        for name, pred in (("multi-task", pred_mt), ("single-task", pred_st)):
            errs = {"all": frobenius_error(pred, truth[test_idx])}
            for k in range(3):
                on = form[test_idx] == k
                errs[FORMS[k]] = frobenius_error(pred[on], truth[test_idx][on])
            results[name].append(errs)
    rows = []
    for name, per_seed in results.items():
        for split in ("all", *FORMS):
            values = [e[split] for e in per_seed]
            rows.append(
                {
                    "task": "fisher",
                    "param": {
                        "steps_total": steps,
                        "n_train": n_train,
                        "n_test": len(test_idx),
                        "models": 1 if name == "multi-task" else 3,
                    },
                    "split": split,
                    "model": "MT-DeepONet"
                    if name == "multi-task"
                    else "3 single-task DeepONets",
                    "variant": name,
                    "metric": "relative Frobenius",
                    "value": float(np.mean(values)),
                    "std": float(np.std(values)),
                    "seeds": len(seeds),
                    "per_seed": values,
                    "paper": None,
                }
            )
            print(f"  fisher {name:12s} {split:4s} {rows[-1]['value']:.3e}", flush=True)
    return rows


def _darcy(geometry: str, n: int, cfg: dict, tmp: pathlib.Path, seed: int):
    path = datasets.generate_darcy_geometry(
        out=tmp / geometry,
        geometry=geometry,
        n_samples=n,
        nx=cfg["darcy_nx"],
        seed=seed,
    )
    with h5py.File(path, "r") as f:
        h = np.asarray(f["tensor"])[:, 0]
        log_k = np.asarray(f["log_nu"])
        mask = np.asarray(f["mask"])
        x, y = np.asarray(f["x-coordinate"]), np.asarray(f["y-coordinate"])
    return h, log_k, mask, x, y


def _darcy_model(key, cfg):
    nx = cfg["darcy_nx"]
    cnn = CNN(
        (2, nx, nx), 150, (16, 32, 64, 64), 5, 2, 128, 2, "tanh", dropout=0.1, key=key
    )
    return DeepONet(
        (2, nx, nx),
        2,
        latent=150,
        width=128,
        depth=3,
        bias=False,
        branch=cnn,
        key=jax.random.fold_in(key, 1),
    )


def run_darcy(cfg: dict, seeds, tmp) -> list:
    sources = ("square", "circle", "triangle")
    parts = [
        _darcy(g, cfg["darcy_source"] + cfg["darcy_test"], cfg, tmp, i)
        for i, g in enumerate(sources)
    ]
    target = _darcy("square_cross", cfg["darcy_few"] + cfg["darcy_test"], cfg, tmp, 7)
    _, _, _, x, y = target
    xx, yy = np.meshgrid(x, y, indexing="ij")
    points = np.stack([xx.ravel(), yy.ravel()], 1)
    n_src, n_test, n_few = cfg["darcy_source"], cfg["darcy_test"], cfg["darcy_few"]
    log_train = np.concatenate([p[1][:n_src] for p in parts])
    mu, sd = log_train.mean(), log_train.std()

    def arrays(h, log_k, mask, idx):
        inputs = np.stack(
            [np.asarray(with_mask_channel((log_k[i] - mu) / sd, mask[i])) for i in idx]
        )
        outputs = 10.0 * h[idx].reshape(len(idx), -1, 1)  # targets x 10 [C]
        return inputs, outputs, mask[idx].reshape(len(idx), -1, 1)

    train_sets = [arrays(*p[:3], np.arange(n_src)) for p in parts]
    tr_in = np.concatenate([a[0] for a in train_sets])
    tr_out = np.concatenate([a[1] for a in train_sets])
    tr_mask = np.concatenate([a[2] for a in train_sets])
    few = arrays(*target[:3], np.arange(n_few))
    test_target = arrays(*target[:3], np.arange(n_few, n_few + n_test))
    steps = cfg["darcy_steps"]

    def schedule(lr_steps):
        b = [lr_steps // 3, 2 * lr_steps // 3]
        return optax.adam(
            optax.piecewise_constant_schedule(1e-3, {b[0]: 0.5, b[1]: 0.2})
        )

    def error(model, inputs, outputs, mask):
        pred = predict(model, jnp.asarray(inputs), jnp.asarray(points, jnp.float32), 32)
        return relative_l2(pred, outputs, mask)

    def rel_loss(model, batch, key):
        inputs, pts, outputs, mask = batch
        pred = model.cartesian(inputs, pts, key=key)
        return masked_relative_l2(pred[..., 0], outputs[..., 0], mask[..., 0]), {}

    out = {g: [] for g in (*sources, "transfer", "scratch")}
    for seed in seeds:
        model, _ = train(
            _darcy_model(jax.random.key(seed), cfg),
            mse_loss(),
            function_batches(tr_in, tr_out, points, cfg["darcy_batch"], mask=tr_mask),
            steps=steps,
            optimizer=schedule(steps),
            seed=seed,
        )
        for g, p in zip(sources, parts, strict=True):
            test = arrays(*p[:3], np.arange(n_src, n_src + n_test))
            out[g].append(error(model, *test))
        # the code's transfer: the first conv layer, the branch MLP's layers 1-3
        # and the trunk's output layer; everything else frozen
        spec = trainable_only(
            model,
            lambda m: (m.branch.convs[0], *m.branch.mlp.layers, m.trunk.layers[-1]),
        )
        few_batches = function_batches(
            *few[:2], points, cfg["darcy_batch"], mask=few[2]
        )
        tuned, _ = train(
            model,
            rel_loss,
            few_batches,
            steps=cfg["darcy_tune_steps"],
            optimizer=schedule(cfg["darcy_tune_steps"]),
            seed=seed,
            trainable=spec,
        )
        out["transfer"].append(error(tuned, *test_target))
        scratch, _ = train(
            _darcy_model(jax.random.key(seed + 100), cfg),
            rel_loss,
            few_batches,
            steps=cfg["darcy_tune_steps"],
            optimizer=schedule(cfg["darcy_tune_steps"]),
            seed=seed,
        )
        out["scratch"].append(error(scratch, *test_target))
    rows = []
    for g, values in out.items():
        is_target = g in ("transfer", "scratch")
        rows.append(
            {
                "task": "darcy",
                "param": {
                    "nx": cfg["darcy_nx"],
                    "steps": steps,
                    "tune_steps": cfg["darcy_tune_steps"],
                    "n_train": n_few if is_target else n_src,
                    "n_test": n_test,
                },
                "split": "square_cross" if is_target else g,
                "model": "MT-DeepONet (mask channel, masked loss)",
                "variant": g if is_target else "source model",
                "metric": "mean masked relative L2",
                "value": float(np.mean(values)),
                "std": float(np.std(values)),
                "seeds": len(seeds),
                "per_seed": values,
                "paper": None,
            }
        )
        print(f"  darcy {g:10s} {rows[-1]['value']:.3e}", flush=True)
    return rows
