"""The registry of data-set generators behind `sciml.datasets.generate`."""

import importlib
import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

# name -> module of sciml.datasets._generators holding `generate_<name>`; imported on use
_GENERATORS = (
    "advection",
    "antiderivative",
    "burgers",
    "burgers_grf",
    "darcy",
    "darcy_geometry",
    "diffusion_reaction_2d",
    "diffusion_sorption",
    "fisher_sources",
    "navier_stokes_2d",
    "reaction_diffusion",
    "source_diffusion_reaction",
)
_ARGUMENT = re.compile(r"^- ((?:`\w+`(?:, )?)+): ?(.*)$")


class GeneratorParameter(NamedTuple):
    """One setting of a generator, as `generator_parameters` lists it.

    **Arguments:**

    - `name`: the keyword, e.g. `"beta"`.
    - `default`: its default value (`None` when required).
    - `required`: whether it has no default.
    - `help`: its meaning, from the generator's docstring.
    """

    name: str
    default: Any
    required: bool
    help: str


def list_generators() -> tuple[str, ...]:
    """The names `generate` accepts, sorted."""
    return _GENERATORS


def get_generator(name: str) -> Callable[..., Path]:
    """The generator function registered under `name`, e.g. `generate_advection`."""
    if name not in _GENERATORS:
        raise ValueError(
            f"Unknown generator {name!r}; known generators: {list(_GENERATORS)}."
        )
    module = importlib.import_module(f"sciml.datasets._generators.{name}")
    return getattr(module, f"generate_{name}")


def _argument_help(doc: str) -> dict[str, str]:
    """`name -> text` from the `**Arguments:**` list of a docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, str] = {}
    names: list[str] = []
    inside = False
    for line in lines:
        if line.strip().startswith("**Arguments:**"):
            inside = True
            continue
        if inside and line.strip().startswith("**"):
            break
        match = _ARGUMENT.match(line.strip()) if inside else None
        if match:
            names = re.findall(r"`(\w+)`", match.group(1))
            for name in names:
                out[name] = match.group(2).strip()
        elif inside and line.startswith("    ") and names:
            for name in names:
                out[name] += " " + line.strip()
        elif inside and not line.strip():
            names = []
    return out


def generator_parameters(name: str) -> list[GeneratorParameter]:
    """The settings of generator `name`: keyword, default and meaning (from its
    docstring), in signature order, `out` excluded.

    **Arguments:**

    - `name`: one of `list_generators()`.

    **Returns:**

    A list of `GeneratorParameter`.
    """
    generator = get_generator(name)
    helps = _argument_help(generator.__doc__ or "")
    out = []
    for key, p in inspect.signature(generator).parameters.items():
        if key == "out":
            continue
        required = p.default is p.empty
        out.append(
            GeneratorParameter(
                key, None if required else p.default, required, helps.get(key, "")
            )
        )
    return out


def generate(name: str, *, out: str | os.PathLike, **params: Any) -> Path:
    """Generate a PDEBench-layout data set and write it under `out`.

    Every setting not given takes the generator's own default (e.g. 100 samples
    for the 1-D files, which write 82 MB; PDEBench's 10 000 are 8 GB, so ask for
    them explicitly).

    **Arguments:**

    - `name`: the generator, one of `list_generators()` (e.g. `"advection"`).
    - `out`: the output directory (created if needed).
    - `params`: the generator's settings, e.g. `beta=0.4, n_samples=1000, seed=0,
        resume=True` (`generator_parameters(name)` lists them with their defaults).

    **Returns:**

    The path of the file written, named as PDEBench names it.
    """
    generator = get_generator(name)
    accepted = {p.name: p for p in generator_parameters(name)}
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"Generator {name!r} got unknown parameters {unknown}; it accepts "
            f"{sorted(accepted)}."
        )
    missing = [k for k, p in accepted.items() if p.required and k not in params]
    if missing:
        raise ValueError(
            f"Generator {name!r} needs {missing}; pass them, e.g. "
            f"generate({name!r}, {missing[0]}=..., out=...)."
        )
    return generator(out=out, **params)
