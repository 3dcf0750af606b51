"""PDEBench-layout data with `sciml.datasets`: generate a Burgers file, open it lazily,
read what it holds (what `sciml data info FILE` prints), and serve training batches
from it: autoregressive windows and DeepONet operator pairs.

Run: python examples/datasets.py  (--tiny: a smaller file, for the test suite)
"""

import sys
import tempfile

import jax
import numpy as np

import sciml

TINY = "--tiny" in sys.argv  # the test suite runs every example this way
N, NX, NT = (10, 64, 21) if TINY else (100, 1024, 201)  # samples, cells, frames

# The generators, and one's settings with their defaults (`sciml data list`, and
# `sciml data generate burgers --help` on the command line)
print("generators:", ", ".join(sciml.datasets.list_generators()))
settings = sciml.datasets.generator_parameters("burgers")
print("burgers:", ", ".join(f"{p.name}={p.default}" for p in settings))

with tempfile.TemporaryDirectory() as out:
    # Burgers with nu = 0.01 by PDEBench's recipe, at a Courant number of 0.9 (full
    # size: PDEBench's grid), into a file named as PDEBench names it
    path = sciml.datasets.generate(
        "burgers", nu=0.01, cfl=0.9, n_samples=N, nx=NX, nt=NT, out=out
    )

    with sciml.datasets.load(path) as ds:  # opens the file, reads no samples yet
        print(ds)  # samples, frames, cells, channels, the PDE's parameters
        print("written by:", ds.provenance["generator"], ds.provenance["params"])
        # ds.u is lazy, in the file layout (N, T, X, C): a slice reads only itself
        u = sciml.datasets.channel_first(ds.u[:2, ::10])  # (2, T/10, C=1, X)
        print(f"2 samples, every 10th frame: {u.shape}, max |u| {abs(u).max():.3f}")

        # PDEBench's split (the first 10 % of samples test) and its training
        # protocol: every 5th frame and every 4th cell, one frame in, the next out
        train, test = sciml.datasets.pdebench_split(len(ds))
        key = jax.random.key(0)  # shuffles the batches
        windows = ds.windows(  # 1 frame in, 1 frame out
            1, 1, t_stride=5, x_stride=4, batch_size=8, samples=train, key=key
        )
        batch = next(iter(windows))  # a dict of arrays on the device, channel-first
        shapes = {k: batch[k].shape for k in ("input", "target")}
        print(f"windows: {len(windows)} batches from {len(train)} samples, {shapes}")
        s, start = int(batch["sample"][0]), int(batch["start"][0])
        same = np.array_equal(batch["target"][0, 0], ds.u[s, start + 5, ::4, 0])
        print(f"  the first target is frame {start + 5} of sample {s}: {same}")

        # DeepONet triples: u at 32 sensors at t = 0, and at 100 random (t, x) points
        pairs = ds.operator_pairs(32, 100, batch_size=4, samples=train, key=key)
        batch = next(iter(pairs))
        shapes = {k: batch[k].shape for k in ("branch", "trunk", "target")}
        print(f"operator pairs: {shapes}; {len(test)} samples held out for testing")
