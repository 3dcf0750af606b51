"""The verdict rules of `specs/convergence.md` §6, with our documented additions."""

import numpy as np

from ._order import local_orders

KAPPA = 10.0  # the asymptotic window keeps errors above KAPPA * plateau
RISE = 2.0  # a rise under refinement by more than this factor is a failure
PASS_RISE = 1.1  # a passing model's finest error is at most this times E(dt_train)
PLATEAU_REL = 0.2  # errors within 20 % of the plateau lie on it
HIGH_PLATEAU = 0.1  # a flat curve above 10 % of the reference norm: no convergence
ROUNDOFF = {np.dtype("float32"): 1e-6, np.dtype("float64"): 1e-13}
UNIT_ROUNDOFF = {np.dtype("float32"): 2.0**-24, np.dtype("float64"): 2.0**-53}


SLACK_ABOVE = 1.0  # an observed order may exceed p by up to 1 + tolerance


def order_tolerance(p: int | float) -> float:
    """How far the observed order may be from the theoretical one: max(0.5, 0.15 p)."""
    return max(0.5, 0.15 * p)


def order_accepted(p_hat: float, p: int | float) -> bool:
    r"""Whether an observed order matches the solver's order $p$:
    $p - \tau \le \hat p \le p + 1 + \tau$, $\tau$ = `order_tolerance(p)`.

    The band is one-sided in spirit [our decision]: falling too slowly is a failure,
    but a slope up to one order *above* $p$ is pre-asymptotic super-convergence, not
    a defect. It happens when the leading error coefficient is small, as for Tsit5,
    whose coefficients are chosen to minimise it: on Lotka--Volterra its error falls
    at order 6 all the way down to round-off, so no window shows order 5.
    """
    tol = order_tolerance(p)
    return bool(np.isfinite(p_hat) and p - tol <= p_hat <= p + SLACK_ABOVE + tol)


def tolerances(p: int, floor: float) -> dict:
    """The thresholds a verdict uses, as recorded in the report."""
    return {
        "order": order_tolerance(p),
        "order_above": SLACK_ABOVE + order_tolerance(p),
        "plateau_rel": PLATEAU_REL,
        "kappa": KAPPA,
        "discrete_map_rise": RISE,
        "pass_rise": PASS_RISE,
        "high_plateau": HIGH_PLATEAU,
        "roundoff_floor": floor,
    }


def train_index(dts: np.ndarray, dt_train: float | None) -> int | None:
    """The index of the sweep's step size closest (in log) to `dt_train`."""
    if dt_train is None:
        return None
    return int(np.argmin(np.abs(np.log(dts / dt_train))))


def verdict(
    dts, errors, p, p_hat, ci, window, level, dt_train, tol, ref_norm, ref_errors,
    limit_error=None, noise=0.0,
) -> tuple[str, str]:  # fmt: skip
    r"""The rules of `specs/convergence.md` §6, in order; returns (verdict, reason).

    1. Divergence: NaN/inf at every step, at or below `dt_train`, or at the finest.
    2. Discrete map: the smallest error lies within a factor 2 of `dt_train` and the
       finest error exceeds `RISE` times E(dt_train). The reason gives the rise and,
       when Richardson ran, the distance of its extrapolated limit from the
       reference (the same signature seen with three runs only).
    3. Divergence under refinement: errors rising monotonically, by more than `RISE`.
    4. PASS: the fitted order on >= 3 asymptotic points is accepted
       (`order_accepted`: within `tol` below `p`, up to `1 + tol` above) and the
       finest error is at most `PASS_RISE` times E(dt_train).
    5. Otherwise, decided by the plateau.

    Additions to the sheet [our decisions]: a rise under refinement counts as
    divergence only when it exceeds the discrete-map factor (a 2 % drift at the
    plateau is not divergence); a plateau above `HIGH_PLATEAU` times the reference
    norm is "no convergence"; the plateau-limited PASS asks that the error fall at
    the solver's order until it meets the plateau and then stay on it, wherever
    the plateau begins (`_order_above_plateau`; the sheet anchors it at
    `dt_train`, which misses high-order solvers that reach the plateau a step or
    two finer); a curve on the plateau from `dt_train` down with no visible slope
    PASSes when the true dynamics' solver error is below the plateau at every step
    size (the order cannot show through the model's own error), or when the
    model's error stays within $(1 + $`PLATEAU_REL`$)\,\varepsilon$ of the true
    dynamics' error at every step size (by the triangle inequality
    $|E_j - E^*_j| \le \|\hat y_j - \hat y^*_j\|$, which is about
    $\varepsilon$ for a continuous model: where the calibration curve rises above
    the plateau, the model's curve must follow it at order $p$), and is otherwise
    INCONCLUSIVE.

    `noise` is the round-off the finest run may accumulate, $u\,\|y\|\,N$ for
    unit round-off $u$ and $N$ steps [our decision]: a rise under refinement up to
    that level is round-off growth, not a discrete map (it matters in float32).
    """
    finite = np.isfinite(errors)
    i_tr = train_index(dts, dt_train)
    if not finite.any():
        return "FAIL", "divergence: every step size gave NaN or inf"
    if i_tr is not None and not np.all(finite[i_tr:]):
        bad = dts[i_tr:][~finite[i_tr:]]
        return "FAIL", f"divergence: NaN/inf at dt = {bad.tolist()} (<= dt_train)"
    fine = errors[-1]
    if not np.isfinite(fine):
        return "FAIL", "divergence: NaN/inf at the finest step size"
    e_tr = errors[i_tr] if i_tr is not None else errors[finite][0]
    e_tr = max(e_tr, noise)  # a rise below the round-off allowance is no rise
    if i_tr is not None:
        j_min = int(np.nanargmin(errors))
        if abs(np.log2(dts[j_min] / dts[i_tr])) <= 1 and fine > RISE * e_tr:
            extra = ""
            if limit_error is not None:
                extra = (
                    f"; the Richardson limit of the learned field is "
                    f"{limit_error:.3g} from the reference"
                )
            return "FAIL", (
                f"discrete map: the error is smallest near dt_train ({errors[i_tr]:.3g}) and "
                f"rises {fine / errors[i_tr]:.1f}x under refinement to {fine:.3g}{extra}"
            )
    rising = np.all(np.diff(errors[finite]) > 0)
    if rising and fine > RISE * max(errors[finite][0], noise):
        return "FAIL", (
            f"divergence: the error grows under refinement, {errors[finite][0]:.3g} "
            f"-> {fine:.3g}"
        )
    slopes = local_orders(dts, errors)
    n_win = int(window.sum())
    if n_win >= 3 and order_accepted(p_hat, p) and fine <= PASS_RISE * e_tr:
        return "PASS", (
            f"the error falls at order {p_hat:.2f} ± {ci:.2f} (solver order {p}, "
            f"accepted {p - tol:.2f} to {p + SLACK_ABOVE + tol:.2f}) on {n_win} step sizes"
            + (f", down to a plateau at {level:.3g}" if level is not None else "")
        )
    if level is not None and level > HIGH_PLATEAU * max(ref_norm, 1e-300):
        return "FAIL", (
            f"no convergence: the error stays at {level:.3g}, "
            f"{level / max(ref_norm, 1e-300):.0%} of the reference norm, whatever the step size"
        )
    if level is not None and fine <= PASS_RISE * e_tr:
        order = _order_above_plateau(dts, errors, level)
        if order is not None and order_accepted(order, p):
            return "PASS", (
                f"plateau-limited: the error falls at order {order:.2f} until it "
                f"levels at the model's own error {level:.3g}"
            )
    i_ref = i_tr if i_tr is not None else 0
    stable = level is not None and np.all(
        np.abs(errors[i_ref:] - level) <= PLATEAU_REL * level
    )
    if stable and fine <= PASS_RISE * e_tr:
        both = finite & np.isfinite(ref_errors) if ref_errors is not None else None
        if ref_errors is not None and np.all(ref_errors[both] < level):
            return "PASS", (
                f"plateau-limited: the error is stable under refinement at the model's "
                f"own error {level:.3g}, which exceeds the solver's error on the true "
                f"dynamics ({np.nanmax(ref_errors[both]):.3g} at most) at every step size, so "
                "the order cannot show; coarser step sizes would reveal it"
            )
        if ref_errors is not None and np.all(
            np.abs(errors[both] - ref_errors[both]) <= (1 + PLATEAU_REL) * level
        ):
            return "PASS", (
                f"plateau-limited: the error is stable under refinement at the model's "
                f"own error {level:.3g} and, at every step size, within that error of "
                f"the true dynamics' error through the same solver (up to "
                f"{np.nanmax(ref_errors[both]):.3g}): the learned field converges "
                "like the true one"
            )
        return "INCONCLUSIVE", (
            f"the error is stable under refinement at {level:.3g} but never leaves "
            "the plateau: add coarser step sizes, or pass true_vector_field to "
            "compare with the solver's own error"
        )
    if n_win < 3 and not np.any(slopes[np.isfinite(slopes)] > 0.5):
        return "FAIL", "no convergence: the error does not fall with the step size"
    if n_win < 3:
        return "FAIL", (
            f"only {n_win} step sizes on the asymptotic side: no order can be fitted "
            "(refine or coarsen the sweep)"
        )
    return "FAIL", (
        f"the observed order {p_hat:.2f} ± {ci:.2f} is not the solver's order {p} "
        f"(accepted {p - tol:.2f} to {p + SLACK_ABOVE + tol:.2f})"
    )


def _order_above_plateau(dts, errors, level) -> float | None:
    r"""The order at which the error approaches its plateau, or None.

    The curve must fall onto the plateau and stay there: the final run of errors
    within `PLATEAU_REL` of `level` starts at some $j_0$ (and has >= 2 points), and
    no earlier error lies below the band (a dip below the plateau is cancellation,
    not convergence). The order is the median slope of $E_j - \varepsilon$
    (the sheet's split $E \approx C\Delta t^p + \varepsilon_\theta$) between
    neighbours that both lie above the band; None if there is no such pair.
    """
    on = np.abs(errors - level) <= PLATEAU_REL * level
    tail = len(on) - (np.flatnonzero(~on)[-1] + 1 if (~on).any() else 0)
    j0 = len(errors) - tail
    if tail < 2 or j0 < 2:
        return None
    before = errors[:j0]
    finite = np.isfinite(before)
    if np.any(before[finite] < (1 - PLATEAU_REL) * level):
        return None
    above = finite & (before > (1 + PLATEAU_REL) * level)
    pairs = np.flatnonzero(above[:-1] & above[1:])
    if not pairs.size:
        return None
    excess = errors - level
    slopes = np.log(excess[pairs] / excess[pairs + 1]) / np.log(
        dts[pairs] / dts[pairs + 1]
    )
    return float(np.median(slopes))


def self_convergence_verdict(dts, ys_finite, p, rich, tol, dt_train) -> tuple[str, str]:
    """The verdict without a reference: only Richardson's self-convergence is known.

    FAIL for divergence (NaN/inf at or below `dt_train`, or at the finest step) and
    for self-convergence at an order other than the solver's; otherwise
    INCONCLUSIVE, because a discrete-map model self-converges too, to a wrong limit
    (`specs/convergence.md` §5): held-out data at `t1` are needed to tell.
    """
    i_tr = train_index(dts, dt_train)
    if not ys_finite.any():
        return "FAIL", "divergence: every step size gave NaN or inf"
    if i_tr is not None and not np.all(ys_finite[i_tr:]):
        bad = dts[i_tr:][~ys_finite[i_tr:]]
        return "FAIL", f"divergence: NaN/inf at dt = {bad.tolist()} (<= dt_train)"
    if not ys_finite[-1]:
        return "FAIL", "divergence: NaN/inf at the finest step size"
    if rich is None:
        return "INCONCLUSIVE", (
            "no reference and a non-geometric sweep: neither errors nor Richardson "
            "orders can be computed; pass a reference or dts = dt * r**j"
        )
    n_win = int(rich.window.sum())
    if n_win < 2 or not np.isfinite(rich.order):
        return "INCONCLUSIVE", (
            "no reference, and too few refinements above round-off for a Richardson "
            "order; add coarser step sizes"
        )
    ci = f" ± {rich.order_ci:.2f}" if np.isfinite(rich.order_ci) else ""
    if not order_accepted(rich.order, p):
        return "FAIL", (
            f"the learned field self-converges at Richardson order {rich.order:.2f}"
            f"{ci}, not the solver's order {p} (accepted {p - tol:.2f} to "
            f"{p + SLACK_ABOVE + tol:.2f})"
        )
    return "INCONCLUSIVE", (
        f"self-converges at Richardson order {rich.order:.2f}{ci} (solver order {p}) "
        "but, with no reference, a discrete map (which self-converges to a wrong "
        "limit) cannot be ruled out: pass held-out data at t1 as the reference"
    )


def overall(sweeps) -> tuple[str, str]:
    """Combine per-solver verdicts: FAIL if any fails, PASS if all pass."""
    verdicts = [s.verdict for s in sweeps]
    if len(sweeps) == 1:
        return sweeps[0].verdict, sweeps[0].reason
    if "FAIL" in verdicts:
        failed = [s for s in sweeps if s.verdict == "FAIL"]
        return "FAIL", (
            f"{len(failed)} of {len(sweeps)} solvers fail: "
            + "; ".join(f"{s.solver}: {s.reason}" for s in failed)
        )
    if all(v == "PASS" for v in verdicts):
        return "PASS", "every solver converges at its order: " + "; ".join(
            f"{s.solver} {_order_text(s)}" for s in sweeps
        )
    unsure = [s for s in sweeps if s.verdict != "PASS"]
    return "INCONCLUSIVE", "; ".join(f"{s.solver}: {s.reason}" for s in unsure)


def _order_text(s) -> str:
    if np.isfinite(s.observed_order):
        return f"{s.observed_order:.2f} (p={s.order})"
    return f"plateau-limited (p={s.order})"
