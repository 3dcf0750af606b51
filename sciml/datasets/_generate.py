"""The registry of dataset generators behind `sciml.datasets.generate`."""

import importlib
import importlib.util
import inspect
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> "module:function"; each generator lives in its own module, imported on use.
_GENERATORS: dict[str, str] = {
    "advection": "sciml.datasets._advection:generate_advection",
    "burgers": "sciml.datasets._burgers:generate_burgers",
    "reaction_diffusion": "sciml.datasets._reaction_diffusion:generate_reaction_diffusion",
    "diffusion_sorption": "sciml.datasets._diffusion_sorption:generate_diffusion_sorption",
    "diffusion_reaction_2d": "sciml.datasets._diffusion_reaction_2d:generate_diffusion_reaction_2d",
    "darcy": "sciml.datasets._darcy:generate_darcy",
    "navier_stokes_2d": "sciml.datasets._navier_stokes:generate_navier_stokes_2d",
    "fisher_sources": "sciml.datasets._fisher_sources:generate_fisher_sources",
}


def _available(name: str) -> bool:
    module = _GENERATORS[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


def list_generators() -> tuple[str, ...]:
    """The names `generate` accepts, sorted."""
    return tuple(sorted(n for n in _GENERATORS if _available(n)))


def get_generator(name: str) -> Callable[..., Path]:
    """The generator function registered under `name`."""
    if name not in _GENERATORS or not _available(name):
        raise ValueError(
            f"Unknown generator {name!r}; known generators: {list(list_generators())}."
        )
    module, function = _GENERATORS[name].split(":")
    return getattr(importlib.import_module(module), function)


def generate(
    name: str,
    *,
    out: str | os.PathLike,
    n_samples: int = 10_000,
    seed: int = 0,
    resume: bool = False,
    **params: Any,
) -> Path:
    """Generate a PDEBench-layout dataset and write it under `out`.

    **Arguments:**

    - `name`: the generator, one of `list_generators()` (e.g. `"advection"`).
    - `out`: the output directory (created if needed).
    - `n_samples`: how many trajectories (PDEBench: 10 000).
    - `seed`: PRNG seed; initial conditions depend on it only, not on `params`.
    - `resume`: continue an interrupted generation of the same file from its last
        finished chunk (the partial file `.{name}.partial` beside it); the settings
        must match the interrupted run's. Passed to generators that accept it; for
        the others a warning says that generation starts from sample 0.
    - `params`: the generator's own settings, e.g. `beta=0.4, nx=1024, nt=201`.

    **Returns:**

    The path of the file written, named as PDEBench names it.
    """
    generator = get_generator(name)
    accepted = {
        key: p
        for key, p in inspect.signature(generator).parameters.items()
        if key not in ("out", "n_samples", "seed", "resume")
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
    if "resume" in inspect.signature(generator).parameters:
        params["resume"] = resume
    elif resume:
        warnings.warn(
            f"Generator {name!r} cannot resume yet; generating from sample 0.",
            stacklevel=2,
        )
    return generator(out=out, n_samples=n_samples, seed=seed, **params)
