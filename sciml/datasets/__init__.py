"""Data on disk and in memory: PDEBench-layout HDF5 files, their generators, ODEs.

Public API: `write`, `load`, `PDEBenchDataset`, `LazyArray`, `params_from_filename`,
`generate`, `list_generators`, the initial-condition sampler
(`sample_initial_conditions`, `sample_initial_condition_params`,
`evaluate_initial_condition`, `InitialConditionParams`), and the `systems` module.
"""

from sciml.datasets import systems as systems
from sciml.datasets._advection import (
    advection_filename as advection_filename,
    generate_advection as generate_advection,
)
from sciml.datasets._generate import (
    generate as generate,
    list_generators as list_generators,
)
from sciml.datasets._hdf5 import write as write
from sciml.datasets._initial import (
    InitialConditionParams as InitialConditionParams,
    evaluate_initial_condition as evaluate_initial_condition,
    sample_initial_condition_params as sample_initial_condition_params,
    sample_initial_conditions as sample_initial_conditions,
)
from sciml.datasets._lazy import LazyArray as LazyArray
from sciml.datasets._load import (
    PDEBenchDataset as PDEBenchDataset,
    load as load,
    params_from_filename as params_from_filename,
)
