"""sciml: neural PDE solvers in JAX.

Subpackages are imported on first use (`sciml.operators`, `sciml.training`, ...), so
`import sciml` stays cheap.
"""

import importlib as _importlib

__version__ = "0.1.0"
"""The version of sciml."""

_SUBMODULES = (
    "convergence",
    "datasets",
    "integrators",
    "interop",
    "metrics",
    "nn",
    "operators",
    "pinns",
    "plotting",
    "solvers",
    "training",
)
__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'sciml' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES])
