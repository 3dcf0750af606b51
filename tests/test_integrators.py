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
        # every step count in one compiled function (the same scans, one compile)
        finals = jax.jit(
            lambda y: [
                integrators.integrate(_quadratic_decay, solver, y, 4.0 / 2**k, 2**k)[-1]
                for k in range(2, 11)
            ]
        )(y0)
        for k, y1 in zip(range(2, 11), finals, strict=True):
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


def test_get_solver_errors_and_instances(no_typecheck):
    assert isinstance(integrators.get_solver("TSIT5"), diffrax.Tsit5)
    s = diffrax.Heun()
    assert integrators.get_solver(s) is s
    with pytest.raises(ValueError, match="Unknown solver 'rk45'"):
        integrators.get_solver("rk45")
    with pytest.raises(TypeError, match="solver"):
        integrators.get_solver(4)


def test_check_dt(no_typecheck):
    assert integrators.check_dt(1) == 1.0 and type(integrators.check_dt(1)) is float
    assert integrators.check_dt(np.float32(0.5)) == 0.5
    with pytest.raises(ValueError, match="dt must be > 0"):
        integrators.check_dt(-0.1)
    with pytest.raises(ValueError, match="finite"):
        integrators.check_dt(float("inf"))
    with pytest.raises(TypeError, match="dt must be a real number"):
        integrators.check_dt("0.1")
    with pytest.raises(TypeError, match="dt_train must be a real number"):
        integrators.check_dt(True, name="dt_train")


@pytest.mark.parametrize("name", ["rk4", "Tsit5", "euler"])
def test_step_and_integrate_take_solver_names(name):
    """Like every other entry point, `step`, `integrate` and `stepper` take a name."""
    solver = integrators.get_solver(name)
    rhs = _pytree_field
    y0 = {"a": jnp.array([0.7, -0.2]), "b": jnp.array([0.1, 1.3])}
    by_name = integrators.step(rhs, name, y0, 0.0, 0.05)
    by_instance = integrators.step(rhs, solver, y0, 0.0, 0.05)
    ys_name = integrators.integrate(rhs, name, y0, 0.05, 4)
    ys_instance = integrators.integrate(rhs, solver, y0, 0.05, 4)
    for leaf in ("a", "b"):
        np.testing.assert_array_equal(by_name[leaf], by_instance[leaf])
        np.testing.assert_array_equal(ys_name[leaf], ys_instance[leaf])
    s = integrators.stepper(rhs, name)
    y1, _ = s.step(0.0, y0, 0.05, s.init(0.0, y0, 0.05))
    np.testing.assert_array_equal(y1["a"], by_instance["a"])
    with pytest.raises(ValueError, match="Unknown solver 'rk5'"):
        integrators.step(rhs, "rk5", y0, 0.0, 0.05)


def _pytree_field(t, y, args):
    """A nonlinear, time-dependent field on a pytree state."""
    return {"a": jnp.sin(y["b"]) - 0.3 * y["a"] * t, "b": -y["a"] * jnp.cos(t)}


def _diffrax_loop(rhs, solver, y0, dt, n):
    """The reference: diffrax's own init/step in a Python loop."""
    terms = diffrax.ODETerm(rhs)
    state = solver.init(terms, 0.0, dt, y0, None)
    y, out = y0, []
    for k in range(n):
        y, _, _, state, _ = solver.step(
            terms, k * dt, (k + 1) * dt, y, None, state, made_jump=False
        )
        out.append(y)
    return out


@pytest.mark.parametrize("name", sorted(integrators.SOLVERS))
def test_unrolled_stages_match_diffrax(name):
    """`step` and `integrate` evaluate every named solver's stages as straight-line
    code (FSAL stages carried); in float64 they agree with diffrax's own step to
    round-off, on a pytree state."""
    solver = integrators.get_solver(name)
    assert integrators.explicit_stages(solver) is not None
    with jax.enable_x64(True):
        y0 = {"a": jnp.array([0.7, -0.2]), "b": jnp.array([0.1, 1.3])}
        # jitted: one compile of the six steps, not one per diffrax operation
        ref = jax.jit(lambda y: _diffrax_loop(_pytree_field, solver, y, 0.05, 6))(y0)
        ys = integrators.integrate(_pytree_field, solver, y0, 0.05, 6)
        one = integrators.step(_pytree_field, solver, y0, 0.0, 0.05)
        for k in range(6):
            for leaf in ("a", "b"):
                np.testing.assert_allclose(ys[leaf][k], ref[k][leaf], rtol=1e-13)
        np.testing.assert_allclose(one["a"], ref[0]["a"], rtol=1e-13)


def test_implicit_solvers_still_go_through_diffrax():
    # outside diffeqsolve the Newton solver needs its own tolerances
    solver = diffrax.Kvaerno3(root_finder=diffrax.VeryChord(rtol=1e-10, atol=1e-10))
    assert integrators.explicit_stages(solver) is None
    with jax.enable_x64(True):
        y = integrators.integrate(lambda t, y, a: -y, solver, jnp.array(1.0), 0.01, 100)
    assert abs(float(y[-1]) - np.exp(-1.0)) < 1e-6
