"""Observed orders of convergence: log-log fits, local orders, the plateau, and
Richardson's self-convergence estimate (`specs/convergence.md` §5)."""

import dataclasses

import numpy as np

# Two-sided 95 % quantiles of Student's t, t_{0.975, df}, for df = 1..30.
_T975 = np.array([
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
])  # fmt: skip


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom."""
    return float(_T975[df - 1]) if df <= len(_T975) else 1.96


def fit_order(dts: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    r"""Least-squares slope $\hat p$ of $\log E = a + \hat p \log \Delta t$ and the
    half-width of its 95 % confidence interval, $t_{0.975,n-2}\,\mathrm{se}$ with
    $\mathrm{se}^2 = [\sum r^2/(n-2)] / \sum (\log\Delta t_j - \overline{\log\Delta t})^2$
    (infinite with two points).

    **Arguments:**

    - `dts`, `errors`: at least two step sizes and positive errors.

    **Returns:** `(slope, ci_half_width)`.
    """
    x, y = np.log(dts), np.log(errors)
    xm = x - x.mean()
    slope = float(np.sum(xm * (y - y.mean())) / np.sum(xm**2))
    n = len(x)
    if n < 3:
        return slope, float("inf")
    resid = y - y.mean() - slope * xm
    se = np.sqrt(np.sum(resid**2) / (n - 2) / np.sum(xm**2))
    return slope, float(t975(n - 2) * se)


def local_orders(dts: np.ndarray, errors: np.ndarray) -> np.ndarray:
    r"""$p_j = \log(E_j/E_{j+1}) / \log(\Delta t_j/\Delta t_{j+1})$ between neighbours."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(errors[:-1] / errors[1:]) / np.log(dts[:-1] / dts[1:])


def plateau(errors: np.ndarray, rel: float = 0.2) -> float | None:
    """The error level where refinement stops helping: the median of the finest
    errors (sorted coarse to fine) that stay within `rel` of their neighbour, or None
    when fewer than two do."""
    run = [errors[-1]]
    for e in errors[-2::-1]:
        if not (np.isfinite(e) and abs(e - run[-1]) <= rel * run[-1]):
            break
        run.append(e)
    return float(np.median(run)) if len(run) >= 2 else None


def asymptotic_window(
    errors: np.ndarray,
    ref_norm: float,
    plateau_level: float | None,
    floor: float | np.ndarray,
    kappa: float = 10.0,
) -> np.ndarray:
    """Mask of the points on the asymptotic side: finite, below half the reference
    norm, above `kappa` times the plateau, and above the round-off floor (a number,
    or one per step size)."""
    ok = np.isfinite(errors) & (errors < 0.5 * ref_norm) & (errors > floor)
    if plateau_level is not None:
        ok &= errors > kappa * plateau_level
    return ok


@dataclasses.dataclass(frozen=True)
class RichardsonEstimate:
    r"""Richardson's estimate of the observed order from successive refinements.

    With step ratio $r$ and $d_j = \mathrm{mean}_i \|y^{(i)}_{\Delta t_j} -
    y^{(i)}_{\Delta t_j / r}\|$, the order from a triple is
    $\hat p_R = \log(d_j / d_{j+1}) / \log r$; the extrapolated limit is
    $y_\infty \approx y_{\Delta t/r^2} + (y_{\Delta t/r^2} - y_{\Delta t/r})/(r^p - 1)$
    and $\|y_{\Delta t/r^2} - y_{\Delta t/r}\|/(r^p - 1)$ estimates the error of the
    finest run. This is *self*-convergence: a discrete-map model self-converges too,
    to the wrong limit, so compare held-out data with $y_\infty$ (`limit_error`) and
    with $\hat y(\Delta t_{train})$ to tell (Krishnapriyan et al., Commun. Phys. 2023;
    `specs/convergence.md` §5).

    **Fields:**

    - `ratio`: the refinement ratio $r$.
    - `differences`: $d_j$ for each consecutive pair (coarse to fine).
    - `local_orders`: $\hat p_R$ for each consecutive triple.
    - `window`: which differences the fit used (finite, below half the state norm,
      above the round-off floor).
    - `order`, `order_ci`: the slope of $\log d_j$ against $\log \Delta t_j$ on the
      window and its 95 % half-width (NaN when fewer than two points).
    - `error_estimate`: the estimated error of the finest run, with the solver's
      order in $r^p - 1$.
    - `limit_error`: mean distance of $y_\infty$ from the reference, if one was given.
    """

    ratio: float
    differences: np.ndarray
    local_orders: np.ndarray
    window: np.ndarray
    order: float
    order_ci: float
    error_estimate: float
    limit_error: float | None


def richardson_limit(
    y_coarse: np.ndarray,
    y_mid: np.ndarray,
    y_fine: np.ndarray,
    ratio: float | int,
    p: float | int,
) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Richardson from three runs at $\Delta t$, $\Delta t/r$, $\Delta t/r^2$.

    **Arguments:**

    - `y_coarse`, `y_mid`, `y_fine`: states at the horizon, shape `(n, *state)`.
    - `ratio`: the refinement ratio $r$.
    - `p`: the order used for extrapolation (the solver's order).

    **Returns:** `(order, limit, error_estimate)`: the observed order
    $\log(\|y_{\Delta t} - y_{\Delta t/r}\| / \|y_{\Delta t/r} - y_{\Delta t/r^2}\|)
    / \log r$ (norms averaged over the batch), the extrapolated limit $y_\infty$ and
    the per-sample error estimate of the finest run.
    """
    n = len(y_fine)

    def dist(a, b):
        return np.linalg.norm((a - b).reshape(n, -1), axis=-1)

    with np.errstate(divide="ignore", invalid="ignore"):
        order = float(
            np.log(np.mean(dist(y_coarse, y_mid)) / np.mean(dist(y_mid, y_fine)))
            / np.log(ratio)
        )
    factor = ratio**p - 1.0
    limit = y_fine + (y_fine - y_mid) / factor
    return order, limit, dist(y_fine, y_mid) / factor


def richardson(
    dts: np.ndarray,
    ys: np.ndarray,
    p: int,
    floor: float | int | np.ndarray,
    reference: np.ndarray | None = None,
) -> RichardsonEstimate | None:
    """Richardson orders along a geometric sweep (None if the ratio is not constant).

    **Arguments:**

    - `dts`: step sizes, coarse to fine.
    - `ys`: states at the horizon, `(len(dts), n, *state)`.
    - `p`: the solver's order (for the extrapolation).
    - `floor`: absolute round-off floor below which differences are noise (a
      number, or one per difference).
    - `reference`: the reference states, to measure the limit's error.
    """
    ratios = dts[:-1] / dts[1:]
    if not np.allclose(ratios, ratios[0], rtol=1e-9) or len(dts) < 3:
        return None
    r = float(ratios[0])
    n = ys.shape[1]
    flat = ys.reshape(len(dts), n, -1)
    diffs = np.mean(np.linalg.norm(flat[:-1] - flat[1:], axis=-1), axis=1)
    state_norm = float(np.mean(np.linalg.norm(flat[-1], axis=-1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.log(diffs[:-1] / diffs[1:]) / np.log(r)
        window = np.isfinite(diffs) & (diffs > floor) & (diffs < 0.5 * state_norm)
    if window.sum() >= 2:
        order, ci = fit_order(dts[:-1][window], diffs[window])
    else:
        order, ci = float("nan"), float("nan")
    _, limit, estimate = richardson_limit(ys[-3], ys[-2], ys[-1], r, p)
    limit_error = None
    if reference is not None:
        limit_error = float(
            np.mean(np.linalg.norm((limit - reference).reshape(n, -1), axis=-1))
        )
    return RichardsonEstimate(
        ratio=r,
        differences=diffs,
        local_orders=local,
        window=window,
        order=order,
        order_ci=ci,
        error_estimate=float(np.mean(estimate)),
        limit_error=limit_error,
    )
