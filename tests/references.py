"""What the solver and generator tests share: reference solutions (numpy, written
independently of sciml), the compiled batched gradient of a loss, and fast draws. pytest puts
`tests/` on the path (its conftest's folder), so test files import this module as
`references`."""

import equinox as eqx
import jax
import numpy as np

from sciml._random import flat_draw


def normal(key, shape, dtype=None):
    """`jax.random.normal(key, shape, dtype)`, bit for bit, drawn flat: XLA on a CPU
    compiles a threefry draw of rank 3 or more in about a second, a flat one fast."""
    return flat_draw(jax.random.normal, key, shape, dtype=dtype or float)


def uniform(key, shape, dtype=None, minval=0.0, maxval=1.0):
    """`jax.random.uniform(key, shape, dtype, minval, maxval)`, bit for bit, drawn
    flat (as `normal`)."""
    return flat_draw(
        jax.random.uniform, key, shape, dtype=dtype or float, minval=minval,
        maxval=maxval,
    )  # fmt: skip


def batched_value_and_grad(loss):
    """`loss(args) -> (value, aux)` as one compiled `eqx.filter_vmap` of its value and
    gradient over a batch of `args` (e.g. solvers built by `eqx.filter_vmap` over
    their constructor, with their initial fields), traced at most once: each
    test module has one configuration, whatever the parameter values. One batched
    value-and-gradient compiles faster than a batched solve plus a gradient."""
    return eqx.filter_jit(
        eqx.debug.assert_max_traces(
            eqx.filter_vmap(eqx.filter_value_and_grad(loss, has_aux=True)),
            max_traces=1,
        )
    )


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


def darcy_operator(u, a, n, weight=2.0):
    """-div(a grad u) on the n x n cell grid of (0, 1)^2, in numpy, written
    independently of the solver: face values of `a` the mean of the two cells, and
    `weight * a * u` for a face on the boundary (u = 0 there)."""
    h = 1.0 / n
    out = np.zeros_like(u)
    for i in range(n):
        for j in range(n):
            total = 0.0
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                k, m = i + di, j + dj
                if 0 <= k < n and 0 <= m < n:
                    total += 0.5 * (a[i, j] + a[k, m]) * (u[i, j] - u[k, m])
                else:
                    total += weight * a[i, j] * u[i, j]
            out[i, j] = total / h**2
    return out
