"""Operator learning and autoregressive solvers.

- **DeepONet family** (one branch/trunk/combine structure, `AbstractDeepONet`):
  `DeepONet` (unstacked with bias; multiple outputs with the strategies
  `independent`, `split_both`, `split_branch`, `split_trunk`; Fourier-feature
  trunks; any network as branch), `PODDeepONet` (`pod_basis`), `MIONet`,
  `ModifiedDeepONet`, and `contract`, the one contraction they share. Each evaluates one input at points, the cartesian product
  (`model.cartesian`) and paired rows (`model.paired`).
- **MT-DeepONet** inputs and losses: `task_input`, `with_mask_channel`,
  `masked_mse`, `masked_relative_l2`, `check_mask` (partial fine-tuning:
  `sciml.training.trainable_only`).
- **FNO**, **U-Net** (PDEBench's), **ODE-Net**, and `rollout`.
- **Parameter conditioning** (Takamoto et al., ICML 2023): `CAPE`, the wrapper
  `Conditioned` (modes `"none"`, `"channels"`, `"cape"`), and its training:
  `RolloutLoss` with the curriculum `curriculum_steps`, and `WarmupLoss`.
"""

from ._cape import CAPE as CAPE, PARAM_TRANSFORMS as PARAM_TRANSFORMS
from ._conditioned import (
    CONDITIONING_MODES as CONDITIONING_MODES,
    Conditioned as Conditioned,
    ConditionedStep as ConditionedStep,
)
from ._curriculum import (
    ACCUMULATIONS as ACCUMULATIONS,
    NORMALISATIONS as NORMALISATIONS,
    RolloutLoss as RolloutLoss,
    WarmupLoss as WarmupLoss,
    curriculum_steps as curriculum_steps,
)
from ._deeponet import (
    STRATEGIES as STRATEGIES,
    AbstractDeepONet as AbstractDeepONet,
    DeepONet as DeepONet,
    contract as contract,
)
from ._fno import (
    FNO as FNO,
    PDEBENCH_PRESETS as PDEBENCH_PRESETS,
    grid_coordinates as grid_coordinates,
)
from ._mionet import MIONet as MIONet
from ._modified_deeponet import ModifiedDeepONet as ModifiedDeepONet
from ._multitask import (
    check_mask as check_mask,
    masked_mse as masked_mse,
    masked_relative_l2 as masked_relative_l2,
    task_input as task_input,
    with_mask_channel as with_mask_channel,
)
from ._odenet import ODENet as ODENet
from ._pod_deeponet import PODDeepONet as PODDeepONet, pod_basis as pod_basis
from ._rollout import rollout as rollout
from ._unet import UNet as UNet

__all__ = [
    "ACCUMULATIONS",
    "NORMALISATIONS",
    "CAPE",
    "CONDITIONING_MODES",
    "Conditioned",
    "ConditionedStep",
    "PARAM_TRANSFORMS",
    "RolloutLoss",
    "curriculum_steps",
    "WarmupLoss",
    "FNO",
    "PDEBENCH_PRESETS",
    "STRATEGIES",
    "AbstractDeepONet",
    "DeepONet",
    "MIONet",
    "ModifiedDeepONet",
    "ODENet",
    "PODDeepONet",
    "UNet",
    "check_mask",
    "contract",
    "grid_coordinates",
    "masked_mse",
    "masked_relative_l2",
    "pod_basis",
    "rollout",
    "task_input",
    "with_mask_channel",
]
