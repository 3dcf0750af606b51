"""Train with `sciml.training.fit` in a run folder: JSON-lines metrics with a
held-out validation loss, orbax checkpoints, the best-on-validation model kept
beside the last, a run interrupted halfway and resumed bit for bit, and the final
model saved with its constructor arguments, so it loads without this script.

Run: python examples/training.py  (--tiny: a few steps, for the test suite)
"""

import functools
import json
import sys
import tempfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
STEPS = 20 if TINY else 2000  # training steps

# The task of examples/odenet.py: an ODE-Net learns the pendulum from 64 trajectories
# sampled every 0.1 up to t = 2, released at 45 to 135 degrees; 16 more are held out
y0 = np.random.default_rng(0).uniform([np.pi / 4, -0.5], [3 * np.pi / 4, 0.5], (80, 2))
data = sciml.solvers.Pendulum().trajectories(y0, 0.1 * np.arange(21)).astype(np.float32)
data, held_out = data[:64], data[64:]
# validation: a list of batches; here one, every one-step pair of the held-out set
validation = [(held_out[:, :-1].reshape(-1, 2), held_out[:, 1:].reshape(-1, 2))]
mlp = sciml.nn.MLP(2, 2, width=64, depth=2, activation="tanh", key=jax.random.key(0))
model = sciml.operators.ODENet(mlp, solver="rk4", dt=0.1)


def batches(step):  # batch `step`: the same whenever it is asked for (for resume)
    rng = np.random.default_rng(step)
    i, k = rng.integers(0, 64, 128), rng.integers(0, 20, 128)  # trajectory, time
    return data[i, k], data[i, k + 1]


def loss(model, batch, key):  # (scalar, metrics): the one-step mean squared error
    now, target = batch
    mse = jnp.mean((jax.vmap(model)(now) - target) ** 2)
    return mse, {"rmse": jnp.sqrt(mse)}


optimizer = optax.adam(optax.cosine_decay_schedule(3e-3, STEPS, alpha=0.01))
settings = dict(
    log_every=STEPS // 10,
    checkpoint_every=STEPS // 4,
    validation=validation,  # its loss is logged every log_every steps as val_loss
    progress=False,
)
train = functools.partial(
    sciml.training.fit, model, loss, batches, optimizer, **settings
)
with tempfile.TemporaryDirectory() as out:
    run = Path(out) / "run"
    # Stopped halfway (as by a crash), then resumed from its latest checkpoint, a
    # run ends where a run without the interruption ends, bit for bit (on a CPU)
    train(steps=STEPS // 2, run_dir=run)
    resumed = train(steps=STEPS, run_dir=run, resume=True)
    straight = train(steps=STEPS)
    same = bool(eqx.tree_equal(resumed.model, straight.model))
    print(f"resumed at step {STEPS // 2}; at step {STEPS} the same weights: {same}")
    # Every `log_every` steps a line of run/metrics.jsonl; the last 3 checkpoints kept
    log = (run / "metrics.jsonl").read_text().splitlines()
    print(f"metrics.jsonl: {len(log)} lines, the last {json.loads(log[-1])}")
    print("checkpoints:", sorted(int(p.name) for p in (run / "checkpoints").iterdir()))
    # The best-on-validation model is kept (run/best_model.eqx); the model returned,
    # whose test error is the one to report, stays the final one
    print(
        f"best val_loss {resumed.best_val_loss:.3g} at step {resumed.best_step}; "
        f"final val_loss {resumed.history[-1]['val_loss']:.3g} at step {resumed.step}"
    )

    # fit wrote the final model to run/model.eqx; save_model writes one anywhere.
    # The file holds the constructor arguments: it loads without this script
    sciml.training.save_model(Path(out) / "pendulum.eqx", resumed.model)
    loaded = sciml.training.load_model(Path(out) / "pendulum.eqx")
    y = jnp.asarray(data[:8, 0])
    same = bool(jnp.array_equal(jax.vmap(loaded)(y), jax.vmap(resumed.model)(y)))
    print(f"loaded {type(loaded).__name__}: the same predictions: {same}")
