"""`convergence.test_many`: a stacked ensemble judged like `test` per member, with
one compiled sweep per solver."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import convergence
from sciml.convergence import _sweep
from sciml.nn import MLP
from sciml.operators import ODENet

DT_TRAIN = 0.1
T1 = 1.6
DTS = DT_TRAIN * 2.0 ** np.arange(-5, 3)
Y0 = np.array([[1.0, 0.0], [0.3, -0.7], [-0.5, 0.5]])
SOLVERS = ["euler", "rk4"]


class Field(eqx.Module):
    """A vector field: the true oscillator plus a small MLP correction (so members
    differ, some converging and some not)."""

    mlp: MLP
    eps: jax.Array

    def __call__(self, t, y, args):
        return jnp.stack([y[1], -y[0]]) + self.eps * self.mlp(y)


def oscillator(t, y, args):
    return jnp.stack([y[1], -y[0]])


def exact(y0s, t):
    c, s = np.cos(t), np.sin(t)
    return y0s @ np.array([[c, s], [-s, c]]).T


def make(key, eps):
    return Field(MLP(2, 2, width=8, depth=1, key=key), jnp.asarray(eps, jnp.float32))


def stacked_fields(keys, eps):
    """`eqx.filter_vmap(make)(keys, eps)`, bit for bit, built member by member and
    stacked leaf by leaf: the weight draws then compile once for every ensemble size
    (XLA on CPU takes about half a second per batched threefry draw)."""
    members = [make(k, e) for k, e in zip(keys, eps, strict=True)]
    return jax.tree.map(
        lambda *xs: jnp.stack(xs) if eqx.is_array(xs[0]) else xs[0], *members
    )


def ensemble(n=4):
    keys = jax.random.split(jax.random.key(0), n)
    eps = jnp.asarray([0.0, 1e-3, 0.3, 1e-6][:n], jnp.float32)
    return stacked_fields(keys, eps)


def member(stacked, i):
    return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, stacked)


def assert_same_report(a, b):
    assert a.verdict == b.verdict and a.reason == b.reason
    assert list(a.sweeps) == list(b.sweeps)
    for name in a.sweeps:
        sa, sb = a[name], b[name]
        assert sa.verdict == sb.verdict and sa.reason == sb.reason
        for x, y in [(sa.errors, sb.errors), (sa.reference_errors, sb.reference_errors),
                     (sa.local_orders, sb.local_orders)]:  # fmt: skip
            if x is None:
                assert y is None
            else:
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(sa.window, sb.window)
        np.testing.assert_allclose(
            sa.observed_order, sb.observed_order, rtol=1e-10, equal_nan=True
        )
        np.testing.assert_allclose(
            sa.richardson.order, sb.richardson.order, rtol=1e-10, equal_nan=True
        )


@pytest.mark.parametrize("batch_dts", [False, True])
def test_matches_test_per_member(batch_dts):
    stacked = ensemble()
    kw = dict(reference=exact, solvers=SOLVERS, dt_train=DT_TRAIN,
              true_vector_field=oscillator, batch_dts=batch_dts)  # fmt: skip
    many = convergence.test_many(stacked, Y0, T1, dts=DTS, **kw)
    assert len(many) == 4
    for i, report in enumerate(many):
        assert_same_report(report, convergence.test(member(stacked, i), Y0, T1,
                                                    dts=DTS, **kw))  # fmt: skip
    # the members really differ: the exact field passes, the big correction fails
    assert many[0].verdict == "PASS" and many[2].verdict == "FAIL"


def test_list_of_fields_and_no_reference():
    stacked = ensemble(3)
    fields = [member(stacked, i) for i in range(3)]
    kw = dict(solvers=SOLVERS, dt_train=DT_TRAIN)
    from_list = convergence.test_many(fields, Y0, T1, dts=DTS, **kw)
    from_stack = convergence.test_many(stacked, Y0, T1, dts=DTS, **kw)
    for a, b, f in zip(from_list, from_stack, fields, strict=True):
        assert_same_report(a, b)
        assert_same_report(a, convergence.test(f, Y0, T1, dts=DTS, **kw))


def test_one_compilation_per_solver_for_the_ensemble():
    before = dict(_sweep.TRACES)
    kw = dict(reference=exact, solvers=SOLVERS, true_vector_field=oscillator)
    y0 = Y0[:2]  # a batch size no other test compiles
    convergence.test_many(ensemble(), y0, T1, dts=DTS, **kw)
    traced = {k: _sweep.TRACES[k] - before.get(k, 0) for k in SOLVERS}
    assert traced == {"euler": 1, "rk4": 1}
    # new weights, initial states, step-size values and horizon reuse it
    other = stacked_fields(
        jax.random.split(jax.random.key(1), 4), jnp.full(4, 0.1, jnp.float32)
    )
    convergence.test_many(other, y0 + 0.1, 2 * T1, dts=DTS / 2, **kw)
    again = {k: _sweep.TRACES[k] - before.get(k, 0) for k in SOLVERS}
    assert again == traced


def test_bad_ensembles():
    stacked = ensemble(2)
    with pytest.raises(ValueError, match="leading member axis"):
        convergence.test_many(oscillator, Y0, T1, dts=DTS, solver="rk4")
    with pytest.raises(ValueError, match="empty"):
        convergence.test_many([], Y0, T1, dts=DTS, solver="rk4")
    wide = Field(MLP(2, 2, width=16, depth=1, key=jax.random.key(3)), jnp.ones(()))
    with pytest.raises(ValueError, match="same structure|stack"):
        convergence.test_many([member(stacked, 0), wide], Y0, T1, dts=DTS,
                              solver="rk4")  # fmt: skip


def test_odenets_directly():
    """ODENets (a list, or one stacked by filter_vmap) are tested through `.rhs`,
    with their `.dt` as the default `dt_train`, as `test` does for one."""

    def net(key):
        return ODENet(MLP(2, 2, width=8, depth=1, key=key), "rk4", DT_TRAIN)

    keys = jax.random.split(jax.random.key(2), 2)
    nets = [net(k) for k in keys]
    kw = dict(reference=exact, solver="rk4")
    from_list = convergence.test_many(nets, Y0, T1, **kw)
    from_stack = convergence.test_many(eqx.filter_vmap(net)(keys), Y0, T1, **kw)
    for a, b, n in zip(from_list, from_stack, nets, strict=True):
        assert a.dt_train == DT_TRAIN and len(a.dts) == 11
        assert_same_report(a, b)
        assert_same_report(a, convergence.test(n, Y0, T1, **kw))
