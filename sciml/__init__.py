"""sciml: neural PDE solvers in JAX."""

__version__ = "0.1.0"
