"""Our FNO and U-Net against the PyTorch peers (PDEBench's FNO and U-Net,
neuraloperator's FNO): training step and rollout, same shapes."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="FNO and U-Net training step and rollout against PDEBench's and "
    "neuraloperator's PyTorch models, same shapes, interleaved",
    scales=("quick", "smoke"),
    tables=tables,
)
