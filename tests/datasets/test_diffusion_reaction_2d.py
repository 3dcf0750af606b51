"""The 2-D diffusion-reaction generator: layout, the no-flux Laplacian's order and
conservation, the reaction ODE limit, time accuracy, bad parameters."""

import json

import diffrax
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets._diffusion_reaction_2d import (
    FILENAME,
    diffusion_reaction_rhs,
    neumann_laplacian,
    solve_diffusion_reaction_2d,
)


def cell_centres(n):
    return -1.0 + 2.0 * (np.arange(n) + 0.5) / n


def test_laplacian_is_second_order_and_conservative(getkey):
    """f = cos(pi (x+1)) cos(pi (y+1)/2) has zero normal derivative on the boundary
    of (-1, 1)^2 and Laplacian -(pi^2 + pi^2/4) f. Measured: max error order 1.99 (n = 16 .. 128)."""
    ns, errors = [16, 32, 64, 128], []
    with jax.enable_x64(True):
        for n in ns:
            x, y = np.meshgrid(cell_centres(n), cell_centres(2 * n), indexing="ij")
            f = np.cos(np.pi * (x + 1)) * np.cos(np.pi * (y + 1) / 2)
            lap = np.asarray(neumann_laplacian(jnp.asarray(f), 2 / n, 1 / n))
            errors.append(np.abs(lap + (np.pi**2 + np.pi**2 / 4) * f).max())
        slope = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
        assert 1.95 < slope < 2.05, errors
        # zero flux through the boundary: the Laplacian of any field sums to zero
        u = jax.random.normal(getkey(), (7, 5), jnp.float64)
        assert abs(float(neumann_laplacian(u, 0.3, 0.2).sum())) < 1e-10


def test_uniform_state_follows_the_reaction_ode():
    """From a spatially uniform state the PDE is the ODE u' = u - u^3 - k - v,
    v' = u - v; compare with a float64 Dopri8 solve of that ODE at rtol 1e-12."""
    t = np.linspace(0.0, 5.0, 11)
    k = 5e-3
    with jax.enable_x64(True):
        uv0 = jnp.stack([jnp.full((6, 5), 0.8), jnp.full((6, 5), -0.3)])
        uv, ok = solve_diffusion_reaction_2d(uv0, jnp.asarray(t), k=k, rtol=1e-10)
        assert bool(ok)

        def ode(time, y, args):
            return jnp.stack([y[0] - y[0] ** 3 - k - y[1], y[0] - y[1]])

        exact = diffrax.diffeqsolve(
            diffrax.ODETerm(ode),
            diffrax.Dopri8(),
            0.0,
            5.0,
            1e-3,
            jnp.array([0.8, -0.3]),
            saveat=diffrax.SaveAt(ts=jnp.asarray(t)),
            stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        ).ys
    np.testing.assert_allclose(np.asarray(uv[:, :, 3, 2]), np.asarray(exact), atol=1e-8)
    assert np.ptp(np.asarray(uv), axis=(2, 3)).max() < 1e-12  # it stays uniform


def test_file_layout_and_loading(tmp_path):
    path = datasets.generate(
        "diffusion_reaction_2d", out=tmp_path, n_samples=3, nx=8, ny=6, nt=5, t_end=0.5
    )
    assert path.name == FILENAME
    with h5py.File(path) as f:
        assert sorted(f) == ["0000", "0001", "0002"]
        assert f["0001/data"].shape == (5, 8, 6, 2)
        np.testing.assert_allclose(f["0000/grid/x"][()], cell_centres(8))
        np.testing.assert_allclose(f["0000/grid/y"][()], cell_centres(6))
        np.testing.assert_allclose(f["0000/grid/t"][()], np.linspace(0, 0.5, 5))
        config = json.loads(f.attrs["config"])
        assert config["du"] == 1e-3 and config["dv"] == 5e-3 and config["k"] == 5e-3
    with datasets.load(path) as ds:
        assert ds.u.shape == (3, 5, 8, 6, 2)
        assert ds.n_channels == 2 and ds.spatial_shape == (8, 6)
        np.testing.assert_allclose(ds.y, cell_centres(6))
        u = ds.u[...]
    assert np.all(np.isfinite(u))
    start = u[:, 0].ravel()  # i.i.d. standard normal initial values
    assert abs(start.mean()) < 0.2 and 0.8 < start.std() < 1.2


def test_chunking_changes_nothing_and_seeds_differ(tmp_path):
    settings = dict(n_samples=3, nx=6, ny=6, nt=3, t_end=0.2)
    a = datasets.generate("diffusion_reaction_2d", out=tmp_path / "a", **settings)
    b = datasets.generate(
        "diffusion_reaction_2d", out=tmp_path / "b", chunk_size=1, **settings
    )
    c = datasets.generate(
        "diffusion_reaction_2d", out=tmp_path / "c", seed=1, **settings
    )
    with datasets.load(a) as da, datasets.load(b) as db, datasets.load(c) as dc:
        np.testing.assert_array_equal(da.u[...], db.u[...])
        assert not np.allclose(da.u[...], dc.u[...])


def test_float32_default_is_accurate_in_time(getkey):
    """The default (float32, rtol 1e-6) against float64 at rtol 1e-11 from the same
    initial values at PDEBench's resolution in space but a 32 x 32 grid: the
    diffusive stiffness is the same per cell width. Measured: max error 2.5e-7 (the
    solution reaches 3.9)."""
    t = jnp.linspace(0.0, 5.0, 6)
    uv0 = jax.random.normal(getkey(), (2, 32, 32))
    short = dict(length=0.5)  # dx = 2/128, as PDEBench's
    fast, ok = jax.jit(lambda u: solve_diffusion_reaction_2d(u, t, **short))(uv0)
    assert bool(ok)
    with jax.enable_x64(True):
        ref, _ = solve_diffusion_reaction_2d(
            jnp.asarray(uv0, jnp.float64),
            jnp.asarray(t, jnp.float64),
            rtol=1e-11,
            atol=1e-13,
            **short,
        )
    assert np.abs(np.asarray(fast) - np.asarray(ref)).max() < 5e-6


def test_rhs_matches_the_equation():
    """The reaction terms at one cell of a uniform state: (u - u^3 - k - v, u - v)."""
    uv = jnp.stack([jnp.full((3, 3), 0.5), jnp.full((3, 3), 0.2)])
    out = np.asarray(diffusion_reaction_rhs(uv, 1.0, 2.0, 0.1, 0.1, 0.1))
    np.testing.assert_allclose(out[0], 0.5 - 0.125 - 0.1 - 0.2, rtol=1e-6)
    np.testing.assert_allclose(out[1], 0.3, rtol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"du": -1.0}, "du and dv must be >= 0"),
        ({"k": float("nan")}, "k must be finite"),
        ({"t_end": 0.0}, "t_end must be > 0"),
        ({"rtol": -1e-3}, "rtol must be > 0"),
        ({"nx": 1}, "nx must be >= 2"),
        ({"nt": 1}, "nt must be >= 2"),
        ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
        ({"chunk_size": 0}, "chunk_size must be >= 1"),
        ({"beta": 0.4}, r"unknown parameters \['beta'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("diffusion_reaction_2d", out=tmp_path, n_samples=1, **params)
    assert list(tmp_path.iterdir()) == []
