import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.nn import MLP
from sciml.operators import ODENet


class Linear(eqx.Module):
    a: jax.Array

    def __call__(self, y):
        return self.a @ y


A = jnp.array([[0.0, 1.0], [-1.0, 0.0]])


@pytest.mark.parametrize(
    "solver,order", [("euler", 1), ("rk4", 4), (diffrax.Heun(), 2)]
)
def test_odenet_step_has_solver_order(solver, order):
    """One step of the integrator has local error O(dt^(p+1)) on y' = Ay."""
    errs = []
    with jax.enable_x64(True):
        y0 = jnp.array([1.0, 0.0], dtype=jnp.float64)
        for dt in (0.1, 0.05):
            net = ODENet(Linear(A.astype(jnp.float64)), solver, dt)
            exact = jnp.array([jnp.cos(dt), -jnp.sin(dt)])
            errs.append(float(jnp.linalg.norm(net(y0) - exact)))
    assert np.log2(errs[0] / errs[1]) == pytest.approx(order + 1, abs=0.35)


def test_odenet_jit_vmap_grad_and_trajectory(getkey):
    net = ODENet(MLP(2, 2, width=8, depth=1, key=getkey()), "rk4", 0.1)
    y = jax.random.normal(getkey(), (5, 2))
    assert eqx.filter_jit(jax.vmap(net))(y).shape == (5, 2)
    assert net.trajectory(y[0], 7).shape == (7, 2)
    g = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(y) ** 2)))(net)
    leaves = jax.tree.leaves(eqx.filter(g, eqx.is_inexact_array))
    assert leaves and all(np.all(np.isfinite(x)) for x in leaves)


def test_odenet_learns_linear_field():
    """Fit a linear field to one RK4 step of a rotation: recovers A."""
    import optax

    dt = 0.1
    ys = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.3], [-0.2, 0.7]])
    c, s = np.cos(dt), np.sin(dt)
    targets = ys @ jnp.array([[c, -s], [s, c]])
    net = ODENet(Linear(jnp.zeros((2, 2))), "rk4", dt)
    opt = optax.adam(0.05)
    state = opt.init(net)

    @eqx.filter_jit
    def step(net, state):
        loss, g = eqx.filter_value_and_grad(
            lambda m: jnp.mean((jax.vmap(m)(ys) - targets) ** 2)
        )(net)
        updates, state = opt.update(g, state)
        return eqx.apply_updates(net, updates), state, loss

    for _ in range(400):
        net, state, loss = step(net, state)
    np.testing.assert_allclose(net.vector_field.a, A, atol=2e-3)


def test_odenet_bad_input(getkey, no_typecheck):
    # No check needs the field's weight values: shape-only MLPs meet them without
    # compiling the weight draws (the last check runs when the step is traced).
    def mlp(out=2):
        return eqx.filter_eval_shape(MLP, 2, out, key=getkey())

    with pytest.raises(ValueError, match="dt must be > 0"):
        ODENet(mlp(), "rk4", 0.0)
    with pytest.raises(TypeError, match="dt must be a real number"):
        ODENet(mlp(), "rk4", "0.1")
    with pytest.raises(ValueError, match="Unknown solver"):
        ODENet(mlp(), "rk5", 0.1)
    with pytest.raises(TypeError, match="callable"):
        ODENet(3.0, "rk4", 0.1)
    net = ODENet(mlp(3), "euler", 0.1)
    with pytest.raises(ValueError, match="state's shape"):
        eqx.filter_eval_shape(net, jnp.ones(2))
