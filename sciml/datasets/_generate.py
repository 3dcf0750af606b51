"""The registry of dataset generators behind `sciml.datasets.generate`."""

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sciml.datasets._advection import generate_advection

_GENERATORS: dict[str, Callable[..., Path]] = {
    "advection": generate_advection,
}


def list_generators() -> tuple[str, ...]:
    """The names `generate` accepts, sorted."""
    return tuple(sorted(_GENERATORS))


def generate(
    name: str,
    *,
    out: str | os.PathLike,
    n_samples: int = 10_000,
    seed: int = 0,
    **params: Any,
) -> Path:
    """Generate a PDEBench-layout dataset and write it under `out`.

    **Arguments:**

    - `name`: the generator, one of `list_generators()` (e.g. `"advection"`).
    - `out`: the output directory (created if needed).
    - `n_samples`: how many trajectories (PDEBench: 10 000).
    - `seed`: PRNG seed; initial conditions depend on it only, not on `params`.
    - `params`: the generator's own settings, e.g. `beta=0.4, nx=1024, nt=201`.

    **Returns:**

    The path of the file written, named as PDEBench names it.
    """
    if name not in _GENERATORS:
        raise ValueError(
            f"Unknown generator {name!r}; known generators: {list(list_generators())}."
        )
    generator = _GENERATORS[name]
    accepted = {
        key: p
        for key, p in inspect.signature(generator).parameters.items()
        if key not in ("out", "n_samples", "seed")
    }
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"Generator {name!r} got unknown parameters {unknown}; it accepts "
            f"{sorted(accepted)}."
        )
    missing = [
        key for key, p in accepted.items() if p.default is p.empty and key not in params
    ]
    if missing:
        raise ValueError(
            f"Generator {name!r} needs {missing}; pass them, e.g. "
            f"generate({name!r}, {missing[0]}=..., out=...)."
        )
    return generator(out=out, n_samples=n_samples, seed=seed, **params)
