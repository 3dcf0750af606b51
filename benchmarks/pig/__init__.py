"""The PIG benchmarks (Kang et al., ICLR 2025): PIG and an MLP PINN on the paper's
five problems, final test error beside the paper's Table 1."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="PIG and the MLP PINN on the PIG paper's five problems (final error)",
    scales=("quick", "cpu", "paper"),
    tables=tables,
)
