"""`PINNLoss`: zero for the exact solution, the causal weights and the gradient-norm
balance as their formulas say, it trains in `sciml.training.fit`, and bad residuals,
models and settings are refused with clear errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciml import nn, pinns, training
from sciml.pinns import problems


class Exact(eqx.Module):
    """The problem's exact solution as a model, plus `eps` times a bump."""

    problem: pinns.AbstractPDEProblem = eqx.field(static=True)
    eps: jax.Array

    def __call__(self, x):
        return (self.problem.exact(x) + self.eps * jnp.sum(jnp.sin(3.0 * x)))[None]


def _batch(problem, n=64, seed=0):
    return pinns.Collocation(problem, n, 16, key=jax.random.key(seed))(0)


def test_exact_solution_has_zero_loss_and_a_perturbation_does_not():
    problem = problems.KleinGordon()
    loss = eqx.filter_jit(pinns.PINNLoss(problem))
    with jax.enable_x64(True):
        batch = jax.tree.map(lambda a: a.astype(jnp.float64), _batch(problem))
        value, metrics = loss(Exact(problem, jnp.array(0.0)), batch, None)
        assert float(value) < 1e-20
        assert set(metrics) == {
            "residual",
            "initialvalue_0",
            "initialvelocity_1",
            "dirichlet_2",
        }
        value, metrics = loss(Exact(problem, jnp.array(0.1)), batch, None)
        assert float(value) > 1e-4 and all(float(v) > 0 for v in metrics.values())
        total = sum(metrics.values())  # KleinGordon weighs every term 1
        np.testing.assert_allclose(float(value), float(total), rtol=1e-12)


def test_causal_weights_follow_their_formula():
    problem = problems.Burgers1D()
    loss = pinns.PINNLoss(problem, causal_chunks=4, causal_eps=2.0)
    t = jnp.array([0.1, 0.2, 0.3, 0.6, 0.9])  # chunks 0, 0, 1, 2, 3
    squares = jnp.array([1.0, 3.0, 0.5, 0.25, 4.0])
    interior = jnp.stack([t, jnp.zeros(5)], axis=-1)
    value, weights = loss._causal(interior, squares)
    chunk_losses = np.array([2.0, 0.5, 0.25, 4.0])
    expected_w = np.exp(-2.0 * np.array([0.0, 2.0, 2.5, 2.75]))
    np.testing.assert_allclose(weights, expected_w, rtol=1e-6)
    np.testing.assert_allclose(value, np.mean(expected_w * chunk_losses), rtol=1e-6)
    # the weights are constants: no gradient flows through them
    grad = jax.grad(lambda s: loss._causal(interior, s)[0])(squares)
    counts = np.array([2, 2, 1, 1, 1])
    np.testing.assert_allclose(
        grad, expected_w[[0, 0, 1, 2, 3]] / 4 / counts, rtol=1e-6
    )


def test_grad_norm_balance_equalises_the_weighted_gradients():
    problem = problems.Poisson2D(engine="forward")
    model = nn.MLP(2, 1, width=8, depth=2, activation="tanh", key=jax.random.key(0))
    batch = _batch(problem, 32)

    @eqx.filter_jit
    def balanced_and_norms(model):
        value, metrics = pinns.PINNLoss(problem, balance="grad_norm")(
            model, batch, None
        )
        terms = pinns.PINNLoss(problem).terms
        norms = [
            optax.tree.norm(
                eqx.filter(
                    jax.grad(lambda m, i=i: terms(m, batch)[0][i])(model),
                    eqx.is_inexact_array,
                )
            )
            for i in range(2)
        ]
        return value, metrics, jnp.stack(norms)

    value, metrics, norms = jax.device_get(balanced_and_norms(model))
    lam = np.array([metrics["lambda_0"], metrics["lambda_1"]])
    np.testing.assert_allclose(lam * norms, lam[0] * norms[0], rtol=1e-4)
    np.testing.assert_allclose(lam, norms.sum() / norms, rtol=1e-4)
    expected = lam[0] * metrics["residual"] + lam[1] * metrics["dirichlet_0"]
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_a_pinn_trains_in_fit():
    problem = problems.Poisson2D(engine="forward")
    model = nn.MLP(2, 1, width=16, depth=2, activation="tanh", key=jax.random.key(1))
    points = pinns.Collocation(
        problem, 128, 32, resample_every=10, key=jax.random.key(2)
    )
    result = training.fit(
        model, pinns.PINNLoss(problem), points, optax.adam(1e-2), steps=200,
        log_every=50, progress=False,
    )  # fmt: skip
    losses = [r["loss"] for r in result.history]
    assert losses[-1] < 0.05 * losses[0]
    assert pinns.relative_l2(result.model, problem) < 0.4  # measured 0.21


def test_bad_residuals_models_and_settings_are_refused():
    class Matrix(problems.Poisson2D):
        def residual(self, u, x):
            return jnp.ones((2, 3)) * u(x)

    batch = _batch(problems.Poisson2D(), 8)
    model = nn.MLP(2, 1, width=4, depth=1, key=jax.random.key(0))
    shapes = eqx.filter_eval_shape  # the checks run at trace time: nothing compiles
    with pytest.raises(ValueError, match=r"returned shape \(2, 3\)"):
        shapes(pinns.PINNLoss(Matrix()), model, batch, None)
    wide = nn.MLP(2, 3, width=4, depth=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"expected \(1,\)"):
        shapes(pinns.PINNLoss(problems.Poisson2D()), wide, batch, None)
    with pytest.raises(ValueError, match="time axis"):
        pinns.PINNLoss(problems.Poisson2D(), causal_chunks=4)
    with pytest.raises(ValueError, match="balance"):
        pinns.PINNLoss(problems.Poisson2D(), balance="magic")
    no_conditions = {**batch, "conditions": ()}
    with pytest.raises(ValueError, match="condition point sets"):
        shapes(pinns.PINNLoss(problems.Poisson2D()), model, no_conditions, None)
