"""What a benchmark declares to be run and reported by `sciml bench`.

A benchmark is a folder `benchmarks/<name>/` whose `__init__.py` holds one
`BENCHMARK = Benchmark(...)`: that line is its whole registration. Its `run.py` has
`main(argv)` and takes `--scale`; its `report.py` builds its tables from the
committed results files (see `benchmarks._report`).
"""

import dataclasses
import importlib
import pathlib
from collections.abc import Callable

ROOT = pathlib.Path(__file__).parent


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One benchmark, as `sciml bench` sees it.

    **Arguments:**

    - `summary`: one line: what it reproduces or measures.
    - `scales`: the `--scale` values its `run.py` accepts, e.g. `("quick", "paper")`.
    - `tables`: `tables(spread) -> {table name: Markdown}`, the tables it owns in the
        README and the docs (named `<benchmark>/<table>` in their markers).
    """

    summary: str
    scales: tuple[str, ...]
    tables: Callable[[bool], dict[str, str]]


def discover() -> dict[str, Benchmark]:
    """Every registered benchmark by name, in alphabetical order."""
    found = {}
    for folder in sorted(p.parent for p in ROOT.glob("*/run.py")):
        module = importlib.import_module(f"benchmarks.{folder.name}")
        bench = getattr(module, "BENCHMARK", None)
        if not isinstance(bench, Benchmark):
            raise TypeError(
                f"benchmarks/{folder.name}/__init__.py defines no `BENCHMARK = "
                f"Benchmark(...)`. Fix: register it there (see benchmarks/_bench.py)."
            )
        found[folder.name] = bench
    return found


def all_tables(spread: bool = False) -> dict[str, str]:
    """The tables of every benchmark, keyed `<benchmark>/<table>`."""
    out = {}
    for name, bench in discover().items():
        out.update({f"{name}/{key}": md for key, md in bench.tables(spread).items()})
    return out
