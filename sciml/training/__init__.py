"""Training: a compiled step, the `fit` loop, validation, checkpoints, logs, model
files, per-channel normalisation, parameter counts, and the host-memory setting
that keeps XLA:CPU off fresh pages.

Generic over any equinox module: nothing here imports sciml's model code. A loss is
a plain function `loss_fn(model, batch, key) -> (scalar_loss, metrics_dict)`; the
same function works in [`sciml.training.fit`][] and in a user's own optax loop
built with [`sciml.training.make_step`][].
"""

from ._checkpoint import Checkpoints as Checkpoints
from ._distributed import start_distributed as start_distributed
from ._fit import (
    FitResult as FitResult,
    NonFiniteLossError as NonFiniteLossError,
    fit as fit,
)
from ._host_memory import reuse_host_memory as reuse_host_memory
from ._normalise import Normalised as Normalised, Normaliser as Normaliser
from ._parallel import DataParallel as DataParallel, stack_batches as stack_batches
from ._serialise import (
    load_model as load_model,
    model_spec as model_spec,
    save_model as save_model,
)
from ._step import (
    NON_FINITE_POLICIES as NON_FINITE_POLICIES,
    TrainState as TrainState,
    init_train_state as init_train_state,
    make_step as make_step,
    trainable_only as trainable_only,
)
from ._summary import count_parameters as count_parameters, summary as summary

__all__ = [
    "Checkpoints",
    "DataParallel",
    "FitResult",
    "NON_FINITE_POLICIES",
    "NonFiniteLossError",
    "Normalised",
    "Normaliser",
    "TrainState",
    "count_parameters",
    "fit",
    "init_train_state",
    "load_model",
    "make_step",
    "trainable_only",
    "model_spec",
    "reuse_host_memory",
    "save_model",
    "stack_batches",
    "start_distributed",
    "summary",
]
