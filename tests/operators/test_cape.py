"""CAPE, the `Conditioned` wrapper, and the curriculum rollout loss."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import references

from sciml.operators import (
    CAPE,
    FNO,
    Conditioned,
    RolloutLoss,
    WarmupLoss,
    curriculum_steps,
)
from sciml.training import init_train_state, make_step


def _reference_cape(cape, u, lam):
    """CAPE's block written with the channel-first equinox layers themselves (the
    module computes channels-last with its own matrix products)."""
    gelu = lambda x: jax.nn.gelu(x, approximate=False)  # noqa: E731
    d = u.ndim - 1
    p = cape.pool
    a = [
        e.out(gelu(e.hidden(transform(lam, cape.param_transform))))
        for e in cape.embeddings[0]
    ]
    gain = (slice(None),) + (None,) * d
    h = gelu(cape.lifts[0](u))
    pooled = h.reshape(h.shape[0], *[s for n in h.shape[1:] for s in (n // p, p)])
    pooled = pooled.mean(axis=tuple(range(2, 2 * d + 1, 2)))
    s = cape.spectral[0](pooled)
    for axis in range(1, d + 1):
        s = jnp.repeat(s, p, axis=axis)
    z = s * a[0][gain] + cape.pointwise[0](h) * a[1][gain]
    z = z + cape.depthwise[0](h) * a[2][gain] + cape.skip[0](h)
    z = jax.vmap(cape.norms[0])(cape.outs[0](gelu(z)))
    return u + z if d == 1 else u * (1 + z)


def transform(lam, name):
    return {"identity": lam, "sigmoid_log": lam / (1 + lam), "log": jnp.log(lam)}[name]


@pytest.mark.parametrize(
    "channels, n_params, grid", [(1, 1, (128,)), (2, 1, (64,)), (4, 3, (32, 32))]
)
def test_cape_matches_channel_first_reference(getkey, channels, n_params, grid):
    cape = CAPE(channels, n_params, grid, width=16, key=getkey())
    u = references.normal(getkey(), (channels, *grid))
    lam = jax.random.uniform(getkey(), (n_params,), minval=0.1, maxval=2.0)
    out = eqx.filter_jit(cape)(u, lam)
    assert out.shape == (channels, *grid)
    reference = eqx.filter_jit(_reference_cape)(cape, u, lam)
    np.testing.assert_allclose(out, reference, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("grid", [(128,), (64, 64)])
def test_zero_gains_give_the_tiled_input(getkey, grid):
    """a0 = a1 = a2 = 0, the skip conv and the layer norm's bias zero: z is constant
    over space, its layer norm zero, and u_CAPE the (tiled) input, additive (1-D)
    and multiplicative (2-D) alike."""
    cape = CAPE(2, 2, grid, width=8, frames_out=2, key=getkey())
    zero = lambda x: jnp.zeros_like(x)  # noqa: E731
    for i in range(3):
        cape = eqx.tree_at(
            lambda c, i=i: c.embeddings[0][i].out.weight, cape, replace_fn=zero
        )
        cape = eqx.tree_at(
            lambda c, i=i: c.embeddings[0][i].out.bias, cape, replace_fn=zero
        )
    cape = eqx.tree_at(
        lambda c: (c.skip[0].weight, c.skip[0].bias), cape, replace_fn=zero
    )
    cape = eqx.tree_at(lambda c: c.norms[0].bias, cape, replace_fn=zero)
    u = references.normal(getkey(), (2, *grid))
    out = eqx.filter_jit(cape)(u, jnp.array([0.3, 0.7]))
    assert out.shape == (4, *grid)
    # z is the output conv's bias, constant over space; the layer norm subtracts
    # its mean, exact up to the rounding of the mean (an ulp of the bias) times
    # 1/sqrt(eps) ~ 316 (the variance is 0)
    ulp = float(jnp.max(jnp.spacing(jnp.abs(cape.outs[0].bias))))
    # (in 2-D the correction multiplies u: the bound scales with max |u|)
    bound = 700 * ulp * max(1.0, float(jnp.max(jnp.abs(u))))
    np.testing.assert_allclose(out, jnp.concatenate([u, u]), rtol=0, atol=bound)
    # with that bias zero as well, z = 0 and the identity is exact
    cape = eqx.tree_at(lambda c: c.outs[0].bias, cape, replace_fn=zero)
    np.testing.assert_array_equal(
        eqx.filter_jit(cape)(u, jnp.array([0.3, 0.7])), jnp.concatenate([u, u])
    )


def test_cape_is_tied_to_its_grid_and_parameter_count(getkey):
    cape = CAPE(1, 1, 128, key=getkey())
    with pytest.raises(ValueError, match="tied to the grid"):
        cape(jnp.ones((1, 64)), jnp.ones(1))
    with pytest.raises(ValueError, match=r"parameter vector of shape \(1,\)"):
        cape(jnp.ones((1, 128)), jnp.ones(2))
    with pytest.raises(ValueError, match="pool=4 must divide"):
        CAPE(1, 1, 130, key=getkey())
    with pytest.raises(ValueError, match="do not fit the pooled grid"):
        CAPE(1, 1, 64, modes=16, key=getkey())
    assert CAPE(1, 1, (64, 64), key=getkey()).modes == (8, 9)


def _model(key, mode, grid=(64,), channels=1, n_params=1, **kw):
    """A small model: compile time dominates these tests."""
    cin, cout = Conditioned.base_channels(mode, channels, n_params)
    base = FNO(cin, cout, (4,) * len(grid), width=8, n_layers=1, key=key)
    options = {"width": 8, **kw} if mode == "cape" else None
    return Conditioned(
        base,
        mode,
        channels,
        n_params,
        grid,
        cape_options=options,
        key=jax.random.fold_in(key, 1),
    )


@pytest.mark.parametrize("mode", ["none", "channels", "cape"])
def test_conditioned_modes_jit_vmap_grad(getkey, mode):
    model = _model(getkey(), mode)
    u = references.normal(getkey(), (3, 1, 64))
    lam = jnp.array([[0.2], [1.0], [4.0]])
    out = eqx.filter_jit(jax.vmap(model))(u, lam)
    assert out.next.shape == (3, 1, 64)
    assert (out.cape is None) == (mode != "cape")
    if mode == "cape":
        assert out.cape.shape == (3, 1, 64)
    if mode != "none":  # the parameters reach the prediction
        other = eqx.filter_jit(jax.vmap(model))(u, 2 * lam).next
        assert float(jnp.max(jnp.abs(other - out.next))) > 0
    grads = eqx.filter_jit(
        eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(u, lam).next ** 2))
    )(model)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))


def test_conditioned_2d_and_its_parameter_transform(getkey):
    model = _model(getkey(), "channels", grid=(16, 16), channels=2, n_params=3)
    assert model.param_transform == "sigmoid_log"
    out = eqx.filter_jit(model)(jnp.ones((2, 16, 16)), jnp.array([0.1, 1e-3, 1e-3]))
    assert out.next.shape == (2, 16, 16)
    cape = _model(getkey(), "cape", grid=(16, 16), channels=2, n_params=3, pool=2)
    assert eqx.filter_eval_shape(
        cape, jnp.ones((2, 16, 16)), jnp.ones(3)
    ).cape.shape == (
        2,
        16,
        16,
    )


def test_conditioned_flags_parameters_outside_training_range(getkey):
    base = FNO(2, 2, 4, width=8, n_layers=1, key=getkey())
    model = Conditioned(
        base,
        "cape",
        1,
        1,
        64,
        train_range=(0.2, 4.0),
        cape_options={"width": 8},
        key=getkey(),
    )
    u = jnp.ones((1, 64))
    call = eqx.filter_jit(model)
    assert not bool(call(u, jnp.array([0.2])).out_of_range)
    assert not bool(call(u, jnp.array([4.0])).out_of_range)
    step = call(u, jnp.array([7.0]))
    assert bool(step.out_of_range)
    assert bool(jnp.all(jnp.isfinite(step.next)))  # allowed, only flagged
    states, flag = eqx.filter_jit(model.rollout)(u, jnp.array([0.1]), 3)
    assert states.shape == (3, 1, 64) and bool(flag)
    # the range is no trainable parameter
    params = eqx.filter(model, eqx.is_inexact_array)
    assert params.low is None or not jax.tree.leaves(params.low)


def test_conditioned_bad_inputs(getkey):
    model = _model(getkey(), "cape")
    # traced, not run: the errors come at trace time, without ~140 eager ops
    call = eqx.filter_jit(lambda m, u, p: m(u, p))
    with pytest.raises(ValueError, match=r"parameter vector of shape \(1,\)"):
        call(model, jnp.ones((1, 64)), jnp.ones(2))
    with pytest.raises(ValueError, match="one state of shape"):
        call(model, jnp.ones((3, 1, 64)), jnp.ones(1))
    with pytest.raises(ValueError, match="tied to the grid"):
        call(model, jnp.ones((1, 32)), jnp.ones(1))
    wrong = FNO(2, 1, 8, width=8, n_layers=1, key=getkey())
    bad = Conditioned(wrong, "cape", 1, 1, 64, key=getkey())
    with pytest.raises(ValueError, match=r"base_channels\(...\) = \(2, 2\)"):
        call(bad, jnp.ones((1, 64)), jnp.ones(1))
    with pytest.raises(ValueError, match="mode"):
        Conditioned(wrong, "film", 1, 1, 64, key=getkey())
    assert Conditioned.base_channels("none", 3, 2) == (3, 3)
    assert Conditioned.base_channels("channels", 3, 2) == (5, 3)
    assert Conditioned.base_channels("cape", 3, 2) == (6, 6)


def test_curriculum_schedule():
    epochs, warmup, t = 100, 3, 20
    steps = [curriculum_steps(e, epochs, t, warmup) for e in range(warmup, epochs)]
    assert steps[0] == 1
    assert steps[-1] >= t - 1
    assert all(a <= b for a, b in zip(steps[:-1], steps[1:], strict=True))
    e = 3 + 97 // 2
    tau = 0.5 * (1 + math.tanh(((e - 3) / 97 - 0.5) / 0.2))
    assert curriculum_steps(e, epochs, t, warmup) == max(1, math.floor(t * tau))
    with pytest.raises(ValueError, match="warmup"):
        curriculum_steps(0, 3, 20, warmup=3)


def _trajectories(key, b=4, t=5, n=64):
    x = (jnp.arange(n) + 0.5) / n
    phase = references.uniform(key, (b, 1, 1, 1)) * 2 * jnp.pi
    times = jnp.arange(t + 1)[None, :, None, None] * 0.1
    return jnp.sin(2 * jnp.pi * (x - times) + phase)  # (b, t + 1, 1, n)


def test_rollout_loss_teacher_forced_and_autoregressive(getkey):
    model = _model(getkey(), "channels")
    u = _trajectories(getkey())
    lam = jnp.full((4, 1), 0.5)
    loss = RolloutLoss(gradient_penalty=0.0, noise=0.0)
    step = eqx.filter_jit(jax.vmap(model))

    def rel(a, b):
        return jnp.mean(
            jnp.linalg.norm((a - b).reshape(4, -1), axis=1)
            / jnp.linalg.norm(b.reshape(4, -1), axis=1)
        )

    forced = sum(rel(step(u[:, k - 1], lam).next, u[:, k]) for k in range(1, 6))
    value, metrics = loss(
        model, {"u": u, "params": lam, "t_ar": jnp.asarray(1)}, getkey()
    )
    np.testing.assert_allclose(value, forced, rtol=1e-5)
    free = eqx.filter_jit(jax.vmap(lambda a, p: model.rollout(a, p, 5)[0]))(
        u[:, 0], lam
    )
    free_loss = sum(rel(free[:, k - 1], u[:, k]) for k in range(1, 6))
    value, _ = eqx.filter_jit(loss)(
        model, {"u": u, "params": lam, "t_ar": jnp.asarray(5)}, getkey()
    )
    np.testing.assert_allclose(value, free_loss, rtol=1e-5)
    assert float(metrics["cape"]) == 0.0


def test_rollout_loss_cape_terms(getkey):
    model = _model(getkey(), "cape")
    u = _trajectories(getkey())
    lam = jnp.full((4, 1), 0.5)
    batch = {"u": u, "params": lam, "t_ar": jnp.asarray(1)}
    guess = eqx.filter_jit(jax.vmap(model.cape))
    guesses = [guess(u[:, k - 1], lam) for k in range(1, 6)]
    aux = [
        float(
            jnp.mean(
                jnp.linalg.norm((g - u[:, k]).reshape(4, -1), axis=1)
                / jnp.linalg.norm(u[:, k].reshape(4, -1), axis=1)
            )
        )
        for k, g in zip(range(1, 6), guesses, strict=True)
    ]
    plain = RolloutLoss(gradient_penalty=0.0, noise=0.0)
    _, m = eqx.filter_jit(plain)(model, batch, getkey())
    np.testing.assert_allclose(m["cape"], sum(aux), rtol=1e-5)
    cumulative = RolloutLoss(
        gradient_penalty=0.0, noise=0.0, cape_accumulation="cumulative"
    )
    _, m = eqx.filter_jit(cumulative)(model, batch, getkey())
    weighted = sum((5 - j) * a for j, a in enumerate(aux))
    np.testing.assert_allclose(m["cape"], weighted, rtol=1e-5)
    w, wm = eqx.filter_jit(WarmupLoss())(model, batch, getkey())
    np.testing.assert_allclose(w, sum(aux), rtol=1e-5)
    penalised = RolloutLoss(param_low=0.2, param_high=4.0, noise=0.0)
    value, m = eqx.filter_jit(penalised)(model, batch, getkey())
    assert float(m["penalty"]) > 0
    np.testing.assert_allclose(
        value, m["main"] + 5.7e-5 * m["cape"] + 5.16e-4 * m["penalty"], rtol=1e-6
    )
    with pytest.raises(ValueError, match="param_low"):
        RolloutLoss()
    with pytest.raises(ValueError, match="Conditioned"):
        WarmupLoss()(_model(getkey(), "none"), batch, getkey())


def test_curriculum_never_recompiles(getkey):
    """The schedule moves through `batch["t_ar"]`; `make_step` raises on a second
    trace, so one compiled step serves every epoch. Without the gradient penalty
    (its shapes do not depend on the schedule; `test_rollout_loss_cape_terms`
    checks it): its second derivative adds 60 % to the step's compilation."""
    model = _model(getkey(), "cape")
    loss = RolloutLoss(gradient_penalty=0.0)
    opt = optax.adam(1e-3)
    step = make_step(loss, opt)
    state = init_train_state(model, opt, key=getkey())
    u = _trajectories(getkey())
    lam = jnp.full((4, 1), 0.5)
    for epoch in range(3, 10):
        t_ar = curriculum_steps(epoch, 10, 5)
        state, value, _ = step(
            {"u": u, "params": lam, "t_ar": jnp.asarray(t_ar)}, state
        )
        assert bool(jnp.isfinite(value))


def test_scale_normalisation_survives_decayed_fields(getkey):
    """Frames that underflow to zero make the per-step ratio infinite; relative to
    a norm per sample the batch gives the loss stays finite and equals its
    definition."""
    model = _model(getkey(), "cape")
    u = _trajectories(getkey())
    u = u.at[:, 3:].set(0.0)  # a field that has decayed away
    lam = jnp.full((4, 1), 0.5)
    scale = jnp.linalg.norm(u[:, 0].reshape(4, -1), axis=1)
    batch = {"u": u, "params": lam, "t_ar": jnp.asarray(1), "scale": scale}
    step = RolloutLoss(gradient_penalty=0.0, noise=0.0)
    scaled = RolloutLoss(gradient_penalty=0.0, noise=0.0, normalise="scale")
    assert not bool(jnp.isfinite(eqx.filter_jit(step)(model, batch, getkey())[0]))
    value, m = eqx.filter_jit(scaled)(model, batch, getkey())
    call = eqx.filter_jit(jax.vmap(model))
    main = sum(
        jnp.mean(
            jnp.linalg.norm(
                (call(u[:, k - 1], lam).next - u[:, k]).reshape(4, -1), axis=1
            )
            / scale
        )
        for k in range(1, 6)
    )
    np.testing.assert_allclose(m["main"], main, rtol=1e-5)
    w, _ = eqx.filter_jit(WarmupLoss(normalise="scale"))(model, batch, getkey())
    assert bool(jnp.isfinite(w))
    del batch["scale"]
    with pytest.raises(ValueError, match=r'batch\["scale"\]'):
        scaled(model, batch, getkey())


def test_cape_initialisation_is_equinox_default(getkey):
    """Every conv and linear layer uniform in +-1/sqrt(fan-in), drawn at once."""
    cape = CAPE(1, 2, 64, width=16, key=getkey())
    layers = [cape.lifts[0], cape.pointwise[0], cape.depthwise[0], cape.outs[0]]
    layers += [layer for e in cape.embeddings[0] for layer in (e.hidden, e.out)]
    for layer in layers:
        bound = 1 / np.sqrt(np.prod(layer.weight.shape[1:]))
        assert float(jnp.max(jnp.abs(layer.weight))) <= bound
        assert float(jnp.max(jnp.abs(layer.weight))) > 0.5 * bound
    other = CAPE(1, 2, 64, width=16, key=getkey())
    assert not np.allclose(cape.outs[0].weight, other.outs[0].weight)
