"""`training_curves`: loss and metrics against step, from `metrics.jsonl`."""

import json
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import finish, grid_figure

_OWNER = "plotting.training_curves"
_ABSENT = object()


def training_curves(
    source: Any,
    path: str | os.PathLike | None = None,
    *,
    metrics: bool | Sequence[str] = True,
    title: str | None = None,
    cols: int = 3,
    dpi: int = 120,
):
    """Draw the training loss against step (log scale), the validation loss where
    the records have one, and one panel per logged metric.

    The records are those `sciml.training.fit` writes to `run_dir/metrics.jsonl`
    (`step`, `loss`, `metrics`, ...), one a line; optional `val_loss` and
    `val_metrics` keys are drawn dashed beside their training counterparts (a
    record without them, or with `null`, is skipped for that curve). A value logged
    as `null` (NaN/inf) leaves a gap. A panel is on a log scale when all its values
    are positive.

    **Arguments:**

    - `source`: a `metrics.jsonl` file, a run directory holding one, a list of
      records (dicts, e.g. `FitResult.history`), or a mapping from run name to
      any of these (several runs, overlaid in every panel).
    - `path`: write the figure there as PNG (or the format of its suffix).
    - `metrics`: `True` for a panel per metric, `False` for the loss only, or the
      names of the metrics to draw.
    - `title`: the figure's title.
    - `cols`: panels per row.
    - `dpi`: resolution of the written file.

    **Returns:** the `matplotlib.figure.Figure` (made without pyplot).
    """
    if isinstance(source, Mapping) and not _is_record(source):
        runs = {str(k): _records(v, str(k)) for k, v in source.items()}
        if not runs:
            raise ValueError(
                f"{_OWNER}: got an empty mapping of runs; pass a metrics.jsonl path, "
                "a run directory, a list of records or a mapping of run name to one."
            )
    else:
        runs = {"": _records(source, "source")}
    names: list[str] = []
    for records in runs.values():
        for r in records:
            for key in ("metrics", "val_metrics"):
                for m in r.get(key) or {}:
                    if m not in names:
                        names.append(m)
    if metrics is False:
        names = []
    elif metrics is not True:
        wanted = [metrics] if isinstance(metrics, str) else list(metrics)
        missing = [m for m in wanted if m not in names]
        if missing:
            raise ValueError(
                f"{_OWNER}: no records hold the metrics {missing}; the records have "
                f"{names}. Pass some of those, True for all or False for none."
            )
        names = wanted
    panels = ["loss", *names]
    cols = max(1, min(int(cols), len(panels)))
    rows = -(-len(panels) // cols)
    fig, axes = grid_figure(rows, cols, size=(4.2 * cols, 3.1 * rows))
    for ax, panel in zip(axes.flat, panels, strict=False):
        values = []
        has_val = any(_series(r, panel, "val")[0].size for r in runs.values())
        for i, (run, records) in enumerate(runs.items()):
            colour = f"C{i % 10}"
            for kind, style in (("train", "-"), ("val", "--")):
                steps, ys = _series(records, panel, kind)
                if not steps.size:
                    continue
                tag = kind if has_val else ""
                name = f"{run} ({tag})" if run and tag else (run or tag or "train")
                ax.plot(steps, ys, style, color=colour, lw=1.3, label=name,
                        marker="." if steps.size < 30 else None)  # fmt: skip
                values.append(ys[np.isfinite(ys)])
        finite = np.concatenate(values) if values else np.array([])
        if finite.size and np.all(finite > 0):
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(panel)
        ax.set_title("loss" if panel == "loss" else f"metric: {panel}", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path, dpi)


def _is_record(value: Mapping) -> bool:
    return "step" in value


def _series(
    records: list[dict], panel: str, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """The steps and values of one curve (records without it skipped; null -> NaN)."""
    steps, ys = [], []
    for r in records:
        if panel == "loss":
            value = r.get("loss" if kind == "train" else "val_loss", _ABSENT)
        else:
            group = r.get("metrics" if kind == "train" else "val_metrics") or {}
            value = group.get(panel, _ABSENT)
        if value is _ABSENT:
            continue
        if kind == "val" and value is None:
            continue
        steps.append(r["step"])
        ys.append(np.nan if value is None else float(value))
    return np.asarray(steps, dtype=float), np.asarray(ys, dtype=float)


def _records(source: Any, what: str) -> list[dict]:
    """The records of one run, checked to have `step` and `loss`."""
    if isinstance(source, str | os.PathLike):
        records = _read(pathlib.Path(source))
    elif isinstance(source, Sequence) and all(isinstance(r, Mapping) for r in source):
        records = [dict(r) for r in source]
    else:
        raise TypeError(
            f"{_OWNER}: {what} must be a metrics.jsonl path, a run directory or a "
            f"list of records (dicts with 'step' and 'loss'), got "
            f"{type(source).__name__}."
        )
    if not records:
        raise ValueError(
            f"{_OWNER}: {what} holds no records; train with a run_dir (or log_every "
            "below steps) so that metrics.jsonl gets lines."
        )
    for i, r in enumerate(records):
        if "step" not in r or not ("loss" in r or "val_loss" in r):
            raise ValueError(
                f"{_OWNER}: record {i} of {what} has keys {sorted(r)}; every record "
                "needs 'step' and 'loss' (or 'val_loss'), as sciml.training.fit "
                "writes them."
            )
    return records


def _read(path: pathlib.Path) -> list[dict]:
    """The lines of a metrics.jsonl file (or of `path/metrics.jsonl`); a torn last
    line (a crash mid-write) is skipped."""
    if path.is_dir():
        path = path / "metrics.jsonl"
    if not path.is_file():
        raise ValueError(
            f"{_OWNER}: no metrics file at {path}; pass the metrics.jsonl that "
            "sciml.training.fit wrote into its run_dir, or the run_dir itself."
        )
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    records = []
    for i, line in enumerate(lines):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                continue
            raise ValueError(
                f"{_OWNER}: line {i + 1} of {path} is not JSON ({line[:60]!r}); "
                "metrics.jsonl holds one JSON object a line."
            ) from None
    return records
