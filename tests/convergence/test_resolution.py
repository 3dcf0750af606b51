"""Resolution refinement: one operator on coarser and finer grids."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import convergence
from sciml.operators import FNO

GRIDS = [16, 32, 64, 128]
L = 2 * np.pi


def inputs(n, batch=4):
    """Band-limited periodic inputs (batch, 1, n) on x_i = i L / n."""
    x = L * np.arange(n) / n
    rng = np.random.default_rng(0)
    a = rng.normal(size=(batch, 3, 1))
    return sum(a[:, k] * np.sin((k + 1) * x + k)[None] for k in range(3))[:, None]


def derivative(n, batch=4):
    x = L * np.arange(n) / n
    rng = np.random.default_rng(0)
    a = rng.normal(size=(batch, 3, 1))
    d = sum(a[:, k] * (k + 1) * np.cos((k + 1) * x + k)[None] for k in range(3))
    return d[:, None]


def spectral_derivative(u):
    n = u.shape[-1]
    k = jnp.fft.fftfreq(n, d=L / n) * 2 * jnp.pi
    return jnp.real(jnp.fft.ifft(1j * k * jnp.fft.fft(u, axis=-1), axis=-1))


def central_difference(u):
    h = L / u.shape[-1]
    return (jnp.roll(u, -1, -1) - jnp.roll(u, 1, -1)) / (2 * h)


def grid_tied(u):
    """A stencil 'learned' on 32 points: the spacing is baked in."""
    h = L / 32
    return (jnp.roll(u, -1, -1) - jnp.roll(u, 1, -1)) / (2 * h)


def test_spectral_operator_is_resolution_invariant():
    report = convergence.resolution_test(
        spectral_derivative, inputs, derivative, GRIDS, float64=True
    )
    assert report.verdict == "PASS" and "round-off" in report.reason
    assert report.errors.max() < 1e-12


def test_finite_differences_converge_at_rate_two(tmp_path):
    report = convergence.resolution_test(
        central_difference, inputs, derivative, GRIDS, expected_rate=2, float64=True
    )
    assert report.verdict == "PASS", str(report)
    assert report.observed_rate == pytest.approx(2.0, abs=0.1)
    assert "rate" in report.reason
    report.plot(tmp_path / "res.png")
    assert json.loads(report.to_json())["expected_rate"] == 2.0
    wrong = convergence.resolution_test(
        central_difference, inputs, derivative, GRIDS, expected_rate=4, float64=True
    )
    assert wrong.verdict == "FAIL" and "not the expected 4" in wrong.reason


def test_grid_tied_operator_fails():
    report = convergence.resolution_test(
        grid_tied, inputs, derivative, GRIDS, train_grid=32, float64=True
    )
    assert report.verdict == "FAIL" and report.reason.startswith("grid-tied")


def test_fno_refined_in_space(getkey):
    """The same FNO on coarser and finer grids, against itself on a fine grid: its
    spectral layers act on the same Fourier modes at every resolution, so the error
    stays small and falls under refinement."""
    fno = FNO(
        1, 1, modes=4, width=4, n_layers=2, projection_width=8, append_grid=False,
        key=getkey(),
    )  # fmt: skip
    fine = 256
    fine_inputs = jnp.asarray(inputs(fine), jnp.float32)
    on_fine = np.asarray(eqx.filter_jit(jax.vmap(fno))(fine_inputs))  # not op by op

    def reference(n):
        return on_fine[..., :: fine // n]

    report = convergence.resolution_test(
        fno, inputs, reference, [16, 32, 64], train_grid=32
    )
    assert report.verdict == "PASS", str(report)
    assert report.errors[-1] <= report.errors[0]


def test_resolution_bad_input(no_typecheck):
    with pytest.raises(ValueError, match="at least 3 distinct"):
        convergence.resolution_test(spectral_derivative, inputs, derivative, [16, 32])
    with pytest.raises(ValueError, match="shape"):
        convergence.resolution_test(
            lambda u: u[..., ::2], inputs, derivative, GRIDS, float64=True
        )
    nan = convergence.resolution_test(
        lambda u: u * jnp.nan, inputs, derivative, GRIDS, float64=True
    )
    assert nan.verdict == "FAIL" and "NaN" in nan.reason


def test_float64_casts_a_float32_model(getkey):
    """float64=True evaluates a float32-weight FNO in float64 (its weights cast,
    as `convergence.test` does), where its convolutions would otherwise meet mixed
    dtypes; the function is unchanged, so the errors match the float32 run."""
    fno = FNO(1, 1, modes=4, width=8, key=getkey())
    on64 = convergence.resolution_test(fno, inputs, inputs, GRIDS, float64=True)
    on32 = convergence.resolution_test(fno, inputs, inputs, GRIDS)
    assert np.all(np.isfinite(on64.errors))
    np.testing.assert_allclose(on64.errors, on32.errors, rtol=1e-3)
