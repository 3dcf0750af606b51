"""sciml.interop: one optax step of a sciml model through Flax NNX and through Linen
is the step of a plain equinox loop, to float round-off."""

import subprocess
import sys

import pytest

pytest.importorskip("flax")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402

import sciml  # noqa: E402
from sciml.interop import from_linen, from_nnx, to_linen, to_nnx  # noqa: E402

RTOL, ATOL = 1e-6, 1e-7


class _WithBuffer(eqx.Module):
    """A model with an integer array (a buffer) and a Python float (static)."""

    mlp: sciml.nn.MLP
    shift: jax.Array
    scale: float

    def __call__(self, x):
        return self.scale * self.mlp(x) + self.shift


def _mlp(key):
    return sciml.nn.MLP(2, 3, width=8, depth=2, key=key)


def _fno(key):
    return sciml.operators.FNO(
        1, 1, modes=3, width=4, n_layers=1, projection_width=4, key=key
    )


def _data(kind, key):
    kx, ky = jax.random.split(key)
    shape = (5, 2) if kind in ("mlp", "buffer") else (3, 1, 8)
    out = (5, 3) if kind in ("mlp", "buffer") else (3, 1, 8)
    return jax.random.normal(kx, shape), jax.random.normal(ky, out)


def _model(kind, key):
    if kind == "mlp":
        return _mlp(key)
    if kind == "fno":
        return _fno(key)
    return _WithBuffer(_mlp(key), jnp.array([1, 2, 3]), 0.5)


def _mse(apply, x, y):
    return jnp.mean((jax.vmap(apply)(x) - y) ** 2)


def _equinox_step(model, tx, x, y):
    @eqx.filter_jit
    def step(model, opt_state):
        loss, grads = eqx.filter_value_and_grad(lambda m: _mse(m, x, y))(model)
        params = eqx.filter(model, eqx.is_inexact_array)
        updates, opt_state = tx.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), loss

    return step(model, tx.init(eqx.filter(model, eqx.is_inexact_array)))


def _nnx_step(model, tx, x, y):
    wrapper = to_nnx(model)
    optimizer = nnx.Optimizer(wrapper, tx, wrt=nnx.Param)
    traces = []

    @nnx.jit
    def step(wrapper, optimizer):
        traces.append(None)
        loss, grads = nnx.value_and_grad(lambda m: _mse(m, x, y))(wrapper)
        optimizer.update(wrapper, grads)
        return loss

    loss = step(wrapper, optimizer)
    return from_nnx(wrapper), loss, wrapper, optimizer, step, traces


def _linen_step(model, tx, x, y):
    module = to_linen(model)
    params = jax.jit(module.init)(jax.random.key(123), x[0])["params"]
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state):
        loss, grads = jax.value_and_grad(
            lambda p: _mse(lambda xi: module.apply({"params": p}, xi), x, y)
        )(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), loss

    new_params, loss = step(params, opt_state)
    return from_linen(module, {"params": new_params}), loss, params


def _assert_same_model(got, want):
    assert type(got) is type(want)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        if eqx.is_array(b):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
        else:
            assert a == b


@pytest.mark.parametrize("kind", ["mlp", "fno", "buffer"])
def test_one_adam_step_matches_the_equinox_loop(kind, getkey):
    model = _model(kind, getkey())
    x, y = _data(kind, getkey())
    tx = optax.adam(1e-2)
    want, want_loss = _equinox_step(model, tx, x, y)
    from_n, nnx_loss, *_ = _nnx_step(model, tx, x, y)
    from_l, linen_loss, _ = _linen_step(model, tx, x, y)
    np.testing.assert_allclose(nnx_loss, want_loss, rtol=RTOL)
    np.testing.assert_allclose(linen_loss, want_loss, rtol=RTOL)
    _assert_same_model(from_n, want)
    _assert_same_model(from_l, want)
    # the step moved the parameters (so the comparison above means something)
    moved = jax.tree.map(
        lambda a, b: float(jnp.max(jnp.abs(a - b))),
        eqx.filter(want, eqx.is_inexact_array),
        eqx.filter(model, eqx.is_inexact_array),
    )
    assert min(jax.tree.leaves(moved)) > 1e-4


def test_nnx_wrapper_holds_the_model_and_trains_without_retracing(getkey):
    model = _model("buffer", getkey())
    x, y = _data("buffer", getkey())
    wrapper = to_nnx(model)
    weight = wrapper.params["mlp"]["layers"]["0"]["weight"]
    assert isinstance(weight, nnx.Param)
    np.testing.assert_array_equal(weight[...], model.mlp.layers[0].weight)
    assert not isinstance(wrapper.buffers["shift"], nnx.Param)
    assert "shift" not in wrapper.params
    np.testing.assert_allclose(jax.vmap(wrapper)(x), jax.vmap(model)(x), rtol=RTOL)

    _, _, wrapper, optimizer, step, traces = _nnx_step(model, optax.adam(1e-2), x, y)
    losses = [float(step(wrapper, optimizer)) for _ in range(3)]
    assert len(traces) == 1, "nnx.jit retraced the step"
    assert losses[-1] < losses[0]
    trained = from_nnx(wrapper)
    np.testing.assert_array_equal(trained.shift, model.shift)  # buffers stay put
    assert trained.scale == model.scale


def test_linen_params_are_the_models_arrays(getkey):
    model = _model("buffer", getkey())
    x, _ = _data("buffer", getkey())
    module = to_linen(model)
    variables = module.init(jax.random.key(0), x[0])
    assert set(variables) == {"params"}
    params = variables["params"]
    assert set(params) == {"mlp"}  # the integer `shift` is no parameter
    np.testing.assert_array_equal(
        params["mlp"]["layers"]["1"]["bias"], model.mlp.layers[1].bias
    )
    np.testing.assert_allclose(
        module.apply(variables, x[0]), model(x[0]), rtol=RTOL, atol=ATOL
    )
    _assert_same_model(from_linen(module, variables), model)
    with pytest.raises(ValueError, match="variables dict"):
        from_linen(module, params)


def test_bad_arguments_say_what_to_do(getkey):
    model = _mlp(getkey())
    with pytest.raises(TypeError, match="to_nnx"):
        from_nnx(model)
    with pytest.raises(TypeError, match="to_linen"):
        from_linen(model, {})
    with pytest.raises(TypeError, match="equinox model"):
        to_nnx(jnp.ones(3))
    module = to_linen(model)
    with pytest.raises(ValueError, match="no entry"):
        from_linen(module, {"params": {"layers": {}}})


def test_missing_flax_says_how_to_install(monkeypatch, getkey):
    model = _mlp(getkey())
    wrapper = to_nnx(model)
    for name in [m for m in sys.modules if m == "flax" or m.startswith("flax.")]:
        monkeypatch.setitem(sys.modules, name, None)
    install = r"pip install 'sciml-jax\[flax\]'"
    for call in (
        lambda: to_nnx(model),
        lambda: from_nnx(wrapper),
        lambda: to_linen(model),
        lambda: from_linen(None, {}),
    ):
        with pytest.raises(ImportError, match=install):
            call()


def test_sciml_does_not_import_flax():
    code = (
        "import sys, sciml, sciml.interop; sciml.interop.to_nnx; "
        "assert 'flax' not in sys.modules, 'flax was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
