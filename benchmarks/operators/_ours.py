"""Our side: `sciml.operators.FNO` trained with `sciml.training.make_step` (Adam),
the one-step and the autoregressive (PDEBench's sliding window of input frames)
configurations; and `sciml.operators.UNet` (`norm="group"`, so that its blocks
normalise as PDEBench's BatchNorm ones do: the same work per block, to within the
statistics' axes) on one-frame-to-one-frame steps."""

import jax
import jax.numpy as jnp
import optax

from sciml.operators import FNO, Conditioned, UNet, rollout
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


def build(
    cfg: dict, *, transform: str = "auto", conv: str = "auto", bare: bool = False,
    key=None,
):  # fmt: skip
    """(model, step, state, batch) for `cfg`; `step(batch, state)` is one Adam
    step on the MSE over every predicted frame. `transform` is the FNO's, `conv`
    the U-Net's."""
    key = jax.random.key(0) if key is None else key
    if cfg.get("model") == "unet":
        return build_unet(cfg, conv=conv, key=key)
    if cfg.get("model") == "cape":
        return build_cape(cfg, bare=bare, key=key)
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


def build_unet(cfg: dict, *, conv: str = "auto", key):
    """(model, step, state, batch) for a U-Net configuration: one frame
    `(B, in_channels, *grid)` to the next `(B, out_channels, *grid)`, MSE, Adam."""
    model = UNet(
        cfg["in_channels"],
        cfg["out_channels"],
        dims=len(cfg["grid"]),
        features=cfg["features"],
        norm="group",
        conv=conv,
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


def build_cape(cfg: dict, *, bare: bool, key):
    """(model, step, state, batch) for CAPE's settings (sheet §3): a
    `Conditioned` FNO (width 20 with CAPE, 36 bare) or U-Net, one frame and the
    parameter to the next frame, MSE, Adam."""
    mode = "none" if bare else "cape"
    cin, cout = Conditioned.base_channels(mode, 1, 1)
    k_base, k_wrap = jax.random.split(key)
    if cfg["base"] == "fno":
        width = cfg["width"] if bare else cfg["cape_width"]
        base = FNO(
            cin, cout, cfg["modes"], width=width, padding=cfg["padding"], key=k_base
        )
    else:
        base = UNet(cin, cout, features=cfg["features"], key=k_base)
    model = Conditioned(base, mode, 1, 1, cfg["grid"], key=k_wrap)

    def loss(model, batch, key):
        x, lam, y = batch
        return jnp.mean((jax.vmap(model)(x, lam).next - y) ** 2), {}

    opt = optax.adam(1e-3)
    state = init_train_state(model, opt, key=key)
    step = make_step(loss, opt)
    kx, ky, kl = jax.random.split(jax.random.fold_in(key, 1), 3)
    x = jax.random.normal(kx, (cfg["batch"], 1, *cfg["grid"]))
    y = jax.random.normal(ky, (cfg["batch"], 1, *cfg["grid"]))
    lam = jax.random.uniform(kl, (cfg["batch"], 1), minval=0.2, maxval=4.0)
    return model, step, state, (x, lam, y)


def rollout_fn(cfg: dict):
    """A jitted full rollout of a batch: `(model, x) -> (B, steps, 1, *grid)`
    (the FNO's sliding window), or `(B, steps, C, *grid)` (the U-Net's
    `sciml.operators.rollout` of one frame)."""
    n = cfg["rollout_steps"]
    if cfg.get("model") == "cape":  # x: (frames, parameters)

        def one(model, u, lam):
            return model.rollout(u, lam, n)[0]

        return jax.jit(lambda model, x: jax.vmap(lambda u, p: one(model, u, p))(*x))
    if cfg.get("model") == "unet":
        return jax.jit(lambda model, x: jax.vmap(lambda u: rollout(model, u, n))(x))
    return jax.jit(lambda model, x: jax.vmap(lambda u: window_rollout(model, u, n))(x))
