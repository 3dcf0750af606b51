"""PDEBench metrics on cases computed by hand."""

import functools

import jax
import numpy as np
import pytest

from sciml import metrics


def test_rmse_by_hand():
    true = np.zeros((2, 4))
    pred = np.array([[1.0, -1.0, 1.0, -1.0], [2.0, 2.0, -2.0, 2.0]])
    # per row: sqrt(mean e^2) = 1 and 2; mean = 1.5
    assert float(metrics.rmse(pred, true, spatial_axes=-1)) == pytest.approx(1.5)
    # over all axes at once: sqrt((4 * 1 + 4 * 4) / 8) = sqrt(2.5)
    assert float(metrics.rmse(pred, true, spatial_axes=(0, 1))) == pytest.approx(
        np.sqrt(2.5)
    )
    # over axis 0: columns have errors (1, 2): sqrt(2.5) each -> sqrt(2.5)
    assert float(metrics.rmse(pred, true, spatial_axes=0)) == pytest.approx(
        np.sqrt(2.5)
    )


def test_nrmse_by_hand():
    true = np.array([[3.0, 4.0], [0.0, 2.0]])
    pred = np.array([[3.6, 4.8], [0.0, 3.0]])
    # row 0: |(0.6, 0.8)| / |(3, 4)| = 1 / 5; row 1: 1 / 2; mean 0.35
    assert float(metrics.nrmse(pred, true, spatial_axes=-1)) == pytest.approx(0.35)


def test_relative_l2_by_hand():
    true = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])
    pred = true + np.stack([0.5 * np.ones((2, 2)), np.zeros((2, 2))])
    # sample 0: |0.5 * 1| / |1| over 4 entries = 1 / 2; sample 1: 0; mean 0.25
    assert float(metrics.relative_l2(pred, true)) == pytest.approx(0.25)


def test_per_channel_and_time_then_averaged():
    # [B, C, T, X] with B = C = T = 1 except one entry: the mean runs over (b, c, t)
    true = np.ones((1, 2, 1, 3))
    pred = true.copy()
    pred[0, 1, 0] = [2.0, 2.0, 2.0]  # channel 1: RMSE 1, nRMSE 1; channel 0: 0
    assert float(metrics.rmse(pred, true, spatial_axes=-1)) == pytest.approx(0.5)
    assert float(metrics.nrmse(pred, true, spatial_axes=-1)) == pytest.approx(0.5)
    # 2-D fields: norm over (x, y) = axes (-2, -1)
    true2 = np.ones((2, 2, 2))
    pred2 = true2 + np.array([[[0, 0], [2, 2]], [[0, 0], [0, 0]]])
    # sample 0: sqrt(mean(0, 0, 4, 4)) = sqrt(2), sample 1: 0
    got = metrics.rmse(pred2, true2, spatial_axes=(-2, -1))
    assert float(got) == pytest.approx(np.sqrt(2) / 2)
    # per row instead: rows have RMSE 0, 2, 0, 0 -> 0.5
    assert float(metrics.rmse(pred2, true2, spatial_axes=-1)) == pytest.approx(0.5)


def test_jit():
    pred, true = np.full((3, 5), 2.0), np.ones((3, 5))
    for metric in (metrics.rmse, metrics.nrmse):
        jitted = jax.jit(functools.partial(metric, spatial_axes=(1,)))
        assert float(jitted(pred, true)) == pytest.approx(1.0)
    assert float(jax.jit(metrics.relative_l2)(pred, true)) == pytest.approx(1.0)


def test_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\) and \(3, 2\)"):
        metrics.rmse(np.zeros((2, 3)), np.zeros((3, 2)), spatial_axes=-1)
    with pytest.raises(ValueError, match="spatial_axes=2 is invalid"):
        metrics.nrmse(np.zeros((2, 3)), np.zeros((2, 3)), spatial_axes=2)
    with pytest.raises(ValueError, match="repeats"):
        metrics.rmse(np.zeros((2, 3)), np.zeros((2, 3)), spatial_axes=(1, -1))
    with pytest.raises(ValueError, match="batch axis"):
        metrics.relative_l2(np.zeros(3), np.zeros(3))


# ---- cRMSE, bRMSE, fRMSE, max error (spec §6) -----------------------------------


def test_crmse_by_hand():
    true = np.zeros((2, 4))
    pred = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 1.0, -1.0]])
    # spatial means 1 and 0: sqrt(mean_b (1, 0)) = sqrt(1/2)
    assert float(metrics.crmse(pred, true, spatial_axes=-1)) == pytest.approx(
        np.sqrt(0.5)
    )
    # no batch axis: |mean_x e| per row, averaged: (1 + 0) / 2
    assert float(
        metrics.crmse(pred, true, spatial_axes=-1, batch_axis=None)
    ) == pytest.approx(0.5)
    # [B, C, X]: channel 0 as above, channel 1 error mean 3 in both samples
    pred3 = np.stack([pred, np.full((2, 4), 3.0)], axis=1)
    assert float(
        metrics.crmse(pred3, np.zeros_like(pred3), spatial_axes=-1)
    ) == pytest.approx((np.sqrt(0.5) + 3.0) / 2)
    with pytest.raises(ValueError, match="batch_axis=1 is invalid"):
        metrics.crmse(pred, true, spatial_axes=-1, batch_axis=1)


def test_brmse_by_hand():
    true = np.zeros((2, 4))
    pred = np.array([[3.0, 50.0, 50.0, 4.0], [1.0, 0.0, 0.0, -1.0]])
    # boundary cells only: sqrt((9 + 16) / 2) and sqrt((1 + 1) / 2) = 1
    assert float(metrics.brmse(pred, true, spatial_axes=-1)) == pytest.approx(
        (np.sqrt(12.5) + 1) / 2
    )
    # 2-D 3 x 3: the centre is not on the boundary; the 8 edge cells have error 1
    pred2 = np.ones((3, 3))
    pred2[1, 1] = 100.0
    got = metrics.brmse(pred2, np.zeros((3, 3)), spatial_axes=(0, 1))
    assert float(got) == pytest.approx(1.0)
    # 4 x 4: 12 boundary cells, corners counted once: one corner error 2 -> sqrt(4/12)
    pred4 = np.zeros((1, 4, 4))
    pred4[0, 0, 0] = 2.0
    got = metrics.brmse(pred4, np.zeros((1, 4, 4)), spatial_axes=(-2, -1))
    assert float(got) == pytest.approx(np.sqrt(4 / 12))


def test_max_error_by_hand():
    pred = np.array([[1.0, -3.0], [0.5, 2.0]])
    assert float(metrics.max_error(pred, np.zeros((2, 2)))) == 3.0
    assert float(metrics.max_error(pred, pred)) == 0.0


def test_frmse_1d_by_hand():
    n = 32
    x = np.arange(n) / n  # L = 1
    error = np.cos(2 * np.pi * 5 * x) + 2 * np.cos(2 * np.pi * 13 * x)
    # rfft: |E(5)| = n/2, |E(13)| = n; F(k) = |E(k)| L / n -> F(5) = 0.5, F(13) = 1
    # bands: low k=0..3 (4 shells) 0; mid k=4..11 (8 shells): 0.5/8; high k=12..16: 1/5
    got = metrics.frmse(error[None], np.zeros((1, n)), spatial_axes=-1)
    assert set(got) == {"low", "mid", "high"}
    assert float(got["low"]) == pytest.approx(0.0, abs=1e-6)
    assert float(got["mid"]) == pytest.approx(0.5 / 8, rel=1e-5)
    assert float(got["high"]) == pytest.approx(1.0 / 5, rel=1e-5)
    # a batch of (error, 0): the batch mean inside the root scales by 1/sqrt(2)
    both = np.stack([error, np.zeros(n)])
    got = metrics.frmse(both, np.zeros((2, n)), spatial_axes=-1, domain_length=2.0)
    assert float(got["high"]) == pytest.approx(2.0 / 5 / np.sqrt(2), rel=1e-5)
    # 16 cells have modes up to 8 only: no high band
    assert np.isnan(
        float(
            metrics.frmse(np.ones((1, 16)), np.zeros((1, 16)), spatial_axes=-1)["high"]
        )
    )


def test_frmse_2d_radial_shells_by_hand():
    n = 8
    x, y = np.meshgrid(np.arange(n) / n, np.arange(n) / n, indexing="ij")
    # a wave at (3, 2): |k| = sqrt(13) = 3.6, shell 3 (low); modes +-(3, 2) each
    # |E| = n^2 / 2 = 32; F(3) = sqrt(2 * 32^2) / n^2 = sqrt(2) / 2; low = F(3) / 4
    error = np.cos(2 * np.pi * (3 * x + 2 * y))[None]
    got = metrics.frmse(error, np.zeros_like(error), spatial_axes=(-2, -1))
    assert float(got["low"]) == pytest.approx(np.sqrt(2) / 2 / 4, rel=1e-5)
    assert float(got["mid"]) == pytest.approx(0.0, abs=1e-6)
    # the same wave along x alone gives the same shell value (direction-free)
    along = np.cos(2 * np.pi * 3 * x)[None]
    got = metrics.frmse(along, np.zeros_like(along), spatial_axes=(-2, -1))
    assert float(got["low"]) == pytest.approx(np.sqrt(2) / 2 / 4, rel=1e-5)


def test_new_metrics_jit():
    pred, true = np.full((3, 2, 16), 2.0), np.ones((3, 2, 16))
    axis = dict(spatial_axes=-1)
    assert float(jax.jit(metrics.max_error)(pred, true)) == pytest.approx(1.0)
    for metric in (metrics.crmse, metrics.brmse):
        jitted = jax.jit(functools.partial(metric, **axis))
        assert float(jitted(pred, true)) == pytest.approx(1.0)
    # a constant error of 1 is the k = 0 mode: F(0) = N * L / N = 1; low = 1/4
    got = jax.jit(functools.partial(metrics.frmse, **axis))(pred, true)
    assert float(got["low"]) == pytest.approx(0.25)


# ---- the two layouts: model (..., C, X[, Y]) and file (N, T, X[, Y], C) ----------

SPATIAL = (metrics.rmse, metrics.nrmse, metrics.crmse, metrics.brmse, metrics.frmse)


def _value(out):
    return (
        {k: float(v) for k, v in out.items()} if isinstance(out, dict) else float(out)
    )


@pytest.mark.parametrize("metric", SPATIAL)
@pytest.mark.parametrize("grid", [(32,), (32, 24)])
def test_file_and_model_layouts_agree(metric, grid):
    """The same data as `datasets.load(...).u` gives it, (N, T, X[, Y], C), and as a
    model sees it, (N, T, C, X[, Y]), scores the same with the matching axes."""
    rng = np.random.default_rng(0)
    shape = (3, 4, *grid, 2)  # (N, T, X[, Y], C)
    true = rng.normal(size=shape) + 2.0
    pred = true + 0.1 * rng.normal(size=shape)
    d = len(grid)
    file_axes = tuple(range(-d - 1, -1))  # -2 or (-3, -2)
    model_axes = tuple(range(-d, 0))  # -1 or (-2, -1)
    as_model = [np.moveaxis(a, -1, -d - 1) for a in (pred, true)]
    file_value = _value(metric(pred, true, spatial_axes=file_axes))
    model_value = _value(metric(*as_model, spatial_axes=model_axes))
    assert file_value == pytest.approx(model_value, rel=1e-5)


@pytest.mark.parametrize("metric", SPATIAL)
def test_size_one_spatial_axis_is_refused(metric):
    """On the file layout (N, T, X, 1), `spatial_axes=-1` names the channel axis."""
    u = np.ones((2, 3, 16, 1))
    with pytest.raises(ValueError, match="size 1.*channel.*spatial_axes=-2"):
        metric(u, u, spatial_axes=-1)


@pytest.mark.parametrize("metric", SPATIAL)
def test_spatial_axes_is_required(metric):
    u = np.ones((2, 16))
    with pytest.raises(TypeError, match="spatial_axes"):
        metric(u, u)


def test_relative_l2_needs_no_axes_and_is_layout_free():
    rng = np.random.default_rng(1)
    true = rng.normal(size=(3, 4, 16, 1))
    pred = true + 0.1 * rng.normal(size=true.shape)
    got = float(metrics.relative_l2(pred, true))
    per_sample = [
        np.linalg.norm(p - t) / np.linalg.norm(t)
        for p, t in zip(pred, true, strict=True)
    ]
    assert got == pytest.approx(np.mean(per_sample), rel=1e-5)
    moved = [np.moveaxis(a, -1, 2) for a in (pred, true)]
    assert float(metrics.relative_l2(*moved)) == pytest.approx(got, rel=1e-6)
