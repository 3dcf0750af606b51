"""The demo's figures as a results file (`sciml demo` run as a user runs it)."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="`sciml demo` end to end: FNO rollout error, ODE-Net verdict, wall time",
    scales=("quick",),
    tables=tables,
)
