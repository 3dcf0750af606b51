"""DeepONet training and inference speed against DeepXDE (PyTorch backend), at the
same network sizes, on the same data and weights, in one run on one machine.

    .peers/pinn-venv/bin/python -m benchmarks.deeponet-peers.run --scale quick

(DeepXDE and PyTorch live in a separate environment, see this folder's README.md;
`DDE_BACKEND=pytorch` is set here before DeepXDE is imported).

Configurations (`CONFIGS`; float32, Adam at 1e-3, MSE on the cartesian-product
outputs, one fixed batch):

- `deeponet-128x100`: the issue's: 128 functions x 100 points, m = 100 sensors, a
  1-D trunk input, branch and trunk 3 hidden layers of 128 tanh, latent 128;
- `deeponet-512x1000-2d`: 512 functions x 1000 points (a 25 x 40 grid of [0, 1]^2),
  the same networks with a 2-D trunk input;
- `pod-128x100`: POD-DeepONet, 32 modes of the training outputs, the same branch;
- `mionet-128x100`: MIONet, two inputs of 100 sensors, product merge.

Ours: `sciml.operators.DeepONet` (`PODDeepONet`, `MIONet`) trained by
`sciml.training.make_step` (its `jax.jit` step with donated state and the NaN guard,
what `sciml.training.fit` runs; `eqx.filter_jit` before 1db66f4) on `model.cartesian`; inference is
`model.cartesian` under `eqx.filter_jit`.

DeepXDE: the same layer sizes in `dde.nn.DeepONetCartesianProd` (`PODDeepONet`,
`MIONetCartesianProd`), tanh, built with "Glorot normal" and then given OUR initial
weights (so both compute the same function: the loss at the initial weights is
checked to agree to float32 rounding, `checks`); DeepXDE's trunk applies its
activation to the trunk's last layer, as ours does by default
(`trunk_final_activation`; for MIONet `trunk_last_activation=True`). Three peer
measurements:

- network step: a hand-written PyTorch loop on that network: forward, MSE,
  backward, `torch.optim.Adam` step (`zero_grad(set_to_none=True)`);
- Model.train step: one iteration of `dde.Model.train`'s loop on
  `dde.data.TripleCartesianProd` (`QuadrupleCartesianProd` for MIONet) after
  `model.compile("adam", lr=1e-3)`: the loop body of `Model._train_sgd`
  (callbacks, `train_next_batch`, `set_data_train`, `_train_step`, counters),
  without the loss evaluations `Model.train` adds at its start and end and every
  `display_every` iterations;
- inference: the network's forward under `torch.no_grad()`.

Threads: torch gets the faster of 1 and all cores (`os.sched_getaffinity`), probed
on the network step at warm-up; where that is 1, the DeepONet configurations also
time the network step at all cores in the same rounds (on a loaded machine many
threads can be far slower, so both are reported); JAX/XLA runs on the same cores
(its own thread pool). Both are printed.

Timing: every item (ours, the peer's, the profile's) is first run on the exact
shapes it is timed on, then `rounds` rounds run each item for `steps` iterations in
turn (the order rotates each round); per-iteration times, the median and the
minimum over rounds are reported; ratio = peer / ours (above 1: we are faster).
The load average (/proc/loadavg) is printed beside each table and recorded with
each configuration: the machine is shared and ratios move with its load.

Profile (`measure="profile"` rows, the DeepONet configurations): where our step spends
its time, each piece jitted on its own (`jax.jit`, asynchronous dispatch, the result
waited for once per round): the forward (loss), forward + backward
(`jax.value_and_grad`), the Adam update alone, the cartesian contraction alone (as
`model.cartesian` runs it: `contract` under `jax.vmap`, and as one `B T^T`
`dot_general`), the dispatch cost (a jitted no-op on the same `TrainState`, through
`eqx.filter_jit` with donation, as `make_step` compiled before 1db66f4, and through
`jax.jit`), and variants of the step: `make_step` waiting for every step's result
(as `eqx.filter_jit` does), without the NaN guard, with the cartesian product written as one batched
`B T^T`, and with float32 matmul precision "highest". The peer's counterparts (its
forward, forward + backward, `Adam.step`, `torch.einsum`) are timed beside them.
XLA flags are read once per process: `--flag-probe` times our step in child
processes (alternating, `FLAG_SETS`) under the default flags, the flag of
`benchmarks/_cpu.py` `tune_cpu()` that this run uses, and single-threaded XLA.

Results: `benchmarks/deeponet-peers/results/<scale>-<device>/<date>-<commit>.json`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from benchmarks._cpu import FLAG, tune_cpu  # noqa: E402
from benchmarks._results import write_results  # noqa: E402
from sciml import operators, training  # noqa: E402

XLA_FLAGS: str | None = None
LR, WIDTH, DEPTH, LATENT, SENSORS, SEED = 1e-3, 128, 3, 128, 100, 0
CONFIGS = {
    "deeponet-128x100": dict(kind="deeponet", functions=128, points=100, coords=1,
                             steps=30, profile=True),
    "deeponet-512x1000-2d": dict(kind="deeponet", functions=512, points=1000,
                                 coords=2, grid=(25, 40), steps=6, profile=True),
    "pod-128x100": dict(kind="pod", functions=128, points=100, coords=1, modes=32,
                        steps=30, profile=False),
    "mionet-128x100": dict(kind="mionet", functions=128, points=100, coords=1,
                           steps=30, profile=False),
}  # fmt: skip
SCALES = {"quick": dict(rounds=11, configs=tuple(CONFIGS), flag_rounds=4)}
FLAG_SETS = {
    "tune_cpu (this run)": FLAG,
    "XLA default": "",
    "single-threaded XLA": f"{FLAG} --xla_cpu_multi_thread_eigen=false "
    "intra_op_parallelism_threads=1",
}
PEER = "DeepXDE 1.15 (PyTorch)"
LABELS = {
    "deeponet-128x100": "DeepONet 128 fn x 100 pts, 1-D",
    "deeponet-512x1000-2d": "DeepONet 512 fn x 1000 pts, 2-D",
    "pod-128x100": "POD-DeepONet 128 fn x 100 pts, 32 modes",
    "mionet-128x100": "MIONet 128 fn x 100 pts, 2 inputs",
}


def load() -> list[float]:
    return [float(v) for v in open("/proc/loadavg").read().split()[:3]]


def cores() -> int:
    return len(os.sched_getaffinity(0))


# -- the data: the same arrays for both ---------------------------------------------


def make_data(cfg: dict, rng: np.random.Generator) -> dict:
    """Input functions u(x) = sum_k a_k sin(k pi x) at m sensors of [0, 1], the query
    points, and targets: the antiderivative s(y) = sum_k a_k (1 - cos(k pi y)) / (k pi)
    (in 2-D times exp(-y_2); for MIONet plus the second input at y)."""
    n, m = cfg["functions"], SENSORS
    k = np.arange(1, 11)
    x = np.linspace(0.0, 1.0, m)

    def draw():
        a = rng.standard_normal((n, k.size)) / k
        return a, a @ np.sin(np.pi * k[:, None] * x[None])

    if cfg["coords"] == 1:
        y = np.linspace(0.0, 1.0, cfg["points"])[:, None]
    else:
        g1, g2 = (np.linspace(0.0, 1.0, s) for s in cfg["grid"])
        y = np.stack(np.meshgrid(g1, g2, indexing="ij"), -1).reshape(-1, 2)
    a, u = draw()
    s = a @ ((1.0 - np.cos(np.pi * k[:, None] * y[None, :, 0])) / (np.pi * k[:, None]))
    if cfg["coords"] == 2:
        s = s * np.exp(-y[:, 1])[None]
    data = {"u": [u], "y": y, "g": s}
    if cfg["kind"] == "mionet":
        a2, u2 = draw()
        data["u"].append(u2)
        data["g"] = s + a2 @ np.sin(np.pi * k[:, None] * y[None, :, 0])
    f32 = lambda v: np.asarray(v, np.float32)  # noqa: E731
    return {"u": [f32(v) for v in data["u"]], "y": f32(data["y"]), "g": f32(data["g"])}


# -- ours --------------------------------------------------------------------------


def our_model(cfg: dict, data: dict):
    key = jax.random.key(SEED)
    if cfg["kind"] == "deeponet":
        return operators.DeepONet(
            SENSORS, cfg["coords"], latent=LATENT, width=WIDTH, depth=DEPTH, key=key
        )
    if cfg["kind"] == "pod":
        return operators.PODDeepONet(
            data["g"], data["y"], cfg["modes"], SENSORS, width=WIDTH, depth=DEPTH,
            key=key,
        )  # fmt: skip
    return operators.MIONet(
        (SENSORS, SENSORS), cfg["coords"], latent=LATENT, width=WIDTH, depth=DEPTH,
        merge="product", key=key,
    )  # fmt: skip


def our_batch(cfg: dict, data: dict):
    u = [jnp.asarray(v) for v in data["u"]]
    u = tuple(u) if cfg["kind"] == "mionet" else u[0]
    return u, jnp.asarray(data["y"]), jnp.asarray(data["g"])


def mse_loss(model, batch, key):
    """The MSE of the cartesian-product outputs, as `sciml.training` takes it."""
    u, y, g = batch
    return jnp.mean((model.cartesian(u, y)[..., 0] - g) ** 2), {}


def _mlp_batched(net, x):
    """A `sciml.nn.MLP` applied to a batch `(N, in)` as `x @ W^T + b` per layer."""
    for layer in net.layers[:-1]:
        x = jnp.tanh(x @ layer.weight.T + layer.bias)
    x = x @ net.layers[-1].weight.T + net.layers[-1].bias
    return x if net.final_activation is None else jnp.tanh(x)


def mse_loss_batched(model, batch, key):
    """The same loss with the cartesian product written out for a one-output
    DeepONet: $G = B T^\\top + b_0$ as one `dot_general` of the batched branch and
    trunk features."""
    u, y, g = batch
    b, t = _mlp_batched(model.branch, u), _mlp_batched(model.trunk, y)
    out = jax.lax.dot_general(b, t, (((1,), (1,)), ((), ()))) + model.bias[0]
    return jnp.mean((out - g) ** 2), {}


def _wait(x):
    jax.block_until_ready(x)


class StepItem:
    """`n` training steps of a step function `(batch, state) -> (state, loss, _)`;
    `wait_each`: wait for every step's result (as `eqx.filter_jit` does)."""

    def __init__(self, step, model, optimizer, batch, context=None, wait_each=False):
        self.step, self.batch, self.context = step, batch, context
        self.wait_each = wait_each
        self.state = training.init_train_state(model, optimizer)

    def __call__(self, n: int) -> None:
        if self.context is not None:
            with self.context():
                self._run(n)
        else:
            self._run(n)

    def _run(self, n):
        for _ in range(n):
            self.state, loss, _ = self.step(self.batch, self.state)
            if self.wait_each:
                _wait(loss)
        _wait(loss)


class NoopItem:
    """`n` calls of a jitted identity on a TrainState (threaded: it is donated)."""

    def __init__(self, fn, model, optimizer, batch):
        self.fn, self.batch = fn, batch
        self.state = training.init_train_state(model, optimizer)

    def __call__(self, n: int) -> None:
        for _ in range(n):
            self.state = self.fn(self.batch, self.state)
        _wait(self.state.step)


def call_item(fn, *args):
    def run(n: int) -> None:
        for _ in range(n):
            out = fn(*args)
        _wait(out)

    return run


def _all_finite(tree) -> jax.Array:
    """Whether every entry of every array of `tree` is finite (make_step's test)."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def _where_guard_step(loss_fn, optimizer, scalar_check=False):
    """make_step's NaN guard written as an elementwise select (`jnp.where`) of the
    new and the old arrays instead of `lax.cond`: the same semantics (a non-finite
    loss or gradient skips the step and records it; every later step is a no-op).
    `scalar_check`: test one scalar, the loss plus the sum of every gradient entry
    (non-finite if any entry is; it also trips if finite entries sum past the
    float32 range, about 3e38), instead of `jnp.isfinite` of every entry."""

    def step(batch, state):
        key = jax.random.fold_in(state.key, state.step)
        params, static = eqx.partition(state.model, eqx.is_inexact_array)
        (loss, metrics), grads = jax.value_and_grad(
            lambda p: loss_fn(eqx.combine(p, static), batch, key), has_aux=True
        )(params)
        updates, opt_state = optimizer.update(grads, state.opt_state, params)
        new = eqx.apply_updates(params, updates)
        if scalar_check:
            total = sum((jnp.sum(g) for g in jax.tree.leaves(grads)), loss)
            finite = jnp.isfinite(total)
        else:
            finite = jnp.isfinite(loss) & _all_finite(grads)
        already_bad = state.bad_step >= 0
        ok = finite & ~already_bad
        new, old = (new, opt_state), (params, state.opt_state)
        params_out, opt_out = jax.tree.map(
            lambda a, b: jnp.where(ok, a, b) if eqx.is_array(a) else a, new, old
        )
        bad = jnp.where(already_bad | finite, state.bad_step, state.step)
        return (
            training.TrainState(
                model=eqx.combine(params_out, static), opt_state=opt_out,
                step=state.step + ok.astype(state.step.dtype), key=state.key,
                bad_step=bad.astype(jnp.int32), skipped=state.skipped,
            ),
            loss,
            metrics,
        )  # fmt: skip

    return step


def _guardless_step(loss_fn, optimizer):
    """A step without the NaN guard: gradient, Adam, apply (same TrainState)."""

    def step(batch, state):
        params, static = eqx.partition(state.model, eqx.is_inexact_array)
        (loss, metrics), grads = jax.value_and_grad(
            lambda p: loss_fn(eqx.combine(p, static), batch, None), has_aux=True
        )(params)
        updates, opt_state = optimizer.update(grads, state.opt_state, params)
        new = eqx.apply_updates(params, updates)
        return (
            training.TrainState(
                model=eqx.combine(new, static), opt_state=opt_state,
                step=state.step + 1, key=state.key, bad_step=state.bad_step,
                skipped=state.skipped,
            ),
            loss,
            metrics,
        )  # fmt: skip

    return step


def our_items(cfg: dict, model, batch) -> dict:
    """The timed items of ours: the step, inference and (DeepONet) the profile."""
    opt = optax.adam(LR)
    items = {
        "ours step": StepItem(training.make_step(mse_loss, opt), model, opt, batch),
        "ours inference": call_item(
            eqx.filter_jit(lambda m, u, y: m.cartesian(u, y)), model, *batch[:2]
        ),
    }
    if not cfg["profile"]:
        return items
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss_of(p, b):
        return mse_loss(eqx.combine(p, static), b, None)[0]

    grads = jax.grad(loss_of)(params, batch)
    opt_state = opt.init(params)
    flat = optax.flatten(optax.adam(LR))
    flat_state = flat.init(params)

    def adam(g, o, p):
        updates, o = opt.update(g, o, p)
        return optax.apply_updates(p, updates), o

    def adam_flat(g, o, p):
        updates, o = flat.update(g, o, p)
        return optax.apply_updates(p, updates), o

    u, y, _ = batch
    bt = jax.vmap(model.branch)(u)
    tt = jax.vmap(model.trunk)(y)
    items.update(
        {
            "ours forward": call_item(jax.jit(loss_of), params, batch),
            "ours forward+backward": call_item(
                jax.jit(jax.value_and_grad(loss_of)), params, batch
            ),
            "ours adam": call_item(jax.jit(adam), grads, opt_state, params),
            "ours adam flat": call_item(jax.jit(adam_flat), grads, flat_state, params),
            "ours contraction vmap": call_item(
                jax.jit(jax.vmap(operators.contract, in_axes=(0, None))),
                bt[:, None, :],
                tt[:, None, :],
            ),
            "ours contraction dot": call_item(
                jax.jit(
                    lambda b, t: jax.lax.dot_general(b, t, (((1,), (1,)), ((), ())))
                ),
                bt,
                tt,
            ),  # fmt: skip
            "ours dispatch filter_jit": NoopItem(
                eqx.filter_jit(lambda b, s: s, donate="all-except-first"),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours dispatch jax.jit": NoopItem(
                jax.jit(lambda b, s: s, donate_argnums=1), model, opt, batch
            ),
            "ours step waited": StepItem(
                training.make_step(mse_loss, opt), model, opt, batch, wait_each=True
            ),
            "ours inference jax.jit": call_item(
                jax.jit(lambda p, u, y: eqx.combine(p, static).cartesian(u, y)),
                params,
                u,
                y,
            ),  # fmt: skip
            "ours step where guard": StepItem(
                jax.jit(_where_guard_step(mse_loss, opt), donate_argnums=1),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours step where guard batched": StepItem(
                jax.jit(_where_guard_step(mse_loss_batched, opt), donate_argnums=1),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours step scalar guard": StepItem(
                jax.jit(
                    _where_guard_step(mse_loss, opt, scalar_check=True),
                    donate_argnums=1,
                ),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours step no guard": StepItem(
                jax.jit(_guardless_step(mse_loss, opt), donate_argnums=1),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours step no guard batched": StepItem(
                jax.jit(_guardless_step(mse_loss_batched, opt), donate_argnums=1),
                model,
                opt,
                batch,
            ),  # fmt: skip
            "ours step no guard highest": StepItem(
                jax.jit(_guardless_step(mse_loss, opt), donate_argnums=1),
                model,
                opt,
                batch,
                context=lambda: jax.default_matmul_precision("highest"),
            ),  # fmt: skip
        }
    )
    return items


def trunk_once(model, batch) -> bool:
    """Whether `model.cartesian` evaluates the trunk once for the point set: its
    hidden activations are `(P, width)` arrays in the traced program, not
    `(N, P, width)`."""
    u, y, _ = batch
    jaxpr = jax.make_jaxpr(lambda m: m.cartesian(u, y))(model)
    shapes = [
        tuple(e.outvars[0].aval.shape)
        for e in jaxpr.jaxpr.eqns
        if e.primitive.name == "tanh"
    ]
    p = y.shape[0]
    return (p, WIDTH) in shapes and not any(len(s) == 3 for s in shapes)


# -- DeepXDE (PyTorch) -------------------------------------------------------------


def _copy_mlp(torch, fnn, mlp) -> None:
    with torch.no_grad():
        for linear, layer in zip(fnn.linears, mlp.layers, strict=True):
            linear.weight.copy_(torch.as_tensor(np.array(layer.weight)))
            linear.bias.copy_(torch.as_tensor(np.array(layer.bias)))


def peer_net(dde, torch, cfg: dict, model, data: dict):
    """The DeepXDE network of the same sizes, with our initial weights."""
    m, d = SENSORS, cfg["coords"]
    hidden = [WIDTH] * DEPTH
    if cfg["kind"] == "deeponet":
        net = dde.nn.DeepONetCartesianProd(
            [m, *hidden, LATENT], [d, *hidden, LATENT], "tanh", "Glorot normal"
        )
        _copy_mlp(torch, net.branch, model.branch)
        _copy_mlp(torch, net.trunk, model.trunk)
        with torch.no_grad():
            net.b[0].copy_(torch.as_tensor(float(model.bias[0])))
    elif cfg["kind"] == "pod":
        basis = np.asarray(model.basis.value)[:, 0, :]
        net = dde.nn.PODDeepONet(
            basis, [m, *hidden, cfg["modes"]], "tanh", "Glorot normal"
        )
        _copy_mlp(torch, net.branch, model.branch)
        mean = torch.as_tensor(np.asarray(model.mean.value)[:, 0])
        net.apply_output_transform(lambda inputs, out: out + mean)  # ours adds phi_0
    else:
        net = dde.nn.MIONetCartesianProd(
            [m, *hidden, LATENT], [m, *hidden, LATENT], [d, *hidden, LATENT],
            "tanh", "Glorot normal", trunk_last_activation=True,
            merge_operation="mul",
        )  # fmt: skip
        _copy_mlp(torch, net.branch1, model.branches[0])
        _copy_mlp(torch, net.branch2, model.branches[1])
        _copy_mlp(torch, net.trunk, model.trunk)
        with torch.no_grad():
            net.b.copy_(torch.as_tensor(float(model.bias[0])))
    return net


class Peer:
    """DeepXDE's network with a hand-written torch Adam loop, and a `dde.Model` on a
    second copy of it for the Model.train step."""

    def __init__(self, cfg: dict, model, data: dict):
        import deepxde as dde
        import torch

        self.dde, self.torch = dde, torch
        self.inputs = tuple(torch.as_tensor(v) for v in (*data["u"], data["y"]))
        self.target = torch.as_tensor(data["g"])
        self.net = peer_net(dde, torch, cfg, model, data)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        x = (*data["u"], data["y"])
        triple = dde.data.TripleCartesianProd
        if cfg["kind"] == "mionet":
            triple = dde.data.QuadrupleCartesianProd
        self.data = triple(x, data["g"], x, data["g"])
        self.model = dde.Model(self.data, peer_net(dde, torch, cfg, model, data))
        self.model.compile("adam", lr=LR)
        self.model.batch_size = None
        self.model.callbacks = dde.callbacks.CallbackList(callbacks=None)
        self.model.callbacks.set_model(self.model)
        self.model.train_state.set_data_train(*self.data.train_next_batch(None))

    def init_losses(self) -> dict[str, float]:
        torch = self.torch
        with torch.no_grad():
            net = float(torch.mean((self.net(self.inputs) - self.target) ** 2))
        s = self.model.train_state
        _, losses = self.model.outputs_losses_train(s.X_train, s.y_train, None)
        return {"network": net, "Model": float(losses.detach().sum())}

    def step(self, n: int) -> None:
        net, opt, torch = self.net, self.opt, self.torch
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            loss = torch.mean((net(self.inputs) - self.target) ** 2)
            loss.backward()
            opt.step()

    def model_train(self, n: int) -> None:
        """`n` iterations of `Model._train_sgd`'s loop body (see the docstring)."""
        m = self.model
        for _ in range(n):
            m.callbacks.on_epoch_begin()
            m.callbacks.on_batch_begin()
            m.train_state.set_data_train(*m.data.train_next_batch(m.batch_size))
            m._train_step(
                m.train_state.X_train, m.train_state.y_train,
                m.train_state.train_aux_vars,
            )  # fmt: skip
            m.train_state.iteration += 1
            m.train_state.step += 1
            m.callbacks.on_batch_end()
            m.callbacks.on_epoch_end()

    def inference(self, n: int) -> None:
        with self.torch.no_grad():
            for _ in range(n):
                self.net(self.inputs)

    # the profile's counterparts
    def forward(self, n: int) -> None:
        for _ in range(n):
            loss = self.torch.mean((self.net(self.inputs) - self.target) ** 2)
        loss.item()

    def forward_backward(self, n: int) -> None:
        for _ in range(n):
            self.opt.zero_grad(set_to_none=True)
            loss = self.torch.mean((self.net(self.inputs) - self.target) ** 2)
            loss.backward()

    def adam(self, n: int) -> None:
        if any(p.grad is None for p in self.net.parameters()):
            self.forward_backward(1)
        for _ in range(n):
            self.opt.step()

    def contraction(self, b, t):
        def run(n: int) -> None:
            for _ in range(n):
                self.torch.einsum("bi,ni->bn", b, t)

        return run


def with_threads(torch, threads: int, fn):
    def run(n: int) -> None:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            fn(n)
        finally:
            torch.set_num_threads(before)

    return run


def probe_threads(torch, peer: Peer, steps: int) -> dict:
    """The faster of 1 and all cores for torch, on the network step (warm)."""
    seen = {}
    for n in sorted({1, cores()}):
        torch.set_num_threads(n)
        peer.step(2)
        t0 = time.perf_counter()
        peer.step(steps)
        seen[n] = (time.perf_counter() - t0) / steps
    best = min(seen, key=seen.get)
    torch.set_num_threads(best)
    return {"chosen": best, "probe_s_per_step": seen}


# -- the measurement ----------------------------------------------------------------


def time_rounds(
    items: dict, rounds: int, steps: int, item_steps: dict | None = None
) -> dict[str, list[float]]:
    """Seconds per iteration of each item in each round (`steps` iterations, or
    `item_steps[name]`); the order rotates from round to round."""
    names, item_steps = list(items), item_steps or {}
    for item in items.values():  # warm up on the exact shapes (compiles)
        item(2)
    out = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            todo = item_steps.get(n, steps)
            t0 = time.perf_counter()
            items[n](todo)
            out[n].append((time.perf_counter() - t0) / todo)
    return out


PROFILE = [
    # (what, our item, the peer's item or None)
    ("forward (loss)", "ours forward", "peer forward"),
    ("forward + backward (value_and_grad)", "ours forward+backward",
     "peer forward+backward"),
    ("inference variant: model.cartesian under jax.jit (the model's arrays as "
     "arguments) instead of eqx.filter_jit", "ours inference jax.jit",
     "peer inference"),
    ("Adam update alone", "ours adam", "peer adam"),
    ("Adam update alone, optax.flatten(adam) (one flat vector)", "ours adam flat",
     "peer adam"),
    ("cartesian contraction B T^T (contract under vmap, as model.cartesian)",
     "ours contraction vmap", "peer contraction"),
    ("cartesian contraction B T^T (one dot_general)", "ours contraction dot",
     "peer contraction"),
    ("dispatch: no-op on the TrainState, eqx.filter_jit donated (make_step before "
     "1db66f4)",
     "ours dispatch filter_jit", None),
    ("dispatch: no-op on the TrainState, jax.jit donated", "ours dispatch jax.jit",
     None),
    ("step variant: make_step, each step waited for (as eqx.filter_jit, which "
     "make_step used before 1db66f4, waits)", "ours step waited", "peer step"),
    ("step variant: NaN guard as a jnp.where select, jax.jit, donated",
     "ours step where guard", "peer step"),
    ("step variant: NaN guard as a jnp.where select, cartesian as one batched "
     "B T^T, jax.jit, donated", "ours step where guard batched", "peer step"),
    ("step variant: NaN guard on one scalar (loss + the sum of all gradient "
     "entries), jnp.where select, jax.jit, donated", "ours step scalar guard",
     "peer step"),
    ("step variant: no NaN guard, jax.jit, donated", "ours step no guard",
     "peer step"),
    ("step variant: no NaN guard, cartesian as one batched B T^T, jax.jit, donated",
     "ours step no guard batched", "peer step"),
    ("step variant: no NaN guard, jax.jit, matmul precision 'highest'",
     "ours step no guard highest", "peer step"),
]  # fmt: skip


def _entry(what, cfg_name, measure, ours, peer, peer_label, **extra) -> dict:
    ours_s = statistics.median(ours)
    peer_s = None if peer is None else statistics.median(peer)
    return dict(
        what=f"{LABELS[cfg_name]}: {what}",
        ours_s=ours_s,
        peer=None if peer is None else peer_label,
        peer_s=peer_s,
        ratio=None if peer is None else peer_s / ours_s,
        ours_min_s=min(ours),
        peer_min_s=None if peer is None else min(peer),
        ratio_of_minimums=None if peer is None else min(peer) / min(ours),
        ours_rounds_s=ours,
        peer_rounds_s=peer,
        config=cfg_name,
        measure=measure,
        **extra,
    )


def bench_config(name: str, cfg: dict, rounds: int, thread_mode: str) -> dict:
    import torch

    data = make_data(cfg, np.random.default_rng(SEED))
    model = our_model(cfg, data)
    batch = our_batch(cfg, data)
    peer = Peer(cfg, model, data)
    ours_loss = float(eqx.filter_jit(mse_loss)(model, batch, None)[0])
    peer_losses = peer.init_losses()
    checks = {
        "ours_loss_at_init": ours_loss,
        **{f"deepxde_{k}_loss_at_init": v for k, v in peer_losses.items()},
        "max_relative_difference": max(
            abs(v - ours_loss) / abs(ours_loss) for v in peer_losses.values()
        ),
    }
    if checks["max_relative_difference"] > 1e-4:
        raise RuntimeError(
            f"{name}: DeepXDE's loss at our initial weights differs from ours "
            f"({checks}): the two networks are not the same function, so their "
            f"times would not compare like for like."
        )
    if cfg["kind"] == "deeponet":
        checks["trunk_evaluated_once"] = trunk_once(model, batch)
    steps = cfg["steps"]
    all_cores = cores()
    if thread_mode == "best":
        threads = probe_threads(torch, peer, max(2, steps // 3))
    else:
        threads = {"chosen": int(thread_mode), "probe_s_per_step": None}
    chosen = threads["chosen"]
    torch.set_num_threads(chosen)
    items = our_items(cfg, model, batch)
    items.update(
        {
            "peer step": peer.step,
            "peer Model.train": peer.model_train,
            "peer inference": peer.inference,
        }
    )
    item_steps = {}
    if chosen != all_cores and cfg["profile"]:
        # on a loaded machine this can be 10-100x slower: fewer iterations a round
        items["peer step all cores"] = with_threads(torch, all_cores, peer.step)
        item_steps["peer step all cores"] = max(2, steps // 5)
    if cfg["profile"]:
        b = peer.net.branch(peer.inputs[0]).detach()
        t = peer.net.activation_trunk(peer.net.trunk(peer.inputs[-1])).detach()
        items.update(
            {
                "peer forward": peer.forward,
                "peer forward+backward": peer.forward_backward,
                "peer adam": peer.adam,
                "peer contraction": peer.contraction(b, t),
            }
        )
    print(
        f"\n== {LABELS[name]}: torch threads {chosen} (probe "
        f"{threads['probe_s_per_step']}), interop {torch.get_num_interop_threads()}; "
        f"JAX {jax.devices()} on {all_cores} cores (affinity "
        f"{sorted(os.sched_getaffinity(0))}), XLA_FLAGS={XLA_FLAGS!r}; "
        f"{rounds} rounds x {steps} iterations; loss at init ours {ours_loss:.7g}, "
        f"DeepXDE {peer_losses}",
        flush=True,
    )
    load_before = load()
    per = time_rounds(items, rounds, steps, item_steps)
    load_after = load()
    label = f"{PEER}, torch {chosen} thread{'s' * (chosen > 1)}"
    shape = dict(functions=cfg["functions"], points=cfg["points"])
    timings = [
        _entry("network step", name, "network_step", per["ours step"],
               per["peer step"], f"{label}: DeepONet network + torch Adam loop",
               torch_threads=chosen, **shape),
        _entry("Model.train step", name, "model_train_step", per["ours step"],
               per["peer Model.train"], f"{label}: one dde.Model.train iteration",
               torch_threads=chosen, **shape),
        _entry("inference (cartesian forward)", name, "inference",
               per["ours inference"], per["peer inference"],
               f"{label}: forward under torch.no_grad()", torch_threads=chosen,
               ours_functions_per_s=cfg["functions"]
               / statistics.median(per["ours inference"]),
               peer_functions_per_s=cfg["functions"]
               / statistics.median(per["peer inference"]), **shape),
    ]  # fmt: skip
    if "peer step all cores" in per:
        timings.append(
            _entry(
                f"network step, torch at all {all_cores} cores",
                name,
                "network_step_all_cores",
                per["ours step"],
                per["peer step all cores"],
                f"{PEER}, torch {all_cores} threads: DeepONet network + torch Adam",
                torch_threads=all_cores,
                **shape,
            )  # fmt: skip
        )
    if cfg["profile"]:
        for what, mine, theirs in PROFILE:
            timings.append(
                _entry(f"profile: {what}", name, "profile", per[mine],
                       per[theirs] if theirs else None, label, item=mine, **shape)
            )  # fmt: skip
    for t in timings:
        t["load_average"] = {"before": load_before, "after": load_after}
    print_table(timings, load_before, load_after)
    return {
        "timings": timings,
        "checks": checks,
        "torch_threads": threads,
        "per_iteration_s": per,
        "load_average": {"before": load_before, "after": load_after},
    }


def _ms(v) -> str:
    return "–" if v is None else f"{v * 1e3:9.3f}"


def print_table(timings, before, after) -> None:
    print(
        f"{'what':96s} {'ours ms':>9s} {'peer ms':>9s} {'ratio':>6s} "
        f"{'min ours':>9s} {'min peer':>9s} {'ratio':>6s}"
    )
    for t in timings:
        r = "–" if t["ratio"] is None else f"{t['ratio']:.2f}"
        rm = "–" if t["ratio_of_minimums"] is None else f"{t['ratio_of_minimums']:.2f}"
        print(
            f"{t['what'][:96]:96s} {_ms(t['ours_s'])} {_ms(t['peer_s'])} {r:>6s} "
            f"{_ms(t['ours_min_s'])} {_ms(t['peer_min_s'])} {rm:>6s}"
        )
    print(f"load average before {before}, after {after}", flush=True)


# -- XLA flags: one setting per process, so child processes ----------------------------


def child(rounds: int) -> None:
    """Time our step (make_step) and the guardless jax.jit step on the issue's
    configuration under the XLA_FLAGS this process was started with; print JSON."""
    cfg = CONFIGS["deeponet-128x100"]
    data = make_data(cfg, np.random.default_rng(SEED))
    model, batch = our_model(cfg, data), our_batch(cfg, data)
    opt = optax.adam(LR)
    items = {
        "make_step": StepItem(training.make_step(mse_loss, opt), model, opt, batch),
        "no guard, jax.jit": StepItem(
            jax.jit(_guardless_step(mse_loss, opt), donate_argnums=1),
            model,
            opt,
            batch,
        ),  # fmt: skip
    }
    print(json.dumps(time_rounds(items, rounds, cfg["steps"])))


def flag_probe(rounds: int) -> dict:
    """Our step under each of `FLAG_SETS`, in child processes taking turns."""
    out = {name: {"make_step": [], "no guard, jax.jit": []} for name in FLAG_SETS}
    env0 = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    for r in range(rounds):
        names = list(FLAG_SETS)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            env = {**env0, "XLA_FLAGS": FLAG_SETS[name]}
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.deeponet-peers.run",
                 "--child-flags", "--rounds", "2"],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            for k, v in got.items():
                out[name][k] += v
    print("\n== our step under XLA flags (child processes, alternating)")
    for name, v in out.items():
        print(
            f"{name:24s} make_step {statistics.median(v['make_step']) * 1e3:7.3f} ms"
            f"  no guard, jax.jit "
            f"{statistics.median(v['no guard, jax.jit']) * 1e3:7.3f} ms"
            f"  (min {min(v['make_step']) * 1e3:.3f} / "
            f"{min(v['no guard, jax.jit']) * 1e3:.3f})"
        )
    print(f"load average {load()}", flush=True)
    return {"flags": FLAG_SETS, "per_iteration_s": out, "load_average": load()}


def flag_timings(probe: dict) -> list[dict]:
    base = probe["per_iteration_s"]["tune_cpu (this run)"]
    rows = []
    for name, v in probe["per_iteration_s"].items():
        for item in ("make_step", "no guard, jax.jit"):
            ours = v[item]
            rows.append(
                dict(
                    what=f"{LABELS['deeponet-128x100']}: XLA flags '{name}': our "
                    f"step ({item})",
                    ours_s=statistics.median(ours),
                    peer=None,
                    peer_s=None,
                    ratio=None,
                    ours_min_s=min(ours),
                    relative_to_this_run=statistics.median(ours)
                    / statistics.median(base[item]),
                    ours_rounds_s=ours,
                    xla_flags=FLAG_SETS[name],
                    config="deeponet-128x100",
                    measure="xla_flags",
                    item=item,
                )
            )
    return rows


NOTES = [
    "Same data (synthetic: random sine series at 100 sensors, their exact "
    "antiderivatives on the points), same layer sizes, the same initial weights "
    "(ours copied into DeepXDE's network; the loss at those weights agrees, "
    "checks), float32, Adam lr 1e-3, MSE; one fixed batch, no resampling.",
    "Ours: sciml.training.make_step (eqx.filter_jit, donated state, NaN guard) on "
    "model.cartesian; inference: model.cartesian under eqx.filter_jit. Profile "
    "pieces: jax.jit, asynchronous dispatch, waited for once per round.",
    "DeepXDE network step: forward, MSE, backward, torch.optim.Adam.step on "
    "DeepONetCartesianProd (PODDeepONet, MIONetCartesianProd). Model.train step: "
    "the loop body of Model._train_sgd (what Model.train runs per iteration), "
    "without its loss evaluations at the start, the end and every display_every "
    "iterations; DeepXDE also marks the inputs requires_grad, so its backward "
    "computes input gradients too.",
    "torch threads: the faster of 1 and all cores, probed at warm-up on the "
    "network step (checks.torch_threads); where that is 1, the network step at all "
    "cores is timed in the same rounds (DeepONet configurations, a fifth of the "
    "iterations) and reported as its own row.",
    "equinox 0.13's filter_jit waits for every call's result (block_until_ready "
    "after each call, to surface eqx.error_if messages), so make_step's steps do "
    "not overlap Python dispatch with computation; the profile's 'step variant' "
    "rows run the same step function through jax.jit.",
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--configs", nargs="+", default=None, choices=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=None, help="override (smoke)")
    parser.add_argument(
        "--torch-threads", default="best",
        help="'best' (the faster of 1 and all cores) or a number",
    )  # fmt: skip
    parser.add_argument("--no-flag-probe", action="store_true")
    parser.add_argument("--child-flags", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    global XLA_FLAGS
    # before the first computation; the same for every JAX item of this process (a
    # child of the flag probe gets its XLA_FLAGS set, which tune_cpu keeps)
    XLA_FLAGS = tune_cpu()
    cfg = dict(SCALES[args.scale])
    rounds = args.rounds or cfg["rounds"]
    if args.child_flags:
        child(rounds)
        return
    start = time.perf_counter()
    import torch

    print(
        f"load average {load()}; {cores()} cores; torch {torch.__version__} "
        f"(default threads {torch.get_num_threads()}); jax {jax.__version__} "
        f"{jax.devices()}; XLA_FLAGS={XLA_FLAGS!r}",
        flush=True,
    )
    timings, configs = [], {}
    for name in args.configs or cfg["configs"]:
        got = bench_config(name, CONFIGS[name], rounds, args.torch_threads)
        timings += got.pop("timings")
        configs[name] = {**CONFIGS[name], **got}
    probe = None
    if not args.no_flag_probe:
        probe = flag_probe(cfg["flag_rounds"])
        timings += flag_timings(probe)
    path = write_results(
        "deeponet-peers",
        args.scale,
        [],
        timings,
        extra={
            "settings": {
                "rounds": rounds, "lr": LR, "width": WIDTH, "depth": DEPTH,
                "latent": LATENT, "sensors": SENSORS, "seed": SEED,
                "dtype": "float32", "cores": cores(),
                "torch_threads_mode": args.torch_threads,
            },
            "configs": configs,
            "xla_flags": XLA_FLAGS,
            "flag_probe": probe,
            "wall_s": time.perf_counter() - start,
            "notes": NOTES,
        },
        packages=("deepxde", "torch", "optax", "numpy"),
        out_dir=args.out_dir,
    )  # fmt: skip
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
