"""The JSON-lines metrics log and the progress bar of `fit`."""

import json
import logging
import math
import os
import pathlib
from typing import Any

from tqdm.auto import tqdm

logger = logging.getLogger("sciml.training")


def _json_number(x: float) -> float | None:
    # JSON has no NaN/inf; write null so every line stays standard JSON.
    return x if math.isfinite(x) else None


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in record.items():
        if isinstance(v, dict):
            out[k] = _clean(v)
        elif isinstance(v, float):
            out[k] = _json_number(v)
        else:
            out[k] = v
    return out


class MetricsLog:
    """Append one JSON object a line to `path`.

    A fresh run truncates the file. A resumed run keeps the lines up to the
    checkpoint it resumed from and drops later ones (they were written by the
    interrupted run after its last checkpoint and are about to be recomputed), so
    the file reads like one uninterrupted run.

    **Arguments:**

    - `path`: the `.jsonl` file.
    - `resume_step`: `None` for a fresh run, else the step resumed from.
    """

    def __init__(self, path: str | pathlib.Path, resume_step: int | None):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []
        if resume_step is not None and self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    step = json.loads(line)["step"]
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a crash
                if step <= resume_step:
                    kept.append(line)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, self.path)

    def write(self, record: dict[str, Any]) -> None:
        """Append `record` as one line (NaN/inf written as `null`)."""
        with self.path.open("a") as f:
            f.write(json.dumps(_clean(record)) + "\n")


class Progress:
    """A tqdm bar over the steps, updated only at log time.

    **Arguments:**

    - `total`: the final step.
    - `initial`: the step the run starts from.
    - `enabled`: `False` for no bar.
    """

    def __init__(self, total: int, initial: int, enabled: bool):
        self._bar = tqdm(
            total=total,
            initial=initial,
            disable=not enabled,
            unit="step",
            dynamic_ncols=True,
            desc="fit",
        )

    def update(
        self,
        steps: int,
        loss: float,
        steps_per_s: float,
        val_loss: float | None = None,
    ) -> None:
        """Advance by `steps` and show the interval's loss (and the validation
        loss, if given) and speed."""
        self._bar.update(steps)
        shown = {"loss": f"{loss:.4g}"}
        if val_loss is not None:
            shown["val_loss"] = f"{val_loss:.4g}"
        self._bar.set_postfix(**shown, steps_per_s=f"{steps_per_s:.3g}")

    def close(self) -> None:
        """Close the bar."""
        self._bar.close()
