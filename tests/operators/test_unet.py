"""sciml.operators.UNet. XLA:CPU compiles a U-Net's forward pass in about a second
and its gradient in several, so each configuration is compiled once (the module
fixtures) and the tests share it."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml.operators import UNet
from sciml.operators._unet import conv as unet_conv

KEY = jax.random.key(0)


def pdebench_parameters(cin, cout, f, dims, batchnorm=True):
    """The parameters of PDEBench's `UNet1d` / `UNet2d` / `UNet3d(cin, cout, f)`,
    counted from its layers: blocks of two bias-free 3-point convolutions, each
    followed by a BatchNorm with a weight and a bias per channel; transposed
    convolutions (kernel 2, with bias) and a pointwise output convolution with
    bias. `batchnorm=False` leaves the BatchNorm weights out."""
    taps = 3**dims

    def block(a, c):
        return taps * (a * c + c * c) + (4 * c if batchnorm else 0)

    n = block(cin, f) + block(f, 2 * f) + block(2 * f, 4 * f) + block(4 * f, 8 * f)
    n += block(8 * f, 16 * f)
    for c in (8 * f, 4 * f, 2 * f, f):
        n += 2**dims * (2 * c) * c + c  # up-convolution from 2c to c channels
        n += block(2 * c, c)  # on [up, skip]
    return n + f * cout + cout


def n_params(model) -> int:
    """Real parameters of a model, built or shape-only."""
    leaves = jax.tree.leaves(model)
    return sum(
        math.prod(a.shape) for a in leaves if jnp.issubdtype(a.dtype, jnp.inexact)
    )


def test_pdebench_count_formula():
    # the formula against PyTorch's count of PDEBench's own modules, taken once:
    # sum(p.numel() for p in UNet1d(1, 1, 32).parameters()), and UNet2d(4, 4, 32)
    assert pdebench_parameters(1, 1, 32, 1) == 2_707_809
    assert pdebench_parameters(4, 4, 32, 2) == 7_763_428


@pytest.mark.parametrize("cin,cout,dims", [(1, 1, 1), (10, 1, 1), (4, 4, 2), (2, 3, 3)])
@pytest.mark.parametrize("norm", ["none", "group"])
def test_unet_parameter_count_matches_pdebench(getkey, cin, cout, dims, norm):
    # GroupNorm's affine weights stand where PDEBench's BatchNorm's are
    model = eqx.filter_eval_shape(UNet, cin, cout, dims, norm=norm, key=getkey())
    expected = pdebench_parameters(cin, cout, 32, dims, batchnorm=norm == "group")
    assert n_params(model) == expected


def test_unet_init_is_uniform_in_fan_in(getkey):
    model = UNet(1, 1, features=4, key=getkey())
    for layer in (model.encoders[1].conv1, model.upconvs[0], model.head):
        lim = 1 / math.sqrt(math.prod(layer.weight.shape[1:]))
        assert float(jnp.max(jnp.abs(layer.weight))) <= lim
        assert float(jnp.max(jnp.abs(layer.weight))) > 0.8 * lim
    assert model.encoders[0].conv1.bias is None and model.head.bias is not None


# A reference forward pass written from PDEBench's definition, on a batch of
# channel-first fields (N, C, X), with lax's convolutions and the model's weights.


def _conv(x, w, padding):
    return jax.lax.conv_general_dilated(
        x, w, (1,), [(padding, padding)], dimension_numbers=("NCH", "OIH", "NCH")
    )


def _norm(x, gn, eps=1e-5):
    n, c, width = x.shape
    g = x.reshape(n, gn.groups, c // gn.groups, width)
    mean = g.mean(axis=(2, 3), keepdims=True)
    var = g.var(axis=(2, 3), keepdims=True)
    g = ((g - mean) / jnp.sqrt(var + eps)).reshape(x.shape)
    return g * gn.weight[:, None] + gn.bias[:, None]


def _block(x, block):
    for conv, norm in ((block.conv1, block.norm1), (block.conv2, block.norm2)):
        x = _conv(x, conv.weight, 1)
        x = jnp.tanh(x if norm is None else _norm(x, norm))
    return x


@jax.jit
def reference_1d(model, x):
    skips = []
    for encoder in model.encoders:
        x = _block(x, encoder)
        skips.append(x)
        n, c, width = x.shape
        x = x.reshape(n, c, width // 2, 2).max(axis=-1)
    x = _block(x, model.bottleneck)
    for up, decoder, skip in zip(
        model.upconvs, model.decoders, skips[::-1], strict=True
    ):
        y = jax.lax.conv_transpose(
            x, up.weight, (2,), "VALID", dimension_numbers=("NCH", "OIH", "NCH")
        )
        x = _block(jnp.concatenate([y + up.bias, skip], axis=1), decoder)  # (dec, enc)
    return _conv(x, model.head.weight, 0) + model.head.bias


def value_and_grads(model, u):
    """`jax.vmap(model)(u)` and the gradient of its mean square, in one compiled
    call."""

    def loss(m):
        out = jax.vmap(m)(u)
        return jnp.mean(out**2), out

    (_, out), grads = eqx.filter_jit(eqx.filter_value_and_grad(loss, has_aux=True))(
        model
    )
    return out, jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))


AMPLITUDES = (1.0, 4.0, 0.5, 2.0)


@pytest.fixture(scope="module", params=["none", "group"])
def run_1d(request):
    """A 1-D model, a batch (one field at `AMPLITUDES`, then an independent one),
    the model's output on it (through the gradient with GroupNorm), the
    gradients (None without)."""
    norm = request.param
    k_model, k_scale, k_u = jax.random.split(
        jax.random.fold_in(KEY, norm == "group"), 3
    )
    model = UNet(3, 2, 1, features=8, norm=norm, groups=4, key=k_model)
    if norm == "group":  # affine maps other than the identity
        scales = lambda m: [
            n.weight for b in (*m.encoders, m.bottleneck, *m.decoders)
            for n in (b.norm1, b.norm2)
        ]  # fmt: skip
        keys = jax.random.split(k_scale, len(scales(model)))
        new = [
            1 + 0.3 * references.normal(k, w.shape)
            for k, w in zip(keys, scales(model), strict=True)
        ]
        model = eqx.tree_at(scales, model, new)
    u = references.normal(k_u, (2, 3, 64))
    u = jnp.concatenate([a * u[:1] for a in AMPLITUDES] + [u[1:]])
    if norm == "group":
        out, grads = value_and_grads(model, u)
    else:
        out, grads = eqx.filter_jit(jax.vmap(model))(u), None
    return model, u, out, grads


def test_unet_1d_matches_reference(run_1d):
    model, u, out, _ = run_1d
    assert out.shape == (len(AMPLITUDES) + 1, 2, 64)
    np.testing.assert_allclose(out, reference_1d(model, u), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("run_1d", ["group"], indirect=True)
def test_unet_jit_vmap_grad(run_1d):
    grads = run_1d[-1]  # compiled for the GroupNorm model only
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert all(float(np.abs(g).sum()) > 0 for g in grads)


def test_unet_amplitude_invariance_only_with_group_norm(run_1d):
    # bias-free convolutions, then a per-sample normalisation: f(a u) = f(u)
    model, _, out, _ = run_1d
    n = len(AMPLITUDES)
    gap = float(jnp.max(jnp.abs(out[1:n] - out[0])) / jnp.max(jnp.abs(out[0])))
    if model.norm == "group":
        assert gap < 1e-3
    else:
        assert gap > 0.1


def test_unet_2d_matches_equinox_layers(getkey):
    # the channels-last internals against equinox's own channel-first layers
    model = UNet(2, 3, 2, features=4, norm="group", groups=2, key=getkey())
    pool = eqx.nn.MaxPool2d(2, 2)

    def block(b, x):
        return jnp.tanh(b.norm2(b.conv2(jnp.tanh(b.norm1(b.conv1(x))))))

    def theirs(m, x):
        skips = []
        for e in m.encoders:
            x = block(e, x)
            skips.append(x)
            x = pool(x)
        x = block(m.bottleneck, x)
        for up, dec, skip in zip(m.upconvs, m.decoders, skips[::-1], strict=True):
            x = block(dec, jnp.concatenate([up(x), skip]))  # (dec, enc)
        return m.head(x)

    u = references.normal(getkey(), (2, 2, 32, 16))
    ours = eqx.filter_jit(jax.vmap(model))(u)
    assert ours.shape == (2, 3, 32, 16)
    expected = eqx.filter_jit(jax.vmap(theirs, in_axes=(None, 0)))(model, u)
    np.testing.assert_allclose(ours, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "grid",  # 2-D and 3-D: 15 s of compilation (the 2-D model test covers 2-D)
    [(32,), pytest.param((16, 8), marks=pytest.mark.slow),
     pytest.param((8, 4, 6), marks=pytest.mark.slow)],
)  # fmt: skip
def test_conv_forms_agree(getkey, grid):
    # XLA's convolution op and the stacked-tap matrix products: one layer, its
    # output and its gradients (weights and input), 1-D to 3-D
    layer = eqx.nn.Conv(len(grid), 3, 5, 3, padding=1, key=getkey())
    h = references.normal(getkey(), (*grid, 3))  # channels-last
    out = {}
    for how in ("matmul", "xla"):
        f = lambda lay, h, how=how: jnp.sum(jnp.sin(unet_conv(lay, h, how)))  # noqa: E731
        out[how] = (unet_conv(layer, h, how), *eqx.filter_grad(f)(layer, h).weight,
                    jax.grad(f, argnums=1)(layer, h))  # fmt: skip
    for a, b in zip(out["xla"], out["matmul"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_unet_conv_xla_matches_the_default(getkey):
    key, u = getkey(), references.normal(getkey(), (2, 2, 32))
    outs = [
        eqx.filter_jit(jax.vmap(UNet(2, 3, 1, 4, "group", 2, conv=how, key=key)))(u)
        for how in ("matmul", "xla")
    ]
    np.testing.assert_allclose(outs[1], outs[0], rtol=2e-5, atol=2e-6)


def test_unet_3d_shape(getkey):
    model = eqx.filter_eval_shape(UNet, 2, 3, 3, features=4, key=getkey())
    out = eqx.filter_eval_shape(model, jax.ShapeDtypeStruct((2, 16, 32, 16), float))
    assert out.shape == (3, 16, 32, 16)


def test_unet_bad_input(getkey, no_typecheck):
    model = eqx.filter_eval_shape(UNet, 2, 1, 2, features=4, key=getkey())
    with pytest.raises(ValueError, match=r"C=2, X, Y\), 2 spatial axes"):
        model(jnp.ones((2, 32)))
    with pytest.raises(ValueError, match=r"C=2.*got \(3, 32, 32\)"):
        model(jnp.ones((3, 32, 32)))
    with pytest.raises(ValueError, match=r"vmap"):
        model(jnp.ones((4, 2, 32, 32)))
    with pytest.raises(ValueError, match=r"multiple of 16.*\(32, 40\).*\(32, 32\)"):
        model(jnp.ones((2, 32, 40)))
    with pytest.raises(ValueError, match=r"multiple of 16.*\(8, 16\).*\(16, 16\)"):
        model(jnp.ones((2, 8, 16)))
    with pytest.raises(ValueError, match="norm must be one of"):
        UNet(1, 1, norm="batch", key=getkey())
    with pytest.raises(ValueError, match="conv must be one of"):
        UNet(1, 1, conv="cudnn", key=getkey())
    with pytest.raises(ValueError, match="dims must be <= 3"):
        UNet(1, 1, dims=4, key=getkey())
    with pytest.raises(TypeError, match="features must be an integer"):
        UNet(1, 1, features=3.0, key=getkey())
    with pytest.raises(ValueError, match=r"groups=32 does not divide \[48\].*groups=8"):
        UNet(1, 1, features=24, norm="group", key=getkey())
