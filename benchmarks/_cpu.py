"""Two settings for benchmarks run on a CPU: an XLA flag and the host allocator.

XLA:CPU in jaxlib 0.10 routes some fusions through the experimental YNNPACK
library. On the dense Gaussian sums of PIG (benchmarks/pig) turning that off made a
training step 1.6x to 1.7x faster on this project's 2-core Xeon (two interleaved
pairs of processes, same model, same points); the MLP PINN was not slower. A
benchmark calls `tune_cpu()` before its first JAX computation (XLA reads its flags
then) and records what it did; every model in that run gets the same setting, so
the ratios it reports stay like for like.

`tune_cpu(host_memory=True)` also calls `sciml.training.reuse_host_memory()`
(glibc keeps freed memory, so XLA:CPU's per-execution buffers stop page-faulting
fresh pages: an FNO step at batch 100 to 200 ran 2.4x to 2.6x faster on the 2-core
EPYC), but not always: with PyTorch loaded in the same process it made our 1-D
autoregressive FNO step 3.9x slower (0.57 to 2.23 s, measured), and in a worker
process that had run other shapes first 1.4x slower (0.74 to 1.07 s). No
benchmark asks for it by default; `benchmarks/operators --host-memory reuse` runs
both of its processes with it.
`HOST_MEMORY` holds what was set, and `benchmarks._results.write_results` records
it.
"""

import importlib.metadata as md
import os

FLAG = "--xla_cpu_experimental_ynn_fusion_type="
HOST_MEMORY: dict = {}
"""The glibc settings `tune_cpu` applied (empty until it runs, or off glibc)."""


def tune_cpu(host_memory: bool = False) -> str | None:
    """Set `XLA_FLAGS` to `FLAG` if nothing set it, the jaxlib is the 0.10 series
    (where it was measured; an unknown flag aborts XLA) and no GPU plugin is
    installed; with `host_memory`, keep freed host memory
    (`sciml.training.reuse_host_memory`, before the first JAX computation, as it
    needs). Returns the `XLA_FLAGS` the run uses."""
    if host_memory:
        from sciml.training import reuse_host_memory

        HOST_MEMORY.update(reuse_host_memory() or {})
    if "XLA_FLAGS" in os.environ:
        return os.environ["XLA_FLAGS"]
    names = {(d.metadata["Name"] or "").lower() for d in md.distributions()}
    gpu = any(n.startswith(("jax-cuda", "jax-rocm", "jax_cuda")) for n in names)
    try:
        series = md.version("jaxlib").split(".")[:2] == ["0", "10"]
    except md.PackageNotFoundError:
        series = False
    if series and not gpu:
        os.environ["XLA_FLAGS"] = FLAG
    return os.environ.get("XLA_FLAGS")
