"""Classical, differentiable PDE and ODE solvers: the numerics behind every data set.

One equinox module per PDE, built on a `Grid` with its step and parameters:

- fixed-step steppers, `stepper(u) -> u_next` on channel-first fields `(C, *grid)`,
  with `stepper.trajectory(u0, n_frames, substeps)`: `Advection`, `Burgers`,
  `ReactionDiffusion` (PDEBench's 1-D finite-volume schemes), `FisherSources`
  (MT-DeepONet's sources), `NavierStokes2D` (pseudo-spectral vorticity, which also
  has `solve(w0, ts)`), `AllenCahn1D` (pseudo-spectral ETDRK4, the PINN benchmarks'
  reference), `SourceDiffusionReaction1D` (sine-basis ETDRK4) and
  `SpectralBurgers1D` (Fourier ETDRK4), the DeepONet benchmarks' data;
- periodic 1-D Fourier steppers on one base, `AbstractSpectralStepper1D` (ETDRK4,
  a linear symbol and a pointwise nonlinear term): `SpectralBurgers1D`,
  `SpectralAdvection1D` (exact in time), `SpectralReactionDiffusion1D` and
  `AllenCahn1D`, the spectral alternative of the PDEBench generators
  (`scheme="spectral"`); `resample` interpolates their frames onto a finer grid;
- adaptive solvers, `solver.solve(u0, ts) -> Solution`: `DiffusionSorption`,
  `DiffusionReaction2D`, `NonlinearDiffusion2D` (the PINN benchmarks' reference);
- the steady `Darcy`, `solver.solve(a) -> DarcySolution`, on a square or on the
  cells of a geometry inside it (`mask`; MT-DeepONet's shapes: `geometry_mask(name,
  n)` for the names in `GEOMETRIES`);
- initial-condition families, `family(grid, *, key)`: `PDEBenchSines`,
  `RandomConstant`, `StandardNormal`, `SquaredExponentialGRF`, `PeriodicGRF`,
  `BinaryBumps`, and the random trigonometric series `SquaredExponentialSeries`
  (with its exact antiderivative) and `PeriodicMaternGRF`;
- ODE systems with exact or float64 reference solutions: `HarmonicOscillator`,
  `Pendulum`, `LotkaVolterra`, `Lorenz63` (`get_system(name)`).

Each jits, vmaps and differentiates; their PDE parameters are array leaves.
`substeps(interval, max_dt)` splits a save interval into equal stable steps.
"""

from ._advection import Advection as Advection
from ._allen_cahn import AllenCahn1D as AllenCahn1D
from ._base import (
    AbstractStepper as AbstractStepper,
    Solution as Solution,
    substeps as substeps,
)
from ._burgers import Burgers as Burgers
from ._darcy import Darcy as Darcy, DarcySolution as DarcySolution
from ._diffusion_reaction_2d import DiffusionReaction2D as DiffusionReaction2D
from ._diffusion_sorption import DiffusionSorption as DiffusionSorption
from ._fisher import (
    FAMILIES as FAMILIES,
    FisherSources as FisherSources,
    source_coefficients as source_coefficients,
)
from ._geometry import GEOMETRIES as GEOMETRIES, geometry_mask as geometry_mask
from ._grid import Grid as Grid
from ._initial import (
    AbstractInitialCondition as AbstractInitialCondition,
    BinaryBumps as BinaryBumps,
    InitialConditionParams as InitialConditionParams,
    PDEBenchSines as PDEBenchSines,
    PeriodicGRF as PeriodicGRF,
    RandomConstant as RandomConstant,
    SquaredExponentialGRF as SquaredExponentialGRF,
    StandardNormal as StandardNormal,
)
from ._navier_stokes import NavierStokes2D as NavierStokes2D
from ._nonlinear_diffusion import NonlinearDiffusion2D as NonlinearDiffusion2D
from ._reaction_diffusion import ReactionDiffusion as ReactionDiffusion
from ._series_grf import (
    PeriodicMaternGRF as PeriodicMaternGRF,
    SquaredExponentialSeries as SquaredExponentialSeries,
)
from ._source_diffusion_reaction import (
    SourceDiffusionReaction1D as SourceDiffusionReaction1D,
)
from ._spectral_1d import (
    AbstractSpectralStepper1D as AbstractSpectralStepper1D,
    resample as resample,
)
from ._spectral_advection import SpectralAdvection1D as SpectralAdvection1D
from ._spectral_burgers import SpectralBurgers1D as SpectralBurgers1D
from ._spectral_reaction_diffusion import (
    SpectralReactionDiffusion1D as SpectralReactionDiffusion1D,
)
from ._systems import (
    SYSTEMS as SYSTEMS,
    AbstractSystem as AbstractSystem,
    HarmonicOscillator as HarmonicOscillator,
    Lorenz63 as Lorenz63,
    LotkaVolterra as LotkaVolterra,
    Pendulum as Pendulum,
    get_system as get_system,
    system_names as system_names,
)

__all__ = [
    "FAMILIES",
    "GEOMETRIES",
    "SYSTEMS",
    "AbstractInitialCondition",
    "AbstractSpectralStepper1D",
    "AbstractStepper",
    "AbstractSystem",
    "Advection",
    "AllenCahn1D",
    "BinaryBumps",
    "Burgers",
    "Darcy",
    "DarcySolution",
    "DiffusionReaction2D",
    "DiffusionSorption",
    "FisherSources",
    "Grid",
    "HarmonicOscillator",
    "InitialConditionParams",
    "LotkaVolterra",
    "Lorenz63",
    "NavierStokes2D",
    "NonlinearDiffusion2D",
    "PDEBenchSines",
    "Pendulum",
    "PeriodicGRF",
    "PeriodicMaternGRF",
    "RandomConstant",
    "ReactionDiffusion",
    "Solution",
    "SourceDiffusionReaction1D",
    "SpectralAdvection1D",
    "SpectralBurgers1D",
    "SpectralReactionDiffusion1D",
    "SquaredExponentialGRF",
    "SquaredExponentialSeries",
    "StandardNormal",
    "geometry_mask",
    "resample",
    "get_system",
    "source_coefficients",
    "substeps",
    "system_names",
]
