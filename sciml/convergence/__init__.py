"""The refinement test for learned dynamics (Krishnapriyan et al., 2023)."""

from ._report import ConvergenceReport as ConvergenceReport
from ._test import order_tolerance as order_tolerance, test as test

__all__ = ["ConvergenceReport", "order_tolerance", "test"]
