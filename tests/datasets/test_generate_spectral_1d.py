"""`scheme="spectral"` of the PDEBench 1-D generators (advection, Burgers,
reaction-diffusion): the files against exact solutions (Cole-Hopf, the shifted
initial field), a solve on fewer cells than the file holds, the finite-volume file
converging to the spectral one, names, provenance and bad arguments. The numerics
of the steppers are tested in tests/solvers/test_spectral_1d.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml import datasets, solvers


@pytest.fixture(scope="module")
def smooth():
    """Samples 0 .. 7 of seed 0 whose sines have no |.| and no window (band-limited,
    n <= 4), and their draws."""
    family = solvers.PDEBenchSines()
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(0), i))(jnp.arange(8))
    params = jax.tree.map(np.asarray, jax.vmap(lambda k: family.params(key=k))(keys))
    indices = np.flatnonzero(~params.absolute & ~params.windowed)
    assert len(indices) >= 4
    return indices, params


def _load(path):
    with datasets.load(path) as ds:
        return ds.u[...][..., 0], ds.x.astype(np.float64), ds.provenance["params"]


@pytest.mark.parametrize("spectral_nx, bound", [(64, 6e-7), (256, 5e-8)])
def test_burgers_file_matches_cole_hopf(tmp_path, smooth, spectral_nx, bound):
    """nu = 0.1, t = 1/2, the 256-cell file solved on 64 and on 256 cells (float64
    arithmetic, float32 storage, the default step): worst max error on the smooth
    samples against Cole-Hopf 3.3e-7 and 1.5e-8 (float32 storage)."""
    indices, params = smooth
    path = datasets.generate(
        "burgers",
        nu=0.1,
        n_samples=8,
        nx=256,
        nt=3,
        t_end=0.5,
        dtype="float64",
        scheme="spectral",
        spectral_nx=spectral_nx,
        out=tmp_path,
    )
    assert path.name == "1D_Burgers_Sols_Nu0.1_spectral.hdf5"
    u, x, stored = _load(path)
    assert stored["scheme"] == "spectral" and stored["spectral_nx"] == spectral_nx
    assert stored["cfl"] == 2.5
    errors = []
    for i in indices:
        one = jax.tree.map(lambda a, i=i: a[i], params)
        exact = references.cole_hopf_pdebench(one, x, 0.5, 0.1 / np.pi)
        errors.append(np.abs(u[i, -1] - exact).max())
    assert max(errors) < bound, errors


def test_advection_file_is_the_exact_file(tmp_path, smooth):
    """beta = 0.4, the 64-cell file solved on 32 cells (float32): the smooth samples
    equal the exact scheme's file to 7.3e-7; the others are not band-limited."""
    indices, _ = smooth
    settings = dict(beta=0.4, n_samples=8, nx=64, nt=5, out=tmp_path)
    exact = _load(datasets.generate("advection", scheme="exact", **settings))[0]
    path = datasets.generate("advection", scheme="spectral", spectral_nx=32, **settings)
    assert path.name == "1D_Advection_Sols_beta0.4_spectral.hdf5"
    u, _, stored = _load(path)
    assert stored["dt"] == pytest.approx(0.5) and stored["spectral_nx"] == 32
    np.testing.assert_allclose(u[indices], exact[indices], atol=2e-6)


@pytest.mark.slow  # 11 s; the stepper's exact-solution orders stay fast
def test_reaction_diffusion_fv_converges_to_the_spectral_file(tmp_path, smooth):
    """nu = 0.02, rho = 2, t = 1/2, float64, the smooth samples: the 128-cell file
    solved on 32 and on 128 cells agree to 1e-6, and PDEBench's finite-volume
    splitting approaches the spectral files (solved on 32 cells) at second order
    (measured: errors 7.1e-4 and 1.8e-4 at 64 and 128 cells, order 2.01)."""
    indices, _ = smooth
    settings = dict(nu=0.02, rho=2.0, n_samples=8, nt=3, t_end=0.5, dtype="float64")

    def run(nx, **scheme):
        path = datasets.generate(
            "reaction_diffusion",
            nx=nx,
            out=tmp_path / f"{nx}{scheme}",
            **settings,
            **scheme,
        )
        u, _, stored = _load(path)
        return u[indices], stored

    fine, stored = run(128, scheme="spectral")
    assert stored["dt"] == pytest.approx(0.05)  # 2 rho dt <= 0.2
    coarse = {nx: run(nx, scheme="spectral", spectral_nx=32)[0] for nx in (64, 128)}
    assert np.abs(coarse[128][:, 1:] - fine[:, 1:]).max() < 1e-6
    errors = [np.abs(run(nx)[0][:, -1] - coarse[nx][:, -1]).max() for nx in (64, 128)]
    order = np.log2(errors[0] / errors[1])
    assert 1.7 < order < 2.5, (errors, order)


@pytest.mark.parametrize(
    "name, params",
    [
        ("burgers", {"nu": 0.01}),
        ("advection", {"beta": 1.0}),
        ("reaction_diffusion", {"nu": 1.0, "rho": 1.0}),
    ],
)
@pytest.mark.parametrize(
    "spectral_nx, match",
    [(31, "spectral_nx must be even"), (128, "spectral_nx must be <= 64"), (2, ">= 4")],
)
def test_bad_spectral_nx(tmp_path, no_typecheck, name, params, spectral_nx, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate(
            name,
            out=tmp_path,
            n_samples=1,
            nx=64,
            nt=3,
            scheme="spectral",
            spectral_nx=spectral_nx,
            **params,
        )


def test_file_names_and_bad_scheme(tmp_path, no_typecheck):
    assert datasets.burgers_filename(0.01, "spectral") == (
        "1D_Burgers_Sols_Nu0.01_spectral.hdf5"
    )
    assert datasets.reaction_diffusion_filename(1, 2, "spectral") == (
        "ReacDiff_Nu1.0_Rho2.0_spectral.hdf5"
    )
    with pytest.raises(ValueError, match="scheme must be one of 'fv', 'spectral'"):
        datasets.generate("burgers", nu=0.01, out=tmp_path, scheme="exact")
