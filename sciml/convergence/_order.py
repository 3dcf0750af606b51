"""Observed orders of convergence: log-log fits, local orders, the plateau."""

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
    half-width of its 95 % confidence interval ($t_{0.975,n-2}\,\mathrm{se}$; infinite
    with two points)."""
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
    floor: float,
    kappa: float = 10.0,
) -> np.ndarray:
    """Mask of the points on the asymptotic side: finite, below half the reference
    norm, above `kappa` times the plateau, and above the round-off floor."""
    ok = np.isfinite(errors) & (errors < 0.5 * ref_norm) & (errors > floor)
    if plateau_level is not None:
        ok &= errors > kappa * plateau_level
    return ok
