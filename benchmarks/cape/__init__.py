"""CAPE (Takamoto et al., ICML 2023): FNO and U-Net, bare, conditioned by channels
and by CAPE, on seen and unseen PDE parameters."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="CAPE against the base model and the channels baseline, FNO and U-Net, "
    "on seen and unseen PDE parameters (nRMSE of full rollouts)",
    scales=("quick", "cpu", "paper"),
    tables=tables,
)
