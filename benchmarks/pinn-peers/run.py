"""Our MLP PINN against the peers' PINNs: jinns (JAX + Equinox), DeepXDE (PyTorch
backend) and jaxpi (JAX + Flax), on the same problems, points, network, initial
weights, optimiser and loss.

    .peers/pinn-venv/bin/python -m benchmarks.pinn-peers.run --scale quick

(the peers live in a separate environment, see this folder's README.md).

Problems: `Helmholtz2D` (2-D, Laplacian, Dirichlet sides, residual weight 1e-4) and
`KleinGordon` ((2+1)-D, second order in time and space, initial value, initial
velocity and Dirichlet sides) of `sciml.pinns.problems`. For each one, ONE set of
points is drawn with `sciml.pinns.Collocation` (2048 interior points, 128 a face of
each condition, never resampled) and handed to every implementation, and ONE tanh
MLP (4 hidden layers of 64, Glorot-normal weights, the input mapped affinely from
the box to [-1, 1] as `benchmarks/pig`'s MLP baseline) is built by
`sciml.pinns.MLPPINN` and its weights copied into each peer's own network. Adam,
the same constant learning rate, float32.

Each implementation trains with its own step:

- ours: `sciml.training.make_step(sciml.pinns.PINNLoss(problem), optax.adam(lr))`,
  the step `sciml.training.fit` compiles;
- jinns: the PDE written as a `jinns.loss.PDEStatio`/`PDENonStatio` dynamic loss,
  its `LossPDEStatio`/`LossPDENonStatio`, and its own gradient step (the function
  `jinns.solve`'s while loop calls, `jinns.solver._utils.
  _loss_evaluate_and_gradient_step`), jitted;
- DeepXDE: `dde.data.PDE` with the interior points as anchors and `PointSetBC` /
  `PointSetOperatorBC` conditions on our condition points, `dde.nn.FNN`,
  `model.compile("adam")`, and its own `model._train_step` as `model.train`'s loop
  runs it (without the callbacks and the periodic test-loss evaluation);
- jaxpi: a `jaxpi.models.ForwardBVP`/`ForwardIVP` subclass with `u_net`, `r_net`
  and `losses` written as its examples write them, and its own pmapped `step`.

Checks, recorded in `checks`: each implementation's loss at the initial weights on
the same points must agree with ours (float32 rounding), which checks that the PDE,
the conditions and their weights are the same.

Timings (`timings`): the time per iteration, warm (each implementation first runs
the exact step it is timed on), median over rounds in which the implementations
take turns (`rounds` x `steps_per_round` steps each); the ratio is peer / ours
(above 1: we are faster). Then every implementation is reset to the initial
weights and trained again, its test error (relative L2 on the problem's test grid,
as `sciml.pinns.relative_l2`) evaluated every `check_every` steps with the clock
stopped; the target is the error ours reaches after `target_steps` steps, and each
peer gets up to `peer_cap` steps to reach it ('not reached' otherwise). The wall
time to the target counts training steps only.

Results: `benchmarks/pinn-peers/results/<scale>-<device>/<date>-<commit>.json`.
"""

import argparse
import functools
import math
import os
import statistics
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from benchmarks._cpu import tune_cpu  # noqa: E402
from benchmarks._results import write_results  # noqa: E402
from sciml import pinns, training  # noqa: E402
from sciml.pinns import problems  # noqa: E402

SCALES = {
    "quick": dict(
        n_interior=2048,
        n_condition=128,
        lr=1e-2,  # the PIG recipes' rate, held constant
        rounds=5,
        steps_per_round=20,
        target_steps=500,
        check_every=50,
        peer_cap=750,
        peer_budget_s=240.0,
    ),
}
PROBLEMS = ("helmholtz", "klein_gordon")
PEERS = ("jinns", "deepxde", "jaxpi")
MEANINGFUL = 0.9  # a target above this is no target: the untrained net is near 1
WIDTH, DEPTH, SEED = 64, 4, 0


# -- the problems: the same equations, written once for each framework ----------


def make_problem(name: str):
    if name == "helmholtz":
        return problems.Helmholtz2D()
    return problems.KleinGordon()


def _input_map(problem):
    """(lo, factor): x -> (x - lo) * factor - 1 maps the box to [-1, 1]."""
    lo = np.asarray(problem.domain.lower, np.float32)
    hi = np.asarray(problem.domain.upper, np.float32)
    return lo, (2.0 / (hi - lo)).astype(np.float32)


def _helmholtz_q(p, x, y, sin):
    """The Helmholtz source, from the problem's constants (any array library)."""
    c = p.k**2 - (p.a1 * math.pi) ** 2 - (p.a2 * math.pi) ** 2
    return c * sin(p.a1 * math.pi * x) * sin(p.a2 * math.pi * y)


def _kg_exact(t, x, y, cos, sin):
    return (x + y) * cos(2.0 * t) + x * y * sin(2.0 * t)


def our_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (W (out, in), b) of each layer of our MLPPINN."""
    return [(np.asarray(la.weight), np.asarray(la.bias)) for la in model.mlp.layers]


def _points(batch) -> dict[str, np.ndarray]:
    return {
        "interior": np.asarray(batch["interior"]),
        "conditions": [np.asarray(c) for c in batch["conditions"]],
    }


def _block(tree):
    jax.block_until_ready(tree)


# -- ours --------------------------------------------------------------------------


class Ours:
    name = "sciml"

    def __init__(self, problem, batch, model, lr):
        self.problem = problem
        self.loss = pinns.PINNLoss(problem)
        self.optimizer = optax.adam(lr)
        self.step = training.make_step(self.loss, self.optimizer)
        self.batch = batch
        self.model0 = model
        self.reset()

    def reset(self):
        self.state = training.init_train_state(
            self.model0, self.optimizer, key=jax.random.key(0)
        )

    def init_loss(self) -> float:
        return float(eqx.filter_jit(self.loss)(self.model0, self.batch)[0])

    def run(self, n: int) -> float:
        for _ in range(n):
            self.state, loss, _ = self.step(self.batch, self.state)
        return float(loss)

    def error(self, reference) -> float:
        return pinns.relative_l2(self.state.model, self.problem, reference)


def _rel_l2(pred: np.ndarray, reference) -> float:
    values = reference[1]
    pred = np.asarray(pred, np.float64).reshape(np.shape(values))
    return float(np.linalg.norm(pred - values) / np.linalg.norm(values))


def _predict_chunks(fn, points, chunk=65536) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(fn(jnp.asarray(points[i : i + chunk], jnp.float32)))
            for i in range(0, len(points), chunk)
        ]
    )


# -- jinns -------------------------------------------------------------------------


class Jinns:
    name = "jinns"

    def __init__(self, name, problem, points, weights, lr):
        import jinns
        from jinns.solver._utils import _loss_evaluate_and_gradient_step

        self.problem = problem
        lo, factor = _input_map(problem)
        d = problem.domain.ndim
        sizes = [d] + [WIDTH] * DEPTH + [1]
        eqx_list = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            eqx_list += [(eqx.nn.Linear, a, b)] + [(jax.nn.tanh,)] * (i < DEPTH)
        net = jinns.nn.MLP(key=jax.random.key(1), eqx_list=tuple(eqx_list))
        linears = lambda m: [la for la in m.layers if isinstance(la, eqx.nn.Linear)]
        net = eqx.tree_at(
            lambda m: [la.weight for la in linears(m)] + [la.bias for la in linears(m)],
            net,
            [jnp.asarray(w) for w, _ in weights] + [jnp.asarray(b) for _, b in weights],
        )
        lo_j, factor_j = jnp.asarray(lo), jnp.asarray(factor)

        def input_transform(x, params):
            return (x - lo_j) * factor_j - 1.0

        statio = name == "helmholtz"
        eq_type = "PDEStatio" if statio else "PDENonStatio"
        u, nn_params = jinns.nn.PINN_MLP.create(
            eq_type=eq_type, eqx_network=net, input_transform=input_transform
        )
        params = jinns.parameters.Params(nn_params=nn_params, eq_params={})
        interior, conds = points["interior"], points["conditions"]
        if statio:
            p = problem

            class Helmholtz(jinns.loss.PDEStatio):
                def equation(self, x, u, params):
                    lap = jinns.loss.laplacian_rev(x, u, params, method="loop")
                    q = _helmholtz_q(p, x[0], x[1], jnp.sin)
                    return lap + p.k**2 * u(x, params) - q

            # jinns sums the four sides' mean squares; ours is their mean: 1/4
            loss = jinns.loss.LossPDEStatio(
                u=u,
                dynamic_loss=Helmholtz(),
                boundary_condition=jinns.loss.Dirichlet(),
                loss_weights=jinns.loss.LossWeightsPDEStatio(
                    dyn_loss=p.residual_weight, boundary_loss=0.25
                ),
                params=params,
            )
            border = conds[0].reshape(4, -1, d).transpose(1, 2, 0)
            batch = jinns.data.PDEStatioBatch(
                domain_batch=jnp.asarray(interior), border_batch=jnp.asarray(border)
            )
        else:
            iv, ivel, sides = conds

            class KleinGordon(jinns.loss.PDENonStatio):
                def equation(self, t_x, u, params):
                    def u_t(z):
                        return jax.grad(lambda w: u(w, params)[0])(z)[0]

                    u_tt = jax.grad(u_t)(t_x)[0]
                    lap = jinns.loss.laplacian_rev(t_x, u, params, method="loop")
                    exact = _kg_exact(t_x[0], t_x[1], t_x[2], jnp.cos, jnp.sin)
                    value = u(t_x, params)
                    return u_tt - lap + value**2 - (exact**2 - 4.0 * exact)

            class SidesAndVelocity(jinns.loss.BoundaryConditionAbstract):
                """Facets 0-3: u = exact on the sides x = -1, 1, y = -1, 1 (the
                residual halved: jinns sums the facets' mean squares, ours
                averages the sides); facet 4: u_t(0, x, y) = 2xy, which jinns
                has no built-in condition for."""

                def equation_u(self, inputs, u, params):
                    sides = tuple(0.5 * u(inputs[:, i], params) for i in range(4))
                    ut = jax.grad(lambda z: u(z, params)[0])(inputs[:, 4])[0:1]
                    return (*sides, ut)

                def equation_f(self, inputs, params, gridify=False):
                    sides = tuple(
                        0.5 * _kg_exact(*inputs[:, i], jnp.cos, jnp.sin).reshape(1)
                        for i in range(4)
                    )
                    velocity = (2.0 * inputs[1, 4] * inputs[2, 4]).reshape(1)
                    return (*sides, velocity)

            loss = jinns.loss.LossPDENonStatio(
                u=u,
                dynamic_loss=KleinGordon(),
                boundary_condition=SidesAndVelocity(),
                initial_condition_fun=lambda x: jnp.atleast_1d(x[0] + x[1]),
                t0=0.0,
                loss_weights=jinns.loss.LossWeightsPDENonStatio(
                    dyn_loss=1.0, boundary_loss=1.0, initial_condition=1.0
                ),
                params=params,
            )
            border = np.concatenate([sides.reshape(4, -1, 3), ivel[None]], axis=0)
            batch = jinns.data.PDENonStatioBatch(
                domain_batch=jnp.asarray(interior),
                border_batch=jnp.asarray(border.transpose(1, 2, 0)),
                initial_batch=jnp.asarray(iv[:, 1:]),
            )
        self.u, self.loss, self.batch, self.params0 = u, loss, batch, params
        self.optimizer = optax.adam(lr)

        @jax.jit
        def step(i, params, last, opt_state):
            value, params, last, opt_state, _, _ = _loss_evaluate_and_gradient_step(
                i=i,
                batch=batch,
                loss=loss,
                params=params,
                last_non_nan_params=last,
                state=opt_state,
                optimizer=self.optimizer,
                loss_container=None,
                key=None,
            )
            return value, params, last, opt_state

        self.step_fn = step
        self.predict = jax.jit(jax.vmap(lambda x, p: u(x, p)[0], in_axes=(0, None)))
        self.reset()

    def reset(self):
        self.params = self.params0
        self.last = self.params0
        self.opt_state = self.optimizer.init(self.params0)
        self.i = 0

    def init_loss(self) -> float:
        loss = self.loss
        return float(
            jax.jit(lambda p, b: loss.evaluate(p, b)[0])(self.params0, self.batch)
        )

    def run(self, n: int) -> float:
        for _ in range(n):
            value, self.params, self.last, self.opt_state = self.step_fn(
                jnp.asarray(self.i), self.params, self.last, self.opt_state
            )
            self.i += 1
        return float(value)

    def error(self, reference) -> float:
        pred = _predict_chunks(lambda x: self.predict(x, self.params), reference[0])
        return _rel_l2(pred, reference)


# -- DeepXDE (PyTorch) -------------------------------------------------------------


class DeepXDE:
    name = "deepxde"

    def __init__(self, name, problem, points, weights, lr):
        import deepxde as dde
        import torch

        self.torch, self.dde = torch, dde
        self.problem = problem
        d = problem.domain.ndim
        lo, factor = _input_map(problem)
        lo_t, factor_t = torch.as_tensor(lo), torch.as_tensor(factor)
        interior, conds = points["interior"], points["conditions"]
        geom = dde.geometry.Hypercube(problem.domain.lower, problem.domain.upper)
        if name == "helmholtz":
            p = problem

            def pde(x, y):
                u_xx = dde.grad.hessian(y, x, i=0, j=0)
                u_yy = dde.grad.hessian(y, x, i=1, j=1)
                q = _helmholtz_q(p, x[:, 0:1], x[:, 1:2], torch.sin)
                return u_xx + u_yy + p.k**2 * y - q

            bcs = [dde.icbc.PointSetBC(conds[0], np.zeros((len(conds[0]), 1)))]
            loss_weights = [p.residual_weight, 1.0]
        else:

            def pde(x, y):  # columns (t, x, y), as our points
                u_tt = dde.grad.hessian(y, x, i=0, j=0)
                u_xx = dde.grad.hessian(y, x, i=1, j=1)
                u_yy = dde.grad.hessian(y, x, i=2, j=2)
                t, xx, yy = x[:, 0:1], x[:, 1:2], x[:, 2:3]
                exact = _kg_exact(t, xx, yy, torch.cos, torch.sin)
                return u_tt - (u_xx + u_yy) + y**2 - (exact**2 - 4.0 * exact)

            iv, ivel, sides = conds
            bcs = [
                dde.icbc.PointSetBC(iv, (iv[:, 1:2] + iv[:, 2:3])),
                dde.icbc.PointSetOperatorBC(
                    ivel,
                    2.0 * ivel[:, 1:2] * ivel[:, 2:3],
                    lambda x, y, X: dde.grad.jacobian(y, x, i=0, j=0),
                ),
                dde.icbc.PointSetBC(
                    sides,
                    _kg_exact(
                        sides[:, 0:1], sides[:, 1:2], sides[:, 2:3], np.cos, np.sin
                    ),
                ),
            ]
            loss_weights = [1.0, 1.0, 1.0, 1.0]
        data = dde.data.PDE(
            geom, pde, bcs, num_domain=0, num_boundary=0, anchors=interior
        )
        net = dde.nn.FNN([d] + [WIDTH] * DEPTH + [1], "tanh", "Glorot normal")
        net.apply_feature_transform(lambda x: (x - lo_t) * factor_t - 1.0)
        self.weights = weights
        self.model = dde.Model(data, net)
        self.lr, self.loss_weights = lr, loss_weights
        self.reset()
        self.threads = self._tune_threads()
        self.reset()

    def _tune_threads(self) -> dict:
        """The faster of 1 and 2 intra-op threads here, from 3 warm steps each:
        on this shared 2-core CPU two threads were once 20x slower than one."""
        torch, seen = self.torch, {}
        for n in (1, 2):
            torch.set_num_threads(n)
            self.run(1)
            t0 = time.perf_counter()
            self.run(3)
            seen[n] = (time.perf_counter() - t0) / 3
        best = min(seen, key=seen.get)
        torch.set_num_threads(best)
        return {"chosen": best, "probe_s_per_iteration": seen}

    def reset(self):
        torch = self.torch
        with torch.no_grad():
            for layer, (w, b) in zip(self.model.net.linears, self.weights, strict=True):
                layer.weight.copy_(torch.as_tensor(np.array(w)))
                layer.bias.copy_(torch.as_tensor(np.array(b)))
        self.model.compile("adam", lr=self.lr, loss_weights=self.loss_weights)
        self.model.train_state.set_data_train(*self.model.data.train_next_batch(None))

    def init_loss(self) -> float:
        s = self.model.train_state
        _, losses = self.model.outputs_losses_train(
            s.X_train, s.y_train, s.train_aux_vars
        )
        return float(losses.detach().sum())

    def run(self, n: int) -> float:
        m = self.model
        for _ in range(n):
            m.train_state.set_data_train(*m.data.train_next_batch(m.batch_size))
            m._train_step(
                m.train_state.X_train,
                m.train_state.y_train,
                m.train_state.train_aux_vars,
            )
        return float("nan")

    def error(self, reference) -> float:
        return _rel_l2(self.model.predict(reference[0].astype(np.float32)), reference)


# -- jaxpi ---------------------------------------------------------------------------


def _jaxpi_config(problem, lr, init_weights):
    import ml_collections

    config = ml_collections.ConfigDict()
    config.arch = ml_collections.ConfigDict(
        dict(
            arch_name="Mlp",
            num_layers=DEPTH,
            hidden_dim=WIDTH,
            out_dim=1,
            activation="tanh",
            periodicity=None,
            fourier_emb=None,
            reparam=None,
        )
    )
    config.optim = ml_collections.ConfigDict(
        dict(
            optimizer="Adam",
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            learning_rate=lr,
            decay_rate=1.0,  # a constant rate, as the others
            decay_steps=1000,
            grad_accum_steps=0,
        )
    )
    config.weighting = ml_collections.ConfigDict(
        dict(
            scheme=None,
            init_weights=ml_collections.ConfigDict(init_weights),
            momentum=0.9,
            use_causal=False,
            causal_tol=1.0,
            num_chunks=32,
        )
    )
    config.input_dim = problem.domain.ndim
    config.seed = SEED
    return config


class Jaxpi:
    name = "jaxpi"

    def __init__(self, name, problem, points, weights, lr):
        if not hasattr(jax, "tree_map"):  # jaxpi imports jax.tree_map (gone in 0.6)
            jax.tree_map = jax.tree.map
        from flax import jax_utils
        from jaxpi.models import ForwardBVP, ForwardIVP

        self.problem = problem
        lo, factor = (
            jnp.asarray(_input_map(problem)[0]),
            jnp.asarray(_input_map(problem)[1]),
        )
        interior, conds = points["interior"], points["conditions"]
        if name == "helmholtz":
            p = problem
            bc = jnp.asarray(conds[0])

            class Helmholtz(ForwardBVP):
                def u_net(self, params, x, y):
                    z = (jnp.stack([x, y]) - lo) * factor - 1.0
                    return self.state.apply_fn(params, z)[0]

                def r_net(self, params, x, y):
                    u = self.u_net(params, x, y)
                    u_xx = jax.grad(jax.grad(self.u_net, argnums=1), argnums=1)(
                        params, x, y
                    )
                    u_yy = jax.grad(jax.grad(self.u_net, argnums=2), argnums=2)(
                        params, x, y
                    )
                    return u_xx + u_yy + p.k**2 * u - _helmholtz_q(p, x, y, jnp.sin)

                @functools.partial(jax.jit, static_argnums=(0,))
                def losses(self, params, batch):
                    u_bc = jax.vmap(self.u_net, (None, 0, 0))(
                        params, bc[:, 0], bc[:, 1]
                    )
                    r = jax.vmap(self.r_net, (None, 0, 0))(
                        params, batch[:, 0], batch[:, 1]
                    )
                    return {"bcs": jnp.mean(u_bc**2), "res": jnp.mean(r**2)}

                def u_batch(self, params, x):
                    return jax.vmap(self.u_net, (None, 0, 0))(params, x[:, 0], x[:, 1])

            config = _jaxpi_config(problem, lr, {"bcs": 1.0, "res": p.residual_weight})
            model = Helmholtz(config)
        else:
            iv, ivel, sides = (jnp.asarray(c) for c in conds)

            class KleinGordon(ForwardIVP):
                def u_net(self, params, t, x, y):
                    z = (jnp.stack([t, x, y]) - lo) * factor - 1.0
                    return self.state.apply_fn(params, z)[0]

                def r_net(self, params, t, x, y):
                    u = self.u_net(params, t, x, y)
                    u_tt = jax.grad(jax.grad(self.u_net, argnums=1), argnums=1)(
                        params, t, x, y
                    )
                    u_xx = jax.grad(jax.grad(self.u_net, argnums=2), argnums=2)(
                        params, t, x, y
                    )
                    u_yy = jax.grad(jax.grad(self.u_net, argnums=3), argnums=3)(
                        params, t, x, y
                    )
                    exact = _kg_exact(t, x, y, jnp.cos, jnp.sin)
                    return u_tt - (u_xx + u_yy) + u**2 - (exact**2 - 4.0 * exact)

                @functools.partial(jax.jit, static_argnums=(0,))
                def losses(self, params, batch):
                    un = jax.vmap(self.u_net, (None, 0, 0, 0))
                    u0 = un(params, iv[:, 0], iv[:, 1], iv[:, 2])
                    ut = jax.vmap(jax.grad(self.u_net, argnums=1), (None, 0, 0, 0))(
                        params, ivel[:, 0], ivel[:, 1], ivel[:, 2]
                    )
                    ub = un(params, sides[:, 0], sides[:, 1], sides[:, 2])
                    g = _kg_exact(
                        sides[:, 0], sides[:, 1], sides[:, 2], jnp.cos, jnp.sin
                    )
                    r = jax.vmap(self.r_net, (None, 0, 0, 0))(
                        params, batch[:, 0], batch[:, 1], batch[:, 2]
                    )
                    return {
                        "ics": jnp.mean((u0 - (iv[:, 1] + iv[:, 2])) ** 2),
                        "ics_t": jnp.mean((ut - 2.0 * ivel[:, 1] * ivel[:, 2]) ** 2),
                        "bcs": jnp.mean((ub - g) ** 2),
                        "res": jnp.mean(r**2),
                    }

                def u_batch(self, params, x):
                    return jax.vmap(self.u_net, (None, 0, 0, 0))(
                        params, x[:, 0], x[:, 1], x[:, 2]
                    )

            config = _jaxpi_config(
                problem, lr, {"ics": 1.0, "ics_t": 1.0, "bcs": 1.0, "res": 1.0}
            )
            model = KleinGordon(config)
        # our weights in Flax's layout: Dense_i kernel (in, out)
        params = {
            "params": {
                f"Dense_{i}": {"kernel": jnp.asarray(w.T), "bias": jnp.asarray(b)}
                for i, (w, b) in enumerate(weights)
            }
        }
        single = jax_utils.unreplicate(model.state)
        expected = jax.tree.map(jnp.shape, single.params)
        if jax.tree.map(jnp.shape, params) != expected:
            raise ValueError(f"jaxpi's Mlp has parameters {expected}, not ours.")
        self.state0 = jax_utils.replicate(
            single.replace(params=params, opt_state=single.tx.init(params))
        )
        self.model, self.params0 = model, params
        self.batch = jnp.asarray(interior)[None]  # a leading device axis for pmap
        self.predict = jax.jit(model.u_batch)
        self.reset()

    def reset(self):
        self.state = self.state0

    def init_loss(self) -> float:
        weights = jax.tree.map(lambda x: x[0], self.state0.weights)
        return float(self.model.loss(self.params0, weights, self.batch[0]))

    def run(self, n: int) -> float:
        for _ in range(n):
            self.state = self.model.step(self.state, self.batch)
        _block(self.state.params)
        return float("nan")

    def error(self, reference) -> float:
        params = jax.tree.map(lambda x: x[0], self.state.params)
        pred = _predict_chunks(lambda x: self.predict(params, x), reference[0])
        return _rel_l2(pred, reference)


BUILDERS = {"jinns": Jinns, "deepxde": DeepXDE, "jaxpi": Jaxpi}


# -- the measurements -----------------------------------------------------------------


def train_to(impl, reference, steps: int, every: int, target=None, budget_s=None):
    """Train from the initial weights up to `steps` steps (or `budget_s` seconds of
    training), the test error every `every` steps with the clock stopped; stop at
    the first check at or below `target`. Returns the trace and the first check
    that reached the target (None if none did)."""
    impl.reset()
    trace, train_s, done = [], 0.0, 0
    while done < steps and (budget_s is None or train_s < budget_s):
        n = min(every, steps - done)
        t0 = time.perf_counter()
        impl.run(n)
        train_s += time.perf_counter() - t0
        done += n
        trace.append({"step": done, "train_s": train_s, "error": impl.error(reference)})
        if target is not None and trace[-1]["error"] <= target:
            return trace, trace[-1]
    return trace, None


def bench_problem(name: str, cfg: dict, peers: tuple[str, ...], notes: list[str]):
    problem = make_problem(name)
    reference = problem.reference()
    collocation = pinns.Collocation(
        problem,
        cfg["n_interior"],
        cfg["n_condition"],
        resample_every=None,
        key=jax.random.key(SEED + 1),
    )
    batch = collocation(0)
    points = _points(batch)
    box = problem.domain
    model = pinns.MLPPINN(
        box.ndim, 1, width=WIDTH, depth=DEPTH, lower=box.lower, upper=box.upper,
        scale_to=(-1.0, 1.0), key=jax.random.key(SEED),
    )  # fmt: skip
    weights = our_weights(model)
    impls = {"sciml": Ours(problem, batch, model, cfg["lr"])}
    for peer in peers:
        try:
            impls[peer] = BUILDERS[peer](name, problem, points, weights, cfg["lr"])
        except Exception as err:  # recorded, never hidden
            notes.append(f"{name}: {peer} could not be set up: {err!r}")
            print(notes[-1], flush=True)
    checks = {}
    ours_loss = impls["sciml"].init_loss()
    for n, impl in impls.items():
        value = impl.init_loss()
        checks[n] = {
            "loss_at_init": value,
            "relative_difference_to_ours": abs(value - ours_loss) / abs(ours_loss),
        }
        if hasattr(impl, "threads"):
            checks[n]["torch_threads"] = impl.threads
        print(f"{name:13s} {n:8s} loss at init {value:.7g}", flush=True)
    per_it = time_rounds(impls, cfg["rounds"], cfg["steps_per_round"])
    for n, v in per_it.items():
        print(f"{name:13s} {n:8s} {statistics.median(v) * 1e3:.2f} ms/it", flush=True)
    # wall time to the error ours reaches after target_steps
    ours_trace, _ = train_to(
        impls["sciml"], reference, cfg["target_steps"], cfg["check_every"]
    )
    target = ours_trace[-1]["error"]
    traces = {"sciml": ours_trace}
    reached = {"sciml": next(r for r in ours_trace if r["error"] <= target)}
    print(f"{name:13s} target error {target:.4g}", flush=True)
    if target > MEANINGFUL:
        notes.append(
            f"{name}: no wall time to an error: after {cfg['target_steps']} steps "
            f"our MLP's test error is still {target:.3g} (above {MEANINGFUL}, an "
            f"untrained net scores about 1), so no target is meaningful; the peers "
            f"start from the same weights with the same loss and optimiser."
        )
        print(notes[-1], flush=True)
        return problem, impls, checks, per_it, None, traces, reached
    for n, impl in impls.items():
        if n == "sciml":
            continue
        traces[n], reached[n] = train_to(
            impl,
            reference,
            cfg["peer_cap"],
            cfg["check_every"],
            target,
            cfg["peer_budget_s"],
        )
        got, last = reached[n], traces[n][-1]
        print(
            f"{name:13s} {n:8s} "
            + (
                f"reached at step {got['step']} in {got['train_s']:.1f} s"
                if got
                else f"not reached ({last['step']} steps, {last['train_s']:.0f} s, "
                f"error {last['error']:.3g})"
            ),
            flush=True,
        )
    return problem, impls, checks, per_it, target, traces, reached


def time_rounds(impls: dict, rounds: int, steps: int) -> dict[str, list[float]]:
    """Seconds per iteration of each implementation in each round; the order of
    the implementations rotates from round to round."""
    names = list(impls)
    for impl in impls.values():  # warm up: compile the exact step that is timed
        impl.run(2)
    out = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n in order:
            t0 = time.perf_counter()
            impls[n].run(steps)
            out[n].append((time.perf_counter() - t0) / steps)
    return out


LABELS = {"helmholtz": "Helmholtz 2-D", "klein_gordon": "Klein-Gordon (2+1)-D"}
PEER_LABELS = {
    "jinns": "jinns (JAX + Equinox)",
    "deepxde": "DeepXDE (PyTorch)",
    "jaxpi": "jaxpi (JAX + Flax)",
}


def _rows_and_timings(name, cfg, impls, per_it, target, traces, reached):
    rows, timings = [], []
    ours_s = statistics.median(per_it["sciml"])
    label = LABELS[name]
    for n in impls:
        trace = traces.get(n)
        row = dict(
            task=name,
            param={"points": cfg["n_interior"], "per_face": cfg["n_condition"]},
            split="test grid",
            model=n,
            variant="MLP 4x64 tanh, Adam, same initial weights",
            paper=None,
            seeds=1,
            std=None,
            per_iteration_s=statistics.median(per_it[n]),
            per_iteration_rounds_s=per_it[n],
            trace=trace,
        )
        if n == "sciml":
            rows.append(
                {**row, "metric": f"relative L2 at step {cfg['target_steps']}",
                 "value": traces["sciml"][-1]["error"]}
            )  # fmt: skip
        elif trace is not None:
            got = reached[n]
            rows.append(
                {**row, "metric": "steps to the target error",
                 "value": None if got is None else got["step"],
                 "target_error": target, "final_error": trace[-1]["error"],
                 "train_s_to_target": None if got is None else got["train_s"]}
            )  # fmt: skip
        if n == "sciml":
            continue
        peer_s = statistics.median(per_it[n])
        paired = [p / o for p, o in zip(per_it[n], per_it["sciml"], strict=True)]
        timings.append(
            dict(
                what=f"{label}: time per iteration",
                ours_s=ours_s,
                peer=PEER_LABELS[n],
                peer_s=peer_s,
                ratio=peer_s / ours_s,
                round_ratios=paired,
                task=name,
                peer_name=n,
                kind="per_iteration",
            )
        )
        if target is None:
            continue
        mine, got, last = reached["sciml"], reached[n], traces[n][-1]
        timings.append(
            dict(
                what=f"{label}: wall time to rel. L2 {target:.3g}",
                ours_s=mine["train_s"],
                peer=PEER_LABELS[n],
                peer_s=None if got is None else got["train_s"],
                ratio=None if got is None else got["train_s"] / mine["train_s"],
                task=name,
                peer_name=n,
                kind="to_error",
                target_error=target,
                ours_steps=mine["step"],
                peer_steps=None if got is None else got["step"],
                not_reached=None
                if got is not None
                else {k: last[k] for k in ("step", "train_s", "error")},
            )
        )
    return rows, timings


NOTES = [
    "Same points (one sciml Collocation draw, never resampled), same initial "
    "weights (ours copied into each peer's network), same loss weights, Adam with "
    "a constant rate, float32. Time per iteration: median over interleaved rounds "
    "after a warm-up on the same step. Wall time to the target: training steps "
    "only, the error checks excluded.",
    "jinns: the Laplacian by its laplacian_rev(method='loop') (its default "
    "'trace_hessian_x', jax.hessian, took about 2.5x longer per step here); "
    "u_tt by nested jax.grad. It has no initial-velocity condition: for "
    "Klein-Gordon that is a fifth facet of a user-written "
    "BoundaryConditionAbstract (the four side facets' residuals halved, since "
    "jinns sums the facets' mean squares where we average them). Its step is "
    "jinns.solver._utils._loss_evaluate_and_gradient_step (per-term gradients, "
    "as jinns.solve runs it), jitted, on a fixed batch: jinns.solve's data "
    "generator and while loop are not timed.",
    "DeepXDE runs with the faster of 1 and 2 torch threads, chosen at its "
    "warm-up (problems.<name>.checks.deepxde.torch_threads).",
    "DeepXDE evaluates the PDE residual on the condition points too and discards "
    "it (its PDE.losses), so it differentiates n_interior + condition points; "
    "its step is model._train_step as model.train runs it, without callbacks or "
    "test-loss evaluations.",
    "jaxpi's step is pmapped (one CPU device here); its r_net takes nested "
    "jax.grad per axis, as its examples do; jax.tree_map is aliased to "
    "jax.tree.map so that it imports on this jax.",
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--peers", nargs="+", default=list(PEERS))
    parser.add_argument("--rounds", type=int, default=None, help="override (smoke)")
    parser.add_argument("--target-steps", type=int, default=None)
    parser.add_argument("--peer-cap", type=int, default=None)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    cfg = dict(SCALES[args.scale])
    for key in ("rounds", "target_steps", "peer_cap"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    xla_flags = tune_cpu()  # before the first computation; the same for all JAX runs
    start = time.perf_counter()
    rows, timings, notes, details = [], [], [], {}
    for name in args.problems:
        problem, impls, checks, per_it, target, traces, reached = bench_problem(
            name, cfg, tuple(args.peers), notes
        )
        r, t = _rows_and_timings(name, cfg, impls, per_it, target, traces, reached)
        rows += r
        timings += t
        details[name] = {"checks": checks, "target_error": target}
    path = write_results(
        "pinn-peers",
        args.scale,
        rows,
        timings,
        extra={
            "settings": {**cfg, "width": WIDTH, "depth": DEPTH, "seed": SEED},
            "problems": details,
            "xla_flags": xla_flags,
            "wall_s": time.perf_counter() - start,
            "notes": notes + NOTES,
        },
        packages=("jinns", "deepxde", "torch", "jaxpi", "flax", "optax"),
        out_dir=args.out_dir,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
