"""`sciml.solvers.substeps`: equal steps per save interval within the stable step."""

import math

import pytest

from sciml import solvers


def test_substeps_hit_every_save_time_within_the_bound():
    for interval, dt_max in [(0.01, 0.4 / 1024 / 0.4), (0.01, 0.003), (0.5, 0.7)]:
        m = solvers.substeps(interval, dt_max, what="test")
        assert interval / m <= dt_max * (1 + 1e-12)
        assert m == 1 or interval / (m - 1) > dt_max  # the fewest steps that fit
    assert solvers.substeps(0.01, 0.4 * (1 / 1024) / 0.4) == 11  # 10.24 -> 11
    assert solvers.substeps(0.01, 0.0025) == 4  # exactly 4, not 5
    assert solvers.substeps(0.01, math.inf) == 1


def test_substeps_refuse_a_run_that_would_not_end():
    with pytest.raises(
        ValueError,
        match=r"\(dx\^2/nu\) needs \d+ steps per save interval.*coarser grid",
    ):
        solvers.substeps(1.0, 1e-9, what="dx^2/nu")


@pytest.mark.parametrize("interval", [0.0, -0.1, float("nan")])
def test_substeps_refuse_a_bad_interval(no_typecheck, interval):
    with pytest.raises(ValueError, match="interval must be"):
        solvers.substeps(interval, 0.1)
