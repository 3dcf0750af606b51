"""The PI-HC-MoE benchmarks (Chalapathi et al., ICLR 2024): soft, single hard and
mixture-of-experts hard constraints on diffusion-sorption and 2-D Navier-Stokes,
beside the paper's table; time per batch as the sampled points and the experts
grow."""

from benchmarks._bench import Benchmark

from .report import tables

BENCHMARK = Benchmark(
    summary="PI-SC, PI-HC and PI-HC-MoE on diffusion-sorption and Navier-Stokes",
    scales=("quick", "cpu", "paper"),
    tables=tables,
)
