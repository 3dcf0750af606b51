"""The derivative engines of `sciml.pinns.Derivatives` against nested reverse mode on
MLPs and a PIG-like Gaussian feature model: the operators, the PIG problems' residuals
and the training step through them (time ratios measured in one run, float64
agreement)."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="Derivatives engines vs nested reverse mode: operators, residuals, "
    "training steps (time ratio, float64 agreement)",
    scales=("quick",),
    tables=tables,
)
