"""`generate_source_diffusion_reaction`: the file name, layout and attributes,
`load`, the zero initial and boundary values, each sample as the documented draw of
the source through `SourceDiffusionReaction1D`, determinism by seed, and bad
input."""

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets, solvers

SETTINGS = dict(n_samples=3, seed=1, nx=9, nt=5, refine=4, substeps=2)


@eqx.filter_jit
def _sample(key, i):
    """Sample i as documented: the source drawn from fold_in(key, i) at the 9 saved
    points, and its solve on 32 intervals (2 steps a frame) from s = 0."""
    family = solvers.SquaredExponentialSeries(0.2)
    grid = solvers.Grid(32, points="nodes")
    params = family.params(key=jax.random.fold_in(key, i))
    source = family.evaluate(params, jnp.asarray(grid.axes[0]))[None]
    stepper = solvers.SourceDiffusionReaction1D(grid, 1 / 8, source, 0.01, 0.01)
    frames = stepper.trajectory(jnp.zeros((1, 32)), 5, 2)
    return family.evaluate(params, jnp.asarray(np.arange(9) / 8)), frames


@pytest.fixture(scope="module")
def dr_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("source_dr")
    return datasets.generate(
        "source_diffusion_reaction", out=out, chunk_size=2, **SETTINGS
    )


def test_file_layout_and_load(dr_file):
    assert dr_file.name == "1D_SourceDiffReact_D0.01_K0.01_l0.2.hdf5"
    with h5py.File(dr_file) as file:
        assert file["tensor"].shape == (3, 5, 9)
        assert file["u"].shape == (3, 9)
    with datasets.load(dr_file) as ds:
        assert ds.u.shape == (3, 5, 9, 1)
        assert ds.params == {"d": 0.01, "k": 0.01, "l": 0.2, "sigma": 1.0}
        assert ds.provenance["params"]["solver_intervals"] == 32
        np.testing.assert_allclose(ds.x, np.arange(9) / 8, rtol=1e-7)
        np.testing.assert_allclose(ds.t, np.arange(5) / 4, rtol=1e-7)
        s = ds.u[..., 0]
        f = ds.fields["u"][...]
    assert (s[:, 0] == 0).all()  # s = 0 at t = 0
    assert (s[:, :, 0] == 0).all() and (s[:, :, -1] == 0).all()  # and at x = 0, 1
    assert np.abs(s).max() > 0.01
    # sample 2: the source drawn from fold_in(key(seed), 2) on the 32 intervals,
    # solved by SourceDiffusionReaction1D, saved at every 4th node
    with jax.enable_x64(True):
        source, frames = map(np.asarray, _sample(jax.random.key(1), 2))
    np.testing.assert_allclose(f[2], source, rtol=1e-6)
    np.testing.assert_allclose(s[2, :, :-1], frames[:, 0, ::4], rtol=1e-6, atol=1e-7)
    # for small t, s = t u + O(t^2) inside (the boundary layer aside)
    inside = slice(2, 7)
    np.testing.assert_allclose(
        s[:, 1, inside], 0.25 * f[:, inside], rtol=0.1, atol=0.02
    )


def test_determinism_by_seed(dr_file, tmp_path):
    again = datasets.generate_source_diffusion_reaction(
        out=tmp_path, chunk_size=2, **SETTINGS
    )
    other = datasets.generate_source_diffusion_reaction(
        out=tmp_path / "other", chunk_size=2, **(SETTINGS | {"seed": 2})
    )
    with h5py.File(dr_file) as a, h5py.File(again) as b, h5py.File(other) as c:
        for name in ("tensor", "u"):
            np.testing.assert_array_equal(a[name][...], b[name][...])
            assert not np.allclose(a[name][...], c[name][...])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"d": -0.1}, ValueError, "d must be >= 0"),
        ({"nx": 1}, ValueError, "nx must be >= 2"),
        ({"nx": 2, "refine": 1}, ValueError, "at least 3 intervals"),
        ({"substeps": 0}, ValueError, "substeps must be >= 1"),
        ({"refine": 2.0}, TypeError, "refine must be an integer"),
        ({"length_scale": -1.0}, ValueError, "length_scale must be > 0"),
    ],
)
def test_bad_input(tmp_path, no_typecheck, params, error, match):
    with pytest.raises(error, match=match):
        datasets.generate_source_diffusion_reaction(out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
