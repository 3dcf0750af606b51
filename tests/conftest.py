"""Shared fixtures. The jaxtyping runtime check is on in tests only (see pyproject addopts)."""

import itertools

import jax
import pytest


@pytest.fixture
def getkey():
    """Return a function that hands out a fresh PRNG key on each call (deterministic)."""
    counter = itertools.count()
    base = jax.random.key(0)

    def _getkey():
        return jax.random.fold_in(base, next(counter))

    return _getkey


@pytest.fixture
def no_typecheck():
    """Switch the jaxtyping runtime check off for one test, so that a bad-input test
    sees the library's own ValueError, as a user (who runs without the check) would."""
    import jaxtyping

    jaxtyping.config.update("jaxtyping_disable", True)
    try:
        yield
    finally:
        jaxtyping.config.update("jaxtyping_disable", False)


@pytest.fixture
def on_8_devices():
    """Return `run(script, **env)`: run a Python script in a subprocess on 8
    simulated CPU devices, from the repository root, with `env` added to its
    environment; it must exit 0 and print "ok" last."""
    import os
    import pathlib
    import subprocess
    import sys

    def run(script: str, **env: str) -> None:
        out = subprocess.run(
            [sys.executable, "-c", script],
            env={
                **os.environ,
                "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
                "JAX_PLATFORMS": "cpu",
                **env,
            },
            cwd=pathlib.Path(__file__).parent.parent,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        assert out.stdout.strip().endswith("ok")

    return run


def pytest_configure(config):
    """One persistent XLA compilation cache for the whole run, shared by the xdist
    workers and new each run (so a run's time does not depend on an earlier one):
    many tests build the same small programs anew (a fresh `jit` of the same
    model), and the cache compiles each once. `SCIML_TEST_JAX_CACHE=0` turns it off."""
    import os
    import tempfile

    if os.environ.get("SCIML_TEST_JAX_CACHE") == "0":
        return
    if not hasattr(config, "workerinput"):  # the controller, before workers start
        os.environ.setdefault(
            "SCIML_TEST_JAX_CACHE", tempfile.mkdtemp(prefix="sciml-jax-cache-")
        )
    jax.config.update("jax_compilation_cache_dir", os.environ["SCIML_TEST_JAX_CACHE"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
