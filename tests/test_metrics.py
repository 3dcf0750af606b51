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
    assert float(metrics.rmse(pred, true)) == pytest.approx(1.5)
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
    assert float(metrics.nrmse(pred, true)) == pytest.approx(0.35)


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
    assert float(metrics.rmse(pred, true)) == pytest.approx(0.5)
    assert float(metrics.nrmse(pred, true)) == pytest.approx(0.5)
    # 2-D fields: norm over (x, y) = axes (-2, -1)
    true2 = np.ones((2, 2, 2))
    pred2 = true2 + np.array([[[0, 0], [2, 2]], [[0, 0], [0, 0]]])
    # sample 0: sqrt(mean(0, 0, 4, 4)) = sqrt(2), sample 1: 0
    got = metrics.rmse(pred2, true2, spatial_axes=(-2, -1))
    assert float(got) == pytest.approx(np.sqrt(2) / 2)
    # per row instead: rows have RMSE 0, 2, 0, 0 -> 0.5
    assert float(metrics.rmse(pred2, true2)) == pytest.approx(0.5)


def test_jit():
    pred, true = np.full((3, 5), 2.0), np.ones((3, 5))
    for metric in (metrics.rmse, metrics.nrmse):
        jitted = jax.jit(functools.partial(metric, spatial_axes=(1,)))
        assert float(jitted(pred, true)) == pytest.approx(1.0)
    assert float(jax.jit(metrics.relative_l2)(pred, true)) == pytest.approx(1.0)


def test_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\) and \(3, 2\)"):
        metrics.rmse(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="spatial_axes=2 is invalid"):
        metrics.nrmse(np.zeros((2, 3)), np.zeros((2, 3)), spatial_axes=2)
    with pytest.raises(ValueError, match="repeats"):
        metrics.rmse(np.zeros((2, 3)), np.zeros((2, 3)), spatial_axes=(1, -1))
    with pytest.raises(ValueError, match="batch axis"):
        metrics.relative_l2(np.zeros(3), np.zeros(3))
