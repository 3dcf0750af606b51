"""SeparablePIG and the grid path: the pointwise model against its product-grid
evaluation, the grid derivatives against the pointwise `Derivatives` engines in
float64, a problem's grid residual against its pointwise residual, jit / vmap /
grad, the refusals, and a short fit."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sciml import pinns, training
from sciml.pinns import (
    Derivatives,
    GridDerivatives,
    GridPINNLoss,
    SeparablePIG,
    grid_residual,
)
from sciml.pinns.problems import FlowMixing, KleinGordon, Poisson2D

KG_BOX = dict(lower=(0.0, -1.0, -1.0), upper=(10.0, 1.0, 1.0))


def _random(*args, seed=0, **kwargs):
    """A SeparablePIG with random O(1) parameters (no symmetry of the
    initialisation to hide behind), built from shapes only (no compile)."""
    template = eqx.filter_eval_shape(
        SeparablePIG, *args, key=jax.random.key(0), **kwargs
    )
    rng = np.random.default_rng(seed)
    dtype = jnp.result_type(float)
    model = jax.tree.map(
        lambda a: jnp.asarray(rng.normal(0.0, 0.7, a.shape), dtype), template
    )
    sigma = tuple(
        jnp.asarray(rng.uniform(0.3, 0.7, s.shape), dtype) for s in model.sigma
    )
    mu = tuple(jnp.asarray(rng.uniform(0.0, 2.0, m.shape), dtype) for m in model.mu)
    return eqx.tree_at(lambda m: (m.sigma, m.mu), model, (sigma, mu))


def _grid_axes(lower, upper, sizes, seed=1):
    rng = np.random.default_rng(seed)
    return tuple(
        jnp.asarray(np.sort(rng.uniform(lo, hi, n)), jnp.result_type(float))
        for lo, hi, n in zip(lower, upper, sizes, strict=True)
    )


def _points(axes):
    mesh = jnp.stack(jnp.meshgrid(*axes, indexing="ij"))
    return mesh.reshape(len(axes), -1).T


def _on_points(grid_array, n_lead):
    """(lead..., n_1, ..., n_d) -> (n_1 * ... * n_d, lead...)."""
    a = np.asarray(grid_array)
    lead = a.shape[:n_lead]
    flat = a.reshape(lead + (-1,))
    return np.moveaxis(flat, -1, 0)


def test_pointwise_model_equals_its_grid_evaluation():
    with jax.enable_x64(True):
        model = _random(3, 2, (5, 3, 4), 2, 3, sigma0=0.5, head_width=5, **KG_BOX)
        assert model.n_gaussians == (5, 3, 4) and model.mu[1].shape == (2, 3)
        axes = _grid_axes(KG_BOX["lower"], KG_BOX["upper"], (3, 4, 5))
        grid = eqx.filter_jit(model.on_grid)(axes)
        assert grid.shape == (2, 3, 4, 5)
        pointwise = eqx.filter_jit(jax.vmap(model))(_points(axes))
        np.testing.assert_allclose(
            _on_points(grid, 1), np.asarray(pointwise), rtol=1e-12, atol=1e-14
        )
        assert np.abs(np.asarray(pointwise)).max() > 1e-2  # not trivially small


def test_initialisation_follows_pig():
    model = SeparablePIG(2, 1, 50, 4, 8, lower=(0.0, -1.0), upper=(1.0, 1.0),
                         sigma0=0.1, key=jax.random.key(3))  # fmt: skip
    for mu, sigma, w in zip(model.mu, model.sigma, model.weights, strict=True):
        assert mu.shape == sigma.shape == w.shape == (4, 50)
        assert 0.0 <= float(mu.min()) and float(mu.max()) <= 2.0  # U[0, g], g = 2
        np.testing.assert_array_equal(np.asarray(sigma), np.float32(0.1))
        assert 0.005 < float(jnp.std(w)) < 0.015  # N(0, 0.01^2)
    assert model.heads[0].layers[-1].weight.shape == (8, 16)  # rank x head width
    np.testing.assert_array_equal(np.asarray(model.bias), 0.0)
    n_params = sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_array)))
    assert n_params == 2 * (3 * 4 * 50 + (4 + 1) * 16 + (16 + 1) * 8) + 1


OPS = {
    "value": lambda D: D.value,
    "d_t": lambda D: D.d("t"),
    "d_xx": lambda D: D.d("x", "x"),
    "d_tx": lambda D: D.d("t", "x"),
    "d_ytx": lambda D: D.d("y", "t", "x"),
    "d_ttt": lambda D: D.d("t", "t", "t"),
    "grad": lambda D: D.grad(),
    "grad_xy": lambda D: D.grad(("x", "y")),
    "laplacian": lambda D: D.laplacian(),
    "laplacian_all": lambda D: D.laplacian(("t", "x", "y")),
}


@pytest.mark.parametrize(
    "out_dim, ops",
    [(1, tuple(OPS)), (2, ("value", "d_tx", "grad", "laplacian"))],
    ids=["scalar", "vector"],
)
def test_grid_derivatives_equal_the_pointwise_engine(out_dim, ops):
    with jax.enable_x64(True):
        model = _random(3, out_dim, 4, 2, 3, sigma0=0.5, head_width=5, seed=4, **KG_BOX)
        axes = _grid_axes(KG_BOX["lower"], KG_BOX["upper"], (3, 2, 4), seed=5)
        names = ("t", "x", "y")

        @jax.jit
        def both(model, axes):
            D = GridDerivatives(model, axes, names=names)
            grid = {k: OPS[k](D) for k in ops}
            u = (lambda y: model(y)[0]) if out_dim == 1 else model

            def at(x):
                P = Derivatives(u, x, names=names, engine="forward")
                return {k: OPS[k](P) for k in ops}

            return grid, jax.vmap(at)(_points(axes))

        grid, pointwise = both(model, axes)
        for k in ops:
            ref = np.asarray(pointwise[k])
            got = _on_points(grid[k], ref.ndim - 1)
            scale = max(1.0, np.abs(ref).max())
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10 * scale, err_msg=k)
            assert np.abs(ref).max() > 1e-3, k  # not a trivially zero check


def test_grid_residual_equals_the_pointwise_residual():
    # The Klein-Gordon solution is not rank-1 separable, and its forcing is a
    # function of the point: the grid residual runs the problem's own residual on
    # arrays over the grid. Flow mixing: a first-order residual (order=1) with
    # coefficients of the point.
    with jax.enable_x64(True):
        model = _random(3, 1, 4, 2, 3, sigma0=0.5, head_width=5, seed=6, **KG_BOX)
        axes = _grid_axes(KG_BOX["lower"], KG_BOX["upper"], (4, 3, 2), seed=7)
        for problem in (KleinGordon(), FlowMixing()):

            @jax.jit
            def both(model, axes, problem=problem):
                field = lambda y: model(y)[0]  # noqa: E731
                pointwise = jax.vmap(lambda x: problem.residual(field, x))(
                    _points(axes)
                )
                return grid_residual(problem, model, axes), pointwise

            grid, pointwise = both(model, axes)
            assert grid.shape == (4, 3, 2)
            ref = np.asarray(pointwise)
            np.testing.assert_allclose(
                _on_points(grid, 0), ref, rtol=0, atol=1e-10 * np.abs(ref).max()
            )


def test_jit_vmap_grad_and_one_trace():
    problem = Poisson2D()
    model = _random(2, 1, 6, 2, 4, sigma0=0.3, lower=0.0, upper=1.0, seed=8)
    loss = GridPINNLoss(problem, (8, 6), check=False)
    batch = pinns.Collocation(problem, 1, 16, key=jax.random.key(9))(0)
    # the grid is drawn from the key: new points, one trace
    step = eqx.filter_jit(
        eqx.debug.assert_max_traces(
            eqx.filter_value_and_grad(lambda m, k: loss(m, batch, k), has_aux=True),
            max_traces=1,
        )
    )
    values = []
    for i in range(3):
        (value, metrics), grads = step(model, jax.random.key(i))
        values.append(float(value))
    assert len(set(values)) == 3 and all(np.isfinite(values))
    assert set(metrics) == {"residual", "dirichlet_0"}
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_array))
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert all(float(jnp.abs(g).max()) > 0 for g in leaves)

    # a grid in the batch is used as it is, whatever the key
    @eqx.filter_jit
    def fixed(model, key):
        drawn = loss.draw_axes(key=key)
        grid = {**batch, "axes": drawn}
        return drawn, loss(model, grid, jax.random.key(5))[0], loss(model, grid)[0]

    drawn, first, second = fixed(model, jax.random.key(0))
    assert [a.shape for a in drawn] == [(8,), (6,)]
    assert all(0.0 <= float(a.min()) and float(a.max()) <= 1.0 for a in drawn)
    assert float(first) == float(second)
    # vmap over points, and over models
    xs = jax.random.uniform(jax.random.key(2), (5, 2))
    params, static = eqx.partition(model, eqx.is_array)
    stacked = jax.tree.map(lambda a: jnp.stack([a, 2 * a]), params)
    on_points, grids = eqx.filter_jit(
        lambda ps: (
            jax.vmap(model)(xs),
            jax.vmap(lambda p: eqx.combine(p, static).on_grid((xs[:, 0], xs[:, 1])))(
                ps
            ),
        )
    )(stacked)
    assert on_points.shape == (5, 1) and grids.shape == (2, 1, 5, 5)
    np.testing.assert_allclose(grids[0, 0].diagonal(), on_points[:, 0], rtol=1e-6)


def test_a_scale_that_is_not_finite_makes_the_output_nan():
    model = _random(2, 1, 3, 2, 2, sigma0=0.3, lower=0.0, upper=1.0, seed=10)
    bad = eqx.tree_at(lambda m: m.sigma[1], model, model.sigma[1].at[0, 0].set(jnp.nan))
    tiny = eqx.tree_at(lambda m: m.sigma[0], model, jnp.zeros_like(model.sigma[0]))
    x, axes = jnp.array([0.2, 0.3]), (jnp.zeros(2), jnp.ones(3))
    run = eqx.filter_jit(lambda m: (m(x), m.on_grid(axes)))
    point, grid = run(bad)
    assert np.isnan(float(point[0])) and np.all(np.isnan(np.asarray(grid)))
    point, grid = run(tiny)  # a scale at zero is held at the floor
    assert np.isfinite(float(point[0])) and np.all(np.isfinite(np.asarray(grid)))


class _NotElementwise(Poisson2D):
    def residual(self, u, x):
        D = self.derivatives(u, x)
        return jnp.sum(D.grad() ** 2) - 1.0  # sums over everything on a grid


class _Divergence(Poisson2D):
    def residual(self, u, x):
        D = self.derivatives(u, x)
        return D.divergence(lambda y: jnp.stack([y[0], y[1]]))


class _Disk:
    ndim = 2
    names = ("x", "y")


class _OnADisk(Poisson2D):
    domain: object

    def __init__(self):
        super().__init__()
        self.domain = _Disk()


def test_bad_inputs_are_refused(no_typecheck):
    model = _random(2, 1, 3, 2, 2, sigma0=0.3, lower=0.0, upper=1.0, seed=11)
    a = jnp.linspace(0.0, 1.0, 4)
    with pytest.raises(ValueError, match="has 2 axes, got 3"):
        model.on_grid((a, a, a))
    with pytest.raises(ValueError, match="sequence of 2 1-D"):
        model.on_grid(jnp.stack([a, a]))
    with pytest.raises(ValueError, match="axis 1 must be a non-empty 1-D"):
        model.on_grid((a, a[:, None]))
    with pytest.raises(ValueError, match=r"one point of shape \(2,\)"):
        model(jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="one per axis"):
        SeparablePIG(2, n_gaussians=(3, 4, 5), lower=0.0, upper=1.0, sigma0=0.1,
                     key=jax.random.key(0))  # fmt: skip
    with pytest.raises(ValueError, match="not a product box"):
        GridPINNLoss(_OnADisk())
    with pytest.raises(ValueError, match="_NotElementwise.residual cannot run"):
        GridPINNLoss(_NotElementwise())
    with pytest.raises(ValueError, match="_Divergence.residual cannot run.*divergence"):
        GridPINNLoss(_Divergence())
    with pytest.raises(
        ValueError, match=r"the model has 2 axes, KleinGordon's domain 3"
    ):
        grid_residual(KleinGordon(), model, (a, a))
    with pytest.raises(TypeError, match="must be a sciml.pinns.SeparablePIG"):
        GridDerivatives(pinns.MLPPINN(2, 1, width=4, key=jax.random.key(0)), (a, a))
    loss = GridPINNLoss(Poisson2D(), 4, check=False)
    with pytest.raises(ValueError, match="no 'axes' and no key"):
        loss(model, {"conditions": (jnp.zeros((4, 2)),)})
    D = GridDerivatives(model, (a, a), names=("x", "y"), order=1)
    with pytest.raises(ValueError, match="order=1"):
        D.d("x", "x")
    with pytest.raises(ValueError, match="no axis named 'z'"):
        D.d("z")


def test_a_short_fit_lowers_the_loss():
    problem = Poisson2D()
    model = SeparablePIG(2, 1, 20, 4, 4, lower=0.0, upper=1.0, sigma0=0.3,
                         key=jax.random.key(12))  # fmt: skip
    points = pinns.Collocation(
        problem, 1, 32, resample_every=10, key=jax.random.key(13)
    )
    result = training.fit(
        model, GridPINNLoss(problem, 12), points, optax.adam(1e-2), steps=60,
        log_every=20, progress=False, key=jax.random.key(14),
    )  # fmt: skip
    losses = [r["loss"] for r in result.history]
    assert losses[-1] < 0.1 * losses[0] and result.num_traces == 1
    # the error against the exact solution agrees that it improved (measured 0.25)
    assert pinns.relative_l2(result.model, problem) < 0.5
