"""Settings every generator shares, checked once by the same rules."""

from typing import Any

import numpy as np
from jaxtyping import Array, PRNGKeyArray

from ... import _checks, solvers
from .._pipeline import Block, Recipe

DTYPES = ("float32", "float64")


def check_common(
    owner: str,
    *,
    n_samples: Any,
    seed: Any,
    chunk_size: Any,
    dtype: Any,
    resume: Any,
) -> tuple[int, int, int | None]:
    """Check the settings of every generator; return `(n_samples, seed, chunk_size)`."""
    n_samples = _checks.integer("n_samples", n_samples, minimum=1, owner=owner)
    seed = _checks.integer("seed", seed, minimum=0, owner=owner)
    if chunk_size is not None:
        chunk_size = _checks.integer("chunk_size", chunk_size, minimum=1, owner=owner)
    _checks.choice("dtype", dtype, DTYPES, owner=owner)
    _checks.boolean("resume", resume, owner=owner)
    return n_samples, seed, chunk_size


def frame_times(t_end: float | int, nt: int) -> np.ndarray:
    """The save times $t_k = k\\,t_\\mathrm{end}/(n_t - 1)$, $k = 0 .. n_t - 1$ (float64)."""
    return t_end * np.arange(nt) / (nt - 1)


def pdebench_number(value: float | int) -> str:
    """PDEBench's spelling of a parameter in a file name: `str(float(p))[:5]`."""
    return str(float(value))[:5]


class SolveRecipe(Recipe):
    """An initial-condition family through an adaptive solver's `solve(u0, ts)`;
    a failed solve stops the generation with a `RuntimeError` naming the sample."""

    solver: Any
    initial: solvers.AbstractInitialCondition
    t: np.ndarray

    def __call__(self, key: PRNGKeyArray, inputs: Any) -> dict[str, Array]:
        u0 = self.initial(self.solver.grid, key=key)
        ys, ok = self.solver.solve(u0, self.t)
        return {"u": ys, "ok": ok}

    def check(self, block: Block, start: int) -> None:
        failed = np.flatnonzero(~block["ok"])
        if failed.size:
            raise RuntimeError(
                f"The solver failed on sample {start + int(failed[0])} (a step-size "
                "collapse or max_steps); check the parameters."
            )

    def finish(self, block: Block) -> np.ndarray:
        return np.moveaxis(block["u"], 2, -1).astype(np.float32)
