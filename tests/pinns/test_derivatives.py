"""sciml.pinns.Derivatives: every operator under every engine against closed-form
derivatives (float64, 1e-10), engine agreement on models, vmap / jit / grad with
respect to parameters, the forward Laplacian's primitives, and bad input."""

import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml.nn import MLP
from sciml.pinns import _derivatives
from sciml.pinns._derivatives import ENGINES, Derivatives
from sciml.pinns._forward_laplacian import second_order, supported_primitives

TOL = 1e-10


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    assert float(np.max(np.abs(a - b))) <= tol * scale, (a, b)


# --- closed forms ------------------------------------------------------------------

A, B = 1.3, 0.7


def u_scalar(p):
    t, x, y = p
    return jnp.sin(A * x) * jnp.exp(B * t) * y**2


def exact_scalar(p):
    t, x, y = (float(v) for v in p)
    s, c, e = math.sin(A * x), math.cos(A * x), math.exp(B * t)
    return {
        ("t",): B * s * e * y**2,
        ("x",): A * c * e * y**2,
        ("y",): 2 * s * e * y,
        ("t", "t"): B**2 * s * e * y**2,
        ("x", "x"): -(A**2) * s * e * y**2,
        ("y", "y"): 2 * s * e,
        ("t", "x"): A * B * c * e * y**2,
        ("x", "t"): A * B * c * e * y**2,
        ("t", "y"): 2 * B * s * e * y,
        ("x", "y"): 2 * A * c * e * y,
        ("x", "x", "x"): -(A**3) * c * e * y**2,
        ("x", "x", "x", "x"): A**4 * s * e * y**2,
        ("t", "t", "t"): B**3 * s * e * y**2,
        ("t", "x", "x"): -B * A**2 * s * e * y**2,
        "value": s * e * y**2,
        "laplacian": -(A**2) * s * e * y**2 + 2 * s * e,
        "laplacian_all": B**2 * s * e * y**2 - (A**2) * s * e * y**2 + 2 * s * e,
    }


def u_vector(p):
    x, y = p
    return jnp.stack([jnp.sin(x) * jnp.cos(y), x**2 * y**3, jnp.exp(x * y)])


def exact_vector(p):
    x, y = (float(v) for v in p)
    e = math.exp(x * y)
    grad = [
        [math.cos(x) * math.cos(y), -math.sin(x) * math.sin(y)],
        [2 * x * y**3, 3 * x**2 * y**2],
        [y * e, x * e],
    ]
    return {
        "value": [math.sin(x) * math.cos(y), x**2 * y**3, e],
        "grad": grad,
        "xx": [-math.sin(x) * math.cos(y), 2 * y**3, y**2 * e],
        "xy": [-math.cos(x) * math.sin(y), 6 * x * y**2, (1 + x * y) * e],
        "laplacian": [
            -2 * math.sin(x) * math.cos(y),
            2 * y**3 + 6 * x**2 * y,
            (x**2 + y**2) * e,
        ],
    }


def mixture(d, n, key):
    k1, k2, k3 = jax.random.split(key, 3)
    mu = jax.random.uniform(k1, (n, d), minval=-1.0, maxval=1.0)
    sigma = jax.random.uniform(k2, (n, d), minval=0.3, maxval=0.8)
    w = jax.random.normal(k3, (n,))
    return mu, sigma, w


def u_mixture(params):
    mu, sigma, w = params
    return lambda x: jnp.sum(w * jnp.exp(-0.5 * jnp.sum(((x - mu) / sigma) ** 2, -1)))


def exact_mixture(params, x):
    """The Gaussian mixture's gradient and Hessian, written by hand (numpy):
    with z = (x - mu) / sigma and g = w exp(-|z|^2 / 2),
    d_j g = -g z_j / sigma_j and d_j d_k g = g (z_j z_k / (sigma_j sigma_k)
    - delta_jk / sigma_j^2)."""
    mu, sigma, w = (np.asarray(a, np.float64) for a in params)
    x = np.asarray(x, np.float64)
    z = (x - mu) / sigma
    g = w * np.exp(-0.5 * np.sum(z**2, -1))
    q = z / sigma  # (n, d)
    grad = -(g[:, None] * q).sum(0)
    hess = np.einsum("i,ij,ik->jk", g, q, q) - np.diag((g[:, None] / sigma**2).sum(0))
    return g.sum(), grad, hess


POINT = np.array([0.3, 0.5, -0.8])


VECTOR_POINT = np.array([0.4, -0.6])
MIXTURE = mixture(3, 7, jax.random.key(3))
MIXTURE_POINT = np.array([0.1, -0.2, 0.35])
SCALAR_DERIVS = [k for k in exact_scalar(POINT) if isinstance(k, tuple)]


@pytest.mark.parametrize("engine", ENGINES)
def test_closed_forms(engine):
    """Every operator on a scalar, a vector and a Gaussian mixture, one compile."""

    @jax.jit
    def ops(p, q, r):
        D = Derivatives(u_scalar, p, names=("t", "x", "y"), engine=engine)
        scalar = dict(
            value=D.value,
            derivs=[D.d(*axes) for axes in SCALAR_DERIVS],
            laplacian=D.laplacian(),  # default: every axis but "t"
            laplacian_all=D.laplacian(("t", "x", "y")),
            laplacian_y=D.laplacian("y"),
            grad=D.grad(),
            grad_yx=D.grad(("y", "x")),
            d11=D.d(1, 1),  # indices
            d0x=D.d(0, "x"),
        )
        V = Derivatives(u_vector, q, names=("x", "y"), engine=engine)
        vector = (
            V.value,
            V.grad(),
            V.d("x"),
            V.d("x", "x"),
            V.d("y", "x"),
            V.laplacian(),
        )
        M = Derivatives(u_mixture(MIXTURE), r, names=("t", "x", "y"), engine=engine)
        mix = (
            M.value,
            M.grad(),
            M.laplacian(),
            M.d("t", "t"),
            M.d("t", "x"),
            M.d("y", "x"),
        )
        return scalar, vector, mix

    scalar, vector, mix = ops(POINT, VECTOR_POINT, MIXTURE_POINT)

    ex = exact_scalar(POINT)
    close(scalar["value"], ex["value"])
    for axes, value in zip(SCALAR_DERIVS, scalar["derivs"], strict=True):
        close(value, ex[axes])
    close(scalar["laplacian"], ex["laplacian"])
    close(scalar["laplacian_all"], ex["laplacian_all"])
    close(scalar["laplacian_y"], ex[("y", "y")])
    close(scalar["grad"], [ex[("t",)], ex[("x",)], ex[("y",)]])
    close(scalar["grad_yx"], [ex[("y",)], ex[("x",)]])
    close(scalar["d11"], ex[("x", "x")])
    close(scalar["d0x"], ex[("t", "x")])

    ev = exact_vector(VECTOR_POINT)
    value, grad, dx, dxx, dxy, lap = vector
    close(value, ev["value"])
    close(grad, ev["grad"])
    close(dx, np.asarray(ev["grad"])[:, 0])
    close(dxx, ev["xx"])
    close(dxy, ev["xy"])
    close(lap, ev["laplacian"])

    value, grad, hess = exact_mixture(MIXTURE, MIXTURE_POINT)
    close(mix[0], value)
    close(mix[1], grad)
    close(mix[2], hess[1, 1] + hess[2, 2])
    close(mix[3], hess[0, 0])
    close(mix[4], hess[0, 1])
    close(mix[5], hess[1, 2])


def test_no_names_means_indices_and_all_axes():
    D = Derivatives(u_scalar, POINT)
    assert D.names is None and D.ndim == 3 and D.engine == "auto"
    ex = exact_scalar(POINT)
    lap, dyy = jax.jit(
        lambda p: (lambda D: (D.laplacian(), D.d(2, 2)))(Derivatives(u_scalar, p))
    )(POINT)
    close(lap, ex["laplacian_all"])
    close(dyy, ex[("y", "y")])


def test_divergence():
    # div(u grad u) = |grad u|^2 + u laplacian(u), in the spatial axes.
    ex = exact_scalar(POINT)
    want = ex[("x",)] ** 2 + ex[("y",)] ** 2 + ex["value"] * ex["laplacian"]

    @jax.jit
    def divs(p):
        out = []
        for engine in ENGINES:

            def flux(y, engine=engine):
                D = Derivatives(u_scalar, y, names=("t", "x", "y"), engine=engine)
                return D.value * D.grad(("x", "y"))

            D = Derivatives(u_scalar, p, names=("t", "x", "y"), engine=engine)
            # explicit axes: one flux component per axis
            single = D.divergence(lambda y: jnp.stack([u_scalar(y)]), axes=("t",))
            out.append((D.divergence(flux), single))
        return out

    for div, single in divs(POINT):
        close(div, want)
        close(single, ex[("t",)])


# --- models: agreement, vmap, jit, grad with respect to parameters --------------------


class Tiny(eqx.Module):
    """A PIG-like model: a per-channel Gaussian feature map, then a tanh layer."""

    mu: jax.Array
    sigma: jax.Array
    w: jax.Array
    A: jax.Array
    a: jax.Array
    v: jax.Array

    def __init__(self, d, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.mu = references.uniform(k1, (2, 5, d), minval=-1.0, maxval=1.0)
        self.sigma = jnp.full((2, 5, d), 0.5)
        self.w = jax.random.normal(k2, (2, 5))
        self.A = jax.random.normal(k3, (8, 2))
        self.a = jnp.zeros(8)
        self.v = jax.random.normal(k4, (1, 8)) / 3.0

    def __call__(self, x):
        z = (x - self.mu) / self.sigma
        fe = jnp.sum(self.w * jnp.exp(-0.5 * jnp.sum(z * z, -1)), -1)
        return self.v @ jnp.tanh(self.A @ fe + self.a)


def residual(model, x, engine):
    # value, a mixed second derivative and the Laplacian (first derivatives are
    # part of every second-order pass)
    D = Derivatives(lambda y: model(y)[0], x, names=("t", "x", "y"), engine=engine)
    return -D.laplacian() + D.value**2 + 0.3 * D.d("t", "x")


def test_engines_agree_under_vmap_jit_and_parameter_grad(getkey):
    model = jax.tree.map(
        lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a,
        Tiny(3, getkey()),
    )
    X = jax.random.uniform(getkey(), (6, 3), jnp.float64, minval=-1.0)

    def loss(model, engine):
        values = jax.vmap(lambda x: residual(model, x, engine))(X)
        return jnp.mean(values**2), values

    # "auto" dispatches to "taylor" (and the closed-form tests run it), so the
    # five distinct engines are enough here.
    engines = [e for e in ENGINES if e != "auto"]

    @eqx.filter_jit
    def all_engines(model):
        step = eqx.filter_value_and_grad(loss, has_aux=True)
        return {engine: step(model, engine) for engine in engines}

    out = all_engines(model)
    (ref_loss, ref_values), ref_grads = out["reverse"]
    for engine in engines:
        (value, values), grads = out[engine]
        close(value, ref_loss)
        close(values, ref_values)
        for a, b in zip(
            jax.tree.leaves(grads), jax.tree.leaves(ref_grads), strict=True
        ):
            close(a, b)
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(ref_grads))


def first_order_residual(model, x, engine, order):
    D = Derivatives(
        lambda y: model(y)[0], x, names=("t", "x", "y"), engine=engine, order=order
    )
    return D.d("t") + 0.4 * D.d("x") - 0.7 * D.value + jnp.sum(D.grad(("x", "y")))


def test_auto_with_order_1_takes_first_derivatives_by_reverse_mode(getkey):
    # A scalar u of three axes: one reverse pass gives the three first derivatives,
    # the value is u(x); a vector u with as many outputs as axes stays forward.
    D = Derivatives(u_scalar, POINT, names=("t", "x", "y"), order=1)
    assert D.order == 1
    assert (D._pick("grad"), D._pick("first"), D._pick("value")) == ("reverse",) * 3
    assert Derivatives(u_scalar, POINT)._pick("grad") == "taylor"  # no order: one pass
    assert Derivatives(u_scalar, POINT, engine="jet", order=1)._pick("grad") == "jet"
    V = Derivatives(u_vector, POINT[1:], order=1)  # 3 outputs, 2 axes
    assert V._pick("grad") == "taylor"

    @jax.jit  # the same derivatives, compiled once rather than run op by op
    def firsts(point):
        D = Derivatives(u_scalar, point, names=("t", "x", "y"), order=1)
        V = Derivatives(u_vector, point[1:], order=1)
        return V.grad(), V.value, D.grad(), D.d("x"), D.value

    v_grad, v_value, d_grad, d_x, d_value = firsts(POINT)
    exact = exact_vector(POINT[1:])
    close(v_grad, np.array(exact["grad"]))
    close(v_value, np.array(exact["value"]))
    want = exact_scalar(POINT)
    close(d_grad, np.array([want[(a,)] for a in "txy"]))
    close(d_x, want[("x",)])
    close(d_value, u_scalar(POINT))
    # ... and so are its derivatives (parameters, x; under vmap and jit)
    model = jax.tree.map(
        lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a,
        Tiny(3, getkey()),
    )
    X = jax.random.uniform(getkey(), (6, 3), jnp.float64, minval=-1.0)

    def loss(model, engine, order):
        values = jax.vmap(lambda x: first_order_residual(model, x, engine, order))(X)
        return jnp.mean(values**2), values

    @eqx.filter_jit
    def both(model):
        step = eqx.filter_value_and_grad(loss, has_aux=True)
        return step(model, "auto", 1), step(model, "reverse", None)

    ((value, values), grads), ((ref, ref_values), ref_grads) = both(model)
    close(value, ref)
    close(values, ref_values)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads), strict=True):
        close(a, b)
    dx = lambda engine, order: jax.jit(
        jax.grad(lambda x: first_order_residual(model, x, engine, order))
    )(X[0])
    close(dx("auto", 1), dx("reverse", None))
    hx = lambda engine, order: jax.jit(
        jax.hessian(lambda x: first_order_residual(model, x, engine, order))
    )(X[0])
    close(hx("auto", 1), hx("reverse", None))


def test_order_1_refuses_second_derivatives():
    D = Derivatives(u_scalar, POINT, names=("t", "x", "y"), order=1)
    with pytest.raises(ValueError, match="order=1"):
        D.d("x", "x")
    with pytest.raises(ValueError, match="order=1"):
        D.laplacian()
    with pytest.raises(ValueError, match="positive int"):
        Derivatives(u_scalar, POINT, order=0)


def test_no_retrace_in_a_loop():
    model = MLP(2, 1, 4, 1, key=jax.random.key(0))

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def lap(model, X):
        return jax.vmap(lambda x: Derivatives(lambda y: model(y)[0], x).laplacian())(X)

    for i in range(3):
        lap(model, jnp.full((4, 2), float(i)))


# --- the forward Laplacian itself ----------------------------------------------------


def zoo(x):
    """A function through most primitives the forward Laplacian knows."""
    t, a, b = x[0], x[1], x[2]
    v = jnp.stack(
        [jnp.tanh(a * b), jnp.exp(-a), jnp.log1p(b * b), jnp.sin(t) * jnp.cos(a)]
    )
    v = jnp.concatenate([v, jax.nn.sigmoid(v[:2]), jnp.sqrt(1.5 + v[2:] ** 2)])
    M = jnp.arange(24.0).reshape(3, 8) / 24.0
    h = M @ v + jnp.maximum(x, 0.1) + jnp.where(x > 0.2, x**3, -x)
    h = h / (2.0 + jnp.abs(h)) + jax.nn.softplus(h) + jax.nn.relu(h - 0.05)
    h = h + jax.scipy.special.erf(h) + lax_rsqrt(2.0 + h**2) + jnp.clip(h, -0.2, 0.3)
    h = h + jax.nn.logsumexp(h) + jnp.linalg.norm(h) + jnp.arctan(h) + (1.1 + h) ** 1.5
    h = h + 2.0 ** (0.3 * h) + jax.lax.stop_gradient(h) * h + jnp.cbrt(2.0 + h)
    return jnp.sum(h.reshape(3, 1).T @ jnp.ones((3, 2))) * jnp.cos(x[0])


def lax_rsqrt(v):
    return jax.lax.rsqrt(v)


def test_forward_laplacian_primitives_against_hessian():
    x = jnp.array([0.37, -0.21, 0.55])
    # a pure, a mixed and a weighted channel: sum c d_i d_j
    channels = [((1, 1, 1.0),), ((0, 2, 1.0),), ((0, 0, 2.0), (1, 2, -1.5))]
    value, first, second = jax.jit(lambda x: second_order(zoo, x, channels))(x)
    H, g, v = jax.jit(lambda x: (jax.hessian(zoo)(x), jax.grad(zoo)(x), zoo(x)))(x)
    close(value, v)
    close(jnp.stack(first), g)
    close(second[0], H[1, 1])
    close(second[1], H[0, 2])
    close(second[2], 2.0 * H[0, 0] - 1.5 * H[1, 2])
    assert "dot_general" in supported_primitives()


def test_unknown_primitive_falls_back_to_forward():
    u = lambda p: jnp.arctan2(p[0], 1.0 + p[1] ** 2) * p[1]  # atan2 has no rule
    x = np.array([0.4, 0.7])
    lap = lambda engine: jax.jit(lambda x: Derivatives(u, x, engine=engine).laplacian())
    _derivatives._warned.discard("atan2")
    with pytest.warns(UserWarning, match="atan2"):
        got = lap("taylor")(x)
    close(got, lap("reverse")(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per primitive, not again
        close(lap("auto")(x), got)


# --- bad input -------------------------------------------------------------------------


def test_bad_input(no_typecheck):
    D = Derivatives(u_scalar, POINT, names=("t", "x", "y"))
    with pytest.raises(ValueError, match=r"no axis named 'z'.*\('t', 'x', 'y'\)"):
        D.d("z")
    with pytest.raises(ValueError, match=r"out of range.*\('t', 'x', 'y'\)"):
        D.d(3)
    with pytest.raises(ValueError, match="no axis named 'x'.*indices 0..2"):
        Derivatives(u_scalar, POINT).d("x")
    with pytest.raises(ValueError, match="no axis named 'q'"):
        D.laplacian(("x", "q"))
    with pytest.raises(ValueError, match=r"shape \(\) or \(k,\).*\(2, 3\)"):
        Derivatives(lambda p: jnp.ones((2, 3)) * p[0], POINT)
    with pytest.raises(ValueError, match="one point of shape"):
        Derivatives(u_scalar, np.ones((2, 3)))
    with pytest.raises(ValueError, match="engine must be one of"):
        Derivatives(u_scalar, POINT, engine="magic")
    with pytest.raises(ValueError, match="3 strings"):
        Derivatives(u_scalar, POINT, names=("t", "x"))
    with pytest.raises(ValueError, match="at least one axis"):
        D.d()
    with pytest.raises(ValueError, match=r"flux must return shape \(2,\)"):
        D.divergence(lambda y: y)
    with pytest.raises(TypeError, match="function of one point"):
        Derivatives(3.0, POINT)
