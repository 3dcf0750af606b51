"""Our MLP PINN against jinns, DeepXDE and jaxpi: time per iteration and wall time
to an error, on the same problems, points, network, weights and optimiser."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="the MLP PINN's step against jinns', DeepXDE's and jaxpi's (same PDE, "
    "points, network, weights, Adam)",
    scales=("quick",),
    tables=tables,
)
