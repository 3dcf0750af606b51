"""The Burgers generator: naming, layout, Cole-Hopf accuracy and order, mass, steps."""

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import ive

from sciml import datasets
from sciml.datasets import _fv1d
from sciml.datasets._burgers import burgers_fv, burgers_time_step


def loglog_slope(ns, errors):
    return -np.polyfit(np.log(ns), np.log(errors), 1)[0]


def cole_hopf_sine(x, t, kappa, terms=200):
    r"""Exact solution of $u_t + u u_x = \kappa u_{xx}$, $u_0 = \sin(2\pi x)$.

    $u = -2\kappa\,\phi_x/\phi$ with $\phi_t = \kappa\phi_{xx}$ and
    $\phi_0 = e^{\cos(2\pi x)/(4\pi\kappa)} = I_0(a) + 2\sum_n I_n(a)\cos(2\pi n x)$,
    $a = 1/(4\pi\kappa)$ (scaled Bessel functions: the common factor cancels)."""
    a = 1 / (4 * np.pi * kappa)
    n = np.arange(1, terms + 1)[:, None]
    weight = ive(n, a) * np.exp(-kappa * (2 * np.pi * n) ** 2 * t)
    dphi = -2 * np.sum(weight * 2 * np.pi * n * np.sin(2 * np.pi * n * x), axis=0)
    phi = ive(0, a) + 2 * np.sum(weight * np.cos(2 * np.pi * n * x), axis=0)
    return -2 * kappa * dphi / phi


def cole_hopf_pdebench(params, x, t, kappa, modes=512):
    r"""Exact solution for a PDEBench initial condition without |.| or window.

    $u_0 = s\sum_j A_j \sin(2\pi n_j x + \phi_j)$ has zero mean, so
    $\phi_0 = \exp(-\tfrac{1}{2\kappa}\int_0^x u_0)$ is periodic and smooth; its
    Fourier series (FFT on `modes` points, exact to round-off here) is evolved by
    the heat equation and $u = -2\kappa\,\phi_x/\phi$ is summed at the points `x`."""
    s = float(params.sign)
    amplitude, n, phase = (
        np.asarray(v, float)
        for v in (params.amplitudes, params.wavenumbers, params.phases)
    )
    grid = np.arange(modes) / modes
    integral = sum(
        s
        * amplitude[j]
        * (np.cos(phase[j]) - np.cos(2 * np.pi * n[j] * grid + phase[j]))
        / (2 * np.pi * n[j])
        for j in range(2)
    )
    phi0 = np.exp(-(integral - integral.min()) / (2 * kappa))
    k = np.fft.fftfreq(modes, 1 / modes)
    c = np.fft.fft(phi0) / modes * np.exp(-kappa * (2 * np.pi * k) ** 2 * t)
    waves = np.exp(2j * np.pi * np.outer(x, k))
    return -2 * kappa * (waves @ (2j * np.pi * k * c)).real / (waves @ c).real


@pytest.mark.parametrize(
    "nu, name",
    [(0.001, "Nu0.001"), (1, "Nu1.0"), (0.01, "Nu0.01"), (0.1234, "Nu0.123")],
)
def test_file_name(nu, name):
    assert datasets.burgers_filename(nu) == f"1D_Burgers_Sols_{name}.hdf5"


def test_layout_attrs_and_initial_conditions(tmp_path):
    _fv1d.sample_and_solve.clear_cache()
    settings = dict(n_samples=5, nx=64, nt=5, t_end=0.2, chunk_size=2)
    paths = [datasets.generate("burgers", nu=0.1, out=tmp_path, **settings)]
    # 5 samples in chunks of 2: one trace
    assert _fv1d.sample_and_solve._cache_size() == 1
    paths.append(datasets.generate("burgers", nu=0.4, out=tmp_path, **settings))
    assert paths[0].name == "1D_Burgers_Sols_Nu0.1.hdf5"
    with h5py.File(paths[0]) as file:
        assert file.attrs["Nu"] == 0.1
    with datasets.load(paths[0]) as a, datasets.load(paths[1]) as b:
        assert a.u.shape == (5, 5, 64, 1) and a.u.dtype == np.float32
        np.testing.assert_allclose(a.x, (np.arange(64) + 0.5) / 64, rtol=1e-7)
        np.testing.assert_allclose(a.t, 0.05 * np.arange(5), rtol=1e-6)
        assert a.provenance["generator"] == "burgers"
        stored = a.provenance["params"]
        assert stored["nu"] == 0.1 and stored["dtype"] == "float32"
        # the same initial conditions for every nu, those of the public sampler
        np.testing.assert_array_equal(a.u[:, 0], b.u[:, 0])
        public = datasets.sample_initial_conditions(
            jax.random.key(0), a.x.astype(np.float32), 5
        )
        np.testing.assert_array_equal(a.u[:, 0, :, 0], public)
        assert not np.allclose(a.u[:, -1], b.u[:, -1])
    whole = datasets.generate(
        "burgers", nu=0.1, out=tmp_path / "whole", n_samples=5, nx=64, nt=5, t_end=0.2
    )
    with datasets.load(whole) as c, datasets.load(paths[0]) as a:
        np.testing.assert_array_equal(c.u[...], a.u[...])  # chunking changes nothing


def test_matches_cole_hopf_at_second_order():
    """u0 = sin(2 pi x), nu = 0.1 (kappa = nu/pi), t = 0.3, when the front is
    steepest (|u_x| ~ 10). Measured: L1 1.94, max 2.01 over n = 64 .. 512; L1 error
    7.8e-6 at n = 512."""
    nu, t_end = 0.1, 0.3
    ns = [64, 128, 256, 512]
    l1, linf = [], []
    with jax.enable_x64(True):
        solve = jax.jit(burgers_fv, static_argnums=(4, 5))
        for n in ns:
            x = (np.arange(n) + 0.5) / n
            m = _fv1d.substeps(t_end, burgers_time_step(nu, 1 / n, u_max=1.0), "test")
            u = solve(jnp.sin(2 * np.pi * x), nu, 1 / n, t_end / m, 2, m)[-1]
            error = np.abs(np.asarray(u) - cole_hopf_sine(x, t_end, nu / np.pi))
            l1.append(error.mean())
            linf.append(error.max())
    assert 1.85 < loglog_slope(ns, l1) < 2.2, l1
    assert 1.85 < loglog_slope(ns, linf) < 2.2, linf
    assert l1[-1] < 1e-5


@pytest.mark.parametrize("cfl", [None, 0.9])
def test_generated_file_matches_cole_hopf(tmp_path, cfl):
    """The generator itself, on PDEBench's smooth initial conditions (no |.|, no
    window), nu = 0.1, t = 0.5, float64 arithmetic and float32 storage, with
    PDEBench's step and the combined bound. Measured: worst-sample L1 error 5.3e-4,
    1.4e-4, 3.8e-5 (order 1.90) for nx = 64 .. 256, the same with either step."""
    n_samples, nu = 8, 0.1
    params = datasets.sample_initial_condition_params(jax.random.key(0), n_samples)
    smooth = np.flatnonzero(~np.asarray(params.absolute) & ~np.asarray(params.windowed))
    assert len(smooth) >= 4
    ns, worst = [64, 128, 256], []
    for nx in ns:
        path = datasets.generate(
            "burgers",
            nu=nu,
            n_samples=n_samples,
            nx=nx,
            nt=3,
            t_end=0.5,
            dtype="float64",
            out=tmp_path / str(nx),
            **({} if cfl is None else {"cfl": cfl}),
        )
        with datasets.load(path) as ds:
            u, x = ds.u[...][..., 0], ds.x.astype(np.float64)
        errors = []
        for i in smooth:
            one = jax.tree.map(lambda a, i=i: a[i], params)
            start = cole_hopf_pdebench(one, x, 0.0, nu / np.pi)
            np.testing.assert_allclose(u[i, 0], start, atol=1e-6)  # the check's check
            exact = cole_hopf_pdebench(one, x, 0.5, nu / np.pi)
            errors.append(np.abs(u[i, -1] - exact).mean())
        worst.append(max(errors))
    assert loglog_slope(ns, worst) > 1.85, worst
    assert worst[-1] < 6e-5


def test_mass_is_conserved(tmp_path, getkey):
    with jax.enable_x64(True):  # the scheme: to round-off
        u0 = jax.random.normal(getkey(), (3, 64), jnp.float64)
        u = jax.vmap(lambda v: burgers_fv(v, 0.01, 1 / 64, 1e-3, 11, 20))(u0)
        mass = np.asarray(u.sum(axis=-1))
        np.testing.assert_allclose(mass, mass[:, :1] * np.ones((1, 11)), atol=1e-12)
    path = datasets.generate(  # the file: float32 arithmetic and storage
        "burgers", nu=0.01, n_samples=4, nx=64, nt=11, t_end=0.5, out=tmp_path
    )
    mass = datasets.load(path).u[...][..., 0].mean(axis=-1)
    np.testing.assert_allclose(mass, mass[:, :1] * np.ones((1, 11)), atol=2e-6)


@pytest.mark.parametrize(
    "nu, cfl",
    [(0.0, None), (0.002, None), (4.0, None), (0.0, 0.95), (0.05, 0.95), (4.0, 0.95)],
)
def test_time_step_and_maximum_principle(tmp_path, nu, cfl):
    """dt = 0.25 min(dx/2, dx^2/(2 nu/pi)) (PDEBench), or cfl / (2/dx + 2 (nu/pi)/dx^2)
    at cfl = 0.95, with |u0| < 2 for every PDEBench sample; inviscid
    (shocks), advective-, mixed- and diffusion-limited runs all stay within max|u0|
    (the maximum principle that makes the fixed step safe)."""
    nx, t_end, nt = 64, 0.4, 5
    extra = {} if cfl is None else {"cfl": cfl}
    path = datasets.generate(
        "burgers", nu=nu, n_samples=8, nx=nx, nt=nt, t_end=t_end, out=tmp_path, **extra
    )
    with datasets.load(path) as ds:
        u, dt = ds.u[...][..., 0], ds.provenance["params"]["dt"]
    dx, interval = 1 / nx, t_end / (nt - 1)
    if cfl is None:
        limit = 0.25 * min(dx / 2, dx**2 / (2 * nu / np.pi) if nu else np.inf)
    else:
        limit = cfl / (2 / dx + 2 * (nu / np.pi) / dx**2)
    assert dt <= limit * (1 + 1e-12) and interval / (round(interval / dt) - 1) > limit
    assert np.abs(u[:, 0]).max() < 2
    peak = np.abs(u).max(axis=-1)  # (samples, t)
    assert np.all(peak <= peak[:, :1] + 1e-5)
    if nu == 4.0:  # kappa (2 pi)^2 t = 20: the mean alone is left
        np.testing.assert_allclose(
            u[:, -1], u[:, :1].mean(-1) * np.ones((1, nx)), atol=1e-6
        )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": -0.1}, r"nu must be >= 0.0, got -0.1"),
        ({"nu": float("nan")}, "nu must be finite"),
        ({"nu": float("inf")}, "nu must be finite"),
        ({"nu": 0.1, "nx": 4}, "nx must be >= 5, got 4"),
        ({"nu": 0.1, "nt": 1}, "nt must be >= 2"),
        ({"nu": 0.1, "t_end": -1.0}, "t_end must be finite and > 0"),
        ({"nu": 0.1, "chunk_size": 0}, "chunk_size must be an integer >= 1"),
        ({"nu": 0.1, "dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
        ({"nu": 1e6, "nx": 1024}, "steps per save interval"),
        ({"nu": 0.1, "cfl": 0.0}, r"cfl must be in \(0, 1\)"),
        ({"nu": 0.1, "cfl": 1.0}, r"cfl must be in \(0, 1\)"),
        ({"nu": 0.1, "cfl": float("nan")}, "cfl must be finite"),
        ({"nu": 0.1, "beta": 0.4}, r"unknown parameters \['beta'\]"),
        ({}, r"needs \['nu'\]"),
    ],
)
def test_bad_parameters(tmp_path, no_typecheck, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate("burgers", out=tmp_path, **params)
    assert list(tmp_path.iterdir()) == []
