"""Method of lines: a spatial operator as the right-hand side, refined in time."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import convergence, integrators

N = 32
DT_TRAIN, T1 = 0.05, 0.8
DTS = DT_TRAIN * 2.0 ** np.arange(2, -5, -1)


def fields(n=N, batch=3, seed=0):
    """Smooth periodic fields (batch, 1, n): a few random Fourier modes."""
    rng = np.random.default_rng(seed)
    x = 2 * np.pi * np.arange(n) / n
    u = sum(
        rng.normal(size=(batch, 1, 1)) * np.sin(k * x + rng.uniform(0, 2 * np.pi))
        for k in (1, 2, 3)
    )
    return u


def test_stencil_flow_is_the_semi_discrete_solution():
    heat = convergence.PeriodicStencil.heat(N, nu=0.1)
    u0 = fields()
    with jax.enable_x64(True):
        fine = integrators.integrate(
            lambda t, u, a: heat(u), integrators.RK4(), jnp.asarray(u0), 1e-3, 500
        )[-1]
    np.testing.assert_allclose(heat.flow(u0, 0.5), np.asarray(fine), atol=1e-11)
    # the symbol of the Laplacian stencil: nu (2 cos(2 pi k / n) - 2) / dx^2
    dx = 2 * np.pi / N
    k = np.arange(N)
    expect = 0.1 * (2 * np.cos(2 * np.pi * k / N) - 2) / dx**2
    np.testing.assert_allclose(heat.eigenvalues(N).real, expect, rtol=1e-12)


@pytest.mark.parametrize("make", ["heat", "advection"])
def test_exact_linear_operator_passes_at_every_solver_order(make):
    """Calibration of the MOL form: a finite-difference operator whose semi-discrete
    solution is exact through the FFT converges at each solver's order."""
    op = getattr(convergence.PeriodicStencil, make)(N)
    report = convergence.test(
        convergence.MethodOfLines(op),
        fields(),
        T1,
        dts=DTS,
        reference=op.flow,
        solvers=["euler", "heun", "rk4"],
        dt_train=DT_TRAIN,
    )
    assert report.verdict == "PASS", report.summary()
    for sweep in report:
        assert convergence.order_accepted(sweep.observed_order, sweep.order), sweep


def test_discrete_map_operator_fails():
    """(exp(L dt_train) - I) / dt_train: exact with Euler at dt_train only."""
    heat = convergence.PeriodicStencil.heat(N)
    tilde = heat.discrete_map(DT_TRAIN, N)
    report = convergence.test(
        convergence.MethodOfLines(tilde),
        fields(),
        T1,
        "euler",
        DTS,
        heat.flow,
        dt_train=DT_TRAIN,
        true_vector_field=convergence.MethodOfLines(heat),
    )
    assert report.verdict == "FAIL" and report.reason.startswith("discrete map")
    assert report.errors[2] < 1e-10  # dt_train is the third step size


class ConvOperator(eqx.Module):
    """A 'learned' spatial operator: a periodic 1-D convolution."""

    conv: eqx.nn.Conv1d

    def __call__(self, u):
        return self.conv(jnp.pad(u, ((0, 0), (1, 1)), mode="wrap"))


def test_convolution_operator_with_learned_weights(getkey):
    """A conv layer holding the Laplacian stencil passes; a random one does not
    converge to the heat flow."""
    heat = convergence.PeriodicStencil.heat(N)
    conv = eqx.nn.Conv1d(1, 1, 3, use_bias=False, key=getkey())
    good = eqx.tree_at(
        lambda c: c.weight, conv, jnp.asarray(heat.coefficients).reshape(1, 1, 3)
    )
    u0 = fields()
    ok = convergence.test(
        convergence.MethodOfLines(ConvOperator(good)), u0, T1, "rk4", DTS, heat.flow
    )
    assert ok.verdict == "PASS", str(ok)
    bad = convergence.test(
        convergence.MethodOfLines(ConvOperator(conv)), u0, T1, "rk4", DTS, heat.flow
    )
    assert bad.verdict == "FAIL", str(bad)


def test_mol_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="same shape|must return"):
        convergence.test(
            convergence.MethodOfLines(lambda u: u[..., :-1]),
            fields(),
            T1,
            "rk4",
            DTS,
            None,
        )
    with pytest.raises(ValueError, match="as many offsets"):
        convergence.PeriodicStencil((0, 1), (1.0,))
    with pytest.raises(ValueError, match="defined on 32 points"):
        convergence.PeriodicStencil.heat(N).discrete_map(0.1, N)(jnp.zeros((1, 16)))
