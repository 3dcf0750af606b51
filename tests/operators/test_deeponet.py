"""DeepONet: the shared structure, the output strategies, exact representation of
a linear operator, and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.nn import MLP
from sciml.operators import STRATEGIES, DeepONet


class Monomials(eqx.Module):
    """A fixed trunk: (y, y^2, y^3)."""

    def __call__(self, y):
        return jnp.stack([y[0], y[0] ** 2, y[0] ** 3])


def _exact_antiderivative_model(key):
    """A DeepONet that is exactly u -> int_0^y u on quadratics sampled at 0, 1/2, 1:
    the branch maps the samples to (a, b/2, c/3), the trunk is (y, y^2, y^3)."""
    sensors = np.array([0.0, 0.5, 1.0])
    vandermonde = np.vander(sensors, 3, increasing=True)  # u = a + b x + c x^2
    weight = np.diag([1.0, 0.5, 1.0 / 3.0]) @ np.linalg.inv(vandermonde)
    branch = MLP(3, 3, depth=0, key=key)
    branch = eqx.tree_at(
        lambda b: (b.layers[0].weight, b.layers[0].bias),
        branch,
        (jnp.asarray(weight, jnp.float32), jnp.zeros(3)),
    )
    model = DeepONet(3, 1, latent=3, branch=branch, trunk=Monomials(), key=key)
    return model, sensors


def test_a_linear_operator_it_can_represent_is_exact(getkey):
    model, sensors = _exact_antiderivative_model(getkey())
    coeffs = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    u = np.stack([np.polyval(c[::-1], sensors) for c in coeffs])
    y = np.linspace(0.0, 1.0, 7)[:, None]
    exact = np.stack(
        [
            c[0] * y[:, 0] + c[1] * y[:, 0] ** 2 / 2 + c[2] * y[:, 0] ** 3 / 3
            for c in coeffs
        ]
    )
    out = eqx.filter_jit(model.cartesian)(jnp.asarray(u), jnp.asarray(y))
    assert out.shape == (2, 7, 1)
    np.testing.assert_allclose(out[..., 0], exact, atol=2e-6)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cartesian_paired_and_single_agree(getkey, strategy):
    model = DeepONet(
        6, 2, latent=4, width=8, depth=1, n_outputs=2, strategy=strategy, key=getkey()
    )
    u = jax.random.normal(getkey(), (3, 6))
    y = jax.random.uniform(getkey(), (5, 2))
    cart = eqx.filter_jit(model.cartesian)(u, y)  # compiled: not op by op
    assert cart.shape == (3, 5, 2)
    single = eqx.filter_jit(model)
    for i in range(3):
        np.testing.assert_allclose(cart[i], single(u[i], y), rtol=1e-6, atol=1e-6)
    paired = eqx.filter_jit(model.paired)(u, y[:3])
    np.testing.assert_allclose(
        paired, cart[jnp.arange(3), jnp.arange(3)], rtol=1e-6, atol=1e-6
    )


class Fixed(eqx.Module):
    """A network that returns a fixed vector, scaled by the input's first entry."""

    value: jax.Array

    def __call__(self, x):
        return x[0] * self.value


@pytest.mark.parametrize(
    "strategy,nb,nt",
    [("split_both", 4, 4), ("split_branch", 4, 2), ("split_trunk", 2, 4)],
)
def test_strategies_pair_the_right_groups(getkey, strategy, nb, nt):
    b = jnp.arange(1.0, nb + 1)
    t = jnp.arange(1.0, nt + 1) / 10
    latent = 4 if strategy == "split_both" else 2
    model = DeepONet(
        1,
        1,
        latent=latent,
        n_outputs=2,
        strategy=strategy,
        bias=False,
        branch=Fixed(b),
        trunk=Fixed(t),
        key=getkey(),
    )
    out = model(jnp.ones(1), jnp.ones((1, 1)))[0]
    if strategy == "split_both":
        want = [b[0] * t[0] + b[1] * t[1], b[2] * t[2] + b[3] * t[3]]
    elif strategy == "split_branch":
        want = [b[0] * t[0] + b[1] * t[1], b[2] * t[0] + b[3] * t[1]]
    else:
        want = [b[0] * t[0] + b[1] * t[1], b[0] * t[2] + b[1] * t[3]]
    np.testing.assert_allclose(out, want, rtol=1e-6)


def test_independent_is_separate_networks(getkey):
    keys = jax.random.split(getkey(), 4)
    branches = tuple(MLP(5, 3, 8, 1, key=k) for k in keys[:2])
    trunks = tuple(MLP(1, 3, 8, 1, final_activation="tanh", key=k) for k in keys[2:])
    model = DeepONet(
        5,
        1,
        latent=3,
        n_outputs=2,
        strategy="independent",
        branch=branches,
        trunk=trunks,
        key=getkey(),
    )
    u, y = jax.random.normal(getkey(), (5,)), jax.random.uniform(getkey(), (4, 1))
    out = model(u, y)
    for k in range(2):
        single = DeepONet(
            5, 1, latent=3, branch=branches[k], trunk=trunks[k], key=getkey()
        )
        np.testing.assert_allclose(out[:, k], single(u, y)[:, 0], rtol=1e-6)


def test_jit_vmap_grad_and_trunk_final_activation(getkey):
    model = DeepONet(
        10,
        2,
        latent=8,
        width=16,
        depth=2,
        fourier_features=4,
        fourier_scale=2.0,
        key=getkey(),
    )
    u = jax.random.normal(getkey(), (4, 10))
    y = jax.random.uniform(getkey(), (6, 2))
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.mean(m.cartesian(u, y) ** 2)))(
        model
    )
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert all(np.all(np.isfinite(g)) for g in leaves)
    # fixed Fourier frequencies are no trainable leaf
    n_params = sum(
        x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
    )
    mlp_params = sum(
        x.size
        for x in jax.tree.leaves(
            eqx.filter(model.trunk.layers[1], eqx.is_inexact_array)
        )
    )
    branch_params = sum(
        x.size for x in jax.tree.leaves(eqx.filter(model.branch, eqx.is_inexact_array))
    )
    assert n_params == mlp_params + branch_params + 1  # + the bias
    # DeepXDE applies the activation to the trunk's last layer
    assert model.trunk.layers[1].final_activation == "tanh"
    plain = DeepONet(
        10, 2, latent=8, width=16, depth=2, trunk_final_activation=False, key=getkey()
    )
    assert plain.trunk.final_activation is None


def test_cartesian_compiles_the_trunk_once_per_point_set(getkey):
    model = DeepONet(10, 1, latent=8, width=16, depth=1, key=getkey())
    u, y = jnp.ones((7, 10)), jnp.ones((5, 1))
    jaxpr = jax.make_jaxpr(model.cartesian)(u, y)
    # the trunk's hidden layers act on the 5 points once, never on 7 x 5 pairs
    shapes = [
        v.aval.shape
        for eqn in jaxpr.eqns
        for v in eqn.outvars
        if eqn.primitive.name == "dot_general"
    ]
    hidden = [s for s in shapes if 16 in s]
    assert any(5 in s for s in hidden)
    assert not any(5 in s and 7 in s for s in hidden)


def test_bad_input(getkey, no_typecheck):
    model = DeepONet(10, 2, latent=8, width=8, depth=1, key=getkey())
    with pytest.raises(ValueError, match="10 sensor values"):
        model(jnp.ones(9), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"query points of shape \(P, 2\)"):
        model(jnp.ones(10), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match=r"query points of shape \(P, 2\)"):
        model(jnp.ones(10), jnp.ones(2))
    with pytest.raises(ValueError, match="one point per input"):
        model.paired(jnp.ones((4, 10)), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="does not divide"):
        DeepONet(10, 2, latent=7, n_outputs=2, strategy="split_both", key=getkey())
    with pytest.raises(ValueError, match="needs 16"):
        DeepONet(
            10,
            2,
            latent=8,
            n_outputs=2,
            strategy="split_branch",
            branch=MLP(10, 8, 4, 1, key=getkey()),
            key=getkey(),
        )
    with pytest.raises(ValueError, match="strategy"):
        DeepONet(10, 2, strategy="split_all", key=getkey())
    with pytest.raises(ValueError, match="needs a branch network"):
        DeepONet((2, 8, 8), 2, key=getkey())
    with pytest.raises(ValueError, match="tuple"):
        DeepONet(
            10,
            2,
            latent=8,
            n_outputs=2,
            strategy="independent",
            branch=MLP(10, 16, 4, 1, key=getkey()),
            key=getkey(),
        )
