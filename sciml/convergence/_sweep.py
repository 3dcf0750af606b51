"""The step-size sweep: one compiled, vmapped solve per solver."""

import collections
from collections.abc import Callable, Sequence

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from .. import _checks, _sharding, integrators

TRACES: collections.Counter = collections.Counter()
"""How often the sweep has been traced (= compiled), per solver name."""


def geometric_dts(dt_train: float | int, fine: int = 8, coarse: int = 2) -> np.ndarray:
    r"""The default sweep $\Delta t_j = \Delta t_{train} 2^j$, $j = -J_f \dots J_c$,
    coarse to fine (`specs/convergence.md` §2: $J_f = 8$, $J_c = 2$).

    **Arguments:**

    - `dt_train`: the training step.
    - `fine`, `coarse`: how many halvings below and doublings above it.

    **Returns:** the step sizes, coarsest first.
    """
    dt_train = integrators.check_dt(dt_train, name="dt_train")
    fine = _checks.integer("fine", fine, minimum=0, owner="geometric_dts")
    coarse = _checks.integer("coarse", coarse, minimum=0, owner="geometric_dts")
    return dt_train * 2.0 ** np.arange(coarse, -fine - 1, -1)


def check_dts(dts, t1: float | int) -> np.ndarray:
    """Check a step-size sweep: at least three positive sizes, each dividing `t1`;
    return them sorted coarse to fine."""
    dts = np.asarray(dts, dtype=np.float64).reshape(-1)
    if dts.size < 3:
        raise ValueError(
            f"A convergence test needs at least 3 step sizes to fit an order, got "
            f"{dts.size}. Pass e.g. dts=dt_train * 2.0 ** np.arange(-6, 3)."
        )
    if not (np.all(np.isfinite(dts)) and np.all(dts > 0)):
        raise ValueError(f"Expected positive finite step sizes, got {dts.tolist()}.")
    if not (np.isfinite(t1) and t1 > 0):
        raise ValueError(f"Expected a positive finite horizon t1, got {t1!r}.")
    if np.unique(dts).size != dts.size:
        raise ValueError(f"The step sizes must be distinct, got {dts.tolist()}.")
    n = t1 / dts
    bad = dts[np.abs(n - np.round(n)) > 1e-8 * n]
    if bad.size:
        raise ValueError(
            f"Every step size must divide the horizon t1={t1}; these do not: "
            f"{bad.tolist()}. Choose t1 as a multiple of the coarsest dt and a "
            "geometric sweep dt_train * 2**j."
        )
    return np.sort(dts)[::-1].copy()


def _solve_fixed(field, solver, y0, dt, t1, args):
    """Integrate `field` from 0 to `t1` in round(t1/dt) steps of `dt` (dt traced);
    a non-finite end state comes back as NaN."""
    stepper = integrators.stepper(field, solver, args)
    n = jnp.round(t1 / dt).astype(jnp.int32)
    t0 = jnp.zeros((), dt.dtype)

    def body(k, carry):
        y, state = carry
        return stepper.step(k.astype(dt.dtype) * dt, y, dt, state)

    y, _ = jax.lax.fori_loop(0, n, body, (y0, stepper.init(t0, y0, dt)))
    return jnp.where(jnp.all(jnp.isfinite(y)), y, jnp.nan)


def _sweep_one(field, solver, y0s, dts, t1, args, batch_dts):
    """One field over every step size and initial condition: `(len(dts), n, ...)`."""

    def over_ics(dt):
        return jax.vmap(lambda y0: _solve_fixed(field, solver, y0, dt, t1, args))(y0s)

    if batch_dts:
        return jax.vmap(over_ics)(dts)
    # sequential over dts inside the same compiled call: no masked steps
    return jax.lax.map(over_ics, dts)


def _sweep_fields(fields, solver, y0s, dts, t1, args, batch_dts):
    return jnp.stack(
        [_sweep_one(f, solver, y0s, dts, t1, args, batch_dts) for f in fields]
    )


def _sweep_impl(fields, solver, y0s, dts, t1, args, batch_dts, mesh):
    """Every field over every step and initial condition, the initial
    conditions split over `mesh` (axis 2 of the result)."""
    TRACES[integrators.solver_name(solver)] += 1  # runs once per trace

    def run(fields, y0s, dts, t1, args):
        return _sweep_fields(fields, solver, y0s, dts, t1, args, batch_dts)

    split = (False, True, False, False, False)
    return _sharding.over_batch(run, mesh, split, out_axis=2)(
        fields, y0s, dts, t1, args
    )


def _sweep_many_impl(members, shared, solver, y0s, dts, t1, args, batch_dts, mesh):
    """`members`: one field whose array leaves carry a leading member axis, swept
    under `vmap`; `shared`: fields (e.g. the true one) swept once for all."""
    TRACES[integrators.solver_name(solver)] += 1  # runs once per trace

    def run(members, shared, y0s, dts, t1, args):
        ys = eqx.filter_vmap(
            lambda f: _sweep_one(f, solver, y0s, dts, t1, args, batch_dts)
        )(members)
        if not shared:
            return ys, None
        return ys, _sweep_fields(shared, solver, y0s, dts, t1, args, batch_dts)

    split = (False, False, True, False, False, False)
    return _sharding.over_batch(run, mesh, split, out_axis=2)(
        members, shared, y0s, dts, t1, args
    )


_sweep_jit = eqx.filter_jit(_sweep_impl)
_sweep_many_jit = eqx.filter_jit(_sweep_many_impl)


def sweep(
    fields: Sequence[Callable],
    solver: diffrax.AbstractSolver,
    y0s,
    t1: float | int,
    dts: np.ndarray,
    args=None,
    *,
    batch_dts: bool | None = None,
    mesh: Mesh | None = None,
) -> np.ndarray:
    r"""Integrate every field from every initial condition to `t1` with every step.

    All step sizes and initial conditions (and all `fields`, e.g. a learned field
    and the true one) run in one jit-compiled call; `t1` and the step sizes are
    traced, so a solver compiles once for a given state shape, batch size and
    number of step sizes whatever their values (equinox modules, such as a trained
    `ODENet`'s `rhs`, are traced too, so new weights do not recompile). Each solve
    takes $\mathrm{round}(t_1/\Delta t)$ steps of the solver's own `step` in a
    `lax.fori_loop`. Runs in the dtype of `y0s` (enable x64 for float64).

    **Arguments:**

    - `fields`: vector fields `f(t, y, args)`.
    - `solver`: a diffrax solver.
    - `y0s`: initial states `(n, *state)`.
    - `t1`: the horizon.
    - `dts`: the step sizes.
    - `args`: passed to the fields.
    - `batch_dts`: `vmap` over the step sizes (all in parallel, which suits
      accelerators; the batched loop runs as many steps as the finest size needs for
      every size), or `lax.map` over them (sequential inside the same compiled
      call, no wasted steps; 3x faster warm on a 2-core CPU in the quick
      benchmark). Default (`None`): vmap on an accelerator, `lax.map` on a CPU.
    - `mesh`: the devices the initial conditions are split over (a
      `jax.sharding.Mesh` of this process's devices, each running the whole
      sweep on its share; padded to a multiple of their count). Default all
      local devices. The states do not depend on it.

    **Returns:** a numpy array `(len(fields), len(dts), n, *state)` of the states at
    `t1`, NaN where a solve produced NaN or inf.
    """
    y0s = jnp.asarray(y0s)
    dtype = y0s.dtype
    mesh = _sharding.local_mesh(mesh, owner="sweep")
    out = _sweep_jit(
        tuple(fields),
        solver,
        y0s,
        jnp.asarray(dts, dtype=dtype),
        jnp.asarray(t1, dtype=dtype),
        args,
        jax.default_backend() != "cpu" if batch_dts is None else bool(batch_dts),
        mesh,
    )
    return np.asarray(out)


def sweep_many(
    members,
    solver: diffrax.AbstractSolver,
    y0s,
    t1: float | int,
    dts: np.ndarray,
    args=None,
    *,
    shared: Sequence[Callable] = (),
    batch_dts: bool | None = None,
    mesh: Mesh | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""`sweep` for a stacked ensemble of fields, in one compiled call.

    **Arguments:**

    - `members`: an equinox module (a vector field `f(t, y, args)`) whose array
      leaves all carry a leading member axis, e.g. `eqx.filter_vmap(make)(keys)`;
      it is swept under `vmap` over that axis.
    - `shared`: fields swept once for all members (e.g. the true field).
    - the rest (`mesh` too) as in `sweep`.

    **Returns:** `(ys, shared_ys)`: numpy arrays `(members, len(dts), n, *state)` and
    `(len(shared), len(dts), n, *state)` (None without `shared`).
    """
    y0s = jnp.asarray(y0s)
    dtype = y0s.dtype
    mesh = _sharding.local_mesh(mesh, owner="sweep_many")
    ys, shared_ys = _sweep_many_jit(
        members,
        tuple(shared),
        solver,
        y0s,
        jnp.asarray(dts, dtype=dtype),
        jnp.asarray(t1, dtype=dtype),
        args,
        jax.default_backend() != "cpu" if batch_dts is None else bool(batch_dts),
        mesh,
    )
    return np.asarray(ys), None if shared_ys is None else np.asarray(shared_ys)
