"""`sciml demo`: the end-to-end slice, on data it generates itself.

1. Generate 1-D advection (beta = 0.4) with PDEBench's finite-volume scheme, in
   the PDEBench layout.
2. Train an FNO to advance one frame; score full autoregressive rollouts on held-out
   samples with nRMSE.
3. Train an ODE-Net (MLP vector field inside RK4) on pendulum trajectories and run
   the convergence test on it.
4. Write `report.md` with the figures and PNG plots.
"""

import json
import math
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import convergence, datasets, metrics, plotting, solvers, training
from ..nn import MLP
from ..operators import FNO, ODENet, rollout

# Sizes chosen so the whole demo runs in a few minutes on a 2-core CPU.
ADVECTION = dict(beta=0.4, nx=256, nt=41, n_samples=400)  # PDEBench's 256 x 41 grid
N_TEST = 40  # PDEBench scores the first 10 % of samples
FNO_STEPS, FNO_BATCH = 1500, 32
PENDULUM_DT, PENDULUM_STEPS, ODE_TRAIN_STEPS = 0.1, 20, 3000
CONV_T1 = 1.6


def _mse_loss(model, batch, key):
    del key
    pred = jax.vmap(model)(batch["input"])
    loss = jnp.mean((pred - batch["target"]) ** 2)
    return loss, {"mse": loss}


def run_fno(out: pathlib.Path, seed: int, progress: bool) -> dict:
    """Advection data -> FNO one-step training -> held-out rollout nRMSE."""
    path = datasets.generate("advection", out=out / "data", seed=seed, **ADVECTION)
    with datasets.load(path) as ds:
        # file layout (N, T, X, C) -> model layout (N, T, C, X); small enough here
        u = datasets.channel_first(ds.u[:])
        x, t = ds.x, ds.t
    test, train = u[:N_TEST], u[N_TEST:]
    n_train, n_t = train.shape[:2]

    def batches(step):
        rng = np.random.default_rng([seed, step])
        i = rng.integers(0, n_train, FNO_BATCH)
        k = rng.integers(0, n_t - 1, FNO_BATCH)
        return {"input": train[i, k], "target": train[i, k + 1]}

    # Periodic advection is translation-invariant: appending grid coordinates (as
    # PDEBench's FNO does) breaks that symmetry and nearly doubles the rollout error.
    model = FNO(
        1,
        1,
        modes=12,
        width=20,
        n_layers=4,
        append_grid=False,
        key=jax.random.key(seed),
    )
    schedule = optax.cosine_decay_schedule(1e-3, FNO_STEPS)
    result = training.fit(
        model,
        _mse_loss,
        batches,
        optax.adam(schedule),
        steps=FNO_STEPS,
        key=jax.random.key(seed),
        run_dir=out / "fno",
        log_every=100,
        checkpoint_every=500,
        progress=progress,
    )
    predict = eqx.filter_jit(jax.vmap(lambda u0: rollout(result.model, u0, n_t - 1)))
    pred = np.asarray(predict(test[:, 0]))  # (N_test, T-1, C, X)
    truth = test[:, 1:]
    score = float(metrics.nrmse(pred, truth, spatial_axes=-1))
    plotting.rollout(
        pred[0],
        truth[0],
        out / "fno_rollout.png",
        times=t[1:],
        x=x,
        labels=("FNO rollout", "truth"),
        title=f"held-out sample 0 (test-set rollout nRMSE {score:.4f})",
    )
    return {
        "file": str(path),
        "nrmse_rollout": score,
        "rmse_rollout": float(metrics.rmse(pred, truth, spatial_axes=-1)),
        "train_samples": int(n_train),
        "test_samples": N_TEST,
        "rollout_steps": n_t - 1,
        "history": result.history,
    }


def run_odenet(out: pathlib.Path, seed: int, progress: bool) -> dict:
    """Pendulum trajectories -> ODE-Net (RK4) -> convergence test."""
    pendulum = solvers.Pendulum(g=1.0, length=1.0)
    rng = np.random.default_rng(seed)
    n_traj = 64
    y0s = np.stack(
        [rng.uniform(np.pi / 4, 3 * np.pi / 4, n_traj), rng.uniform(-0.5, 0.5, n_traj)],
        -1,
    )
    ts = PENDULUM_DT * np.arange(PENDULUM_STEPS + 1)
    traj = pendulum.trajectories(y0s, ts).astype(np.float32)  # (n, T, 2)
    inputs = traj[:, :-1].reshape(-1, 2)
    targets = traj[:, 1:].reshape(-1, 2)
    model = ODENet(
        MLP(2, 2, width=64, depth=2, activation="tanh", key=jax.random.key(seed + 1)),
        solver="rk4",
        dt=PENDULUM_DT,
    )

    def batches(step):
        i = np.random.default_rng([seed, 7, step]).integers(0, len(inputs), 128)
        return {"input": inputs[i], "target": targets[i]}

    schedule = optax.cosine_decay_schedule(3e-3, ODE_TRAIN_STEPS, alpha=1e-2)
    result = training.fit(
        model,
        _mse_loss,
        batches,
        optax.adam(schedule),
        steps=ODE_TRAIN_STEPS,
        key=jax.random.key(seed),
        run_dir=out / "odenet",
        log_every=200,
        checkpoint_every=1000,
        progress=progress,
    )
    test_y0 = np.stack(
        [rng.uniform(np.pi / 4, 3 * np.pi / 4, 16), rng.uniform(-0.5, 0.5, 16)], -1
    )
    reference = pendulum.trajectories(test_y0, np.array([0.0, CONV_T1]))[:, -1]
    report = convergence.test(  # an ODENet: tested through .rhs, dt_train = .dt
        result.model,
        test_y0,
        CONV_T1,
        "rk4",
        PENDULUM_DT * 2.0 ** np.arange(-5, 5),
        reference,
        true_vector_field=pendulum.vector_field,
    )
    report.plot(out / "convergence.png", title="ODE-Net (RK4) on the pendulum")
    report.to_json(out / "convergence.json")
    return {"report": report, "history": result.history}


def _write_report(out: pathlib.Path, fno: dict, ode: dict, wall: float) -> None:
    rep = ode["report"]
    rows = "\n".join(
        f"| {dt:.5g} | {e:.3e} | {r:.3e} |"
        for dt, e, r in zip(rep.dts, rep.errors, rep.reference_errors, strict=True)
    )
    text = f"""# sciml demo report

Generated by `sciml demo` in {wall:.0f} s on {jax.devices()[0].device_kind}
(jax {jax.__version__}).

## FNO on 1-D advection (beta = {ADVECTION["beta"]})

Data: `{pathlib.Path(fno["file"]).name}`, {ADVECTION["n_samples"]} samples on
{ADVECTION["nx"]} cells x {ADVECTION["nt"]} frames, computed with PDEBench's
finite-volume scheme (MUSCL-MC reconstruction, Rusanov flux; periodic).
Trained one-step (frame k -> k+1) on {fno["train_samples"]} samples; scored on the
{fno["test_samples"]} held-out samples (the first 10 %, as PDEBench) by full
autoregressive rollouts of {fno["rollout_steps"]} steps from frame 0.

| metric | value |
|---|---|
| nRMSE, full rollout (held-out) | {fno["nrmse_rollout"]:.4f} |
| RMSE, full rollout (held-out) | {fno["rmse_rollout"]:.4f} |

![rollout](fno_rollout.png)

## ODE-Net (MLP vector field in RK4) on the pendulum

Trained on trajectories sampled every dt_train = {PENDULUM_DT}; convergence test
over t1 = {CONV_T1} against a float64 Dopri8 reference, on 16 new initial
conditions.

**Verdict: {rep.verdict}**: {rep.reason}.

| dt | model error | true dynamics, same solver |
|---|---|---|
{rows}

![convergence](convergence.png)

## Training loss

![loss](loss.png)
"""
    (out / "report.md").write_text(text)


def main(
    out: str | pathlib.Path = "runs/demo", seed: int = 0, progress: bool = True
) -> dict:
    """Run the demo and write `out/report.md` and `out/summary.json`.

    **Arguments:**

    - `out`: the output folder.
    - `seed`: seeds the data, the initialisations and the batches.
    - `progress`: show progress bars.

    **Returns:** the headline figures, as written to `summary.json` (a number that
    is NaN, e.g. the observed order of a plateau-limited model, is None).
    """
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for sub in ("fno", "odenet"):  # a fresh run each time
        run_dir = out / sub
        if run_dir.exists():
            import shutil

            shutil.rmtree(run_dir)
    fno = run_fno(out, seed, progress)
    print(f"FNO held-out rollout nRMSE: {fno['nrmse_rollout']:.4f}")
    ode = run_odenet(out, seed, progress)
    print(f"ODE-Net convergence test: {ode['report']}")
    plotting.training_curves(  # from the runs' metrics.jsonl
        {"FNO (advection)": out / "fno", "ODE-Net (pendulum)": out / "odenet"},
        out / "loss.png",
        metrics=False,  # the one metric, mse, is the loss itself
        title="training loss (MSE)",
    )
    wall = time.perf_counter() - start
    _write_report(out, fno, ode, wall)
    summary = {
        "fno_nrmse_rollout": fno["nrmse_rollout"],
        "odenet_verdict": ode["report"].verdict,
        "odenet_reason": ode["report"].reason,
        "odenet_observed_order": ode["report"].observed_order,
        "odenet_plateau": ode["report"].plateau,
        "wall_s": wall,
    }
    summary = _write_json(out / "summary.json", summary)
    print(f"Report: {out / 'report.md'} ({wall:.0f} s)")
    return summary


def _write_json(path: pathlib.Path, data: dict) -> dict:
    """Write a flat dict as valid JSON (NaN and inf, which JSON lacks, as null);
    returns the dict as written."""
    clean = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v
        for k, v in data.items()
    }
    path.write_text(json.dumps(clean, indent=2, allow_nan=False) + "\n")
    return clean
