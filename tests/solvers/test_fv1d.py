"""The 1-D finite-volume steppers `Advection`, `Burgers` and `ReactionDiffusion`
together: the shared scheme (limiter, reconstruction, flux, conservation), the
transformations every stepper supports (jit, vmap, grad, no recompiles) and the
checks of their arguments."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import solvers
from sciml.solvers import _fv1d  # the scheme's building blocks (private)

# ---- the scheme --------------------------------------------------------------


def test_mc_slope_limits():
    minus = jnp.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    centre = jnp.array([1.0, 1.0, 2.0, 1.0, 0.1, 0.0])
    plus = jnp.array([2.0, 1.1, 1.0, 3.0, 1.0, 0.0])
    slope = np.asarray(jax.jit(_fv1d.mc_slope)(minus, centre, plus))
    # smooth: central difference; steep on one side: twice the gentler side;
    # extremum: zero; 0.5 * (1 + sign(ab)) kills a flat side (ab = 0) as well
    np.testing.assert_allclose(slope, [1.0, 0.2, 0.0, 1.5, 0.2, 0.0], rtol=1e-6)


def test_reconstruction_is_exact_for_linear_data():
    u = jnp.arange(10.0)  # periodic wrap makes the two end cells extrema
    faces = jax.jit(_fv1d.reconstruct)(u)
    assert faces.left.shape == (11,)
    interior = slice(2, 9)  # interfaces 1/2 .. 8 - 1/2 see linear neighbourhoods
    np.testing.assert_allclose(faces.left[interior], np.arange(1, 8) + 0.5)
    np.testing.assert_allclose(faces.right[interior], np.arange(1, 8) + 0.5)
    np.testing.assert_allclose(faces.cell_left[interior], np.arange(1, 8))


@pytest.mark.parametrize("beta", [0.7, -0.7])
def test_corrected_rusanov_flux_is_upwind(beta):
    faces = _fv1d.Interfaces(
        left=jnp.array([1.0, -2.0]),
        right=jnp.array([3.0, 0.5]),
        cell_left=jnp.zeros(2),
        cell_right=jnp.zeros(2),
    )
    upwind = faces.left if beta > 0 else faces.right
    # with the factor 1/2 on the dissipation; PDEBench's bug (#46) doubled it
    flux = solvers.Advection(solvers.Grid(8), 0.01, beta).flux()
    np.testing.assert_allclose(jax.jit(flux)(faces), beta * upwind)


def _steppers(grid, dt):
    """One stepper of each kind (both Burgers fluxes), conservative settings."""
    return {
        "advection": solvers.Advection(grid, dt, -1.3),
        "burgers": solvers.Burgers(grid, dt, 0.3 * np.pi),  # diffusivity 0.3
        "burgers-pdebench": solvers.Burgers(grid, dt, 0.3 * np.pi, entropy_fix=False),
        "heat": solvers.ReactionDiffusion(grid, dt, 0.3, 0.0),  # rho = 0: conservative
    }


def test_every_stepper_conserves_mass_to_round_off():
    """The update is conservative: one step changes the cell averages by
    -dt (F_{i+1/2} - F_{i-1/2})/dx, which telescopes over the periodic grid."""
    with jax.enable_x64(True):
        grid = solvers.Grid(64)
        u = jnp.asarray(np.random.default_rng(0).standard_normal((3, 64)))  # 3 channels
        steppers = _steppers(grid, 1e-3)
        steps = eqx.filter_jit(lambda ss, u: {k: s(u) for k, s in ss.items()})
        for name, u_next in steps(steppers, u).items():
            change = u_next - u
            total = abs(float(jnp.sum(change)))
            assert total < 1e-12 * float(jnp.sum(jnp.abs(change))), name


# ---- jit, vmap, grad, no recompiles --------------------------------------------

GRID = solvers.Grid(16)
X = GRID.axes[0]
U0 = 0.5 + 0.3 * np.sin(2 * np.pi * X + 0.3)  # in (0, 1) for reaction-diffusion
V = 0.1 * np.cos(4 * np.pi * X - 0.2)  # a direction for the field derivative
DT = 0.2 * GRID.spacing[0]  # stable for all three below


def _advection(p):
    return solvers.Advection(GRID, DT, p["beta"])


def _burgers(p):
    return solvers.Burgers(GRID, DT, p["nu"])


def _reaction_diffusion(p):
    return solvers.ReactionDiffusion(GRID, DT**2 * 20, p["nu"], p["rho"])


# a transonic expansion at x = 1/2 (the entropy fix's branch is taken at the
# interface there, so its gradient is checked too) on a smooth background
BURGERS_U0 = 0.5 * np.tanh((X - 0.5) / 0.05) + 0.2 * np.sin(2 * np.pi * X + 0.3)

# each: the constructor from its parameters, three values of each, and u0
KINDS = {
    "advection": (_advection, {"beta": [0.7, -0.4, 1.1]}, U0),
    "burgers": (_burgers, {"nu": [0.05, 0.2, 0.0]}, BURGERS_U0),
    "reaction_diffusion": (
        _reaction_diffusion,
        {"nu": [0.01, 0.02, 0.005], "rho": [2.0, 5.0, 0.0]},
        U0,
    ),
}


def _kind(name, which=0):
    make, values, u0 = KINDS[name]
    return make, {k: v[which] for k, v in values.items()}, u0


WEIGHT = 1 + 0.5 * np.cos(2 * np.pi * X)  # so that no symmetry zeroes a derivative


def _loss(stepper, u0):
    frames = stepper.trajectory(u0, 3, 1)
    return jnp.sum(frames[1:] ** 2 * WEIGHT * jnp.arange(1.0, 3.0)[:, None, None])


# one compilation a kind gives both the loss (for the differences) and its gradient
_value_and_grad = eqx.filter_jit(eqx.filter_value_and_grad(lambda both: _loss(*both)))


def _loss_jit(stepper, u0):
    return _value_and_grad((stepper, u0))[0]


def _roll_once():
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def roll(stepper, u):
        return stepper.trajectory(u, 3, 2)

    return roll


ROLL = {name: _roll_once() for name in KINDS}  # one compiled rollout per kind


def _fields(u0):
    u0 = jnp.asarray(u0, jnp.float32)[None]
    return jnp.stack([u0, 0.5 * u0, u0[:, ::-1]])  # (3, 1, X)


@pytest.mark.parametrize("name", list(KINDS))
def test_a_new_parameter_value_does_not_recompile(name):
    make, values, u0 = KINDS[name]
    for i in range(3):  # Python floats become arrays: leaves, not constants
        stepper = make({k: v[i] for k, v in values.items()})
        assert np.isfinite(ROLL[name](stepper, _fields(u0)[0])).all()


def _over_fields(stepper, fields):
    return eqx.filter_vmap(lambda u: stepper.trajectory(u, 3, 2))(fields)


# vmap over a batch of steppers (built from a batch of parameters), each over fields
_over_steppers_and_fields = eqx.filter_jit(
    eqx.filter_vmap(_over_fields, in_axes=(eqx.if_array(0), None))
)


@pytest.mark.parametrize("name", list(KINDS))
def test_jits_and_vmaps_over_fields_and_parameters(name):
    make, values, u0 = KINDS[name]
    fields = _fields(u0)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in values.items()}
    batched = eqx.filter_vmap(make)(params)
    frames = _over_steppers_and_fields(batched, fields)
    assert frames.shape == (3, 3, 3, 1, GRID.shape[0])  # (steppers, fields, t, C, X)
    for i in range(3):
        stepper = make({k: v[i] for k, v in values.items()})
        for j in range(3):
            single = ROLL[name](stepper, fields[j])  # jit, one field, one stepper
            np.testing.assert_allclose(frames[i, j], single, rtol=1e-5, atol=1e-6)
    # the batches really hold different runs
    assert not np.allclose(frames[1, 0], frames[0, 0])
    assert not np.allclose(frames[0, 1], frames[0, 0])


@pytest.mark.parametrize("name", list(KINDS))
def test_gradients_match_central_differences(name):
    """jax.grad through `trajectory`, with respect to the field (a directional
    derivative) and to each PDE parameter, against central differences in float64."""
    make, params, u0 = _kind(name)
    eps = 1e-6
    with jax.enable_x64(True):
        u0, v = jnp.asarray(u0)[None], jnp.asarray(V)[None]
        stepper = make(params)
        d_stepper, d_u0 = _value_and_grad((stepper, u0))[1]
        fd = (_loss_jit(stepper, u0 + eps * v) - _loss_jit(stepper, u0 - eps * v)) / (
            2 * eps
        )
        assert abs(float(fd)) > 1e-3  # not a derivative that vanishes by symmetry
        np.testing.assert_allclose(jnp.vdot(d_u0, v), fd, rtol=1e-6)
        for key, value in params.items():
            up = make(params | {key: value + eps})
            down = make(params | {key: value - eps})
            fd = (_loss_jit(up, u0) - _loss_jit(down, u0)) / (2 * eps)
            assert abs(float(fd)) > 1e-4, key
            np.testing.assert_allclose(getattr(d_stepper, key), fd, rtol=1e-6)


# ---- argument checks ---------------------------------------------------------

MAX_DT = {
    "advection": lambda grid, **kw: solvers.Advection.max_dt(grid, 0.4, **kw),
    "burgers": lambda grid, **kw: solvers.Burgers.max_dt(grid, 0.01, **kw),
    "reaction_diffusion": lambda grid, **kw: solvers.ReactionDiffusion.max_dt(
        grid, 0.5, **kw
    ),
}


@pytest.mark.parametrize("name", list(MAX_DT))
@pytest.mark.parametrize(
    "cfl", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")], ids=str
)
def test_max_dt_refuses_a_cfl_out_of_range(no_typecheck, name, cfl):
    with pytest.raises(ValueError, match="cfl must be"):
        MAX_DT[name](solvers.Grid(32), cfl=cfl)


@pytest.mark.parametrize("name", list(MAX_DT))
@pytest.mark.parametrize("cfl", ["0.4", True, [0.4]], ids=repr)
def test_max_dt_refuses_a_cfl_of_the_wrong_type(no_typecheck, name, cfl):
    with pytest.raises(TypeError, match="cfl must be a real number"):
        MAX_DT[name](solvers.Grid(32), cfl=cfl)


@pytest.mark.parametrize("name", list(MAX_DT))
def test_max_dt_accepts_the_open_interval(name):
    grid = solvers.Grid(32)
    low, high = MAX_DT[name](grid, cfl=1e-3), MAX_DT[name](grid, cfl=0.999)
    assert 0 < low < high < np.inf


@pytest.mark.parametrize(
    "make", [_advection, _burgers, _reaction_diffusion], ids=list(KINDS)
)
def test_steppers_refuse_bad_grids_and_fields(no_typecheck, make):
    params = {"beta": 0.4, "nu": 0.1, "rho": 1.0}
    stepper = make(params)
    with pytest.raises(ValueError, match="channel-first field of shape"):
        stepper(jnp.zeros(GRID.shape))  # no channel axis
    with pytest.raises(ValueError, match="channel-first field of shape"):
        stepper.trajectory(jnp.zeros((1, 8)), 2)  # another grid
    cls = type(stepper)
    args = [v for k, v in params.items() if k in cls.__dataclass_fields__]
    for grid in (
        solvers.Grid(4),
        solvers.Grid((8, 8)),
        solvers.Grid(8, points="nodes"),
    ):
        with pytest.raises(ValueError, match="at least 5 cells"):
            cls(grid, 0.01, *args)
    with pytest.raises(TypeError, match="must be a sciml.solvers.Grid"):
        cls(16, 0.01, *args)
