"""POD-DeepONet, MIONet and the modified DeepONet."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.nn import MLP, Constant, ModifiedMLP
from sciml.operators import MIONet, ModifiedDeepONet, PODDeepONet, pod_basis


def _low_rank_outputs(key, n=30, p=40, rank=4):
    grid = np.linspace(0.0, 1.0, p)[:, None]
    modes = np.stack([np.sin((k + 1) * np.pi * grid[:, 0]) for k in range(rank)])
    coeffs = np.asarray(jax.random.normal(key, (n, rank)))
    return coeffs @ modes + 0.3, grid


def test_pod_basis_is_orthonormal_and_spans_the_outputs(getkey):
    outputs, _ = _low_rank_outputs(getkey())
    basis, mean = pod_basis(outputs, 4)
    assert basis.shape == (40, 1, 4) and mean.shape == (40, 1)
    phi = basis[:, 0, :]
    np.testing.assert_allclose(phi.T @ phi, np.eye(4), atol=1e-12)
    centred = outputs - mean[:, 0]
    np.testing.assert_allclose(centred @ phi @ phi.T, centred, atol=1e-10)


def test_pod_deeponet_represents_the_identity_on_the_span(getkey):
    """With the branch set to the projection onto the basis, G(u) = u exactly for u
    in the span: the known answer of a linear operator on the grid."""
    outputs, grid = _low_rank_outputs(getkey())
    basis, mean = pod_basis(outputs, 4)
    phi = basis[:, 0, :]
    branch = MLP(40, 4, depth=0, key=getkey())
    branch = eqx.tree_at(
        lambda b: (b.layers[0].weight, b.layers[0].bias),
        branch,
        (
            jnp.asarray(phi.T, jnp.float32),
            jnp.asarray(-phi.T @ mean[:, 0], jnp.float32),
        ),
    )
    model = PODDeepONet(outputs, grid, 4, 40, branch=branch, key=getkey())
    u = jnp.asarray(outputs[:3], jnp.float32)
    out = eqx.filter_jit(model.cartesian)(u, jnp.asarray(grid, jnp.float32))
    np.testing.assert_allclose(out[..., 0], u, atol=1e-5)
    # the basis is a Constant: no trainable leaf, no gradient
    assert isinstance(model.basis, Constant)
    params = eqx.filter(model, eqx.is_inexact_array)
    n = sum(x.size for x in jax.tree.leaves(params))
    assert n == 40 * 4 + 4


def test_pod_extra_trunk_and_multiple_outputs(getkey):
    outputs, grid = _low_rank_outputs(getkey())
    two = np.stack([outputs, 2 * outputs], axis=-1)
    model = PODDeepONet(two, grid, 3, 40, width=8, depth=1, extra=2, key=getkey())
    out = eqx.filter_jit(model)(jnp.ones(40), jnp.asarray(grid, jnp.float32))
    assert out.shape == (40, 2)
    grads = eqx.filter_jit(
        eqx.filter_grad(lambda m: jnp.sum(m(jnp.ones(40), jnp.asarray(grid)) ** 2))
    )(model)
    assert float(jnp.abs(grads.trunk.layers[0].weight).sum()) > 0


def test_pod_deeponet_bad_input(getkey, no_typecheck):
    outputs, grid = _low_rank_outputs(getkey())
    with pytest.raises(ValueError, match="at most"):
        PODDeepONet(outputs, grid, 50, 40, key=getkey())
    with pytest.raises(ValueError, match="grid has shape"):
        PODDeepONet(outputs, grid[:-1], 3, 40, key=getkey())
    model = PODDeepONet(outputs, grid, 3, 40, width=8, depth=1, key=getkey())
    with pytest.raises(ValueError, match="basis/grid mismatch"):
        model(jnp.ones(40), jnp.ones((20, 1)))
    with pytest.raises(Exception, match="not the training grid"):
        eqx.filter_jit(model)(jnp.ones(40), jnp.asarray(grid + 0.1, jnp.float32))


class Fixed(eqx.Module):
    value: jax.Array

    def __call__(self, x):
        return x[0] * self.value


def test_mionet_product_merge(getkey):
    b1, b2, t = jnp.array([1.0, 2.0]), jnp.array([3.0, -1.0]), jnp.array([0.5, 0.25])
    model = MIONet(
        (1, 1), 1, latent=2, branches=(Fixed(b1), Fixed(b2)), bias=False, key=getkey()
    )
    model = eqx.tree_at(lambda m: m.trunk, model, Fixed(t))
    out = model((jnp.ones(1), 2 * jnp.ones(1)), jnp.ones((1, 1)))
    np.testing.assert_allclose(out[0, 0], jnp.sum(b1 * 2 * b2 * t), rtol=1e-6)


@pytest.mark.parametrize("merge", ["product", "sum", "concat"])
def test_mionet_batches(getkey, merge):
    model = MIONet(
        (6, 4), 2, latent=4, width=8, depth=1, merge=merge, n_outputs=2, key=getkey()
    )
    u = (jax.random.normal(getkey(), (3, 6)), jax.random.normal(getkey(), (3, 4)))
    y = jax.random.uniform(getkey(), (5, 2))
    out = eqx.filter_jit(model.cartesian)(u, y)
    assert out.shape == (3, 5, 2)
    np.testing.assert_allclose(out[1], model((u[0][1], u[1][1]), y), rtol=1e-5)


def test_mionet_bad_input(getkey, no_typecheck):
    with pytest.raises(ValueError, match="two or more"):
        MIONet((6,), 2, key=getkey())
    model = MIONet((6, 4), 2, latent=4, width=8, depth=1, key=getkey())
    with pytest.raises(ValueError, match="tuple of 2 inputs"):
        model(jnp.ones(6), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"input 1.*4 sensor values"):
        model((jnp.ones(6), jnp.ones(5)), jnp.ones((3, 2)))


def test_modified_mlp_formula(getkey):
    net = ModifiedMLP(3, 2, width=5, depth=2, key=getkey())
    x = jax.random.normal(getkey(), (3,))
    u = jnp.tanh(net.encoder_u.weight @ x + net.encoder_u.bias)
    v = jnp.tanh(net.encoder_v.weight @ x + net.encoder_v.bias)
    h = jnp.tanh(net.layers[0].weight @ x + net.layers[0].bias)
    for layer in net.layers[1:-1]:
        z = jnp.tanh(layer.weight @ h + layer.bias)
        h = (1 - z) * u + z * v
    want = net.layers[-1].weight @ h + net.layers[-1].bias
    np.testing.assert_allclose(net(x), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mixing", ["cross", "per_network"])
def test_modified_deeponet(getkey, mixing):
    model = ModifiedDeepONet(
        8, 2, latent=6, width=10, depth=2, mixing=mixing, n_outputs=2, key=getkey()
    )
    u = jax.random.normal(getkey(), (3, 8))
    y = jax.random.uniform(getkey(), (5, 2))
    out = eqx.filter_jit(model.cartesian)(u, y)
    assert out.shape == (3, 5, 2)
    # each point's value depends on that point only
    np.testing.assert_allclose(
        eqx.filter_jit(model)(u[0], y[:2]), out[0, :2], rtol=1e-5, atol=1e-6
    )
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m.cartesian(u, y) ** 2)))(
        model
    )
    assert all(
        np.all(np.isfinite(g)) for g in jax.tree.leaves(eqx.filter(grads, eqx.is_array))
    )
    if mixing == "cross":
        # the branch features vary with the point: not a product B T^T
        b, t, _ = eqx.filter_jit(model.features)(u[0], y)
        assert b.shape[0] == 5 and float(jnp.std(b, axis=0).max()) > 0


class FNOBranch(eqx.Module):
    """An FNO as a branch: the field through the FNO, flattened, then linear."""

    fno: eqx.Module
    head: eqx.nn.Linear

    def __call__(self, u):
        return self.head(self.fno(u[None]).reshape(-1))


def test_an_fno_branch_and_mionet_gradients(getkey):
    from sciml.operators import FNO, DeepONet

    branch = FNOBranch(
        FNO(1, 2, 4, 4, 1, projection_width=4, key=getkey()),
        eqx.nn.Linear(2 * 16, 8, key=getkey()),
    )
    model = DeepONet(16, 1, latent=8, width=8, depth=1, branch=branch, key=getkey())
    u = jax.random.normal(getkey(), (3, 16))
    y = jnp.linspace(0.0, 1.0, 5)[:, None]
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m.cartesian(u, y) ** 2)))(
        model
    )
    assert float(jnp.abs(grads.branch.head.weight).sum()) > 0
    mio = MIONet((4, 3), 1, latent=4, width=8, depth=1, key=getkey())
    inputs = (jax.random.normal(getkey(), (2, 4)), jax.random.normal(getkey(), (2, 3)))
    g = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m.cartesian(inputs, y) ** 2)))(
        mio
    )
    assert all(float(jnp.abs(b.layers[0].weight).sum()) > 0 for b in g.branches)
