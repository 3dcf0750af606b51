"""Data on disk and in memory: PDEBench-layout HDF5 files, their generators, ODEs.

Public API: `write`, `load`, `PDEBenchDataset`, `LazyArray`, `params_from_filename`,
`generate`, `list_generators`, the training views (`windows`, `operator_pairs`,
`Batches`, `pdebench_split`, `prefetch_to_device`), `partial_path`, the
initial-condition sampler
(`sample_initial_conditions`, `sample_initial_condition_params`,
`evaluate_initial_condition`, `InitialConditionParams`), and the `systems` module.
"""

from sciml.datasets import systems as systems
from sciml.datasets._advection import (
    advection_filename as advection_filename,
    generate_advection as generate_advection,
)
from sciml.datasets._burgers import (
    burgers_filename as burgers_filename,
    generate_burgers as generate_burgers,
)
from sciml.datasets._darcy import (
    darcy_filename as darcy_filename,
    generate_darcy as generate_darcy,
)
from sciml.datasets._diffusion_reaction_2d import (
    generate_diffusion_reaction_2d as generate_diffusion_reaction_2d,
)
from sciml.datasets._diffusion_sorption import (
    generate_diffusion_sorption as generate_diffusion_sorption,
)
from sciml.datasets._fisher_sources import (
    fisher_sources_filename as fisher_sources_filename,
    generate_fisher_sources as generate_fisher_sources,
)
from sciml.datasets._generate import (
    generate as generate,
    list_generators as list_generators,
)
from sciml.datasets._hdf5 import partial_path as partial_path, write as write
from sciml.datasets._initial import (
    InitialConditionParams as InitialConditionParams,
    evaluate_initial_condition as evaluate_initial_condition,
    sample_initial_condition_params as sample_initial_condition_params,
    sample_initial_conditions as sample_initial_conditions,
)
from sciml.datasets._layouts import (
    write_fields as write_fields,
    write_groups as write_groups,
)
from sciml.datasets._lazy import LazyArray as LazyArray
from sciml.datasets._load import (
    PDEBenchDataset as PDEBenchDataset,
    load as load,
    params_from_filename as params_from_filename,
)
from sciml.datasets._navier_stokes import (
    generate_navier_stokes_2d as generate_navier_stokes_2d,
    navier_stokes_filename as navier_stokes_filename,
)
from sciml.datasets._prefetch import prefetch_to_device as prefetch_to_device
from sciml.datasets._reaction_diffusion import (
    generate_reaction_diffusion as generate_reaction_diffusion,
    reaction_diffusion_filename as reaction_diffusion_filename,
)
from sciml.datasets._views import (
    Batches as Batches,
    operator_pairs as operator_pairs,
    pdebench_split as pdebench_split,
    windows as windows,
)
