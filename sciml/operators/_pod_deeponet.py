r"""POD-DeepONet: the trunk is the POD basis of the training outputs (Lu et al.,
"A comprehensive and fair comparison of two neural operators", CMAME 393:114778,
2022; spec deeponet.md §3)."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import integer
from ..nn import Constant
from ._deeponet import (
    AbstractDeepONet,
    _call,
    as_shape,
    branch_mlps,
    check_array_input,
    check_size,
    out_size_of,
    trunk_mlps,
)

GRID_RTOL = 1e-6


def pod_basis(
    outputs: Float[ArrayLike, "N P *K"], n_modes: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""The POD of training outputs $S \in \mathbb R^{N \times P}$ (per output
    field when `outputs` has a third axis $K$): the mean $\varphi_0 =
    \mathrm{mean}_i S_i$ and the first `n_modes` right singular vectors of
    $S - \varphi_0 = U \Sigma V^\top$, orthonormal columns ([D]: the sheet leaves
    the scaling [U]). Computed in float64 numpy.

    **Returns:**

    `basis` `(P, K, n_modes)` and `mean` `(P, K)`.
    """
    s = np.asarray(outputs, dtype=np.float64)
    if s.ndim == 2:
        s = s[..., None]
    if s.ndim != 3:
        raise ValueError(
            f"pod_basis expected training outputs (N, P) or (N, P, K), got shape "
            f"{np.shape(outputs)}."
        )
    n, p, k = s.shape
    if not 1 <= n_modes <= min(n, p):
        raise ValueError(
            f"pod_basis: n_modes={n_modes}, but {n} samples of {p} points give at "
            f"most {min(n, p)} modes."
        )
    mean = s.mean(axis=0)
    basis = np.empty((p, k, n_modes))
    for j in range(k):
        _, _, vt = np.linalg.svd(s[:, :, j] - mean[:, j], full_matrices=False)
        basis[:, j, :] = vt[:n_modes].T
    return basis, mean


class PODDeepONet(AbstractDeepONet):
    r"""$G_k(u)(y_j) = \sum_{q=1}^{p} b_{k,q}(\bar u)\,\varphi_{k,q}(y_j) +
    \varphi_{0,k}(y_j)$: the trunk is the fixed POD basis $\varphi$ of the training
    outputs on their grid (see `pod_basis`), optionally followed by `extra`
    learned trunk features $t(y)$ concatenated to the modes (DeepXDE's option), so
    the branch has $K(p + \text{extra})$ outputs.

    The basis, mean and grid are [`sciml.nn.Constant`][]s: no optimizer moves
    them. The model is defined only on the training grid: query points must be
    that grid (shape checked at trace time, values under jit with
    `eqx.error_if`).

    **Arguments:**

    - `outputs`: the training outputs `(N, P)` or `(N, P, K)` on `grid`.
    - `grid`: the `P` points `(P, d)` the outputs live on.
    - `n_modes`: $p$.
    - `n_sensors`: the branch input (a count, or a shape with `branch=`).
    - `width`, `depth`, `activation`: of the MLPs built here.
    - `extra`: learned trunk features per output (0: none).
    - `branch`: a branch network instead of the MLP.
    - `key`: PRNG key for the initialisation.
    """

    branch: Callable
    basis: Constant
    mean: Constant
    grid: Constant
    trunk: Callable | None
    bias: None
    branch_shape: tuple[int, ...] = eqx.field(static=True)
    n_coords: int = eqx.field(static=True)
    n_outputs: int = eqx.field(static=True)
    n_modes: int = eqx.field(static=True)
    extra: int = eqx.field(static=True)

    def __init__(
        self,
        outputs: Float[ArrayLike, "N P *K"],
        grid: Float[ArrayLike, "P d"],
        n_modes: int,
        n_sensors: int | tuple[int, ...],
        width: int = 100,
        depth: int = 3,
        activation: str | Callable = "tanh",
        *,
        extra: int = 0,
        branch: Callable | None = None,
        key: PRNGKeyArray,
    ):
        owner = "PODDeepONet"
        self.n_modes = integer("n_modes", n_modes, minimum=1, owner=owner)
        self.extra = integer("extra", extra, minimum=0, owner=owner)
        self.branch_shape = as_shape("n_sensors", n_sensors, owner)
        grid = np.asarray(grid, dtype=np.float64)
        basis, mean = pod_basis(outputs, self.n_modes)
        if grid.ndim != 2 or grid.shape[0] != basis.shape[0]:
            raise ValueError(
                f"{owner}: the outputs have {basis.shape[0]} points per sample but "
                f"the grid has shape {grid.shape}; expected ({basis.shape[0]}, d)."
            )
        self.n_coords = grid.shape[1]
        self.n_outputs = basis.shape[1]
        dtype = jnp.result_type(float)
        self.basis = Constant(jnp.asarray(basis, dtype))
        self.mean = Constant(jnp.asarray(mean, dtype))
        self.grid = Constant(jnp.asarray(grid, dtype))
        k = self.n_outputs
        n_b = k * (self.n_modes + self.extra)
        bkey, tkey = jax.random.split(key)
        if branch is None:
            (branch,) = branch_mlps(
                owner, self.branch_shape, n_b, 1, width, depth, activation, key=bkey
            )
        self.branch = branch
        example = jax.ShapeDtypeStruct(self.branch_shape, dtype)
        got = out_size_of(self.branch, example)
        if got != n_b:
            raise ValueError(
                f"{owner}: the branch network has {got} outputs; {k} output(s) of "
                f"{self.n_modes} modes (+{self.extra} extra) need {n_b}."
            )
        self.trunk = None
        if self.extra:
            (self.trunk,) = trunk_mlps(
                self.n_coords,
                k * self.extra,
                1,
                width=width,
                depth=depth,
                activation=activation,
                final_activation=True,
                fourier_features=None,
                fourier_scale=1.0,
                fourier_trainable=False,
                key=tkey,
            )
            point = jax.ShapeDtypeStruct((self.n_coords,), dtype)
            check_size(
                owner,
                "trunk",
                out_size_of(self.trunk, point),
                k * self.extra,
                self.extra,
                self,
            )
        self.bias = None

    @property
    def strategy(self) -> str:
        """Each output has its own basis and branch group."""
        return "independent"

    def check_input(self, u: Any) -> None:
        """Raise a ValueError unless `u` is one branch input of this model."""
        check_array_input(type(self).__name__, u, self.branch_shape)

    def _off_grid(self, y: Array) -> Array:
        """Whether the points `y` are not the training grid (a traced bool)."""
        grid = self.grid.value
        if y.shape != grid.shape:
            raise ValueError(
                f"PODDeepONet is defined on its training grid of {grid.shape[0]} "
                f"points; got query points of shape {y.shape}. Fix: evaluate on the "
                f"grid the POD basis was built on (a basis/grid mismatch)."
            )
        scale = jnp.max(jnp.abs(grid)) + 1.0
        return jnp.max(jnp.abs(y - grid)) > GRID_RTOL * scale

    def features(self, u, y, *, key=None):
        """Branch and trunk features of `u` at the points `y` (see
        `AbstractDeepONet.features`)."""
        k = self.n_outputs
        b = _call(self.branch, u, key=key)
        b = b.reshape(k, -1)
        t = self.basis.value
        if self.trunk is not None:
            learned = jax.vmap(self.trunk)(y).reshape(y.shape[0], k, self.extra)
            t = jnp.concatenate([t, learned], axis=-1)
        # the check rides on the offset, which every output uses
        mean = eqx.error_if(
            self.mean.value,
            self._off_grid(y),
            "PODDeepONet: the query points are not the training grid.",
        )
        return b, t, mean
