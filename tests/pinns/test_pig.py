"""PIG (physics-informed Gaussians) and the MLP PINN baseline: the mixture against a
numpy evaluation, its derivatives (JAX autodiff and the hand-written
`PIG.value_and_derivatives`) against the mixture's formulas in numpy, the sheet's
initialisation and sizes, the full-covariance and shared forms, the scale guard
through `fit`, and save/load."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.spatial.transform import Rotation

from sciml.pinns._mlp_pinn import MLPPINN
from sciml.pinns._pig import PIG, check_scales
from sciml.training import (
    NonFiniteLossError,
    count_parameters,
    fit,
    load_model,
    save_model,
)

# ---------------------------------------------------------------- references


def _perturbed(model, seed, sigma=(0.2, 0.6)):
    """The model (or a shape-only template of it) with random parameters: varied
    scales, means, O(1) weights, random head and rotations, so that no test passes by
    the symmetry of the initialisation. A template built by `eqx.filter_eval_shape`
    costs no compile, where a real build compiles its random draws."""
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(model.lower), np.asarray(model.upper)
    if model.scale_to is not None:
        a, b = (0.0, model.scale_to) if np.isscalar(model.scale_to) else model.scale_to
        lo, hi = np.full_like(lo, a), np.full_like(hi, b)

    def draw(leaf, sampler):
        return jnp.asarray(sampler(leaf.shape), leaf.dtype)

    new = {
        "mu": draw(model.mu, lambda s: rng.uniform(lo, hi, s)),
        "sigma": draw(model.sigma, lambda s: rng.uniform(*sigma, s)),
        "weights": draw(model.weights, lambda s: rng.normal(0.0, 1.0, s)),
    }
    if model.rotation is not None:
        new["rotation"] = draw(model.rotation, lambda s: rng.normal(0.0, 1.0, s))
    names = list(new)
    model = eqx.tree_at(
        lambda m: [getattr(m, n) for n in names], model, list(new.values())
    )
    if model.mlp is not None:
        mlp = jax.tree.map(
            lambda leaf: draw(leaf, lambda s: rng.normal(0.0, 0.7, s)), model.mlp
        )
        model = eqx.tree_at(lambda m: m.mlp, model, mlp)
    return model


def _random_pig(*args, seed=0, sigma=(0.2, 0.6), **kwargs):
    """A PIG with random parameters, built from shapes only (no compile)."""
    template = eqx.filter_eval_shape(PIG, *args, key=jax.random.key(0), **kwargs)
    return _perturbed(template, seed, sigma)


def _np_rotations(model):
    """R of every Gaussian, (..., d, d), built independently (scipy for 3-D)."""
    rot = np.asarray(model.rotation, float)
    if model.in_dim == 2:
        c, s = np.cos(rot), np.sin(rot)
        return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    flat = rot.reshape(-1, 4)
    mats = Rotation.from_quat(flat[:, [1, 2, 3, 0]]).as_matrix()  # scalar last
    return mats.reshape(*rot.shape[:-1], 3, 3)


def _np_mixture(model, x, head=True):
    """u, grad u (out, d) and d2u/dx_j2 (out, d) of a PIG at one point, in numpy
    from the formulas: r = x^ - mu, P = L L^T, L = R diag(1/s); G = exp(-r'Pr/2),
    grad G = -G P r, Hess G = G (P r r'P - P); the input map scales the j-th
    derivative by c_j; the head u = W2 tanh(W1 FE + b1) + b2."""
    x = np.asarray(x, float)
    lo, hi = np.asarray(model.lower), np.asarray(model.upper)
    if model.scale_to is None:
        a, b = lo, hi
    elif isinstance(model.scale_to, tuple):
        a, b = np.full_like(lo, model.scale_to[0]), np.full_like(lo, model.scale_to[1])
    else:
        a, b = np.zeros_like(lo), np.full_like(lo, model.scale_to)
    c = (b - a) / (hi - lo) if model.scale_to is not None else np.ones_like(lo)
    xh = a + (x - lo) * c if model.scale_to is not None else x
    mu, s = np.asarray(model.mu, float), np.asarray(model.sigma, float)
    w = np.asarray(model.weights, float)
    d = model.in_dim
    inv_s = np.einsum("...j,jk->...jk", 1.0 / s, np.eye(d))  # diag(1/s)
    if model.rotation is None:
        L = inv_s
    else:
        L = _np_rotations(model) @ inv_s
    P = L @ np.swapaxes(L, -1, -2)
    r = xh - mu
    Pr = np.einsum("...jk,...k->...j", P, r)
    G = np.exp(-0.5 * np.einsum("...j,...j->...", r, Pr))
    dG = -G[..., None] * Pr
    hess = G[..., None, None] * (Pr[..., :, None] * Pr[..., None, :] - P)
    d2G = np.einsum("...jj->...j", hess)
    if model.shared:
        fe, dfe, d2fe = w @ G, w @ dG, w @ d2G
    else:
        fe = np.sum(w * G, -1)
        dfe = np.einsum("kn,knj->kj", w, dG)
        d2fe = np.einsum("kn,knj->kj", w, d2G)
    dfe, d2fe = dfe * c, d2fe * c**2
    if model.mlp is None or not head:
        return fe, dfe, d2fe
    (W1, b1), (W2, b2) = (
        (np.asarray(layer.weight, float), np.asarray(layer.bias, float))
        for layer in model.mlp.layers
    )
    h = np.tanh(W1 @ fe + b1)
    t = 1 - h**2
    a1, a2 = W1 @ dfe, W1 @ d2fe
    u = W2 @ h + b2
    grad = W2 @ (t[:, None] * a1)
    second = W2 @ (t[:, None] * a2 - 2 * (h * t)[:, None] * a1**2)
    return u, grad, second


def _autodiff(model, x):
    """u, the Jacobian and d2u/dx_j2 by JAX (jvp of grad along each axis), and
    the hand-written `PIG.value_and_derivatives`."""
    d = x.shape[0]
    eye = jnp.eye(d, dtype=x.dtype)

    def second(i):
        g = jax.grad(lambda y: model(y)[i])
        return jnp.stack([jax.jvp(g, (x,), (eye[j],))[1][j] for j in range(d)])

    d2u = jnp.stack([second(i) for i in range(model.out_dim)])
    return (model(x), jax.jacrev(model)(x), d2u), model.value_and_derivatives(x)


KG = dict(lower=(0.0, -1.0, -1.0), upper=(10.0, 1.0, 1.0), scale_to=2.0, sigma0=0.5)
BOX = dict(lower=0.0, upper=1.0)
# The real builds of this file share a few configurations: a build compiles its
# random draws once per shape; the other models are built as shapes and filled.

# ------------------------------------------------------------ the mixture


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_dim=2, channels=3, lower=-1.0, upper=1.0, scale_to=None),
        dict(in_dim=3, **{k: v for k, v in KG.items() if k != "sigma0"}),
        dict(in_dim=2, channels=3, lower=0.0, upper=4.0, shared=True),
        dict(in_dim=3, lower=0.0, upper=1.0, scale_to=(-1.0, 1.0), covariance="full"),
    ],
    ids=["helmholtz-no-map", "kg-map", "shared", "full-3d"],
)
def test_features_match_numpy(kwargs):
    kwargs = {"sigma0": 0.3, **kwargs}
    model = _random_pig(n_gaussians=7, seed=0, **kwargs)
    rng = np.random.default_rng(1)
    lo, hi = np.asarray(model.lower), np.asarray(model.upper)
    xs = rng.uniform(lo, hi, (5, model.in_dim)).astype(np.float32)
    got = eqx.filter_jit(lambda m, x: jax.vmap(m.features)(x))(model, xs)
    gauss = eqx.filter_jit(lambda m, x: jax.vmap(m.gaussians)(x))(model, xs)
    expected = np.stack([_np_mixture(model, x, head=False)[0] for x in xs])
    assert got.shape == (5, model.channels)
    shape = (
        (model.n_gaussians,) if model.shared else (model.channels, model.n_gaussians)
    )
    assert gauss.shape == (5, *shape)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # The Gaussians themselves, per channel: FE = sum_i w_i G_i.
    if model.shared:
        np.testing.assert_allclose(gauss @ model.weights.T, got, rtol=1e-5, atol=1e-6)
    else:
        fe = np.sum(np.asarray(gauss) * np.asarray(model.weights), -1)
        np.testing.assert_allclose(fe, got, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_dim=3, **KG),
        dict(in_dim=3, channels=3, **BOX, covariance="full", shared=True),
        dict(
            in_dim=2,
            out_dim=2,
            channels=2,
            head=False,
            covariance="full",
            lower=(0.0, -4.0),
            upper=(4.0, 4.0),
        ),
    ],
    ids=["kg", "shared-full-3d", "full-2d-no-head-2-outputs"],
)
def test_gradient_and_laplacian_match_hand_written(kwargs):
    kwargs = {"sigma0": 0.5, **kwargs}
    with jax.enable_x64(True):
        model = _random_pig(n_gaussians=6, seed=2, **kwargs)
        assert model.sigma.dtype == jnp.float64
        lo, hi = np.asarray(model.lower), np.asarray(model.upper)
        xs = np.random.default_rng(3).uniform(lo, hi, (4, model.in_dim))
        auto, by_hand = eqx.filter_jit(jax.vmap(_autodiff, in_axes=(None, 0)))(
            model, xs
        )
        for i, x in enumerate(xs):
            ref_u, ref_du, ref_d2u = _np_mixture(model, x)
            tol = 1e-10 * max(1.0, np.abs(ref_d2u).max())
            for u, du, d2u in (auto, by_hand):
                np.testing.assert_allclose(u[i], ref_u, rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(du[i], ref_du, rtol=1e-10, atol=1e-10)
                np.testing.assert_allclose(d2u[i], ref_d2u, rtol=1e-10, atol=tol)
                np.testing.assert_allclose(  # the Laplacian
                    d2u[i].sum(-1), ref_d2u.sum(-1), rtol=1e-10, atol=tol
                )
        assert np.abs(np.asarray(auto[2])).max() > 1e-3  # not a trivially zero check


def test_training_through_hand_written_derivatives():
    # The parameter gradient of a Laplacian residual through
    # `value_and_derivatives`, along a random direction, against central finite
    # differences in float64 (its values equal autodiff's: tested above).
    with jax.enable_x64(True):
        model = _random_pig(2, 1, 3, 2, covariance="full", sigma0=0.3, seed=8, **BOX)
        xs = np.random.default_rng(9).uniform(0.0, 1.0, (5, 2))
        params, static = eqx.partition(model, eqx.is_inexact_array)
        rng = np.random.default_rng(10)
        direction = jax.tree.map(lambda p: rng.normal(size=p.shape), params)

        def loss(p):
            u, _, d2u = jax.vmap(eqx.combine(p, static).value_and_derivatives)(xs)
            return jnp.sum((d2u.sum(-1) + u) ** 2)

        def along(t):
            return jax.tree.map(lambda p, v: p + t * v, params, direction)

        grad, plus, minus = jax.jit(
            lambda: (jax.grad(loss)(params), loss(along(1e-6)), loss(along(-1e-6)))
        )()
        slope = sum(
            float(jnp.vdot(g, v))
            for g, v in zip(
                jax.tree.leaves(grad), jax.tree.leaves(direction), strict=True
            )
        )
        np.testing.assert_allclose(slope, (plus - minus) / 2e-6, rtol=1e-6)


# ------------------------------------------------- initialisation and sizes


def test_initialisation_follows_the_sheet(getkey):
    big = dict(head_width=256, sigma0=0.1)
    model = PIG(2, 1, 2000, 4, lower=(0.0, -4.0), upper=(4.0, 4.0), **big, key=getkey())
    mu = np.asarray(model.mu)
    assert mu.shape == (4, 2000, 2) and model.sigma.shape == (4, 2000, 2)
    assert mu.min() >= 0.0 and mu.max() <= 2.0  # U([0, g]^d), g = 2
    np.testing.assert_allclose(mu.mean((0, 1)), 1.0, atol=0.03)
    np.testing.assert_allclose(mu.var((0, 1)), 4.0 / 12, rtol=0.05)
    assert np.all(np.asarray(model.sigma) == np.float32(0.1))
    w = np.asarray(model.weights)
    assert w.shape == (4, 2000)
    assert abs(w.mean()) < 5e-4 and abs(w.std() - 0.01) < 5e-4
    hidden, out = model.mlp.layers
    assert hidden.weight.shape == (256, 4) and out.weight.shape == (1, 256)
    # Glorot normal: variance 2 / (fan_in + fan_out), truncated at 2 std.
    np.testing.assert_allclose(np.std(hidden.weight), np.sqrt(2 / 260), rtol=0.1)
    assert np.abs(hidden.weight).max() <= 2 * np.sqrt(2 / 260) / 0.8796 + 1e-6
    assert np.all(np.asarray(hidden.bias) == 0) and np.all(np.asarray(out.bias) == 0)
    assert model.rotation is None
    # Without a map the means fill the box itself (Helmholtz: U([-1, 1]^2)).
    raw = PIG(2, 1, 2000, 4, lower=-1.0, upper=1.0, scale_to=None, **big, key=getkey())
    assert -1.0 <= np.asarray(raw.mu).min() < -0.99
    assert 0.99 < np.asarray(raw.mu).max() <= 1.0
    # Full covariance starts at the identity rotation.
    full = _random_pig(3, covariance="full", sigma0=0.1, **BOX)
    assert full.rotation.shape == (4, 100, 4)
    template = eqx.filter_eval_shape(
        PIG, 3, covariance="full", sigma0=0.1, **BOX, key=jax.random.key(0)
    )
    assert template.rotation.shape == (4, 100, 4)
    identity = PIG.from_diagonal(_random_pig(2, 1, 6, 2, sigma0=0.3, **BOX)).rotation
    np.testing.assert_array_equal(identity, np.zeros((2, 6)))


@pytest.mark.parametrize(
    "d,n,kwargs,expected",
    [
        (3, 100, {}, 7 * 4 * 100 + 97),  # Klein-Gordon: "about 2.9k"
        (3, 4000, {}, 7 * 4 * 4000 + 97),  # flow mixing, diffusion: "112k"
        (2, 800, {}, 5 * 4 * 800 + 97),  # Helmholtz: "16k"
        (2, 50, {"shared": True}, (4 + 4) * 50 + 97),
        (2, 50, {"covariance": "full"}, 6 * 4 * 50 + 97),
        (3, 50, {"covariance": "full"}, 11 * 4 * 50 + 97),
        (2, 50, {"head": False, "channels": 1}, 5 * 1 * 50),
    ],
)
def test_parameter_count(d, n, kwargs, expected):
    model = _random_pig(d, 1, n, sigma0=0.1, **BOX, **kwargs)
    assert count_parameters(model) == expected
    # (2d + 1) k N + head, as the sheet counts (head: (k + 1) 16 + 17).
    if not kwargs:
        assert expected == (2 * d + 1) * 4 * n + (4 + 1) * 16 + 17


# ------------------------------------------- full covariance, shared form


@pytest.mark.parametrize("d,shared", [(2, False), (3, True)])
def test_full_covariance_from_diagonal_is_the_same_model(d, shared):
    diag = _random_pig(d, 2, 9, 3, sigma0=0.2, shared=shared, seed=4, **BOX)
    full = PIG.from_diagonal(diag)
    assert full.covariance == "full" and diag.covariance == "diagonal"
    assert full.rotation.shape == diag.sigma.shape[:-1] + (() if d == 2 else (4,))
    for get in (lambda m: (m.mu, m.sigma, m.weights), lambda m: m.mlp):
        for a, b in zip(
            jax.tree.leaves(get(diag)), jax.tree.leaves(get(full)), strict=True
        ):
            np.testing.assert_array_equal(a, b)
    xs = np.random.default_rng(5).uniform(0.0, 1.0, (6, d)).astype(np.float32)
    call = eqx.filter_jit(lambda m, x: jax.vmap(m)(x))
    np.testing.assert_array_equal(call(full, xs), call(diag, xs))
    assert count_parameters(full) - count_parameters(diag) == full.rotation.size


GAUSSIANS = eqx.filter_jit(lambda m, xs: jax.vmap(m.gaussians)(xs))


def test_rotated_gaussian_equals_a_hand_written_one():
    # One Gaussian in 2-D, angle 30 degrees, scales (0.5, 0.1): its long axis
    # points along (cos 30, sin 30).
    one = dict(scale_to=None, sigma0=0.1, covariance="full", **BOX)
    theta = np.pi / 6
    model = eqx.tree_at(
        lambda m: (m.mu, m.sigma, m.rotation),
        _random_pig(2, 1, 1, 1, **one),
        (
            jnp.full((1, 1, 2), 0.5),
            jnp.asarray([[[0.5, 0.1]]]),
            jnp.full((1, 1), theta),
        ),
    )
    along = np.array([np.cos(theta), np.sin(theta)])
    across = np.array([-np.sin(theta), np.cos(theta)])
    points = [along * 0.5, across * 0.1, along * 0.3 + across * 0.05]
    expected = np.exp(-0.5 * np.array([1.0, 1.0, 0.6**2 + 0.5**2]))
    got = GAUSSIANS(model, jnp.asarray(0.5 + np.stack(points), jnp.float32))
    np.testing.assert_allclose(got[:, 0, 0], expected, rtol=1e-5)
    # In 3-D: a quaternion (unnormalised), against scipy's rotation.
    q = np.array([0.9, 0.2, -0.3, 0.4])
    model = eqx.tree_at(
        lambda m: (m.mu, m.sigma, m.rotation),
        _random_pig(3, 1, 1, 1, **one),
        (
            jnp.full((1, 1, 3), 0.5),
            jnp.asarray([[[0.4, 0.2, 0.1]]]),
            jnp.asarray([[q]], jnp.float32),
        ),
    )
    axes = Rotation.from_quat(q[[1, 2, 3, 0]]).as_matrix().T  # rows: principal axes
    x = 0.5 + 0.3 * axes[0] + 0.1 * axes[1] - 0.05 * axes[2]
    expected = np.exp(-0.5 * ((0.3 / 0.4) ** 2 + (0.1 / 0.2) ** 2 + 0.5**2))
    got = GAUSSIANS(model, jnp.asarray(x[None], jnp.float32))[0, 0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_shared_form_has_one_set_of_gaussians():
    model = _random_pig(2, 1, 10, 3, sigma0=0.3, shared=True, **BOX)
    assert model.mu.shape == (10, 2) and model.sigma.shape == (10, 2)
    assert model.weights.shape == (3, 10)  # f_i = weights[:, i]
    assert model.gaussians(jnp.asarray([0.5, 0.5])).shape == (10,)


# ------------------------------------------------ jit, vmap, grad, guard


def _mse(model, batch, key):
    x, y = batch
    return jnp.mean((jax.vmap(model)(x)[:, 0] - y) ** 2), {}


def _data(d=2, n=16):
    x = np.random.default_rng(6).uniform(0.0, 1.0, (n, d)).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(np.sin(3 * x.sum(-1)))


CALL = eqx.filter_jit(lambda m, x: m(x))
SMALL = dict(sigma0=0.3, **BOX)  # the PIG that is really built: (2, 1, 6, 2)


def test_models_jit_vmap_and_differentiate(getkey):
    x, y = _data()
    models = [
        PIG(2, 1, 6, 2, **SMALL, key=getkey()),
        _random_pig(3, 2, 6, 2, covariance="full", shared=True, **SMALL),
        MLPPINN(2, 1, 8, 1, key=getkey()),
    ]
    step = eqx.filter_jit(
        eqx.debug.assert_max_traces(
            eqx.filter_value_and_grad(_mse, has_aux=True), max_traces=len(models)
        )
    )
    for model in models:
        batch = (
            (x, y) if model.in_dim == 2 else (jnp.concatenate([x, y[:, None]], 1), y)
        )
        (loss, _), grads = step(model, batch, None)
        moved = jax.tree.map(
            lambda a: a * 1.01 if eqx.is_inexact_array(a) else a, model
        )
        step(moved, batch, None)  # no retrace
        leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
        assert np.isfinite(float(loss))
        assert all(np.all(np.isfinite(g)) for g in leaves)
        assert all(float(np.abs(g).sum()) > 0 for g in leaves), type(model)
        assert jax.eval_shape(jax.vmap(model), batch[0]).shape == (16, model.out_dim)


def test_a_scale_at_zero_is_evaluated_at_the_floor_and_stays_finite():
    model = _random_pig(2, 1, 6, 3, sigma=(0.2, 0.4), sigma0=0.2, **BOX)
    floor = model.scale_floor
    x = jnp.asarray([0.3, 0.6])

    def everything(m, x):
        value, grads = eqx.filter_value_and_grad(lambda m: m(x).sum())(m)
        return value, m.value_and_derivatives(x), grads

    call = eqx.filter_jit(everything)
    at_floor = eqx.tree_at(lambda m: m.sigma, model, model.sigma.at[1, 4, 0].set(floor))
    reference = call(at_floor, x)
    for value in (0.0, 1e-30, -1e-30, -floor / 2):
        tiny = eqx.tree_at(lambda m: m.sigma, model, model.sigma.at[1, 4, 0].set(value))
        out = call(tiny, x)
        assert all(np.all(np.isfinite(t)) for t in jax.tree.leaves(out))
        # the same values and derivatives as at the floor; no gradient to sigma there
        for a, b in zip(
            jax.tree.leaves(out[:2]), jax.tree.leaves(reference[:2]), strict=True
        ):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
        assert float(out[2].sigma[1, 4, 0]) == 0.0
    # a Gaussian that narrow is zero away from its mean: as if it were absent
    absent = eqx.tree_at(lambda m: m.weights, model, model.weights.at[1, 4].set(0.0))
    np.testing.assert_allclose(reference[0], call(absent, x)[0], rtol=1e-6)


def test_collapsed_scale_gives_nan_and_is_named():
    model = _random_pig(2, 1, 6, 3, sigma=(0.2, 0.4), sigma0=0.2, **BOX)
    x = jnp.asarray([0.3, 0.6])
    call = eqx.filter_jit(lambda m, x: (m(x), m.features(x)))
    check_scales(model)  # healthy
    flipped = eqx.tree_at(lambda m: m.sigma, model, -model.sigma)
    np.testing.assert_allclose(call(flipped, x)[0], call(model, x)[0])  # the same
    check_scales(flipped)
    for value, shown in [(0.0, "sigma=0 "), (np.nan, "sigma=nan"), (1e-30, "1e-30")]:
        bad = eqx.tree_at(lambda m: m.sigma, model, model.sigma.at[1, 4, 0].set(value))
        # not finite: NaN out; at zero or below the floor: finite (held at the floor)
        assert all(np.isnan(out).all() == np.isnan(value) for out in call(bad, x))
        with pytest.raises(
            ValueError, match="collapsed: channel 1, Gaussian 4, axis 0"
        ) as e:
            check_scales(bad)
        assert shown in str(e.value) and "Fix: lower the learning rate" in str(e.value)
    two = eqx.tree_at(lambda m: m.sigma, model, model.sigma.at[2, 0].set(0.0))
    with pytest.raises(ValueError, match=r"channel 2, Gaussian 0, axis 0.*1 more"):
        check_scales(two)
    with pytest.raises(ValueError, match="channel 0, Gaussian 0, axis 0"):
        check_scales(model, floor=0.5)  # a larger floor finds near collapse
    shared = _random_pig(3, 1, 5, 2, sigma0=0.2, shared=True, covariance="full", **BOX)
    zero_q = eqx.tree_at(lambda m: m.rotation, shared, shared.rotation.at[3].set(0.0))
    assert np.isnan(call(zero_q, jnp.full(3, 0.5))[0]).all()
    with pytest.raises(ValueError, match="rotation collapsed: Gaussian 3, quaternion"):
        check_scales(zero_q)
    s_zero = eqx.tree_at(lambda m: m.sigma, shared, shared.sigma.at[2, 1].set(0.0))
    with pytest.raises(ValueError, match="Gaussian 2, principal axis 1, s=0"):
        check_scales(s_zero)
    angle = _random_pig(2, 1, 5, 2, sigma0=0.2, covariance="full", **BOX)
    angle = eqx.tree_at(
        lambda m: m.rotation, angle, angle.rotation.at[1, 2].set(jnp.inf)
    )
    assert np.isnan(call(angle, x)[0]).all()
    with pytest.raises(ValueError, match="channel 1, Gaussian 2, angle=inf"):
        check_scales(angle)


def _collapse_sigma_at(step, index, value=0.0):
    """SGD, except that the update of `step` sets `sigma[index]` to `value`."""

    def init(params):
        return jnp.zeros((), jnp.int32)

    def update(updates, count, params):
        updates = jax.tree.map(lambda g: -1e-3 * g, updates)
        forced = jnp.where(
            count == step, value - params.sigma[index], updates.sigma[index]
        )
        updates = eqx.tree_at(
            lambda u: u.sigma, updates, updates.sigma.at[index].set(forced)
        )
        return updates, count + 1

    return optax.GradientTransformation(init, update)


def test_fit_stops_on_a_nan_scale_and_check_scales_names_it(getkey):
    model = PIG(2, 1, 6, 2, **SMALL, key=getkey())
    batch = _data()
    with pytest.raises(NonFiniteLossError, match="non-finite at step 4") as info:
        fit(model, _mse, lambda step: batch, _collapse_sigma_at(3, (1, 5, 0), np.nan),
            steps=10, log_every=5, progress=False)  # fmt: skip
    assert info.value.step == 4
    # The last good state holds the parameters that made step 4's loss NaN.
    with pytest.raises(ValueError, match="channel 1, Gaussian 5, axis 0, sigma=nan"):
        check_scales(info.value.state.model)


def test_fit_goes_on_through_a_scale_at_zero_and_check_scales_names_it(getkey):
    model = PIG(2, 1, 6, 2, **SMALL, key=getkey())
    batch = _data()
    result = fit(model, _mse, lambda step: batch, _collapse_sigma_at(3, (1, 5, 0)),
                 steps=10, log_every=5, progress=False)  # fmt: skip
    assert np.isfinite(result.history[-1]["loss"])
    with pytest.raises(ValueError, match="channel 1, Gaussian 5, axis 0, sigma=0 "):
        check_scales(result.model)


# ------------------------------------------------------ MLP baseline


def test_mlp_pinn_map_fourier_features_and_glorot(getkey):
    ff = MLPPINN(2, 1, 8, 1, **BOX, scale_to=(-1.0, 1.0), fourier_features=5,
                 key=getkey())  # fmt: skip
    x = jnp.asarray([0.25, 0.5])
    assert ff.mlp.in_size == 10 and ff.fourier.n_features == 5
    mapped = jnp.asarray([-0.5, 0.0])  # [0, 1] -> [-1, 1]
    by_hand = eqx.filter_jit(lambda m, x, xm: (m(x), m.mlp(m.fourier(xm))))
    np.testing.assert_allclose(*by_hand(ff, x, mapped), rtol=1e-5)
    plain = MLPPINN(2, 1, 8, 1, key=getkey())
    assert plain.fourier is None and plain.mlp.in_size == 2
    np.testing.assert_allclose(*eqx.filter_jit(lambda m, x: (m(x), m.mlp(x)))(plain, x))
    for layer in ff.mlp.layers:  # Glorot normal, truncated at 2 std; zero biases
        fan_out, fan_in = layer.weight.shape
        bound = 2 * np.sqrt(2 / (fan_in + fan_out)) / 0.8796
        assert 0 < np.abs(layer.weight).max() <= bound + 1e-6
        assert np.all(np.asarray(layer.bias) == 0)


# ------------------------------------------------------------- save/load


@pytest.mark.parametrize(
    "build",
    [
        lambda k: PIG(2, 1, 6, 2, **SMALL, key=k),
        lambda k: _random_pig(2, 1, 6, 2, lower=-1.0, upper=1.0, scale_to=None,
                              sigma0=0.1, covariance="full", shared=True),
        lambda k: PIG.from_diagonal(_random_pig(3, 2, 6, 2, **BOX, scale_to=(-1.0, 1.0),
                                                sigma0=0.1, head=False)),
        lambda k: MLPPINN(2, 1, 8, 1, lower=0.0, upper=(1.0, 2.0), scale_to=2.0,
                          fourier_features=5, key=k),
    ],
    ids=["pig", "shared-full-2d", "from-diagonal-3d-no-head", "mlp-pinn"],
)  # fmt: skip
def test_save_load_round_trip(getkey, tmp_path, build):
    model = build(getkey())
    path = save_model(tmp_path / "model.eqx", model)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.lower == model.lower and loaded.scale_to == model.scale_to
    for a, b in zip(jax.tree.leaves(model), jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    x = jnp.full((model.in_dim,), 0.4)
    np.testing.assert_array_equal(CALL(loaded, x), CALL(model, x))


# ---------------------------------------------------------- bad inputs


def test_bad_arguments_raise_clear_errors(getkey, no_typecheck):
    key = getkey()
    ok = dict(lower=0.0, upper=1.0, sigma0=0.1, key=key)
    build = lambda *a, **kw: eqx.filter_eval_shape(PIG, *a, **{**ok, **kw})  # noqa: E731
    with pytest.raises(ValueError, match="in_dim must be >= 1"):
        build(0)
    with pytest.raises(TypeError, match="n_gaussians must be an integer"):
        build(2, 1, 4.0)
    with pytest.raises(ValueError, match=r"lower must have one entry per input axis"):
        build(2, lower=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"lower < upper.*lower\[1\]=2.0"):
        build(2, lower=(0.0, 2.0), upper=(1.0, 1.0))
    with pytest.raises(TypeError, match="lower must be a number or a sequence"):
        build(2, lower="0")
    with pytest.raises(ValueError, match="sigma0 must be > 0"):
        build(2, sigma0=0.0)
    with pytest.raises(ValueError, match="sigma0=1e-08 is at or below the collapse"):
        build(2, sigma0=1e-8)
    with pytest.raises(ValueError, match="scale_to must be > 0"):
        build(2, scale_to=-2.0)
    with pytest.raises(ValueError, match=r"scale_to=\(a, b\) needs a < b"):
        build(2, scale_to=(1.0, -1.0))
    with pytest.raises(
        ValueError, match="covariance must be one of 'diagonal', 'full'"
    ):
        build(2, covariance="dense")
    for d in (1, 4):
        with pytest.raises(ValueError, match=f"in_dim 2 .* and 3 .*got in_dim={d}"):
            build(d, covariance="full")
    with pytest.raises(ValueError, match="head=False .* channels=4, out_dim=1"):
        build(2, head=False)
    with pytest.raises(TypeError, match="head must be True or False"):
        build(2, head=1)
    model = build(2, 1, 3, 2)
    with pytest.raises(
        ValueError, match=r"expected one point of shape \(2,\), got \(3,\)"
    ):
        model(jnp.ones(3))
    with pytest.raises(ValueError, match=r"got \(5, 2\). Use jax.vmap"):
        model(jnp.ones((5, 2)))
    with pytest.raises(
        ValueError, match='from_diagonal expected a PIG with covariance="diagonal"'
    ):
        PIG.from_diagonal(PIG.from_diagonal(model))
    with pytest.raises(ValueError, match="from_diagonal expected a PIG .* got MLPPINN"):
        PIG.from_diagonal(eqx.filter_eval_shape(MLPPINN, 2, key=key))
    with pytest.raises(TypeError, match="check_scales expected a sciml.pinns.PIG"):
        check_scales(eqx.filter_eval_shape(MLPPINN, 2, key=key))
    with pytest.raises(ValueError, match="MLPPINN: got lower/upper but scale_to=None"):
        MLPPINN(2, lower=0.0, upper=1.0, key=key)
    with pytest.raises(ValueError, match="MLPPINN: scale_to=2.0 maps the box"):
        MLPPINN(2, scale_to=2.0, key=key)
    with pytest.raises(ValueError, match=r"MLPPINN expected one point of shape \(2,\)"):
        eqx.filter_eval_shape(MLPPINN, 2, key=key)(jnp.ones(4))
    with pytest.raises(ValueError, match="fourier_features must be >= 0"):
        MLPPINN(2, fourier_features=-1, key=key)
    with pytest.raises(ValueError, match="unknown|activation"):
        MLPPINN(2, activation="nope", key=key)
