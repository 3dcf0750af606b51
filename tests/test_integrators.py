import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import integrators


def _quadratic_decay(t, y, args):
    return -(y**2)


@pytest.mark.parametrize("name", sorted(integrators.SOLVERS))
def test_every_named_solver_converges_at_its_order(name):
    """Global error at t=4 on the nonlinear y' = -y^2, y(0)=1 (exact 1/(1+t)), in
    float64: dt = 4 / 2^k; the slope of log2(error) over the three finest step sizes
    whose error is above round-off (2^-45) is within 0.6 of the declared order."""
    solver = integrators.get_solver(name)
    p = integrators.solver_order(solver)
    ks, log_errs = [], []
    with jax.enable_x64(True):
        y0 = jnp.array(1.0, dtype=jnp.float64)
        for k in range(2, 11):
            n = 2**k
            y1 = integrators.integrate(_quadratic_decay, solver, y0, 4.0 / n, n)[-1]
            err = abs(float(y1) - 0.2)
            if err < 2.0**-45:
                break
            ks.append(k)
            log_errs.append(np.log2(err))
    assert len(ks) >= 3
    slope = -np.polyfit(ks[-3:], log_errs[-3:], 1)[0]
    assert abs(slope - p) < 0.6


def test_rk4_tableau_and_order():
    assert integrators.solver_order(integrators.RK4()) == 4
    y1 = integrators.step(
        lambda t, y, a: y, integrators.RK4(), jnp.array(1.0), 0.0, 1.0
    )
    # RK4 reproduces the Taylor series of e up to h^4: 1 + 1 + 1/2 + 1/6 + 1/24.
    assert float(y1) == pytest.approx(1 + 1 + 1 / 2 + 1 / 6 + 1 / 24, rel=1e-6)


def test_get_solver_errors_and_instances():
    assert isinstance(integrators.get_solver("TSIT5"), diffrax.Tsit5)
    s = diffrax.Heun()
    assert integrators.get_solver(s) is s
    with pytest.raises(ValueError, match="Unknown solver 'rk45'"):
        integrators.get_solver("rk45")
    with pytest.raises(ValueError, match="positive finite step size"):
        integrators.check_dt(-0.1)
