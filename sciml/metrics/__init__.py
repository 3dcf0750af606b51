r"""Error metrics of PDEBench (Takamoto et al., NeurIPS 2022), spec §6.

Each metric takes a prediction $\hat u$ and the truth $u$ of identical shape, with
$e = \hat u - u$. A norm runs over `spatial_axes`; the error is computed for every
remaining index (batch, channel, time, ...) and then averaged into one scalar.
Pure `jax.numpy`: every function jits (`spatial_axes` static). Besides RMSE, nRMSE
and relative L2: cRMSE (conserved mean), bRMSE (boundary cells), fRMSE (Fourier
bands low/mid/high) and the max error.

`spatial_axes` is required, since sciml's arrays come in two layouts:

- channel-first, as models see a field and PDEBench scores it: `(..., C, X)` or
    `(..., C, X, Y)` -> `spatial_axes=-1` or `(-2, -1)`;
- channel-last, as `sciml.datasets.load(...).u` reads a file: `(N, T, X, C)` or
    `(N, T, X, Y, C)` -> `spatial_axes=-2` or `(-3, -2)`.

Both give the same value on the same data. A spatial axis of size 1 is refused: it
is almost surely the channel axis of the other layout.
"""

from ._errors import (
    brmse as brmse,
    crmse as crmse,
    max_error as max_error,
    nrmse as nrmse,
    relative_l2 as relative_l2,
    rmse as rmse,
)
from ._fourier import FRMSE_BANDS as FRMSE_BANDS, frmse as frmse

__all__ = [
    "FRMSE_BANDS",
    "brmse",
    "crmse",
    "frmse",
    "max_error",
    "nrmse",
    "relative_l2",
    "rmse",
]
