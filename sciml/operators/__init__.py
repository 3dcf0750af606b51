"""Operator learning and autoregressive solvers: FNO, ODE-Net, rollout."""

from ._fno import FNO as FNO, grid_coordinates as grid_coordinates
from ._odenet import ODENet as ODENet
from ._rollout import rollout as rollout

__all__ = ["FNO", "ODENet", "grid_coordinates", "rollout"]
