"""Data-generation throughput and error, sciml's generators beside Exponax and
PDEBench's simulators."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="data generation: speed and error beside Exponax and PDEBench's simulators",
    scales=("quick", "paper"),
    tables=tables,
)
