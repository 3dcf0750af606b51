"""The convergence study of Krishnapriyan et al. (Commun. Phys. 6:319, 2023)."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="ODE-Nets trained with Euler and RK4 through the convergence test",
    scales=("quick", "paper"),
    tables=tables,
)
