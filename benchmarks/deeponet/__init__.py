"""The DeepONet family and MT-DeepONet (spec deeponet.md): the PI-DeepONet
notebooks' problems per variant, the Fisher multi-task comparison and Darcy on
geometries with transfer; final test errors."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="DeepONet variants, PI-DeepONet, MT-DeepONet Fisher and Darcy (final error)",
    scales=("quick", "cpu", "paper"),
    tables=tables,
)
