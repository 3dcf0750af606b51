r"""The DeepONet family's shared structure: branch features $B$, trunk features $T$,
and one contraction $G_k(u)(y) = \sum_q B_{k,q}(u)\,T_{k,q}(y) + b_{0,k}$.

Every variant (`DeepONet`, `PODDeepONet`, `MIONet`, `ModifiedDeepONet`) only says
how it makes $B$ and $T$; evaluation, the multiple-output strategies, the
cartesian-product and paired forms and the input checks live here once.
"""

import abc
import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import boolean, choice, integer
from ..nn import MLP, FourierFeatures

STRATEGIES = ("independent", "split_both", "split_branch", "split_trunk")
"""The multiple-output strategies of DeepXDE (spec deeponet.md §2)."""


def output_layout(strategy: str, n_outputs: int) -> tuple[int, int]:
    """The number of branch and trunk groups $(K_b, K_t)$ of a strategy: output $k$
    pairs branch group $\\min(k, K_b - 1)$ with trunk group $\\min(k, K_t - 1)$."""
    if n_outputs == 1:
        return 1, 1
    return {
        "independent": (n_outputs, n_outputs),
        "split_both": (n_outputs, n_outputs),
        "split_branch": (n_outputs, 1),
        "split_trunk": (1, n_outputs),
    }[strategy]


def split_sizes(
    strategy: str, n_outputs: int, latent: int, owner: str
) -> tuple[int, int, int]:
    r"""The branch and trunk output sizes and the inner width $q$ for a latent
    width $p$: `split_both` splits $p$ into $K$ groups of $p/K$ (an error unless
    $K$ divides $p$); `split_branch` and `split_trunk` give the split network $K p$
    outputs; `independent` gives each of the $K$ networks $p$."""
    kb, kt = output_layout(strategy, n_outputs)
    if strategy == "split_both" and n_outputs > 1:
        if latent % n_outputs:
            raise ValueError(
                f"{owner}: strategy='split_both' splits the latent width {latent} "
                f"into {n_outputs} groups, but {n_outputs} does not divide {latent}. "
                f"Fix: a latent width that is a multiple of {n_outputs}, e.g. "
                f"{n_outputs * max(1, latent // n_outputs)}."
            )
        q = latent // n_outputs
        return latent, latent, q
    return kb * latent, kt * latent, latent


def contract(
    b: Float[Array, "*points kb q"], t: Float[Array, "points kt q"]
) -> Float[Array, "points k"]:
    r"""$G_{p,k} = \sum_q B_{(p),\,k_b(k),\,q}\,T_{p,\,k_t(k),\,q}$ for branch
    features `(Kb, q)` (or `(P, Kb, q)` when they depend on the point) and trunk
    features `(P, Kt, q)`; a group count of 1 is shared by every output."""
    if b.ndim == 3:
        return jnp.sum(b * t, axis=-1)
    kb, kt = b.shape[0], t.shape[1]
    if kb == 1:
        # The branch features on the left: under the vmap of `cartesian` their batch
        # axis then leads the product, `(N, P K)`, so neither the forward nor the
        # backward pass transposes an `(N, P)` array (at 512 functions x 1000 points
        # the other order cost a third of the forward and backward pass on a CPU).
        p, _, q = t.shape
        return (b[0] @ t.reshape(p * kt, q).T).reshape(p, kt)
    if kt == 1:
        return t[:, 0, :] @ b.T
    return jnp.einsum("kq,pkq->pk", b, t)


class Chain(eqx.Module):
    """Modules applied in turn, $f_n \\circ \\dots \\circ f_1$ (a trunk with Fourier
    features: `Chain((FourierFeatures(...), MLP(...)))`)."""

    layers: tuple[Callable, ...]

    def __call__(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer(x)
        return x


class Concat(eqx.Module):
    """Several networks on the same input, their outputs concatenated: the `K`
    separate networks of the `independent` strategy."""

    nets: tuple[Callable, ...]

    def __call__(self, x: Array, **kwargs: Any) -> Array:
        return jnp.concatenate([_call(net, x, **kwargs) for net in self.nets])


def _takes_key(net: Callable) -> bool:
    """Whether `net(x, key=...)` is accepted (a network with dropout)."""
    try:
        params = inspect.signature(net).parameters
    except (TypeError, ValueError):
        return False
    return "key" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _call(net: Callable, x: Any, *, key: PRNGKeyArray | None = None) -> Array:
    """Call a branch network, handing it the key (dropout) when there is one and the
    network takes one."""
    return net(x, key=key) if key is not None and _takes_key(net) else net(x)


def branch_mlps(
    owner: str,
    shape: tuple[int, ...],
    size: int,
    copies: int,
    width: int,
    depth: int,
    activation: str | Callable,
    *,
    key: PRNGKeyArray,
) -> tuple[MLP, ...]:
    """`copies` branch MLPs (one, or $K$ for `independent`) of the sensor values
    `shape` $= (m,)$, with `size` outputs in all; an error for an input that is not
    a vector (an image needs a network for it)."""
    if len(shape) > 1:
        raise ValueError(
            f"{owner}: a branch input of shape {shape} needs a branch network for it "
            f"(e.g. sciml.nn.CNN); pass branch=..."
        )
    return tuple(
        MLP(shape[0], size // copies, width, depth, activation, key=k)
        for k in jax.random.split(key, copies)
    )


def trunk_mlps(
    n_coords: int,
    size: int,
    copies: int,
    *,
    width: int,
    depth: int,
    activation: str | Callable,
    final_activation: bool,
    fourier_features: int | None,
    fourier_scale: float,
    fourier_trainable: bool,
    key: PRNGKeyArray,
) -> tuple[Callable, ...]:
    r"""`copies` trunk MLPs with `size` outputs in all, each optionally after
    random Fourier features $\gamma(y) = [\cos 2\pi B y, \sin 2\pi B y]$,
    $B_{ij} \sim \mathcal N(0, s^2)$ (the PI-DeepONet notebooks write
    $[\sin yB', \cos yB']$ with $B' = 2\pi B$: the same features up to their
    order and the scale's convention)."""
    last = activation if final_activation else None
    nets = []
    for k in jax.random.split(key, copies):
        fkey, mkey = jax.random.split(k)
        if fourier_features is None:
            nets.append(
                MLP(
                    n_coords,
                    size // copies,
                    width,
                    depth,
                    activation,
                    False,
                    last,
                    key=mkey,
                )
            )
            continue
        features = FourierFeatures(
            n_coords, fourier_features, fourier_scale, fourier_trainable, key=fkey
        )
        mlp = MLP(
            features.out_size,
            size // copies,
            width,
            depth,
            activation,
            False,
            last,
            key=mkey,
        )
        nets.append(Chain((features, mlp)))
    return tuple(nets)


def out_size_of(net: Callable, example: Any, **kwargs: Any) -> int:
    """The length of `net`'s output on `example` (traced abstractly); an error if
    the output is not a vector."""
    shape = eqx.filter_eval_shape(lambda n, x: n(x), net, example).shape
    if len(shape) != 1:
        raise ValueError(
            f"A branch or trunk network must map one input to a vector; "
            f"{type(net).__name__} returned shape {shape}. Fix: end it with a "
            f"flatten and a linear layer."
        )
    return shape[0]


class AbstractDeepONet(eqx.Module):
    r"""A DeepONet: an operator $G(u)(y)$ of an input function, sampled at sensors,
    and a query point $y \in \mathbb R^d$, as a sum of products of branch and trunk
    features (spec deeponet.md §1-§3).

    Concrete variants implement `features(u, y)`; everything else is shared:

    - `model(u, y)`: one input `u` (its sensor values, or whatever the branch takes)
        and query points `y` of shape `(P, d)` give `(P, K)`.
    - `model.cartesian(U, Y)`: a batch of inputs `(N, ...)` times one point set
        `(P, d)` give `(N, P, K)`; the trunk is evaluated once for the point set
        (`jax.vmap` leaves it unbatched) and the contraction is one batched matrix
        product, $G = B T^\top + b_0$.
    - `model.paired(U, Y)`: rows of (input, point) pairs, `(N, ...)` and `(N, d)`,
        give `(N, K)` (DeepXDE's "triple" form).
    """

    n_outputs: eqx.AbstractVar[int]
    n_coords: eqx.AbstractVar[int]
    bias: eqx.AbstractVar[Array | None]

    @abc.abstractmethod
    def features(
        self, u: Any, y: Float[Array, "P d"], *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, Array, Array | None]:
        """Branch features `(Kb, q)` or `(P, Kb, q)`, trunk features `(P, Kt, q)`,
        and an offset `(P, K)` added to the output (or None)."""

    @abc.abstractmethod
    def check_input(self, u: Any) -> None:
        """Raise a ValueError naming the expected branch input if `u` is not it."""

    def _check_points(self, y: Any) -> None:
        shape = jnp.shape(y)
        if len(shape) != 2 or shape[1] != self.n_coords:
            raise ValueError(
                f"{type(self).__name__} expected query points of shape (P, "
                f"{self.n_coords}), got {shape}. Fix: one row per point, "
                f"{self.n_coords} coordinate(s) each (a single point is y[None])."
            )

    def __call__(
        self, u: Any, y: Float[Array, "P d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "P K"]:
        """$G(u)(y_p)_k$ for one input `u` at the points `y` `(P, d)`; `key` drives
        dropout in a branch that has it (None: no dropout)."""
        self.check_input(u)
        self._check_points(y)
        b, t, offset = self.features(u, y, key=key)
        out = contract(b, t)
        if self.bias is not None:
            out = out + self.bias
        if offset is not None:
            out = out + offset
        return out

    def cartesian(
        self, u: Any, y: Float[Array, "P d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "N P K"]:
        """The cartesian product: every input of the batch `u` (leading axis $N$) at
        every point of `y` `(P, d)`."""
        n = _batch_size(u)
        keys = None if key is None else jax.random.split(key, n)
        return jax.vmap(lambda ui, ki: self(ui, y, key=ki), in_axes=(0, 0))(u, keys)

    def paired(
        self, u: Any, y: Float[Array, "N d"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "N K"]:
        """Paired rows: input `u[i]` at point `y[i]` (DeepXDE's triple form)."""
        n = _batch_size(u)
        if jnp.ndim(y) != 2 or jnp.shape(y)[0] != n:
            raise ValueError(
                f"paired() needs one point per input: {n} inputs, points of shape "
                f"{jnp.shape(y)}. Fix: points (N, d), or cartesian() for one point set "
                f"shared by all inputs."
            )
        keys = None if key is None else jax.random.split(key, n)
        return jax.vmap(lambda ui, yi, ki: self(ui, yi[None], key=ki)[0])(u, y, keys)


def _batch_size(u: Any) -> int:
    sizes = {leaf.shape[0] for leaf in jax.tree.leaves(u) if jnp.ndim(leaf) > 0}
    if len(sizes) != 1:
        raise ValueError(
            f"Expected a batch of inputs with one leading batch axis, got leading "
            f"sizes {sorted(sizes)}."
        )
    return sizes.pop()


def check_array_input(owner: str, u: Any, shape: tuple[int, ...]) -> None:
    """The branch input must have `shape` (one unbatched sample)."""
    if jnp.shape(u) != shape:
        what = f"{shape[0]} sensor values" if len(shape) == 1 else f"shape {shape}"
        raise ValueError(
            f"{owner} expected one branch input of shape {shape} ({what}), got "
            f"{jnp.shape(u)}. Fix: sample the input function at the sensors the "
            f"model was built with; use cartesian() or paired() for a batch."
        )


class DeepONet(AbstractDeepONet):
    r"""The unstacked DeepONet with bias (Lu et al., Nature Machine Intelligence
    2021): $G_k(u)(y) = \sum_{q} b_{k,q}(\bar u)\,t_{k,q}(y) + b_{0,k}$, with the
    branch $b$ a network of the sensor values $\bar u \in \mathbb R^m$ (or of any
    input: pass `branch`) and the trunk $t$ a network of the query point.

    Multiple outputs (`n_outputs` $K > 1$) follow DeepXDE's strategies (spec §2):
    `independent` ($K$ separate branch and trunk networks, each of width $p$),
    `split_both` (branch and trunk of width $p$, split into $K$ groups of $p/K$),
    `split_branch` (branch $Kp$, one shared trunk $p$), `split_trunk` (one branch
    $p$, trunk $Kp$).

    **Arguments:**

    - `n_sensors`: the branch input: the number of sensors $m$, or the shape of
        one input (e.g. `(2, 100, 100)` for a CNN branch).
    - `n_coords`: the dimension $d$ of a query point.
    - `latent`: the latent width $p$.
    - `width`, `depth`, `activation`: of the branch and trunk MLPs built here.
    - `n_outputs`: $K$.
    - `strategy`: one of `STRATEGIES` (used when $K > 1$).
    - `bias`: the trainable $b_0$ (one per output, zero at start).
    - `trunk_final_activation`: apply the activation to the trunk's last layer as
        DeepXDE does (default True).
    - `fourier_features`, `fourier_scale`, `fourier_trainable`: random Fourier
        features $M$, scale $s$ and whether $B$ is learned, in front of the trunk
        (`None`: none).
    - `branch`, `trunk`: networks to use instead of the MLPs (any module: an MLP,
        a CNN, an FNO followed by a flatten and a linear layer); `branch` maps one
        input to a vector, `trunk` one point `(d,)` to a vector, of the sizes the
        strategy needs (checked). For `independent` with $K > 1$ pass a tuple of
        $K$ networks.
    - `key`: PRNG key for the initialisation.
    """

    branch: Callable
    trunk: Callable
    bias: Array | None
    branch_shape: tuple[int, ...] = eqx.field(static=True)
    n_coords: int = eqx.field(static=True)
    n_outputs: int = eqx.field(static=True)
    strategy: str = eqx.field(static=True)
    groups: tuple[int, int] = eqx.field(static=True)

    def __init__(
        self,
        n_sensors: int | tuple[int, ...],
        n_coords: int,
        latent: int = 100,
        width: int = 100,
        depth: int = 3,
        activation: str | Callable = "tanh",
        *,
        n_outputs: int = 1,
        strategy: str = "independent",
        bias: bool = True,
        trunk_final_activation: bool = True,
        fourier_features: int | None = None,
        fourier_scale: float = 1.0,
        fourier_trainable: bool = False,
        branch: Callable | tuple[Callable, ...] | None = None,
        trunk: Callable | tuple[Callable, ...] | None = None,
        key: PRNGKeyArray,
    ):
        owner = "DeepONet"
        self.branch_shape = as_shape("n_sensors", n_sensors, owner)
        self.n_coords = integer("n_coords", n_coords, minimum=1, owner=owner)
        self.n_outputs = integer("n_outputs", n_outputs, minimum=1, owner=owner)
        self.strategy = choice("strategy", strategy, STRATEGIES, owner=owner)
        latent = integer("latent", latent, minimum=1, owner=owner)
        boolean("bias", bias, owner=owner)
        kb, kt = output_layout(self.strategy, self.n_outputs)
        self.groups = (kb, kt)
        n_b, n_t, q = split_sizes(self.strategy, self.n_outputs, latent, owner)
        independent = self.strategy == "independent" and self.n_outputs > 1
        copies = self.n_outputs if independent else 1
        bkey, tkey = jax.random.split(key)
        if branch is None:
            branch = branch_mlps(
                owner,
                self.branch_shape,
                n_b,
                copies,
                width,
                depth,
                activation,
                key=bkey,
            )
        if trunk is None:
            trunk = trunk_mlps(
                self.n_coords,
                n_t,
                copies,
                width=width,
                depth=depth,
                activation=activation,
                final_activation=boolean(
                    "trunk_final_activation", trunk_final_activation, owner=owner
                ),
                fourier_features=fourier_features,
                fourier_scale=fourier_scale,
                fourier_trainable=fourier_trainable,
                key=tkey,
            )
        self.branch = combined(branch, copies, "branch", owner)
        self.trunk = combined(trunk, copies, "trunk", owner)
        example = jax.ShapeDtypeStruct(self.branch_shape, jnp.result_type(float))
        check_size(
            owner, "branch", out_size_of(self.branch, example), n_b, latent, self
        )
        point = jax.ShapeDtypeStruct((self.n_coords,), jnp.result_type(float))
        check_size(owner, "trunk", out_size_of(self.trunk, point), n_t, latent, self)
        self.bias = jnp.zeros(self.n_outputs) if bias else None

    def check_input(self, u: Any) -> None:
        """Raise a ValueError unless `u` is one branch input of this model."""
        check_array_input(type(self).__name__, u, self.branch_shape)

    def features(self, u, y, *, key=None):
        """Branch and trunk features of `u` at the points `y` (see
        `AbstractDeepONet.features`)."""
        kb, kt = self.groups
        b = _call(self.branch, u, key=key).reshape(kb, -1)
        t = jax.vmap(self.trunk)(y).reshape(y.shape[0], kt, -1)
        return b, t, None


def as_shape(name: str, value: Any, owner: str) -> tuple[int, ...]:
    """A sensor count or an input shape, as a tuple of positive integers."""
    if isinstance(value, tuple | list):
        if not value:
            raise ValueError(f"{owner}: {name} must not be empty.")
        return tuple(integer(name, v, minimum=1, owner=owner) for v in value)
    return (integer(name, value, minimum=1, owner=owner),)


def combined(nets: Any, copies: int, what: str, owner: str) -> Callable:
    """One network, or `copies` networks whose outputs are concatenated."""
    if isinstance(nets, tuple | list):
        if len(nets) != copies:
            raise ValueError(
                f"{owner}: expected {copies} {what} network(s) for this strategy, "
                f"got {len(nets)}."
            )
        return nets[0] if copies == 1 else Concat(tuple(nets))
    if copies > 1:
        raise ValueError(
            f"{owner}: strategy='independent' with {copies} outputs needs {copies} "
            f"{what} networks; pass a tuple of them, or let DeepONet build them."
        )
    return nets


def check_size(owner: str, what: str, got: int, want: int, latent: int, model) -> None:
    if got != want:
        raise ValueError(
            f"{owner}: the {what} network has {got} outputs, but strategy "
            f"{model.strategy!r} with {model.n_outputs} output(s) and latent width "
            f"{latent} needs {want}. Fix: build the {what} with out_size={want}."
        )
