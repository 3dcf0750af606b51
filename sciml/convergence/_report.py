"""The convergence report: per-solver sweeps, the verdict, plot and JSON."""

import dataclasses
import json
import math
from collections.abc import Iterator

import numpy as np

from ._order import RichardsonEstimate


def _clean(v):
    """JSON-ready: arrays to lists, NaN/inf to None, dataclasses to dicts."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _clean(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, np.ndarray):
        return [_clean(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return _clean(v.item())
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class _Verdict:
    """What every report shares: `passed`, `to_dict` and `to_json` (subclasses are
    frozen dataclasses with `verdict` and `reason` fields)."""

    @property
    def passed(self) -> bool:
        """True when the verdict is PASS."""
        return self.verdict == "PASS"

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN and inf become None)."""
        return _clean(self)

    def to_json(self, path=None) -> str:
        """The report as JSON text; also written to `path` if given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text


@dataclasses.dataclass(frozen=True)
class SolverSweep(_Verdict):
    """What the sweep of one solver measured and concluded.

    **Fields:**

    - `solver`, `order`: the solver's name and its theoretical order $p$ (from the
      solver itself, `solver.order(terms)`).
    - `t1`, `dt_train`: the horizon and the training step (None if not given).
    - `dts`, `errors`: the step sizes (coarse to fine) and the mean 2-norm error at
      `t1` over the initial conditions (None when no reference was given).
    - `observed_order`, `order_ci`: fitted slope on the asymptotic window and the
      half-width of its 95 % confidence interval (NaN when no window exists).
    - `window`: which points the fit used.
    - `local_orders`: slopes between neighbouring step sizes.
    - `plateau`: the model's own error level, if refinement reaches one.
    - `reference_errors`: the true dynamics pushed through the same solver and step
      sizes (calibration curve), if a true vector field and a reference were given.
    - `richardson`: the Richardson self-convergence estimate (None when the sweep
      is not geometric).
    - `nan_dts`: step sizes whose solve produced NaN/inf for some initial condition
      (recorded, not fatal).
    - `verdict`: `"PASS"`, `"FAIL"` or `"INCONCLUSIVE"`; `reason`: why, in words.
    - `tolerances`: the thresholds the verdict used.
    """

    solver: str
    order: int
    t1: float
    dt_train: float | None
    dts: np.ndarray
    errors: np.ndarray | None
    observed_order: float
    order_ci: float
    window: np.ndarray | None
    local_orders: np.ndarray | None
    plateau: float | None
    reference_errors: np.ndarray | None
    richardson: RichardsonEstimate | None
    nan_dts: tuple[float, ...]
    verdict: str
    reason: str
    tolerances: dict

    def __str__(self) -> str:
        return f"{self.verdict} ({self.solver}, order {self.order}): {self.reason}"

    def _curve(self) -> tuple[np.ndarray, int | None]:
        """The curve drawn for this sweep (the errors, else the Richardson
        self-differences) and the index the reference slope goes through (the
        first point of the fit window)."""
        if self.errors is not None:
            curve = np.asarray(self.errors, dtype=float)
        else:
            curve = np.full(len(self.dts), np.nan)
            if self.richardson is not None:
                curve[:-1] = self.richardson.differences
        finite = np.isfinite(curve) & (curve > 0)
        window = finite if self.window is None else np.asarray(self.window) & finite
        anchor = np.flatnonzero(window)
        return curve, int(anchor[0]) if anchor.size else None


def _measured(s: SolverSweep) -> str:
    """What a sweep measured, in words, for `ConvergenceReport.summary`."""
    if np.isfinite(s.observed_order):
        return f"observed order {s.observed_order:.2f}"
    parts = []
    if s.plateau is not None:
        label = "plateau-limited at" if s.passed else "plateau at"
        parts.append(f"{label} {s.plateau:.1e}")
    if s.richardson is not None and np.isfinite(s.richardson.order):
        parts.append(f"Richardson self-convergence order {s.richardson.order:.2f}")
    return "; ".join(parts) or "no order measured"


_FORWARDED = {f.name for f in dataclasses.fields(SolverSweep)} | {"passed"}


@dataclasses.dataclass(frozen=True)
class ConvergenceReport(_Verdict):
    """The convergence test of a learned vector field over one or more solvers.

    Index it by solver name (`report["rk4"]`) for a `SolverSweep`; iterate over the
    sweeps with `report.sweeps.values()`. With a single solver the sweep's fields
    are also readable on the report itself (`report.errors`, `report.order`, ...).

    **Fields:**

    - `sweeps`: one `SolverSweep` per solver, in the order given.
    - `t1`, `dts`, `dt_train`: the horizon, the step sizes (coarse to fine) and the
      training step.
    - `n_initial_conditions`: how many initial states were integrated.
    - `reference`: what the errors were measured against (a description).
    - `dtype`: the floating-point type of the sweep.
    - `verdict`, `reason`: the overall verdict (FAIL if any solver fails, PASS if
      all pass, INCONCLUSIVE otherwise) and why.
    """

    sweeps: dict[str, SolverSweep]
    t1: float
    dts: np.ndarray
    dt_train: float | None
    n_initial_conditions: int
    reference: str
    dtype: str
    verdict: str
    reason: str

    def __getitem__(self, solver: str) -> SolverSweep:
        try:
            return self.sweeps[solver]
        except KeyError:
            raise KeyError(
                f"No sweep for solver {solver!r}; this report has {list(self.sweeps)}."
            ) from None

    def __iter__(self) -> Iterator[SolverSweep]:
        return iter(self.sweeps.values())

    def __len__(self) -> int:
        return len(self.sweeps)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: forward a sweep's field when there
        # is exactly one solver, so the single-solver form reads like a sweep.
        if name.startswith("_") or name not in _FORWARDED:
            raise AttributeError(name)
        sweeps = self.__dict__.get("sweeps", {})
        if len(sweeps) == 1:
            return getattr(next(iter(sweeps.values())), name)
        raise AttributeError(
            f"This report holds {len(sweeps)} solvers {list(sweeps)}; read "
            f"`{name}` from one of them, e.g. report[{next(iter(sweeps), '')!r}].{name}."
        )

    @property
    def solvers(self) -> list[str]:
        """The solver names, in order."""
        return list(self.sweeps)

    def __str__(self) -> str:
        return f"{self.verdict}: {self.reason}"

    def summary(self) -> str:
        """One line: the overall verdict and, per solver, its verdict and what was
        measured: the observed order of the model's error where one was fitted,
        else the plateau and the Richardson self-convergence order (the order at
        which the solutions approach their own limit, not the model's error), e.g.
        `rk4 PASS (p=4, observed order 3.98)` or `rk4 PASS (p=4, plateau-limited
        at 4.3e-03; Richardson self-convergence order 4.00)`."""
        return f"{self.verdict}: " + "; ".join(
            f"{s.solver} {s.verdict} (p={s.order}, {_measured(s)})" for s in self
        )

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN and inf become None)."""
        out = _clean(self)
        out["sweeps"] = {k: v.to_dict() for k, v in self.sweeps.items()}
        return out

    def plot(self, path=None, title: str | None = None):
        """Draw error against step size on log-log axes, one panel per solver, with
        the reference slope $\\Delta t^p$, the true dynamics through the same solver
        (kept within the axes), the training step, the plateau and any NaN step
        sizes (through `sciml.plotting.convergence`).

        **Arguments:**

        - `path`: write the figure there as PNG (None: only return it).
        - `title`: the figure's title (default: the verdict).

        **Returns:** the `matplotlib.figure.Figure`.
        """
        from .. import plotting

        sweeps = list(self.sweeps.values())
        curves = {s.solver: s._curve() for s in sweeps}
        measured = sweeps[0].errors is not None
        return plotting.convergence(
            self.dts,
            {name: curve for name, (curve, _) in curves.items()},
            path,
            orders={s.solver: s.order for s in sweeps},
            anchors={name: anchor for name, (_, anchor) in curves.items()},
            true_errors={s.solver: s.reference_errors for s in sweeps},
            plateau={s.solver: s.plateau for s in sweeps},
            failed={s.solver: list(s.nan_dts) for s in sweeps},
            marks={"dt_train": self.dt_train},
            label="model" if measured else "model |y(dt) - y(dt/r)|",
            ylabel="error at t1" if measured else "self-difference",
            titles={s.solver: f"{s.solver} (p={s.order}): {s.verdict}" for s in sweeps},
            title=title or f"convergence test: {self.verdict}",
        )
