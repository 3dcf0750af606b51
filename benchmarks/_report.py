"""The tables that `sciml bench report` writes into the README and the docs pages.

Every number in those tables is read from a committed results file; none is typed.
A benchmark's `report.py` turns its run history into named tables with the helpers
here; `update_text` replaces each marked region of a Markdown file with the table of
that name:

    <!-- bench: datasets/generation -->
    (generated; edits here are overwritten)
    <!-- /bench -->

The history of one benchmark, scale and device is the folder
`benchmarks/<name>/results/<scale>-<device-slug>/`, one JSON file a run. A table shows
the latest run; with `spread=True` each number also gets its range over all the
runs of that folder that hold the same row.
"""

import dataclasses
import json
import pathlib
import re
from collections.abc import Callable, Mapping
from typing import Any

ROOT = pathlib.Path(__file__).parent
MARKER = re.compile(
    r"(<!-- bench: (?P<name>[\w.-]+/[\w.-]+) -->\n)(?P<body>.*?)(<!-- /bench -->)",
    re.S,
)


@dataclasses.dataclass(frozen=True)
class Group:
    """The runs of one benchmark at one scale on one device, oldest first.

    **Arguments:**

    - `folder`: the results folder, e.g. `results/quick-cpu-.../`.
    - `runs`: the results dicts, sorted by date.
    - `spread`: whether `cell` appends each number's range over the runs.
    """

    folder: pathlib.Path
    runs: tuple[dict[str, Any], ...]
    spread: bool = False

    @property
    def latest(self) -> dict[str, Any]:
        return self.runs[-1]

    def holding(self, keep: Callable[[dict[str, Any]], bool]) -> "Group | None":
        """The runs for which `keep(run)` holds (a folder whose runs each cover
        part of a benchmark's tasks), or None when no run does."""
        runs = tuple(r for r in self.runs if keep(r))
        return dataclasses.replace(self, runs=runs) if runs else None

    def source(self) -> str:
        """Where the latest run's numbers come from, for a table's caption."""
        run = self.latest
        rel = run.get("results_folder") or self.folder.relative_to(ROOT.parent)
        return (
            f"`{rel}/`, latest of {len(self.runs)} run{'s' * (len(self.runs) > 1)}: "
            f"{run['device']}, commit {run['commit'][:7]}, {run['date'][:10]}"
        )

    def find(self, kind: str = "rows", run: dict | None = None, **match) -> dict:
        """The one entry of the latest run (or of `run`) whose fields equal `match`
        (`kind` is `"rows"` or `"timings"`); a value given as a callable is a test."""
        run = self.latest if run is None else run
        hits = [e for e in run[kind] if _matches(e, match)]
        if len(hits) != 1:
            raise LookupError(
                f"{len(hits)} {kind} of {self.folder.name} match {match} (expected "
                f"one). Fix the table's selection in the benchmark's report.py."
            )
        return hits[0]

    def cell(
        self,
        field: str = "value",
        fmt: Callable[[Any], str] | str = "{:.3g}",
        kind: str = "rows",
        **match,
    ) -> str:
        """`field` of the matching entry of the latest run, formatted; with
        `spread`, followed by its range over every run that holds the entry."""
        entry = self.find(kind, **match)
        text = _format(entry[field], fmt)
        if not self.spread:
            return text
        values = []
        for run in self.runs:
            hits = [e for e in run.get(kind, []) if _matches(e, match)]
            if len(hits) == 1 and isinstance(hits[0].get(field), int | float):
                values.append(hits[0][field])
        if len(values) < 2:
            return f"{text} (1 run)"
        lo, hi = min(values), max(values)
        return f"{text} ({_format(lo, fmt)} to {_format(hi, fmt)}, {len(values)} runs)"


def _matches(entry: Mapping, match: Mapping) -> bool:
    for key, want in match.items():
        have = entry.get(key)
        if callable(want):
            if not want(have):
                return False
        elif have != want:
            return False
    return True


def _format(value: Any, fmt: Callable[[Any], str] | str) -> str:
    if value is None:
        return "–"
    if callable(fmt):
        return fmt(value)
    return fmt.format(value)


def ratio(value: float) -> str:
    """A speed ratio, peer time / ours: `2.1x`, `0.07x`."""
    return f"{value:.2g}x" if value < 10 else f"{value:.0f}x"


def seconds(value: float) -> str:
    """A wall time: `61 s`, `29 min`."""
    return f"{value:.0f} s" if value < 600 else f"{value / 60:.0f} min"


def table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A Markdown table, with an optional caption line under it."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def load_group(benchmark: str, folder: str, *, spread: bool = False) -> Group:
    """The runs in `benchmarks/<benchmark>/results/<folder>/`, oldest first."""
    path = ROOT / benchmark / "results" / folder
    files = sorted(path.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"No results in {path}. Fix: run `sciml bench {benchmark}` and commit "
            f"its results file, or change the table's folder in report.py."
        )
    runs = sorted((json.loads(f.read_text()) for f in files), key=lambda r: r["date"])
    return Group(path, tuple(runs), spread)


def update_text(text: str, tables: Mapping[str, str], where: str = "") -> str:
    """`text` with every marked region replaced by the table of its name."""

    def fill(m: re.Match) -> str:
        name = m["name"]
        if name not in tables:
            raise KeyError(
                f"{where}: the marker `bench: {name}` names no table; known: "
                f"{sorted(tables)}."
            )
        return m.group(1) + tables[name] + m.group(4)

    return MARKER.sub(fill, text)


def marked_files() -> list[pathlib.Path]:
    """The Markdown files that hold generated tables: the README and the docs."""
    repo = ROOT.parent
    return [repo / "README.md", *sorted((repo / "docs").glob("**/*.md"))]


def load_scale(benchmark: str, scale: str, device: str = "cpu", **kw) -> Group:
    """The runs of one scale on every machine of a kind, oldest first: the folders
    `benchmarks/<benchmark>/results/<scale>-<device>*/` together (the shared CPU
    machines change between sessions; each run's `source()` names its folder)."""
    base = ROOT / benchmark / "results"
    folders = sorted(base.glob(f"{scale}-{device}*/"))
    runs = []
    for folder in folders:
        for run in load_group(benchmark, folder.name).runs:
            runs.append({**run, "results_folder": folder.relative_to(ROOT.parent)})
    if not runs:
        raise FileNotFoundError(
            f"No results in {base}/{scale}-{device}*/. Fix: run `sciml bench "
            f"{benchmark} --scale {scale}` and commit its results file."
        )
    runs.sort(key=lambda r: r["date"])
    return Group(base, tuple(runs), **kw)
