"""`sciml.solvers.Burgers`: Cole-Hopf accuracy and order, the exact Riemann
solutions (the entropy fix), mass, the time step and the maximum principle."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references
from scipy.special import ive, log_ndtr

from sciml import solvers


def loglog_slope(ns, errors):
    return -np.polyfit(np.log(ns), np.log(errors), 1)[0]


@eqx.filter_jit
def _evolve(stepper, u0, steps):
    return jax.lax.fori_loop(0, steps, lambda _, u: stepper(u), u0)


CHANNELS = (2, 8)  # runs are padded to 2 or 8 channels: few compilations serve all


def evolve(stepper, u0, steps):
    """`steps` steps of `stepper` from the field `u0` `(C, X)`, C <= 8. The count is
    traced and the channels padded (to 2 or 8), so this compiles once per grid,
    dtype, flux and padding, whatever the step, nu or the count."""
    u0 = np.asarray(u0)
    channels = min(c for c in CHANNELS if c >= len(u0))
    padded = np.zeros((channels, u0.shape[-1]), u0.dtype)
    padded[: len(u0)] = u0
    return np.asarray(_evolve(stepper, jnp.asarray(padded), jnp.asarray(steps)))[
        : len(u0)
    ]


@eqx.filter_jit
def _frames(stepper, u0, steps, n_frames):
    def interval(u, _):
        u = jax.lax.fori_loop(0, steps, lambda _, v: stepper(v), u)
        return u, u

    return jnp.concatenate([u0[None], jax.lax.scan(interval, u0, length=n_frames)[1]])


def frames(stepper, u0, steps, n_frames):
    """`u0` and `n_frames` more frames `steps` steps apart, `(n_frames + 1, C, X)`
    (like `stepper.trajectory`, with a traced step count)."""
    return np.asarray(_frames(stepper, jnp.asarray(u0), jnp.asarray(steps), n_frames))


def solve(grid, nu, u0, t_end, interval=None, **max_dt):
    """Equal steps within `Burgers.max_dt` per save interval (default: one interval)."""
    interval = interval or t_end
    m = solvers.substeps(interval, solvers.Burgers.max_dt(grid, nu, **max_dt))
    stepper = solvers.Burgers(grid, interval / m, nu)
    return evolve(stepper, u0, round(t_end / interval) * m)


FAMILY = solvers.PDEBenchSines()


@jax.jit
def pdebench_samples(key):
    """The draws (batched) and the fields `(8, 1, 64)` of samples 0 .. 7 of `key`
    (sample i from fold_in(key, i)), in one compilation."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(8))
    params = jax.vmap(lambda k: FAMILY.params(key=k))(keys)
    return params, FAMILY.batch(solvers.Grid(64), 8, key=key)


# ---- Cole-Hopf --------------------------------------------------------------


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


def test_matches_cole_hopf_at_second_order():
    """u0 = sin(2 pi x), nu = 0.1 (kappa = nu/pi), t = 0.3, when the front is
    steepest (|u_x| ~ 10). Measured: L1 1.94, max 2.01 over n = 64 .. 512; L1 error
    7.8e-6 at n = 512."""
    nu, t_end = 0.1, 0.3
    ns = [64, 128, 256, 512]
    l1, linf = [], []
    with jax.enable_x64(True):
        for n in ns:
            grid = solvers.Grid(n)
            x = grid.axes[0]
            u = solve(grid, nu, np.sin(2 * np.pi * x)[None], t_end, u_max=1.0)[0]
            error = np.abs(u - cole_hopf_sine(x, t_end, nu / np.pi))
            l1.append(error.mean())
            linf.append(error.max())
    assert 1.85 < loglog_slope(ns, l1) < 2.2, l1
    assert 1.85 < loglog_slope(ns, linf) < 2.2, linf
    assert l1[-1] < 1e-5


@pytest.mark.parametrize("cfl", [None, 0.9])
def test_matches_cole_hopf_on_pdebench_samples(cfl):
    """PDEBench's smooth initial conditions (no |.|, no window) of the first 8
    samples of seed 0, nu = 0.1, t = 0.5 in two save intervals, float64, with
    PDEBench's step and the combined bound. Measured (as float32 files): worst-sample
    L1 error 5.3e-4, 1.4e-4, 3.8e-5 (order 1.90) for nx = 64 .. 256, the same with
    either step."""
    nu = 0.1
    with jax.enable_x64(True):
        params, fields = pdebench_samples(jax.random.key(0))  # 8 samples
    params = jax.tree.map(np.asarray, params)
    smooth = np.flatnonzero(~params.absolute & ~params.windowed)
    assert len(smooth) >= 4
    samples = [jax.tree.map(lambda a, i=i: a[i], params) for i in smooth]
    ns, worst = [64, 128, 256], []
    with jax.enable_x64(True):
        for nx in ns:
            grid = solvers.Grid(nx)
            x = grid.axes[0]
            u0 = np.stack(
                [references.cole_hopf_pdebench(p, x, 0.0, nu / np.pi) for p in samples]
            )
            if nx == ns[0]:  # the check's check: the series gives the sampler's fields
                np.testing.assert_allclose(u0, fields[smooth, 0], atol=1e-6)
            u = solve(grid, nu, u0, 0.5, 0.25, **({} if cfl is None else {"cfl": cfl}))
            exact = [
                references.cole_hopf_pdebench(p, x, 0.5, nu / np.pi) for p in samples
            ]
            worst.append(np.abs(u - np.stack(exact)).mean(axis=-1).max())
    assert loglog_slope(ns, worst) > 1.85, worst
    assert worst[-1] < 6e-5


# ---- the exact Riemann solutions: the entropy fix ---------------------------------

T_RIEMANN = 0.25
RIEMANN_NS = [64, 128, 256]


def fan_and_shock_u0(x):
    """-1 on (0, 1/2), +1 on (1/2, 1): a transonic expansion at x = 1/2 and, across
    the periodic end x = 0 = 1, a jump from +1 down to -1."""
    return np.where(x < 0.5, -1.0, 1.0)


def fan_and_shock(x, t):
    """The entropy solution of inviscid Burgers from `fan_and_shock_u0` (t <= 1/4):
    the rarefaction fan u = (x - 1/2)/t for |x - 1/2| < t, and the shock at x = 0
    stays put (Rankine-Hugoniot speed (1 + (-1))/2 = 0)."""
    return np.clip((x - 0.5) / t, -1.0, 1.0)


def log_erfc(z):
    return np.log(2.0) + log_ndtr(-np.sqrt(2.0) * z)


def viscous_fan_and_shock(x, t, kappa):
    r"""The exact solution of $u_t + uu_x = \kappa u_{xx}$ from `fan_and_shock_u0`,
    by Cole-Hopf, for $\sqrt{\kappa t} \ll 1/4$ (the two waves do not interact).

    With $\xi$ the distance from the jump and $s = \sqrt{4\kappa t}$, the heat
    equation from $\phi_0 = e^{\mp|\xi|/(2\kappa)}$ gives $\phi \propto P + Q$,
    $u = -2\kappa\phi_\xi/\phi = \pm(P - Q)/(P + Q)$: at the expansion
    $P = e^{-\xi/2\kappa}\operatorname{erfc}((t - \xi)/s)$,
    $Q = e^{\xi/2\kappa}\operatorname{erfc}((t + \xi)/s)$; at the shock
    $P = e^{\xi/2\kappa}\operatorname{erfc}(-(t + \xi)/s)$,
    $Q = e^{-\xi/2\kappa}\operatorname{erfc}((\xi - t)/s)$ (in logarithms)."""
    s = np.sqrt(4 * kappa * t)
    xi = x - 0.5
    log_p = -xi / (2 * kappa) + log_erfc((t - xi) / s)
    log_q = xi / (2 * kappa) + log_erfc((t + xi) / s)
    fan = np.tanh((log_p - log_q) / 2)
    xi = np.where(x < 0.5, x, x - 1.0)
    log_p = xi / (2 * kappa) + log_erfc(-(xi + t) / s)
    log_q = -xi / (2 * kappa) + log_erfc((xi - t) / s)
    shock = np.tanh((log_q - log_p) / 2)
    return np.where(np.abs(x - 0.5) < 0.375, fan, shock)


def moving_shock_u0(x):
    """1 on (1/4, 1/2), 0 elsewhere."""
    return np.where((x > 0.25) & (x < 0.5), 1.0, 0.0)


def moving_shock(x, t):
    """Its entropy solution for t <= 1/2: the fan u = (x - 1/4)/t on
    (1/4, 1/4 + t), then u = 1 up to the shock at 1/2 + t/2 (Rankine-Hugoniot
    speed (1 + 0)/2), 0 beyond."""
    u = np.where((x > 0.25) & (x < 0.25 + t), (x - 0.25) / t, 0.0)
    return np.where((x >= 0.25 + t) & (x < 0.5 + t / 2), 1.0, u)


def riemann_errors(nu, problems, entropy_fix=True, **max_dt):
    """L1 errors at t = 1/4 on the grids `RIEMANN_NS`, float64, of the Riemann
    `problems` `[(u0(x), exact(x)), ...]` (the channels of one run), `(problem, grid)`."""
    errors = []
    with jax.enable_x64(True):
        for n in RIEMANN_NS:
            grid = solvers.Grid(n)
            x = grid.axes[0]
            u0 = np.stack([start(x) for start, _ in problems])
            exact = np.stack([solution(x) for _, solution in problems])
            m = solvers.substeps(T_RIEMANN, solvers.Burgers.max_dt(grid, nu, **max_dt))
            stepper = solvers.Burgers(grid, T_RIEMANN / m, nu, entropy_fix=entropy_fix)
            u = evolve(stepper, u0, m)
            np.testing.assert_allclose(u.mean(-1), u0.mean(-1), atol=1e-13)  # mass
            errors.append(np.abs(u - exact).mean(axis=-1))
    return np.array(errors).T


INVISCID = [
    (fan_and_shock_u0, lambda x: fan_and_shock(x, T_RIEMANN)),
    (moving_shock_u0, lambda x: moving_shock(x, T_RIEMANN)),
]


def test_inviscid_riemann_problems_converge_to_the_entropy_solution():
    """nu = 0, dt = 0.25 dx / max|u0| (PDEBench's rule with the maximum principle's
    bound 1). The transonic expansion opens into the fan and the stationary shock
    stays sharp; the moving shock runs at the Rankine-Hugoniot speed. Measured L1
    errors (n = 64, 128, 256): fan and shock 2.2e-3, 1.1e-3, 5.5e-4, moving shock
    7.5e-3, 3.8e-3, 1.9e-3: first order, as expected at a shock and a fan's kinks."""
    fan, moving = riemann_errors(0.0, INVISCID, u_max=1.0)
    assert loglog_slope(RIEMANN_NS, fan) > 0.9, fan
    assert fan[-1] < 7e-4, fan
    assert loglog_slope(RIEMANN_NS, moving) > 0.9, moving
    assert moving[-1] < 2.5e-3, moving
    with jax.enable_x64(True):  # the stationary shock is kept exactly
        grid = solvers.Grid(64)
        x = grid.axes[0]
        u0 = np.stack([fan_and_shock_u0(x), moving_shock_u0(x)])
        u = evolve(solvers.Burgers(grid, T_RIEMANN / 64, 0.0), u0, 64)
        far = (x < 0.2) | (x > 0.8)  # beyond the fan, which spans (1/4, 3/4)
        np.testing.assert_allclose(u[0, far], u0[0, far], atol=1e-14)


def test_without_the_entropy_fix_the_expansion_shock_stays():
    """PDEBench's flux (entropy_fix=False): at the sonic point both states give
    f = 1/2 and the dissipation |(a + b)/2| vanishes, so the jump from -1 to 1 never
    moves; the L1 error is the fan's area t = 1/4 on every grid. (The moving shock
    has no sonic point: the same as with the fix.)"""
    fan, moving = riemann_errors(0.0, INVISCID, entropy_fix=False, u_max=1.0)
    np.testing.assert_allclose(fan, T_RIEMANN, rtol=0.02)
    assert fan[-1] > 0.9 * fan[0], fan  # does not fall
    assert loglog_slope(RIEMANN_NS, moving) > 0.9, moving


def test_small_viscosity_converges_to_its_cole_hopf_solution():
    """nu = 1e-4 with PDEBench's step rule (cfl=None, u_max=2), against the exact
    viscous solution (Cole-Hopf), whose fan corners are sqrt(4 kappa t) = 5.6e-3
    wide. With the fix the error falls at first order (measured 2.0e-3, 9.1e-4,
    4.5e-4 for n = 64, 128, 256); with PDEBench's flux the expansion shock opens only
    as fast as the viscosity allows: 13 to 17 times the error on these grids (3.4e-2,
    1.4e-2, 5.9e-3)."""
    nu = 1e-4
    x = solvers.Grid(1000).axes[0]  # the check's check: it tends to the entropy one
    close = viscous_fan_and_shock(x, T_RIEMANN, 1e-7) - fan_and_shock(x, T_RIEMANN)
    assert np.abs(close).mean() < 1e-5
    viscous = [
        (fan_and_shock_u0, lambda x: viscous_fan_and_shock(x, T_RIEMANN, nu / np.pi))
    ]
    (fixed,) = riemann_errors(nu, viscous)
    (pdebench,) = riemann_errors(nu, viscous, entropy_fix=False)
    assert loglog_slope(RIEMANN_NS, fixed) > 0.9, fixed
    assert fixed[-1] < 6e-4, fixed
    assert np.all(pdebench > 8 * fixed), (pdebench, fixed)


# ---- mass, the time step, the maximum principle ---------------------------------


def test_conserves_mass_to_round_off(getkey):
    with jax.enable_x64(True):
        grid = solvers.Grid(64)
        u0 = jax.random.normal(getkey(), (3, 64), jnp.float64)  # 3 channels
        u = frames(solvers.Burgers(grid, 1e-3, 0.01), u0, 20, 10)
        mass = u.sum(axis=-1)  # (11, 3)
        np.testing.assert_allclose(mass, mass[:1] * np.ones((11, 1)), atol=1e-12)


STEP_CASES = [
    (0.0, None),
    (0.002, None),
    (4.0, None),
    (0.0, 0.95),
    (0.05, 0.95),
    (4.0, 0.95),
]


@pytest.mark.parametrize("nu, cfl", STEP_CASES)
def test_time_step_rule(nu, cfl):
    """dt = 0.25 min(dx/2, dx^2/(2 nu/pi)) (PDEBench, with |u| < 2), or
    cfl / (2/dx + 2 (nu/pi)/dx^2), the combined bound."""
    grid = solvers.Grid(64)
    dx = 1 / 64
    if cfl is None:
        limit = 0.25 * min(dx / 2, dx**2 / (2 * nu / np.pi) if nu else np.inf)
        assert solvers.Burgers.max_dt(grid, nu) == pytest.approx(limit, rel=1e-12)
    else:
        limit = cfl / (2 / dx + 2 * (nu / np.pi) / dx**2)
        got = solvers.Burgers.max_dt(grid, nu, cfl=cfl)
        assert got == pytest.approx(limit, rel=1e-12)
    u_max = solvers.Burgers.max_dt(grid, nu, cfl=cfl, u_max=1.0)
    assert u_max >= solvers.Burgers.max_dt(grid, nu, cfl=cfl)  # a smaller bound
    assert solvers.Burgers.max_dt(grid, 0.0, u_max=0.0) == np.inf


def test_maximum_principle_for_every_step_rule():
    """Inviscid (shocks), advective-, mixed- and diffusion-limited runs of 8 PDEBench
    samples (float32, 64 cells, 4 save intervals of 0.1) all stay within max|u0|,
    the maximum principle that makes the fixed step safe; at nu = 4,
    kappa (2 pi)^2 t = 20: only the mean is left."""
    grid, t_end, nt = solvers.Grid(64), 0.4, 5
    with jax.enable_x64(True):  # (the compilation the Cole-Hopf test made)
        u0 = pdebench_samples(jax.random.key(0))[1][:, 0]  # samples as channels
    u0 = np.asarray(u0, np.float32)
    assert np.abs(u0).max() < 2
    interval = t_end / (nt - 1)
    for nu, cfl in STEP_CASES:
        m = solvers.substeps(interval, solvers.Burgers.max_dt(grid, nu, cfl=cfl))
        u = frames(solvers.Burgers(grid, interval / m, nu), u0, m, nt - 1)
        peak = np.abs(u).max(axis=-1)  # (t, samples)
        assert np.all(peak <= peak[:1] + 1e-5), (nu, cfl)
        if nu == 4.0:
            np.testing.assert_allclose(
                u[-1], u[0].mean(-1, keepdims=True) * np.ones((1, 64)), atol=1e-6
            )
