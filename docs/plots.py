"""One example PNG of each plot of `sciml.plotting`, from small real computations.

- `rollout_1d.png`: Burgers' equation (nu = 0.01) from a PDEBench initial
  condition; the "prediction" is the same solver with twice the viscosity.
- `rollout_2d.png`: the 2-D FitzHugh-Nagumo diffusion-reaction system (two
  channels, u and v); the "prediction" has 30 % larger diffusivities.
- `field_preview_darcy.png`: two samples of PDEBench's Darcy flow written by
  `sciml.datasets.generate` and read back: the permeability a beside the pressure u.
- `field_preview_series.png`: frames of a 2-D Navier-Stokes vorticity field.
- `convergence.png`: the convergence test of a slightly wrong pendulum vector field
  (a learned model's stand-in) with Euler, Heun and RK4, with the true dynamics.
- `resolution.png`: the resolution test of a second-order central difference.
- `training_curves.png`: a short `sciml.training.fit` run of an MLP with a run_dir
  and a held-out validation set, read back from its `metrics.jsonl`.

Run: .venv/bin/python docs/plots.py  (under a minute on a CPU)
"""

import pathlib
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sciml import convergence, datasets, plotting, solvers, training
from sciml.nn import MLP

OUT = pathlib.Path(__file__).parent / "assets" / "plots"


def burgers_rollout() -> None:
    grid = solvers.Grid(128)
    u0 = solvers.PDEBenchSines()(grid, key=jax.random.key(5))
    m = solvers.substeps(0.025, solvers.Burgers.max_dt(grid, nu=0.02, cfl=0.9))
    ts = 0.025 * np.arange(41)

    def run(nu):
        return np.asarray(solvers.Burgers(grid, 0.025 / m, nu).trajectory(u0, 41, m))

    plotting.rollout(
        run(0.02),
        run(0.01),
        OUT / "rollout_1d.png",
        times=ts,
        x=np.asarray(grid.axes[0]),
        labels=("nu = 0.02", "nu = 0.01"),
        title="Burgers: a rollout with twice the viscosity against the true one",
    )


def reaction_rollout() -> None:
    grid = solvers.Grid((48, 48), -1.0, 1.0)
    uv0 = solvers.StandardNormal(channels=2)(grid, key=jax.random.key(1))
    ts = jnp.linspace(0.0, 5.0, 6)

    def run(scale):
        solver = solvers.DiffusionReaction2D(
            grid, du=1e-3 * scale, dv=5e-3 * scale, k=5e-3
        )
        return np.asarray(solver.solve(uv0, ts).ys)

    plotting.rollout(
        run(1.3),
        run(1.0),
        OUT / "rollout_2d.png",
        times=np.asarray(ts),
        frames=[1, 3, 5],
        channels=["u", "v"],
        labels=("1.3x diffusivity", "truth"),
        title="2-D diffusion-reaction: a rollout with 30 % larger diffusivities",
    )


def darcy_preview(tmp: pathlib.Path) -> None:
    path = datasets.generate("darcy", out=tmp, n_samples=2, nx=64, seed=0)
    with datasets.load(path) as ds:
        u = datasets.channel_first(ds.u[:])  # (N, 1, C, X, Y)
        a = np.asarray(ds.fields["nu"][:])  # (N, X, Y)
        x, y = ds.x, ds.y
    plotting.field_preview(
        [u[0, 0], u[1, 0]],
        [a[0], a[1]],
        OUT / "field_preview_darcy.png",
        x=x,
        y=y,
        names=["pressure u"],
        coefficient_names=["permeability a"],
        title=f"{path.name}: -div(a grad u) = 1",
    )


def vorticity_preview() -> None:
    grid = solvers.Grid((64, 64), points="nodes")
    w0 = solvers.PeriodicGRF()(grid, key=jax.random.key(4))
    ts = jnp.linspace(0.0, 2.0, 5)
    w = np.asarray(solvers.NavierStokes2D(grid, 1e-3, 0.01).solve(w0, ts).ys)
    plotting.field_preview(
        w,
        None,
        OUT / "field_preview_series.png",
        times=np.asarray(ts),
        names=["vorticity w"],
        title="2-D Navier-Stokes (nu = 1e-3): frames of one sample",
    )


def pendulum_convergence() -> None:
    pendulum = solvers.Pendulum(g=1.0, length=1.0)

    def model(t, y, args):  # the true field, slightly wrong: a learned stand-in
        return pendulum.vector_field(t, y, args) + 1e-4 * jnp.stack([y[1], -y[0]])

    rng = np.random.default_rng(0)
    y0 = np.stack([rng.uniform(0.5, 2.0, 8), rng.uniform(-0.5, 0.5, 8)], -1)
    reference = pendulum.trajectories(y0, np.array([0.0, 2.0]))[:, -1]
    report = convergence.test(
        model,
        y0,
        2.0,
        solvers=["euler", "heun", "rk4"],
        dts=0.2 * 2.0 ** -np.arange(8),
        reference=reference,
        dt_train=0.1,
        true_vector_field=pendulum.vector_field,
    )
    report.plot(OUT / "convergence.png", title="a pendulum model 1e-4 off the truth")


def central_difference_resolution() -> None:
    def sine(n):
        x = np.arange(n) / n
        return np.sin(2 * np.pi * x)[None, None]

    def derivative(n):
        x = np.arange(n) / n
        return 2 * np.pi * np.cos(2 * np.pi * x)[None, None]

    def central(u):
        n = u.shape[-1]
        return (jnp.roll(u, -1, -1) - jnp.roll(u, 1, -1)) * n / 2

    report = convergence.resolution_test(
        central, sine, derivative, [8, 16, 32, 64, 128], expected_rate=2, float64=True
    )
    report.plot(OUT / "resolution.png", title="central difference of sin(2 pi x)")


def fit_curves(tmp: pathlib.Path) -> None:
    xs = np.linspace(-1, 1, 256, dtype=np.float32)[:, None]
    ys = np.sin(3 * xs)
    held_out = (xs[:-1] + xs[1:]) / 2  # the midpoints, never trained on

    def loss(model, batch, key):
        del key
        pred = jax.vmap(model)(batch["x"])
        mse = jnp.mean((pred - batch["y"]) ** 2)
        return mse, {"mse": mse, "max_abs": jnp.max(jnp.abs(pred - batch["y"]))}

    def batches(step):
        i = np.random.default_rng(step).integers(0, len(xs), 64)
        return {"x": xs[i], "y": ys[i]}

    training.fit(
        MLP(1, 1, width=32, depth=2, activation="tanh", key=jax.random.key(0)),
        loss,
        batches,
        optax.adam(3e-3),
        steps=600,
        key=jax.random.key(1),
        run_dir=tmp / "fit",
        log_every=20,
        checkpoint_every=600,
        progress=False,
        validation=[{"x": held_out, "y": np.sin(3 * held_out)}],
        validate_every=60,
    )
    plotting.training_curves(
        tmp / "fit" / "metrics.jsonl",
        OUT / "training_curves.png",
        title="an MLP fitting sin(3x): sciml.training.fit's metrics.jsonl",
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        jobs = {
            "rollout_1d": burgers_rollout,
            "rollout_2d": reaction_rollout,
            "field_preview_darcy": lambda: darcy_preview(tmp),
            "field_preview_series": vorticity_preview,
            "convergence": pendulum_convergence,
            "resolution": central_difference_resolution,
            "training_curves": lambda: fit_curves(tmp),
        }
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            print(f"{name}.png: {time.perf_counter() - start:.1f} s")
    print(f"wrote {sorted(p.name for p in OUT.glob('*.png'))} into {OUT}")


if __name__ == "__main__":
    main()
