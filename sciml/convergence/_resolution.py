r"""Resolution refinement: the same trained operator on coarser and finer grids.

A neural operator that learned the continuous operator (e.g. an FNO, whose
`SpectralConv` acts on Fourier coefficients and so on any grid) gives errors that
fall, or stay level, as the grid is refined; one tied to its training grid (a
stencil without the grid spacing, say) gets worse off that grid. This is the
spatial analogue of the time-step test of Krishnapriyan et al., "Learning
continuous models for continuous physics" (Commun. Phys. 6:319, 2023).
"""

import dataclasses
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import numpy as np

from ._order import fit_order, local_orders
from ._report import _Verdict
from ._timestep import _cast
from ._verdict import KAPPA, RISE, ROUNDOFF, order_tolerance


@dataclasses.dataclass(frozen=True)
class ResolutionReport(_Verdict):
    """What a resolution-refinement test measured and concluded.

    **Fields:**

    - `grids`: points per axis, coarse to fine.
    - `errors`: mean relative $L^2$ error per grid.
    - `observed_rate`, `rate_ci`: slope of $\\log E$ against $\\log h$ ($h = 1/n$)
      on the points above the round-off floor, and its 95 % half-width.
    - `local_rates`: slopes between neighbouring grids.
    - `window`: the points the fit used.
    - `train_grid`, `expected_rate`: as given (None if not).
    - `verdict`, `reason`, `tolerances`.
    """

    grids: np.ndarray
    errors: np.ndarray
    observed_rate: float
    rate_ci: float
    local_rates: np.ndarray
    window: np.ndarray
    train_grid: int | None
    expected_rate: float | None
    verdict: str
    reason: str
    tolerances: dict

    def __str__(self) -> str:
        return f"{self.verdict}: {self.reason}"

    def plot(self, path=None, title: str | None = None):
        """Error against grid size on log-log axes, with the fitted rate and the
        training grid (through `sciml.plotting.convergence`).

        **Arguments:**

        - `path`: write the figure there as PNG (None: only return it).
        - `title`: the panel's title (default: the verdict).

        **Returns:** the `matplotlib.figure.Figure`.
        """
        from .. import plotting

        fitted = np.isfinite(self.observed_rate) and self.window.any()
        return plotting.convergence(
            self.grids,
            {"model": self.errors},
            path,
            orders=self.observed_rate if fitted else None,
            anchors=int(np.flatnonzero(self.window)[0]) if fitted else None,
            marks={"training grid": self.train_grid},
            resolution=True,
            ylabel="relative L2 error",
            titles={"model": title or f"resolution test: {self.verdict}"},
        )


def _relative_errors(pred: np.ndarray, ref: np.ndarray) -> float:
    n = len(ref)
    diff = np.linalg.norm((pred - ref).reshape(n, -1), axis=-1)
    norm = np.linalg.norm(ref.reshape(n, -1), axis=-1)
    return float(np.mean(diff / np.maximum(norm, 1e-300)))


def resolution_test(
    model: Callable,
    inputs: Callable[[int], np.ndarray],
    reference: Callable[[int], np.ndarray],
    grids: Sequence[int],
    *,
    train_grid: int | None = None,
    expected_rate: float | int | None = None,
    float64: bool = False,
) -> ResolutionReport:
    r"""Evaluate one trained operator on coarser and finer grids and judge how its
    error changes under refinement.

    The error on a grid of $n$ points per axis is the mean over samples of
    $\|G_\theta(a_n) - u_n\|_2 / \|u_n\|_2$ (grid-size independent), and the
    observed rate is the slope $r$ of $\log E \approx c + r \log h$, $h = 1/n$.

    Verdict: FAIL on NaN/inf; FAIL ("grid-tied") when the error rises by more than
    a factor 2 on a grid finer than the one where it is smallest (the spatial
    signature of a discrete map); FAIL when `expected_rate` is given and the
    observed rate is off by more than `max(0.5, 0.15 r)`; otherwise PASS, with the
    rate when the error falls, or as resolution-stable when it stays level (or at
    round-off).

    **Arguments:**

    - `model`: maps one input field `(C, *grid)` to one output field; run with
      `jax.vmap` (one compilation per grid size, as the shapes differ).
    - `inputs`: `inputs(n)` gives the input fields on a grid of `n` points per
      axis, `(batch, C, *grid)`.
    - `reference`: `reference(n)` gives the true outputs on that grid.
    - `grids`: at least three grid sizes.
    - `train_grid`: the grid the model was trained on (marked in the report).
    - `expected_rate`: the rate the operator should show (e.g. 2 for a
      second-order stencil), if any.
    - `float64`: evaluate in float64; the model's floating-point arrays (e.g. an
      FNO's float32 weights) are cast to float64, as in `test`.

    **Returns:** a `ResolutionReport`.
    """
    grids = np.asarray(sorted(int(n) for n in grids))
    if grids.size < 3 or np.unique(grids).size != grids.size or grids[0] < 1:
        raise ValueError(
            f"A resolution test needs at least 3 distinct positive grid sizes, got "
            f"{grids.tolist()}. Pass e.g. grids=[32, 64, 128, 256]."
        )
    dtype = np.float64 if float64 else np.float32
    errors = []
    with jax.enable_x64(float64):
        apply = eqx.filter_jit(jax.vmap(_cast(model, dtype)))
        for n in grids:
            a = np.asarray(inputs(int(n)), dtype=dtype)
            ref = np.asarray(reference(int(n)), dtype=np.float64)
            pred = np.asarray(apply(a), dtype=np.float64)
            if pred.shape != ref.shape:
                raise ValueError(
                    f"On a grid of {n} points the model gives outputs of shape "
                    f"{pred.shape} but the reference has {ref.shape}; both must be "
                    "(batch, C, *grid)."
                )
            errors.append(
                _relative_errors(pred, ref) if np.all(np.isfinite(pred)) else np.nan
            )
    errors = np.asarray(errors)
    h = 1.0 / grids
    floor = ROUNDOFF[np.dtype(dtype)]
    window = np.isfinite(errors) & (errors > KAPPA * floor)
    if window.sum() >= 2:
        rate, ci = fit_order(h[window], errors[window])
    else:
        rate, ci = float("nan"), float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        local = local_orders(h, errors)
    v, reason = _resolution_verdict(
        grids, errors, window, rate, ci, floor, expected_rate
    )
    return ResolutionReport(
        grids=grids,
        errors=errors,
        observed_rate=float(rate),
        rate_ci=float(ci),
        local_rates=local,
        window=window,
        train_grid=None if train_grid is None else int(train_grid),
        expected_rate=None if expected_rate is None else float(expected_rate),
        verdict=v,
        reason=reason,
        tolerances={
            "rise": RISE,
            "roundoff_floor": floor,
            "kappa": KAPPA,
            "rate": None if expected_rate is None else order_tolerance(expected_rate),
        },
    )


def _resolution_verdict(grids, errors, window, rate, ci, floor, expected):
    finite = np.isfinite(errors)
    if not finite.all():
        return "FAIL", f"divergence: NaN/inf on grids n = {grids[~finite].tolist()}"
    if np.all(errors <= KAPPA * floor):
        return "PASS", (
            f"exact to round-off on every grid (error <= {errors.max():.2g} from n = "
            f"{grids[0]} to {grids[-1]})"
        )
    j = int(np.argmin(errors))
    if j < len(grids) - 1:
        k = j + 1 + int(np.argmax(errors[j + 1 :]))
        if errors[k] > RISE * max(errors[j], KAPPA * floor):
            return "FAIL", (
                f"grid-tied: the error is smallest at n = {grids[j]} "
                f"({errors[j]:.3g}) and rises {errors[k] / errors[j]:.1f}x on the "
                f"finer grid n = {grids[k]} ({errors[k]:.3g})"
            )
    shown = f"{rate:.2f}" + (f" ± {ci:.2f}" if np.isfinite(ci) else "")
    if expected is not None:
        tol = order_tolerance(expected)
        if not (np.isfinite(rate) and abs(rate - expected) <= tol):
            return "FAIL", (
                f"the error falls at rate {shown} under grid refinement, not the "
                f"expected {expected:g} (tolerance {tol:.2f})"
            )
    if window.sum() >= 3 and rate >= 0.5:
        return "PASS", (
            f"the error falls under grid refinement at rate {shown}, from "
            f"{errors[0]:.3g} (n = {grids[0]}) to {errors[-1]:.3g} (n = {grids[-1]})"
        )
    return "PASS", (
        f"resolution-stable: the error stays between {errors.min():.3g} and "
        f"{errors.max():.3g} from n = {grids[0]} to {grids[-1]} (no rise beyond "
        f"{RISE:g}x under refinement)"
    )
