"""Our DeepONet family against DeepXDE's (PyTorch backend): training steps and
inference, the same networks, data, weights and Adam, and where our step spends its
time."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="DeepONet training step and inference against DeepXDE (PyTorch), same "
    "sizes, data, weights and Adam; a profile of our step",
    scales=("quick",),
    tables=tables,
)
