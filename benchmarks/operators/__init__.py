"""Our FNO (and, as they land, U-Net and CAPE) against the PyTorch peers
(PDEBench's FNO, neuraloperator): training step and rollout, same shapes."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="FNO training step and rollout against PDEBench's and "
    "neuraloperator's PyTorch FNOs, same shapes, interleaved",
    scales=("quick", "smoke"),
    tables=tables,
)
