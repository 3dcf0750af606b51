"""Collocation points: inside the domain, Latin hypercubes stratified, draws fixed
within a resampling block and one compilation for a whole run; RAD concentrates
points where the residual is large."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import pinns
from sciml.pinns import problems


def test_uniform_and_latin_hypercube_points_lie_in_the_box():
    box = pinns.Box((0.0, -1.0, 2.0), (1.0, 1.0, 5.0), ("t", "x", "y"))
    for method in ("uniform", "lhs"):
        x = box.sample(200, key=jax.random.key(0), method=method)
        assert x.shape == (200, 3) and bool(box.contains(x).all())


def test_latin_hypercube_has_one_point_in_each_stratum():
    box = pinns.Box((0.0, -1.0), (1.0, 1.0), ("t", "x"))
    x = np.asarray(box.sample(50, key=jax.random.key(1), method="lhs"))
    unit = (x - np.array(box.lower)) / (np.array(box.upper) - np.array(box.lower))
    for j in range(2):
        np.testing.assert_array_equal(np.sort(np.floor(unit[:, j] * 50)), np.arange(50))


def test_face_points_lie_on_the_face():
    box = pinns.Box((0.0, -1.0), (1.0, 1.0), ("t", "x"))
    x = box.sample_face("x", "upper", 10, key=jax.random.key(2))
    np.testing.assert_array_equal(x[:, 1], 1.0)
    assert bool(box.contains(x).all())


def test_collocation_is_fixed_within_a_block_and_one_compilation(monkeypatch):
    traces = []
    draw = pinns.Collocation.draw
    monkeypatch.setattr(
        pinns.Collocation,
        "draw",
        lambda self, *, key: traces.append(1) or draw(self, key=key),
    )
    problem = problems.KleinGordon()
    points = pinns.Collocation(
        problem, 64, 16, resample_every=10, method="lhs", key=jax.random.key(3)
    )
    b0, b9, b10 = points(0), points(9), points(10)
    assert jax.tree.all(jax.tree.map(jnp.array_equal, b0, b9))
    assert not jnp.array_equal(b0["interior"], b10["interior"])
    assert b0["interior"].shape == (64, 3)
    # initial value, initial velocity: 16 points each; Dirichlet: 16 on each of 4 faces
    assert [c.shape for c in b0["conditions"]] == [(16, 3), (16, 3), (64, 3)]
    for step in range(0, 100, 10):
        points(step)
    assert len(traces) == 1  # drawn under jit: traced once for the whole run


def test_fixed_batch_refuses_points_outside_the_domain():
    problem = problems.Poisson2D()
    inside = np.full((4, 2), 0.5)
    batch = pinns.fixed_batch(problem, inside, (inside,))
    assert batch["interior"].shape == (4, 2)
    with pytest.raises(ValueError, match="outside the domain"):
        pinns.fixed_batch(problem, inside + 1.0, (inside,))
    with pytest.raises(ValueError, match="1 conditions"):
        pinns.fixed_batch(problem, inside, ())


class _Bump(eqx.Module):
    """A field whose Poisson residual peaks near (0.8, 0.8)."""

    def __call__(self, x):
        return jnp.exp(-50.0 * jnp.sum((x - 0.8) ** 2))[None]


def test_residual_adaptive_points_gather_where_the_residual_is_large():
    problem = problems.Poisson2D(engine="forward")
    x = pinns.residual_adaptive(
        problem, _Bump(), 200, key=jax.random.key(4), pool=10, k=2.0, c=0.0
    )
    assert x.shape == (200, 2) and bool(problem.domain.contains(x).all())
    near = np.mean(np.linalg.norm(np.asarray(x) - 0.8, axis=1) < 0.3)
    assert near > 0.5  # uniform points: about 0.2
