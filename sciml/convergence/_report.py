"""The convergence report: numbers, verdict, plot and JSON."""

import dataclasses
import json
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class ConvergenceReport:
    """What a convergence test measured and concluded.

    **Fields:**

    - `solver`, `order`: the solver's name and its theoretical order $p$.
    - `dts`, `errors`: the step sizes (coarse to fine) and the mean error at `t1`.
    - `observed_order`, `order_ci`: fitted slope on the asymptotic window and the
      half-width of its 95 % confidence interval (NaN when no window exists).
    - `window`: which points the fit used.
    - `local_orders`: slopes between neighbouring step sizes.
    - `plateau`: the model's own error level, if refinement reaches one.
    - `dt_train`: the training step, if given.
    - `reference_errors`: the true dynamics pushed through the same solver and step
      sizes (calibration curve), if a true vector field was given.
    - `nan_dts`: step sizes whose solve produced NaN/inf (recorded, not fatal).
    - `verdict`: `"PASS"`, `"FAIL"` or `"INCONCLUSIVE"`; `reason`: why, in words.
    - `tolerances`: the thresholds the verdict used.
    """

    solver: str
    order: int
    t1: float
    dts: np.ndarray
    errors: np.ndarray
    observed_order: float
    order_ci: float
    window: np.ndarray
    local_orders: np.ndarray
    plateau: float | None
    dt_train: float | None
    reference_errors: np.ndarray | None
    nan_dts: tuple[float, ...]
    verdict: str
    reason: str
    tolerances: dict

    @property
    def passed(self) -> bool:
        """True when the verdict is PASS."""
        return self.verdict == "PASS"

    def __str__(self) -> str:
        return f"{self.verdict} ({self.solver}, order {self.order}): {self.reason}"

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN and inf become None)."""

        def clean(v):
            if isinstance(v, np.ndarray):
                return [clean(x) for x in v.tolist()]
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {f.name: clean(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, path=None) -> str:
        """The report as JSON text; also written to `path` if given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def plot(self, path, title: str | None = None) -> None:
        """Draw error against step size on log-log axes, with the reference slope
        $\\Delta t^p$, the calibration curve, the training step and the plateau."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 4))
        finite = np.isfinite(self.errors)
        ax.loglog(self.dts[finite], self.errors[finite], "o-", label="model")
        if self.reference_errors is not None:
            ref = self.reference_errors
            ok = np.isfinite(ref) & (ref > 0)
            ax.loglog(self.dts[ok], ref[ok], "s--", alpha=0.6, label="true dynamics")
        anchor = np.flatnonzero(self.window)
        j = anchor[0] if anchor.size else int(np.argmax(finite))
        slope = self.errors[j] * (self.dts / self.dts[j]) ** self.order
        ax.loglog(self.dts, slope, "k:", label=f"slope {self.order}")
        if self.dt_train is not None:
            ax.axvline(self.dt_train, color="gray", ls="--", label="dt_train")
        if self.plateau is not None:
            ax.axhline(self.plateau, color="tab:red", ls=":", label="plateau")
        lo = np.nanmin(self.errors[finite]) if finite.any() else 1e-16
        ax.set_ylim(bottom=max(lo / 10, 1e-16))
        ax.set_xlabel("step size dt")
        ax.set_ylabel("error at t1")
        ax.set_title(title or f"{self.solver}: {self.verdict}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
