"""`sciml.solvers.SourceDiffusionReaction1D`: the sine transform, exactness in time
and second order in space against the exact solution of the heat equation with a
source (k = 0), self-convergence with a random source and k != 0 (order 2 in space,
4 in time), the semi-discrete right-hand side, and jit / vmap / grad (with respect
to the source, D and k) without recompiling.

Every solve goes through one jitted `_run(stepper, u0, n_frames, substeps)`, so each
grid and frame count compiles once whatever the step and the parameters."""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import solvers
from sciml.solvers._source_diffusion_reaction import dst1

D = 0.01


@eqx.filter_jit
def _run(stepper, u0, n_frames, substeps):
    return stepper.trajectory(u0, n_frames, substeps)


@eqx.filter_jit
def _advance(stepper, u, n):
    """`n` steps (traced) of `stepper` from `u`: one compilation per grid."""
    return jax.lax.fori_loop(0, n, lambda _, v: stepper(v), u)


def _stepper_on(n, source, dt, d=D, k=D):
    grid = solvers.Grid(n, points="nodes")
    return grid, solvers.SourceDiffusionReaction1D(grid, dt, source(grid), d, k)


def _frames(n, source, k=D):
    """The frames t = 0, 1/4, .., 1 of the solve from s = 0 on `n` intervals of
    [0, 1] (4 steps a frame), `source(grid)` the source at the nodes."""
    grid, stepper = _stepper_on(n, source, 1 / 16, k=k)
    return grid.axes[0], np.asarray(_run(stepper, jnp.zeros((1, n)), 5, 4)[:, 0])


def test_dst1_is_the_sine_transform_and_its_own_inverse():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((2, 9))
    n = np.arange(1, 10)
    matrix = np.sin(np.pi * np.outer(n, n) / 10)
    with jax.enable_x64(True):
        transformed = np.asarray(dst1(jnp.asarray(v)))
        back = np.asarray(2 / 10 * dst1(dst1(jnp.asarray(v))))
    np.testing.assert_allclose(transformed, v @ matrix.T, atol=1e-13)
    np.testing.assert_allclose(back, v, atol=1e-13)


def _grf_source(key):
    family = solvers.SquaredExponentialSeries(0.2)
    return lambda grid: family(grid, key=key)


def test_second_order_in_space_exact_in_time_for_k_zero():
    """On 32, 64 and 128 intervals (4 steps a frame, frames t = 0, 1/4, .., 1):

    - k = 0, f = sin(3 pi x): the PDE's solution is
      sin(3 pi x) (1 - e^{-D (3 pi)^2 t}) / (D (3 pi)^2), the semi-discrete one the
      same with (3 pi)^2 replaced by -mu_3 = (4/h^2) sin^2(3 pi h / 2). ETDRK4
      integrates a constant forcing exactly, so the semi-discrete solution is met
      to round-off (measured 8e-16); against the PDE the error falls at order 2
      (measured 1.8e-3, 4.5e-4, 1.1e-4 of 0.66; order 2.00);
    - the benchmark's equation (D = k = 0.01) with a GRF source (one function on
      every grid): the differences between successive grids at the 33 common nodes
      fall at order 2 (measured 1.85e-3, 4.6e-4 of 1.46; order 2.00; against 512
      intervals the errors are 2.5e-3, 6.1e-4, 1.4e-4, orders 2.01, 2.07).

    The sizes are shared so that each grid compiles once."""
    sizes, errors, grf = [32, 64, 128], [], []
    t = np.linspace(0.0, 1.0, 5)[:, None]
    source = _grf_source(jax.random.key(0))
    with jax.enable_x64(True):
        for n in sizes:
            x, frames = _frames(n, lambda g: np.sin(3 * np.pi * g.axes[0])[None], k=0.0)
            mu = -4 * n**2 * np.sin(3 * np.pi / (2 * n)) ** 2
            semi = np.sin(3 * np.pi * x) * (1 - np.exp(D * mu * t)) / (-D * mu)
            np.testing.assert_allclose(frames, semi, rtol=0, atol=1e-14)
            lam = D * (3 * np.pi) ** 2
            exact = np.sin(3 * np.pi * x) * (1 - np.exp(-lam * t)) / lam
            errors.append(np.abs(frames - exact).max())
            grf.append(_frames(n, source)[1][:, :: n // 32])
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 1.95).all(), (errors, orders)
    assert (frames[:, 0] == 0).all() and (frames[0] == 0).all()
    d1, d2 = np.abs(grf[0] - grf[1]).max(), np.abs(grf[1] - grf[2]).max()
    assert np.log2(d1 / d2) > 1.9, (d1, d2)


@pytest.mark.parametrize("k", [0.01, 1.0])
def test_self_convergence_fourth_order_in_time(k):
    """8, 16, 32 steps to t = 1 against 512, on 64 intervals. Measured: k = 0.01:
    5.9e-9, 3.7e-10, 2.3e-11 (order 4.00, 3.99); k = 1: 9.5e-6, 5.5e-7, 3.3e-8
    (order 4.11, 4.06)."""
    source = _grf_source(jax.random.key(0))

    def solve(steps):
        _, stepper = _stepper_on(64, source, 1 / steps, k=k)
        s0 = jnp.zeros((1, 64))
        return np.asarray(_advance(stepper, s0, jnp.asarray(steps)))

    with jax.enable_x64(True):
        reference = solve(512)
        errors = [np.abs(solve(n) - reference).max() for n in (8, 16, 32)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 3.8).all(), (errors, orders)


@eqx.filter_jit
def _rhs_and_step(stepper, u):
    return stepper.rhs(u), stepper(u)


def test_rhs_and_one_step():
    """`rhs` is D delta^2 s / h^2 + k s^2 + f with zero ends; one step of 1e-9 is
    s + dt rhs(s) to O(dt^2); the boundary entry of the result is 0."""
    n = 16
    grid = solvers.Grid(n, points="nodes")
    x = grid.axes[0]
    s = np.sin(np.pi * x) + 0.3 * np.sin(2 * np.pi * x)
    f = np.cos(x)
    with jax.enable_x64(True):
        stepper = solvers.SourceDiffusionReaction1D(grid, 1e-9, f[None], 0.5, 2.0)
        rate, stepped = map(
            np.asarray, _rhs_and_step(stepper, jnp.asarray(s)[None] + 0.1)
        )
    # the field's boundary entry (0.1 here) is not used: s(0) = 0
    interior = s[1:] + 0.1
    padded = np.concatenate([[0.0], interior, [0.0]])
    lap = (padded[:-2] - 2 * interior + padded[2:]) * n**2
    expected = np.concatenate([[0.0], 0.5 * lap + 2.0 * interior**2 + f[1:]])
    np.testing.assert_allclose(rate[0], expected, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(
        (stepped[0, 1:] - interior) / 1e-9, expected[1:], rtol=1e-5, atol=1e-4
    )
    assert stepped[0, 0] == 0.0


def test_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="1-D Grid of nodes"):
        solvers.SourceDiffusionReaction1D(solvers.Grid(8), 0.1, np.zeros((1, 8)))
    with pytest.raises(ValueError, match="1-D Grid of nodes"):
        solvers.SourceDiffusionReaction1D(
            solvers.Grid(2, points="nodes"), 0.1, np.zeros((1, 2))
        )
    grid = solvers.Grid(8, points="nodes")
    with pytest.raises(ValueError, match="source"):
        solvers.SourceDiffusionReaction1D(grid, 0.1, np.zeros((1, 9)))
    with pytest.raises(ValueError, match="dt must be > 0"):
        solvers.SourceDiffusionReaction1D(grid, 0.0, np.zeros((1, 8)))
    with pytest.raises(ValueError, match="d must be >= 0"):
        solvers.SourceDiffusionReaction1D(grid, 0.1, np.zeros((1, 8)), -1.0)
    stepper = solvers.SourceDiffusionReaction1D(grid, 0.1, np.zeros((2, 8)))
    with pytest.raises(ValueError, match="channels"):
        stepper(jnp.zeros((3, 8)))


# --- jit, vmap, grad ----------------------------------------------------------

NX = 16
WEIGHTS = np.linspace(1.0, 2.0, NX)
H = 1e-6


def _loss(args):
    stepper, s0 = args
    frames = stepper.trajectory(s0, 3, 2)
    return jnp.sum(WEIGHTS * frames[-1, 0] ** 2), frames


_batched_value_and_grad = references.batched_value_and_grad(_loss)


def _stepper(source, d, k):
    return solvers.SourceDiffusionReaction1D(
        solvers.Grid(NX, points="nodes"), 0.1, source, d, k
    )


@pytest.fixture(scope="module")
def batch():
    """Steppers built by `eqx.filter_vmap` over the constructor from a batch of
    (source, d, k): the gradient's point, then central differences in d, in k and
    along a direction v of the source."""
    with jax.enable_x64(True):
        x = jnp.asarray(solvers.Grid(NX, points="nodes").axes[0])
        f = (1.0 + jnp.cos(3 * x))[None]
        v = jax.random.normal(jax.random.key(0), f.shape, jnp.float64)
        sources = jnp.stack([f, f, f, f, f, f + H * v, f - H * v])
        ds = jnp.array([D, D + H, D - H, D, D, D, D])
        ks = jnp.array([0.5, 0.5, 0.5, 0.5 + H, 0.5 - H, 0.5, 0.5])
        stepper_batch = eqx.filter_vmap(_stepper)(sources, ds, ks)
        s0 = jnp.broadcast_to(0.2 * jnp.sin(jnp.pi * x)[None], (7, 1, NX))
        (values, frames), grads = _batched_value_and_grad((stepper_batch, s0))
        values, frames, v, grads = jax.tree.map(np.asarray, (values, frames, v, grads))
        return types.SimpleNamespace(
            sources=sources,
            ds=ds,
            ks=ks,
            s0=s0,
            v=v,
            values=values,
            frames=frames,
            grads=grads,
        )


def test_vmap_equals_single_solves(batch):
    with jax.enable_x64(True):
        for i in (0, 3, 5):
            stepper = _stepper(batch.sources[i], float(batch.ds[i]), float(batch.ks[i]))
            single = _run(stepper, batch.s0[i], 3, 2)
            np.testing.assert_allclose(batch.frames[i], single, rtol=1e-13, atol=1e-15)


def test_grad_matches_central_differences(batch):
    """jax.grad through `trajectory` with respect to d, k and the source."""
    values, (grad_stepper, _) = batch.values, batch.grads
    np.testing.assert_allclose(
        grad_stepper.d[0], (values[1] - values[2]) / (2 * H), rtol=1e-6
    )
    np.testing.assert_allclose(
        grad_stepper.k[0], (values[3] - values[4]) / (2 * H), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.sum(grad_stepper.source[0] * batch.v),
        (values[5] - values[6]) / (2 * H),
        rtol=1e-6,
    )


def test_new_parameters_do_not_recompile(batch):
    """The batched gradient is `assert_max_traces(max_traces=1)`."""
    with jax.enable_x64(True):
        stepper_batch = eqx.filter_vmap(_stepper)(
            2 * batch.sources, batch.ds, 2 * batch.ks
        )
        (values, _), _ = _batched_value_and_grad((stepper_batch, batch.s0))
    assert np.isfinite(values).all()
