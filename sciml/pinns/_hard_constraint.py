r"""Differentiable hard PDE constraints and their mixture of experts (PI-HC-MoE;
Chalapathi, Du and Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024).

A basis network gives $N$ functions $\Phi_\theta$ on a grid; inside the forward pass
a nonlinear least-squares solve finds the coefficients $c^*$ that make the PDE
residual small, and the output is $u = \Phi_\theta c^*$. Gradients pass through the
solve by the implicit function theorem (`implicit_least_squares`), never by
unrolling the solver. With experts, the grid is cut into blocks; each solves its
own coefficients on points sampled in its block, all in one `vmap`, sharded over
devices when a mesh is given.
"""

import abc
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree

from .._checks import boolean, choice, integer, integers
from ._implicit import implicit_least_squares

Affine = tuple[Array, Array]
"""A field affine in the coefficients, `(offset, matrix)`: its values are
`offset + matrix @ c`, with `offset` of shape `(*shape,)` and `matrix`
`(*shape, N)`."""

CONSTRAINT_SOLVERS = ("levenberg_marquardt", "gauss_newton")
"""The `solver=` choices of `HardConstraint` and `HardConstraintMoE` (optimistix's
`LevenbergMarquardt` and `GaussNewton` with a dense lineax solve)."""

CONSTRAINT_LINEAR_SOLVES = ("normal", "qr")
r"""The `linear_solve=` choices: how each solver step's linear least-squares
problem is solved. `"normal"`: Cholesky on the normal equations (lineax's
`Normal(Cholesky())`), $(J^\top J + \lambda I)\,\delta = J^\top r$; `"qr"`: a
QR factorisation of the (damped) Jacobian, optimistix's default, which squares no
condition number. On the hard-constraint benchmark's diffusion-sorption model
(float64, 16 basis functions, 4 experts of 1000 points) `"normal"` made a
training step 1.48x faster on a 2-core CPU (800 to 539 ms; the QR was 21 % of the
step in the profile) with the same loss to 1e-8. Levenberg-Marquardt's damping
keeps its normal matrix positive definite; undamped Gauss-Newton on a
rank-deficient basis needs `"qr"`."""


def affine_values(field: Affine, c: Array) -> Array:
    """The values `offset + matrix @ c` of an affine field."""
    offset, matrix = field
    return offset + matrix @ c


class AbstractConstraint(eqx.Module):
    r"""The physics a hard-constraint layer solves for.

    Subclasses give the derivative fields of an affine field on the full grid
    (`fields`; `features` applies them to the `ansatz`, once, before the grid is
    cut into experts) and the named residual blocks of one expert's least-squares problem
    (`terms`: PDE rows, initial and boundary rows). The layer gathers the features
    at each expert's sampled points; the initial and boundary rows the terms build
    from `shared`, which every expert receives whole. The residual the solver
    minimises is the terms stacked, then `ridge` $\cdot c$.
    """

    ridge: eqx.AbstractVar[float]

    def ansatz(self, basis: Float[Array, "*grid N"], data: PyTree) -> Affine:
        r"""The field as an affine function of the coefficients. Default: $\Phi c$,
        `(0, basis)`."""
        return jnp.zeros(basis.shape[:-1], basis.dtype), basis

    @abc.abstractmethod
    def fields(self, field: Affine, data: PyTree) -> dict[str, Affine]:
        """An affine field and the derivatives the residual needs, on the grid: a
        dict of affine fields `(offset (*grid,), matrix (*grid, N))`, one of them
        named `"u"` (the field itself)."""

    def features(
        self, basis: Float[Array, "*grid N"], data: PyTree
    ) -> dict[str, Affine]:
        """`fields` of the `ansatz`: what the layer gathers at the points."""
        return self.fields(self.ansatz(basis, data), data)

    @abc.abstractmethod
    def terms(
        self,
        c: Float[Array, " N"],
        rows: dict[str, Affine],
        shared: PyTree,
        data: PyTree,
        block: Bool[Array, " *grid"],
    ) -> dict[str, Float[Array, " r"]]:
        """One expert's residual blocks by name (e.g. `"pde"`, `"ic"`): `rows`
        holds every feature at the expert's `m` sampled points (`(m,)` offsets,
        `(m, N)` matrices); `block` is True on the expert's own block of the grid
        (for conditions kept local to it)."""

    def shared(self, features: dict[str, Affine], data: PyTree) -> PyTree:
        """What every expert's residual needs besides its own points (initial and
        boundary rows, say), from the full-grid features. Default: nothing."""
        return None

    def residual(self, c, rows, shared, data, block) -> Float[Array, " r"]:
        """The vector the solver minimises: the `terms` stacked, then
        `ridge * c`."""
        parts = list(self.terms(c, rows, shared, data, block).values())
        return jnp.concatenate([*parts, self.ridge * c])


class ConstraintInfo(NamedTuple):
    """How the solves went, one entry per expert.

    - `converged`: whether the solver met its tolerance within `max_steps`. The
      implicit gradient assumes the optimality condition holds: where it does not,
      the gradient is wrong, and a training loss should drop that sample.
    - `steps`: the solver's steps.
    - `residual_rms`: the RMS of the residual vector at the solution.
    """

    converged: Bool[Array, " K"]
    steps: Int[Array, " K"]
    residual_rms: Float[Array, " K"]


class HardConstraintOutput(NamedTuple):
    """`u` on the grid, the coefficients `(K, N)` of each expert, and the
    solves' `ConstraintInfo`."""

    u: Array
    coefficients: Array
    info: ConstraintInfo


def _solver(name: str, rtol: float, atol: float, linear_solve: str):
    linear = lx.Normal(lx.Cholesky()) if linear_solve == "normal" else lx.QR()
    if name == "levenberg_marquardt":
        return optx.LevenbergMarquardt(rtol=rtol, atol=atol, linear_solver=linear)
    return optx.GaussNewton(rtol=rtol, atol=atol, linear_solver=linear)


def to_blocks(x: Array, experts: tuple[int, ...]) -> Array:
    """Cut the leading `len(experts)` (grid) axes of `x` into `experts[i]` equal
    blocks each: `(*grid, ...)` to `(K, prod(block), ...)`, experts in row-major
    order."""
    d = len(experts)
    grid, rest = x.shape[:d], x.shape[d:]
    shape = []
    for n, k in zip(grid, experts, strict=True):
        shape += [k, n // k]
    x = x.reshape(*shape, *rest)
    order = [2 * i for i in range(d)] + [2 * i + 1 for i in range(d)]
    order += list(range(2 * d, x.ndim))
    x = jnp.transpose(x, order)
    return x.reshape(math.prod(experts), -1, *rest)


def from_blocks(x: Array, experts: tuple[int, ...], grid: tuple[int, ...]) -> Array:
    """The inverse of `to_blocks`: `(K, prod(block), ...)` to `(*grid, ...)`."""
    d = len(experts)
    block = [n // k for n, k in zip(grid, experts, strict=True)]
    rest = x.shape[2:]
    x = x.reshape(*experts, *block, *rest)
    order = []
    for i in range(d):
        order += [i, d + i]
    order += list(range(2 * d, x.ndim))
    return jnp.transpose(x, order).reshape(*grid, *rest)


class HardConstraintMoE(eqx.Module):
    r"""The hard constraint as a mixture of experts (PI-HC-MoE): the grid is cut
    into `experts[i]` equal blocks along axis `i`; expert $k$ samples `points`
    points in its block $\Omega_k$ and solves its own coefficients $c_k^*$ against
    the shared basis; $u = \sum_k \mathbf{1}_{\Omega_k} \Phi_\theta c_k^*$.
    `HardConstraint` is its one-expert case.

    Every expert's problem also gets the constraint's `shared` rows whole (the
    global initial and boundary rows, as the official code does). The blocks are
    concatenated: continuity across interfaces is not enforced (`interface_jump`
    measures it). All experts run in one `vmap`; with a `mesh` that has an axis
    named `"expert"`, the expert axis is sharded over its devices by a sharding
    constraint (`NamedSharding`, under `jit`; the mesh's axes are taken as
    `Auto`; the device count must divide the number of experts).

    **Arguments:** as `HardConstraint`, plus

    - `experts`: the per-axis expert counts, e.g. `(1, 4)`; each must divide its
      grid axis.
    - `mesh`: a `jax.sharding.Mesh` with an `"expert"` axis, or `None` (one
      device).
    - `gauss_newton_adjoint`: differentiate with the Gauss-Newton matrix $J^\top
      J$ instead of the exact Hessian of $\tfrac12\lVert r\rVert^2$ (cheaper, exact
      only where the residual vanishes; default `False`).
    - `linear_solve`: one of `CONSTRAINT_LINEAR_SOLVES` (default `"normal"`).
    """

    basis: Callable
    constraint: AbstractConstraint
    grid: tuple[int, ...] = eqx.field(static=True)
    experts: tuple[int, ...] = eqx.field(static=True)
    points: int = eqx.field(static=True)
    solver: str = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    c0: float = eqx.field(static=True)
    mesh: Any = eqx.field(static=True)
    gauss_newton_adjoint: bool = eqx.field(static=True)
    linear_solve: str = eqx.field(static=True)

    def __init__(
        self,
        basis: Callable,
        constraint: AbstractConstraint,
        grid: Sequence[int],
        experts: Sequence[int],
        points: int,
        solver: str = "levenberg_marquardt",
        rtol: float = 1e-4,
        atol: float = 1e-4,
        max_steps: int = 100,
        c0: float = 1.0,
        mesh: Any = None,
        gauss_newton_adjoint: bool = False,
        linear_solve: str = "normal",
    ):
        owner = type(self).__name__
        self.basis = basis
        if not isinstance(constraint, AbstractConstraint):
            raise TypeError(
                f"{owner}: constraint must be an AbstractConstraint, got "
                f"{type(constraint).__name__}."
            )
        self.constraint = constraint
        self.grid = integers("grid", grid, owner=owner)
        self.experts = integers("experts", experts, owner=owner)
        if len(self.experts) != len(self.grid):
            raise ValueError(
                f"{owner}: experts={self.experts} needs one count per grid axis "
                f"of {self.grid}."
            )
        bad = [(n, k) for n, k in zip(self.grid, self.experts, strict=True) if n % k]
        if bad:
            raise ValueError(
                f"{owner}: expert counts must divide the grid; {self.experts} does "
                f"not divide {self.grid} (axis of {bad[0][0]} points in {bad[0][1]} "
                "blocks). Choose counts that divide every axis."
            )
        block = self.block_size
        self.points = integer("points", points, minimum=1, owner=owner)
        if self.points > block:
            raise ValueError(
                f"{owner}: points={self.points} per expert exceed the {block} grid "
                f"points of an expert's block (grid {self.grid}, experts "
                f"{self.experts}); sample fewer points."
            )
        self.solver = choice("solver", solver, CONSTRAINT_SOLVERS, owner=owner)
        self.rtol, self.atol, self.c0 = float(rtol), float(atol), float(c0)
        self.max_steps = integer("max_steps", max_steps, minimum=1, owner=owner)
        self.gauss_newton_adjoint = boolean(
            "gauss_newton_adjoint", gauss_newton_adjoint, owner=owner
        )
        self.linear_solve = choice(
            "linear_solve", linear_solve, CONSTRAINT_LINEAR_SOLVES, owner=owner
        )
        n_experts = self.n_experts
        if mesh is not None:
            if "expert" not in mesh.axis_names:
                raise ValueError(
                    f"{owner}: the mesh needs an axis named 'expert'; got "
                    f"{mesh.axis_names}."
                )
            size = mesh.shape["expert"]
            if n_experts % size:
                raise ValueError(
                    f"{owner}: {n_experts} experts cannot be split over {size} "
                    "devices; the device count must divide the number of experts."
                )
            # the constraint needs Auto axes; `jax.make_mesh` makes Explicit ones
            auto = (jax.sharding.AxisType.Auto,) * len(mesh.axis_names)
            mesh = jax.sharding.Mesh(mesh.devices, mesh.axis_names, axis_types=auto)
        self.mesh = mesh

    @property
    def block_size(self) -> int:
        """The grid points of one expert's block."""
        return math.prod(n // k for n, k in zip(self.grid, self.experts, strict=True))

    @property
    def n_experts(self) -> int:
        """The number $K$ of experts (1 for `HardConstraint`)."""
        return math.prod(self.experts)

    def _sample(self, key: PRNGKeyArray) -> Array:
        """`points` distinct point indices in each expert's block: `(K, m)`."""
        keys = jax.random.split(key, self.n_experts)
        return jax.vmap(
            lambda k: jax.random.choice(
                k, self.block_size, (self.points,), replace=False
            )
        )(keys)

    def _shard(self, x: Array) -> Array:
        """`x` `(K, ...)` with its expert axis split over the mesh's `"expert"`
        devices, by a sharding constraint (jit / GSPMD)."""
        if self.mesh is None:
            return x
        spec = jax.sharding.PartitionSpec("expert", *(None,) * (x.ndim - 1))
        return jax.lax.with_sharding_constraint(
            x, jax.sharding.NamedSharding(self.mesh, spec)
        )

    def __call__(
        self, inputs: PyTree, data: PyTree = None, *, key: PRNGKeyArray
    ) -> HardConstraintOutput:
        """Solve for the coefficients and return $u$ on the grid.

        **Arguments:**

        - `inputs`: what the basis network takes (e.g. coordinates and the
          initial condition); it must return `(*grid, N)`.
        - `data`: passed to the constraint (initial condition, parameters).
        - `key`: draws each expert's sampled points.
        """
        basis = self.basis(inputs)
        if basis.shape[:-1] != self.grid or basis.ndim != len(self.grid) + 1:
            raise ValueError(
                f"{type(self).__name__}: the basis network must give "
                f"(*grid={self.grid}, N); got {basis.shape}."
            )
        n = basis.shape[-1]
        features = self.constraint.features(basis, data)
        if "u" not in features:
            raise ValueError(
                f"{type(self).__name__}: the constraint's features must include "
                "the ansatz itself under the name 'u'."
            )
        shared = self.constraint.shared(features, data)
        blocks = {
            name: (to_blocks(off, self.experts), to_blocks(mat, self.experts))
            for name, (off, mat) in features.items()
        }
        idx = self._sample(key)
        rows = {
            name: (
                self._shard(jnp.take_along_axis(off, idx, axis=1)),
                self._shard(jnp.take_along_axis(mat, idx[..., None], axis=1)),
            )
            for name, (off, mat) in blocks.items()
        }
        owner = self._owners()
        c, info = jax.vmap(lambda r, k: self._solve(r, shared, data, owner == k, n))(
            rows, jnp.arange(self.n_experts)
        )
        c = self._shard(c)
        off, mat = blocks["u"]
        u_blocks = off + jnp.einsum("kbn,kn->kb", mat, c)
        u = from_blocks(u_blocks, self.experts, self.grid)
        return HardConstraintOutput(u, c, info)

    def _owners(self) -> Int[Array, " *grid"]:
        """The expert that owns each grid point."""
        ids = jnp.broadcast_to(
            jnp.arange(self.n_experts)[:, None], (self.n_experts, self.block_size)
        )
        return from_blocks(ids, self.experts, self.grid)

    def _solve(self, rows, shared, data, block, n):
        arrays, static = eqx.partition(self.constraint, eqx.is_array)

        def fn(c, args):
            arrays, rows, shared, data, block = args
            constraint = eqx.combine(arrays, static)
            return constraint.residual(c, rows, shared, data, block)

        args = (arrays, rows, shared, data, block)
        dtype = rows["u"][1].dtype
        c, converged, steps = implicit_least_squares(
            fn,
            _solver(self.solver, self.rtol, self.atol, self.linear_solve),
            jnp.full((n,), self.c0, dtype),
            args,
            max_steps=self.max_steps,
            gauss_newton=self.gauss_newton_adjoint,
        )
        r = fn(jax.lax.stop_gradient(c), jax.lax.stop_gradient(args))
        return c, ConstraintInfo(converged, steps, jnp.sqrt(jnp.mean(r**2)))

    def interface_jump(self, output: HardConstraintOutput, inputs: PyTree, data=None):
        r"""The discontinuity the stitching leaves, per grid axis: the RMS over
        every interface between neighbouring experts of $\Phi(c_k - c_{k'})$ (the
        ansatz's matrix part) on the cells on both sides of it; `nan` for an
        axis with one block. Continuity is not enforced across interfaces (as in
        the paper), so this measures how far the experts disagree there."""
        features = self.constraint.features(self.basis(inputs), data)
        _, mat = features["u"]
        c = output.coefficients.reshape(*self.experts, -1)
        jumps = []
        for axis, k in enumerate(self.experts):
            if k == 1:
                jumps.append(jnp.nan)
                continue
            b = self.grid[axis] // k
            sq = []
            for j in range(k - 1):
                cut = (j + 1) * b
                near = jnp.take(mat, jnp.array([cut - 1, cut]), axis=axis)
                ck, cn = jnp.take(c, j, axis=axis), jnp.take(c, j + 1, axis=axis)
                sq.append(_jump_sq(near, ck - cn, axis, self.experts, self.grid))
            jumps.append(jnp.sqrt(jnp.mean(jnp.stack(sq))))
        return jnp.stack(jumps)


def _jump_sq(near, dc, axis, experts, grid):
    """Mean square of `near @ dc` over the interface cells, each cell using the
    coefficient difference of the experts that own its position along the other
    axes."""
    # near: (..., 2 on `axis`, ..., N); dc: experts without `axis`, N
    d = len(grid)
    idx = []
    for a in range(d):
        if a == axis:
            continue
        idx.append(jnp.arange(grid[a]) // (grid[a] // experts[a]))
    # expand dc to every cell of the interface slabs
    mesh = jnp.meshgrid(*idx, indexing="ij") if idx else []
    dc_cells = dc[tuple(mesh)] if idx else dc  # (*other grid, N)
    dc_cells = jnp.expand_dims(dc_cells, axis)  # broadcast over the 2 sides
    return jnp.mean(jnp.sum(near * dc_cells, axis=-1) ** 2)


class HardConstraint(HardConstraintMoE):
    r"""The single hard-constraint layer (PI-HC): $u = \Phi_\theta c^*$ with
    $c^* = \arg\min_c \tfrac12\lVert r(c; \Phi_\theta)\rVert^2$ over `points`
    points sampled on the whole grid, solved by Levenberg-Marquardt (or
    Gauss-Newton) and differentiated by the implicit function theorem.

    **Arguments:**

    - `basis`: the basis network, `inputs -> (*grid, N)`.
    - `constraint`: an `AbstractConstraint`.
    - `grid`: the grid the basis lives on, e.g. `(n_t, n_x)`.
    - `points`: sampled PDE points (redrawn every call from `key`).
    - `solver`: one of `CONSTRAINT_SOLVERS`.
    - `rtol`, `atol`: the solver's tolerances (1e-4, the official code's).
    - `max_steps`: the solver's step cap (100, the official code's default; the
      paper says 50).
    - `c0`: the initial coefficients (all equal to it; 1.0 as the code for
      diffusion-sorption, 0.0 for Navier-Stokes).
    - `gauss_newton_adjoint`, `linear_solve`: as for `HardConstraintMoE`.

    Call with `(inputs, data, key=key)`; returns a `HardConstraintOutput`. Use
    float64 (`jax.enable_x64`), as the reference does: the normal equations square
    the basis's condition number.
    """

    def __init__(
        self,
        basis: Callable,
        constraint: AbstractConstraint,
        grid: Sequence[int],
        points: int,
        solver: str = "levenberg_marquardt",
        rtol: float = 1e-4,
        atol: float = 1e-4,
        max_steps: int = 100,
        c0: float = 1.0,
        gauss_newton_adjoint: bool = False,
        linear_solve: str = "normal",
    ):
        grid = integers("grid", grid, owner="HardConstraint")
        experts = (1,) * len(grid)
        super().__init__(
            basis,
            constraint,
            grid,
            experts,
            points,
            solver,
            rtol,
            atol,
            max_steps,
            c0,
            gauss_newton_adjoint=gauss_newton_adjoint,
            linear_solve=linear_solve,
        )
