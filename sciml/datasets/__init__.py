r"""Data on disk and in memory: PDEBench-layout HDF5 files, their generation, batches.

- **Format**: `write`, `write_fields`, `write_groups` (atomic, resumable,
  checksummed), `load` (lazy) returning a `PDEBenchDataset` whose `u` is a
  `LazyArray`, `params_from_filename`, `partial_path`.
- **Generation**: `generate(name, ...)` runs a generator (`list_generators()`,
  `generator_parameters(name)`); each is a `Recipe` (initial condition ->
  `sciml.solvers` solver -> fields) streamed through the one chunked pipeline
  `chunk_source`, e.g. `generate_advection`, `generate_burgers`, ...; the
  DeepONet benchmarks' data: `generate_antiderivative`,
  `generate_source_diffusion_reaction`, `generate_burgers_grf`.
  File names are PDEBench's for the same data set, suffix included: PDEBench
  writes `.hdf5` for advection, Burgers, reaction-diffusion and Darcy, and `.h5`
  for diffusion-sorption and 2-D diffusion-reaction. The files PDEBench has no
  counterpart of (2-D Navier-Stokes, Fisher sources, Darcy flow on MT-DeepONet's
  geometries, `generate_darcy_geometry`) follow its `.hdf5` pattern.
  `cfl` means the same everywhere: the Courant number $\Delta t\,(|a|/\Delta x +
  2\kappa/\Delta x^2)$ of the explicitly stepped terms (speed $a$, diffusivity
  $\kappa$).
- **Batches**: `windows` and `operator_pairs` (shuffled, bounded memory, prefetched:
  `Batches`, `prefetch_to_device`), `pdebench_split`, and `channel_first`, which
  maps the file layout `(N, T, X, C)` to the model layout `(N, T, C, X)`.
"""

from ._generators.advection import (
    advection_filename as advection_filename,
    generate_advection as generate_advection,
)
from ._generators.antiderivative import (
    antiderivative_filename as antiderivative_filename,
    generate_antiderivative as generate_antiderivative,
)
from ._generators.burgers import (
    burgers_filename as burgers_filename,
    generate_burgers as generate_burgers,
)
from ._generators.burgers_grf import (
    burgers_grf_filename as burgers_grf_filename,
    generate_burgers_grf as generate_burgers_grf,
)
from ._generators.darcy import (
    darcy_filename as darcy_filename,
    generate_darcy as generate_darcy,
)
from ._generators.darcy_geometry import (
    darcy_geometry_filename as darcy_geometry_filename,
    generate_darcy_geometry as generate_darcy_geometry,
)
from ._generators.diffusion_reaction_2d import (
    generate_diffusion_reaction_2d as generate_diffusion_reaction_2d,
)
from ._generators.diffusion_sorption import (
    generate_diffusion_sorption as generate_diffusion_sorption,
)
from ._generators.fisher_sources import (
    fisher_sources_filename as fisher_sources_filename,
    generate_fisher_sources as generate_fisher_sources,
)
from ._generators.navier_stokes_2d import (
    generate_navier_stokes_2d as generate_navier_stokes_2d,
    navier_stokes_filename as navier_stokes_filename,
)
from ._generators.reaction_diffusion import (
    generate_reaction_diffusion as generate_reaction_diffusion,
    reaction_diffusion_filename as reaction_diffusion_filename,
)
from ._generators.source_diffusion_reaction import (
    generate_source_diffusion_reaction as generate_source_diffusion_reaction,
    source_diffusion_reaction_filename as source_diffusion_reaction_filename,
)
from ._hdf5 import partial_path as partial_path, write as write
from ._layouts import write_fields as write_fields, write_groups as write_groups
from ._lazy import LazyArray as LazyArray
from ._load import (
    PDEBenchDataset as PDEBenchDataset,
    load as load,
    params_from_filename as params_from_filename,
)
from ._pipeline import Recipe as Recipe, chunk_source as chunk_source
from ._prefetch import prefetch_to_device as prefetch_to_device
from ._registry import (
    GeneratorParameter as GeneratorParameter,
    generate as generate,
    generator_parameters as generator_parameters,
    get_generator as get_generator,
    list_generators as list_generators,
)
from ._views import (
    Batches as Batches,
    channel_first as channel_first,
    operator_pairs as operator_pairs,
    pdebench_split as pdebench_split,
    windows as windows,
)

__all__ = [
    "Batches",
    "GeneratorParameter",
    "LazyArray",
    "PDEBenchDataset",
    "Recipe",
    "advection_filename",
    "antiderivative_filename",
    "burgers_filename",
    "burgers_grf_filename",
    "channel_first",
    "chunk_source",
    "darcy_filename",
    "darcy_geometry_filename",
    "fisher_sources_filename",
    "generate",
    "generate_advection",
    "generate_antiderivative",
    "generate_burgers",
    "generate_burgers_grf",
    "generate_darcy",
    "generate_darcy_geometry",
    "generate_diffusion_reaction_2d",
    "generate_diffusion_sorption",
    "generate_fisher_sources",
    "generate_navier_stokes_2d",
    "generate_reaction_diffusion",
    "generate_source_diffusion_reaction",
    "generator_parameters",
    "get_generator",
    "list_generators",
    "load",
    "navier_stokes_filename",
    "operator_pairs",
    "params_from_filename",
    "partial_path",
    "pdebench_split",
    "prefetch_to_device",
    "reaction_diffusion_filename",
    "source_diffusion_reaction_filename",
    "windows",
    "write",
    "write_fields",
    "write_groups",
]
