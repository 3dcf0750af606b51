"""Our side: `sciml.operators.FNO` trained with `sciml.training.make_step` (Adam),
the one-step and the autoregressive (PDEBench's sliding window of input frames)
configurations; and `sciml.operators.UNet` (`norm="group"`, so that its blocks
normalise as PDEBench's BatchNorm ones do: the same work per block, to within the
statistics' axes) on one-frame-to-one-frame steps."""

import jax
import jax.numpy as jnp
import optax

from sciml.operators import FNO, UNet, rollout
from sciml.training import init_train_state, make_step

UNROLL = 20


def window_rollout(model, frames, n_steps: int):
    """PDEBench's autoregressive loop for one sample: the last `frames.shape[0]`
    frames in, one frame out, the window slides; returns the `n_steps` predictions
    `(n_steps, 1, *grid)` (`lax.scan`)."""

    def body(window, _):
        nxt = model(window)
        return jnp.concatenate([window[1:], nxt]), nxt

    return jax.lax.scan(body, frames, None, length=n_steps, unroll=UNROLL)[1]


def build(cfg: dict, *, transform: str = "auto", key=None):
    """(model, step, state, batch) for `cfg`; `step(batch, state)` is one Adam
    step on the MSE over every predicted frame."""
    key = jax.random.key(0) if key is None else key
    if cfg.get("model") == "unet":
        return build_unet(cfg, key=key)
    model = FNO(
        cfg["frames"],
        1,
        cfg["modes"],
        width=cfg["width"],
        padding=cfg["padding"],
        transform=transform,
        key=key,
    )
    unroll = cfg["unroll"]

    def loss(model, batch, key):
        x, y = batch
        if unroll == 1:
            pred = jax.vmap(model)(x)[:, None]
        else:
            pred = jax.vmap(lambda u: window_rollout(model, u, unroll))(x)
        return jnp.mean((pred - y) ** 2), {}

    opt = optax.adam(1e-3)
    state = init_train_state(model, opt, key=key)
    step = make_step(loss, opt)
    kx, ky = jax.random.split(jax.random.fold_in(key, 1))
    x = jax.random.normal(kx, (cfg["batch"], cfg["frames"], *cfg["grid"]))
    y = jax.random.normal(ky, (cfg["batch"], unroll, 1, *cfg["grid"]))
    return model, step, state, (x, y)


def build_unet(cfg: dict, *, key):
    """(model, step, state, batch) for a U-Net configuration: one frame
    `(B, in_channels, *grid)` to the next `(B, out_channels, *grid)`, MSE, Adam."""
    model = UNet(
        cfg["in_channels"],
        cfg["out_channels"],
        dims=len(cfg["grid"]),
        features=cfg["features"],
        norm="group",
        key=key,
    )

    def loss(model, batch, key):
        x, y = batch
        return jnp.mean((jax.vmap(model)(x) - y) ** 2), {}

    opt = optax.adam(1e-3)
    state = init_train_state(model, opt, key=key)
    step = make_step(loss, opt)
    kx, ky = jax.random.split(jax.random.fold_in(key, 1))
    x = jax.random.normal(kx, (cfg["batch"], cfg["in_channels"], *cfg["grid"]))
    y = jax.random.normal(ky, (cfg["batch"], cfg["out_channels"], *cfg["grid"]))
    return model, step, state, (x, y)


def rollout_fn(cfg: dict):
    """A jitted full rollout of a batch: `(model, x) -> (B, steps, 1, *grid)`
    (the FNO's sliding window), or `(B, steps, C, *grid)` (the U-Net's
    `sciml.operators.rollout` of one frame)."""
    n = cfg["rollout_steps"]
    if cfg.get("model") == "unet":
        return jax.jit(lambda model, x: jax.vmap(lambda u: rollout(model, u, n))(x))
    return jax.jit(lambda model, x: jax.vmap(lambda u: window_rollout(model, u, n))(x))


def n_params(model) -> int:
    import equinox as eqx

    leaves = jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
    return int(sum(a.size for a in leaves))
