"""`reuse_host_memory`: glibc then serves a large block again from pages it kept."""

import platform
import subprocess
import sys

import pytest

from sciml.training import reuse_host_memory
from sciml.training._host_memory import SETTINGS

# a fresh process allocates, touches and frees 64 MiB twice; it prints the minor
# page faults of the second round (the one a compiled step repeats every call)
_PROBE = """
import ctypes, ctypes.util, resource, sys
if sys.argv[1] == "reuse":
    from sciml.training import reuse_host_memory
    assert reuse_host_memory() is not None
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
libc.memset.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
n = 64 * 2**20
faults = []
for _ in range(2):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    p = libc.malloc(n)
    libc.memset(p, 1, n)
    libc.free(p)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[1])
"""

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="reuse_host_memory acts on glibc only",
)


def _second_round_faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1])


@glibc
def test_returns_the_settings_it_applied():
    assert reuse_host_memory() == {k: v for k, (_, v) in SETTINGS.items()}


@glibc
def test_a_freed_large_block_comes_back_without_page_faults():
    # glibc's default: the block is mmapped afresh and faults in page by page
    # (16,384 faults of 4 KiB here; 32 where the kernel backs it with 2 MiB pages)
    assert _second_round_faults("default") >= 32
    assert _second_round_faults("reuse") < 8
