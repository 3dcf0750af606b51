"""Separable PIG (`sciml.pinns.SeparablePIG` on product grids) against dense PIG on
Klein-Gordon (2+1)-D and Helmholtz 2-D: the cost of a training step on the same
number of points, the final test error of a short run, and whether it pays off."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="Separable PIG on a product grid vs dense PIG: step cost on the same "
    "points, final error of a short run, does it pay off",
    scales=("quick",),
    tables=tables,
)
