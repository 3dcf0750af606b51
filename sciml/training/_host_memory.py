"""Keep freed host memory in the process, so that XLA:CPU reuses warm pages.

XLA:CPU allocates the buffers of every execution afresh, through the C library's
`malloc`. glibc serves a large request (above its mmap threshold, 128 KiB rising
to at most 32 MiB) with a fresh `mmap` and returns it to the kernel when freed, so
every execution of a compiled step then touches new pages: one minor page fault,
and the kernel zeroing the page, per 4 KiB. A training step whose buffers pass
that threshold suddenly runs several times slower.

Measured on this project's 2-core AMD EPYC (jaxlib 0.10.2, the gradient of an FNO
of width 20 on 128 points; median of 10 calls): at
batch 50 the step took 7.4 ms with 16 page faults a call; at batch 100 35.5 ms with
11,900 faults; at batch 200 74 ms with 23,700 faults. After
`reuse_host_memory()`: 8.2, 14.9 and 28 ms, no faults (2.4x and 2.6x faster at
the larger batches).
"""

import ctypes
import ctypes.util

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

SETTINGS = {
    "M_MMAP_MAX": (_M_MMAP_MAX, 0),
    "M_TRIM_THRESHOLD": (_M_TRIM_THRESHOLD, 2**31 - 1),
    "M_ARENA_MAX": (_M_ARENA_MAX, 1),
}
"""What `reuse_host_memory` asks of glibc's `mallopt`: no `mmap` for large blocks
(they come from the heap and stay there when freed), no returning the heap's top to
the kernel below 2 GiB, and one arena (a thread arena holds at most 64 MiB, and
above that glibc falls back to `mmap`)."""


def reuse_host_memory() -> dict[str, int] | None:
    """Tell glibc's `malloc` to keep freed memory in the process, so that the
    buffers XLA:CPU allocates for every execution reuse pages already mapped
    instead of page-faulting fresh ones (see `SETTINGS`).

    The gain is large where a compiled step's buffers are tens of MiB (measured:
    an FNO training step 2.4x to 2.6x faster at batch 100 and 200 on a 2-core
    CPU), nothing on a GPU (device memory has its own allocator). The cost: the
    process's resident memory no longer shrinks after a peak, and one arena
    serialises small allocations across threads (JAX allocates few, large
    blocks). It changes the whole process, PyTorch's CPU tensors included, so call
    it once, early: before the first JAX computation is best, since arenas that
    threads already hold keep their limits.

    Measure before you keep it: it does not always pay. The 1-D autoregressive
    FNO training step (benchmarks/operators `1d-ar`) went from 0.69 to 0.35 s with
    it in a fresh process, but from 0.57 to 2.23 s in a process that had loaded
    PyTorch, and from 0.74 to 1.07 s in one that had first run other shapes (the
    kept heap fragments, and large blocks again land on fresh pages). In
    `benchmarks/cape --scale quick`, dozens of models and shapes in one process,
    the same models trained about 2x slower with it (the advection FNO 16 against
    8 s, the U-Net 36 against 18 s; a 40-step FNO rollout 0.37 against 0.12 s). sciml never calls it for you.

    The same settings from the shell, for any program:
    `GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647:glibc.malloc.arena_max=1`.

    **Returns:** the settings applied, or `None` where the C library is not glibc
    (nothing is changed there).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        if not hasattr(libc, "gnu_get_libc_version"):  # musl, macOS, Windows
            return None
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    applied = {}
    for label, (param, value) in SETTINGS.items():
        if mallopt(param, value) != 1:
            raise RuntimeError(f"reuse_host_memory: glibc refused mallopt({label}).")
        applied[label] = value
    return applied
