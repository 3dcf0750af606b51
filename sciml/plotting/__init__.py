"""Figures for sciml's reports, drawn with matplotlib's object-oriented API.

A `matplotlib.figure.Figure` made directly (not through pyplot) saves a PNG with
no backend: the library never calls `matplotlib.use` and never adds figures to
pyplot's registry, so the user's backend and open figures are left alone.
Import this module where a plot is drawn, not at the top of a package, so that
importing sciml does not import matplotlib.

```python
from sciml import plotting

fig, axes = plotting.figure(1, 2, size=(8, 3))
axes[0, 0].plot([0, 1], [1, 0])
plotting.save(fig, "two.png")
```
"""

from ._figure import figure, save

__all__ = ["figure", "save"]
