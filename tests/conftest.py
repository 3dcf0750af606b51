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
