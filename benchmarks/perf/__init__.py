"""The performance harness: each model's training step at the papers' small
configurations, one step per call against `k` steps per call (`fit`'s
`steps_per_call`), the sharded path's cost on one device, and the work XLA's
cost analysis counts per step."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="training-step speed: fused k-step loop, mesh overhead, FLOP/s",
    scales=("quick",),
    tables=tables,
)
