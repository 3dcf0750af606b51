"""`fit(steps_per_call=k)` (k steps per compiled call) and `fit(mesh=...)` (batches
split over devices, the state replicated), the latter on 8 simulated CPU devices
in a subprocess."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import optax
import pytest
from training_testlib import Regressor, noisy_loss, param_leaves, regression_data

from sciml.training import fit


def _batches(n_steps, nan_at=None):
    x, y = regression_data(64)
    out = []
    for i in range(n_steps):
        xi, yi = np.asarray(x[(4 * i) % 48 :][:16]), np.asarray(y[(4 * i) % 48 :][:16])
        if i == nan_at:
            yi = np.full_like(yi, np.nan)
        out.append((xi, yi))
    return out


def _fit(batches, **kw):
    model = Regressor(1, 8, key=jax.random.key(1))
    return fit(
        model, noisy_loss, batches, optax.adam(1e-2), steps=len(batches),
        key=jax.random.key(2), progress=False, **kw,
    )  # fmt: skip


@pytest.mark.parametrize("policy,nan_at", [("stop", None), ("skip", 5)])
def test_fused_steps_match_the_one_step_loop(policy, nan_at):
    # 10 steps at k = 4: two fused calls, then two single steps
    batches = _batches(10, nan_at)
    one = _fit(batches, log_every=4, on_non_finite=policy)
    fused = _fit(batches, log_every=4, on_non_finite=policy, steps_per_call=4)
    assert [r["step"] for r in fused.history] == [4, 8, 10]
    for a, b in zip(one.history, fused.history, strict=True):
        np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-6)
        np.testing.assert_allclose(
            b["metrics"]["noise_draw"], a["metrics"]["noise_draw"], rtol=1e-6
        )  # the same per-step keys
    for a, b in zip(param_leaves(one.model), param_leaves(fused.model), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    assert int(fused.state.step) == 10 and fused.num_traces == 1
    assert int(fused.state.skipped) == int(one.state.skipped) == (nan_at is not None)


def test_fused_steps_raise_on_a_non_finite_loss_with_the_step():
    from sciml.training import NonFiniteLossError

    with pytest.raises(NonFiniteLossError, match=r"loss \(nan\).*at step 6"):
        _fit(_batches(8, nan_at=6), log_every=4, steps_per_call=4)


def test_fused_steps_need_aligned_intervals():
    with pytest.raises(ValueError, match=r"log_every=10.*steps_per_call=4.*=8"):
        _fit(_batches(4), log_every=10, steps_per_call=4)
    with pytest.raises(ValueError, match=r"checkpoint_every=1000.*steps_per_call=3"):
        _fit(_batches(3), log_every=3, steps_per_call=3)
    with pytest.raises(ValueError, match="steps_per_call must be >= 1"):
        _fit(_batches(3), steps_per_call=0)


def test_mesh_must_be_a_mesh(no_typecheck):
    with pytest.raises(TypeError, match="mesh. must be a jax.sharding.Mesh"):
        _fit(_batches(2), mesh="data")


def test_one_device_mesh_matches_no_mesh():
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
    batches = _batches(4)
    a, b = _fit(batches, log_every=2), _fit(batches, log_every=2, mesh=mesh)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]


_SHARDED = textwrap.dedent(
    """
    import jax, numpy as np, optax, pytest, tempfile
    from jax.sharding import Mesh
    import sys; sys.path.insert(0, "tests/training")
    from training_testlib import Regressor, noisy_loss, param_leaves, regression_data
    from test_training_parallel import _batches, _fit

    assert jax.device_count() == 8
    batches = _batches(8)
    one = Mesh(np.array(jax.devices()[:1]), ("data",))
    ref = _fit(batches, log_every=2, mesh=one)
    for kw in (dict(), dict(steps_per_call=2)):  # default mesh: all 8 devices
        got = _fit(batches, log_every=2, **kw)
        np.testing.assert_allclose(
            [r["loss"] for r in got.history], [r["loss"] for r in ref.history],
            rtol=1e-5,
        )
        for a, b in zip(param_leaves(ref.model), param_leaves(got.model)):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
            assert len(b.sharding.device_set) == 8 and b.sharding.is_fully_replicated
    # a resumed sharded run is bit-identical to an uninterrupted one
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        whole = _fit(batches, log_every=2, checkpoint_every=4, run_dir=a)
        _fit(batches[:4], log_every=2, checkpoint_every=4, run_dir=b)
        resumed = _fit(
            batches, log_every=2, checkpoint_every=4, run_dir=b, resume=True
        )
        for x, y in zip(param_leaves(whole.model), param_leaves(resumed.model)):
            np.testing.assert_array_equal(x, y)
    # a 2 x 4 mesh: batches split over both axes
    grid = Mesh(np.array(jax.devices()).reshape(2, 4), ("a", "b"))
    got = _fit(batches, log_every=2, mesh=grid)
    np.testing.assert_allclose(got.history[-1]["loss"], ref.history[-1]["loss"],
                               rtol=1e-5)
    with pytest.raises(ValueError, match=r"step 0 cannot be split over the mesh's 8"):
        _fit([(x[:12], y[:12]) for x, y in batches])
    # a leaf without the batch axis (points shared by every sample) is replicated
    from sciml.training import DataParallel
    placed = DataParallel(grid).shard((np.ones((16, 3)), np.ones((5, 1))))
    assert not placed[0].sharding.is_fully_replicated
    assert placed[1].sharding.is_fully_replicated
    print("ok")
    """
)


def test_sharded_fit_matches_one_device_on_8_simulated_devices(on_8_devices):
    on_8_devices(_SHARDED)


_TWO_PROCESSES = textwrap.dedent(
    """
    import json, sys
    from sciml.training import start_distributed

    assert start_distributed()  # from SCIML_COORDINATOR & co.
    import jax
    sys.path.insert(0, "tests/training")
    from test_training_parallel import _batches, _fit

    assert jax.process_count() == 2 and jax.device_count() == 2
    run = _fit(_batches(3), log_every=1)  # the default mesh spans both processes
    print(json.dumps([r["loss"] for r in run.history]))
    """
)


def test_two_processes_train_together():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _TWO_PROCESSES],
            env={
                **os.environ,
                "JAX_PLATFORMS": "cpu",
                "SCIML_COORDINATOR": f"127.0.0.1:{port}",
                "SCIML_NUM_PROCESSES": "2",
                "SCIML_PROCESS_ID": str(rank),
            },
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for rank in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    losses = [np.array(json.loads(out.strip().splitlines()[-1])) for out, _ in outs]
    np.testing.assert_array_equal(losses[0], losses[1])  # one run, not two
    alone = [r["loss"] for r in _fit(_batches(3), log_every=1).history]
    np.testing.assert_allclose(losses[0], alone, rtol=1e-5)


def test_start_distributed_alone_is_a_no_op(monkeypatch):
    from sciml.training import start_distributed

    for name in ("SCIML_COORDINATOR", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    assert start_distributed() is False
    with pytest.raises(ValueError, match="needs the number of processes"):
        start_distributed("127.0.0.1:1")


def test_a_one_device_mesh_places_on_the_device():
    """`DataParallel` on a one-device mesh: every leaf on that device as a
    `SingleDeviceSharding` (the same placement, less host time than a
    `NamedSharding`), and a step on the placed batch and state is the step on the
    unplaced ones."""
    from jax.sharding import Mesh, SingleDeviceSharding

    from sciml.training import DataParallel, init_train_state, make_step

    device = jax.devices()[0]
    parallel = DataParallel(Mesh(np.array([device]), ("data",)))
    batch = _batches(1)[0]
    placed = parallel.shard(batch)
    model = Regressor(1, 8, key=jax.random.key(0))
    opt = optax.adam(1e-2)
    state = init_train_state(model, opt, key=jax.random.key(1))
    # its own state: the step donates its input, and placing on the device the
    # state is already on may keep its buffers
    replicated = parallel.replicate(init_train_state(model, opt, key=jax.random.key(1)))
    for leaf in jax.tree.leaves(placed) + param_leaves(replicated.model):
        assert leaf.sharding == SingleDeviceSharding(device)
    step = make_step(noisy_loss, opt)
    got = step(placed, replicated)
    ref = step(batch, state)
    np.testing.assert_array_equal(got[1], ref[1])
    pairs = zip(param_leaves(got[0].model), param_leaves(ref[0].model), strict=True)
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)
