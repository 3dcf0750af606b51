"""The physics-informed operator loss (PI-DeepONet) and its parameterised problems."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciml.nn import MLP
from sciml.operators import DeepONet
from sciml.pinns import OperatorPINNLoss
from sciml.pinns.problems import (
    Antiderivative,
    PeriodicBurgers,
    SourceDiffusionReaction,
)
from sciml.training import fit

SENSORS = jnp.array([0.0, 0.5, 1.0])


class Monomials(eqx.Module):
    def __call__(self, y):
        return jnp.stack([y[0], y[0] ** 2, y[0] ** 3])


def _antiderivative(u):
    return Antiderivative(u, SENSORS)


def _exact_model(key):
    vandermonde = np.vander(np.asarray(SENSORS), 3, increasing=True)
    weight = np.diag([1.0, 0.5, 1.0 / 3.0]) @ np.linalg.inv(vandermonde)
    branch = MLP(3, 3, depth=0, key=key)
    branch = eqx.tree_at(
        lambda b: (b.layers[0].weight, b.layers[0].bias),
        branch,
        (jnp.asarray(weight, jnp.float32), jnp.zeros(3)),
    )
    return DeepONet(3, 1, latent=3, branch=branch, trunk=Monomials(), key=key)


def test_exact_operator_has_zero_physics_loss(getkey):
    model = _exact_model(getkey())
    u = jnp.array([[1.0, 2.0, -1.0], [0.0, 0.3, 0.1]])
    batch = {
        "inputs": u,
        "interior": SENSORS[:, None],
        "conditions": (jnp.zeros((1, 1)),),
    }
    physics = eqx.filter_jit(OperatorPINNLoss(_antiderivative))  # not op by op
    loss, metrics = physics(model, batch)
    assert float(loss) < 1e-10
    # per-function points (the same ones) give the same value
    per = {
        **batch,
        "interior": jnp.stack([SENSORS[:, None]] * 2),
        "conditions": (jnp.zeros((2, 1, 1)),),
    }
    assert float(physics(model, per)[0]) < 1e-10
    # a wrong model does not
    wrong = eqx.tree_at(lambda m: m.bias, model, jnp.ones(1))
    loss, metrics = physics(wrong, batch)
    assert float(metrics["dirichlet_0"]) == pytest.approx(1.0)


def test_residual_of_source_diffusion_reaction():
    xs = jnp.linspace(0.0, 1.0, 5)
    problem = SourceDiffusionReaction(xs**2, xs, diffusivity=0.1, rate=0.2)
    field = lambda p: p[0] * p[1] ** 2  # noqa: E731  s = t x^2
    p = jnp.array([0.5, 0.5])
    # s_t - D s_xx - k s^2 - u = x^2 - 0.1 * 2t - 0.2 (t x^2)^2 - x^2
    want = -0.1 * 2 * 0.5 - 0.2 * (0.5 * 0.25) ** 2
    assert float(problem.residual(field, p)) == pytest.approx(want, rel=1e-5)


@pytest.mark.slow  # 15 s of training; the zero-physics-loss test stays fast
def test_physics_only_training_learns_the_antiderivative(getkey):
    xs = jnp.linspace(0.0, 1.0, 11)
    problem = lambda u: Antiderivative(u, xs)  # noqa: E731
    coeffs = jax.random.normal(getkey(), (64, 3))
    u = coeffs[:, :1] + coeffs[:, 1:2] * xs + coeffs[:, 2:] * xs**2
    exact = coeffs[:, :1] * xs + coeffs[:, 1:2] * xs**2 / 2 + coeffs[:, 2:] * xs**3 / 3
    model = DeepONet(11, 1, latent=16, width=32, depth=2, key=getkey())
    batch = {"inputs": u, "interior": xs[:, None], "conditions": (jnp.zeros((1, 1)),)}
    loss = OperatorPINNLoss(problem)
    out = fit(model, loss, [batch] * 400, optax.adam(3e-3), steps=400, progress=False)
    pred = out.model.cartesian(u, xs[:, None])[..., 0]
    err = float(jnp.linalg.norm(pred - exact) / jnp.linalg.norm(exact))
    assert err < 0.05
    with_data = OperatorPINNLoss(problem, data_weight=1.0)
    value, metrics = with_data(
        out.model, {**batch, "data": (xs[:, None], exact[..., None])}
    )
    assert "data" in metrics and float(value) > float(metrics["data"])


def test_bad_input(getkey):
    with pytest.raises(ValueError, match="one value per sensor"):
        Antiderivative(jnp.ones(4), SENSORS)
    with pytest.raises(TypeError, match="problem"):
        OperatorPINNLoss("antiderivative")
    model = _exact_model(getkey())
    batch = {
        "inputs": jnp.ones((2, 3)),
        "interior": jnp.ones(3),
        "conditions": (jnp.zeros((1, 1)),),
    }
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        OperatorPINNLoss(_antiderivative)(model, batch)


def test_periodic_burgers_residual_and_conditions():
    xs = jnp.linspace(0.0, 1.0, 11)
    problem = PeriodicBurgers(jnp.sin(2 * jnp.pi * xs), xs, nu=0.01)
    decay = 0.01 * 4 * jnp.pi**2

    def heat(p):  # solves u_t = nu u_xx, so the residual is u u_x
        return jnp.sin(2 * jnp.pi * p[1]) * jnp.exp(-decay * p[0])

    p = jnp.array([0.3, 0.2])
    u_x = 2 * jnp.pi * jnp.cos(2 * jnp.pi * 0.2) * jnp.exp(-decay * 0.3)
    assert float(problem.residual(heat, p)) == pytest.approx(
        float(heat(p) * u_x), rel=1e-5
    )
    initial, periodic = problem.conditions
    assert float(
        initial.residual(heat, jnp.array([0.0, 0.3]), problem.domain)
    ) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(
        periodic.residual(heat, jnp.array([0.4, 0.0]), problem.domain), 0.0, atol=1e-5
    )
