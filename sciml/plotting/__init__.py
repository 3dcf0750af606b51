"""Figures for sciml's reports and commands, drawn with matplotlib's object-oriented
API.

A `matplotlib.figure.Figure` made directly (not through pyplot) saves a PNG with
no backend: the library never calls `matplotlib.use` and never adds figures to
pyplot's registry, so the user's backend and open figures are left alone.
matplotlib itself is imported when a figure is drawn, not when sciml (or this
module) is imported.

- `rollout`: a predicted trajectory, the true one and the error, every channel,
  1-D (space-time images) or 2-D (frames), with colour bars.
- `convergence`: error against step size (or grid size) on log-log axes, with
  reference slopes and the true dynamics kept in view.
- `training_curves`: loss (and validation loss) and metrics against step, from
  `metrics.jsonl`.
- `field_preview`: 2-D fields, the coefficient (e.g. Darcy's permeability) beside
  the solution, or a few frames of a time series.
- `figure`, `save`: a figure with a grid of axes, and writing it.

Each plot returns the figure and writes it when given a `path`.

```python
from sciml import plotting

fig, axes = plotting.figure(1, 2, size=(8, 3))
axes[0, 0].plot([0, 1], [1, 0])
plotting.save(fig, "two.png")
plotting.training_curves("runs/fno/metrics.jsonl", "loss.png")
```
"""

from ._convergence import convergence
from ._fields import field_preview
from ._figure import figure, save
from ._rollout import rollout
from ._training import training_curves

__all__ = [
    "convergence",
    "field_preview",
    "figure",
    "rollout",
    "save",
    "training_curves",
]
