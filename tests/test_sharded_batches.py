"""Data generation and the convergence sweep split their batch axis over the
devices of a mesh (`sciml._sharding`): on 8 simulated CPU devices, in a
subprocess, the files and the verdicts are those of one device."""

import textwrap

import diffrax
import jax
import numpy as np
import pytest

from sciml import _sharding, convergence, datasets

_SHARDED = textwrap.dedent(
    """
    import tempfile

    import h5py
    import jax
    import numpy as np
    from jax.sharding import Mesh

    from sciml import convergence, datasets, solvers

    assert jax.local_device_count() == 8
    one = Mesh(np.array(jax.devices()[:1]), ("data",))
    grid = Mesh(np.array(jax.devices()).reshape(2, 4), ("a", "b"))

    def tensor(path, name="tensor"):
        with h5py.File(path) as f:
            return f[name][...]

    # 5 samples in chunks of 3 (padded to 8 per chunk on 8 devices): the file
    # of every mesh is the one-device file, value for value
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for label, mesh in (("one", one), ("all", None), ("grid", grid)):
            kw = dict(n_samples=5, nx=32, nt=6, t_end=0.2, chunk_size=3, mesh=mesh)
            files[label] = tensor(datasets.generate_burgers(
                out=f"{tmp}/{label}", nu=0.1, **kw))
        for label in ("all", "grid"):
            np.testing.assert_array_equal(files[label], files["one"])
        # a recipe with host inputs (Darcy's per-block thresholds) splits them too
        darcy = {}
        for label, mesh in (("one", one), ("all", None)):
            path = datasets.generate_darcy(
                out=f"{tmp}/d{label}", n_samples=5, nx=16, batch_mean=True,
                batch_size=2, chunk_size=3, mesh=mesh)
            darcy[label] = tensor(path)
        np.testing.assert_allclose(darcy["all"], darcy["one"], rtol=0, atol=1e-6)

    # the convergence sweep: 5 initial conditions over 8 devices (padded)
    system = solvers.get_system("pendulum")
    y0 = np.array([[1.0, 0.0], [0.3, -0.7], [-0.5, 0.5], [0.2, 0.1], [0.9, -0.2]])
    dts = 0.1 * 2.0 ** np.arange(2, -4, -1)
    reports = {
        label: convergence.test(system.vector_field, y0, 1.6, "rk4", dts,
                                system.state_at, dt_train=0.1, mesh=mesh)
        for label, mesh in (("one", one), ("all", None))
    }
    a, b = reports["one"]["rk4"], reports["all"]["rk4"]
    assert reports["all"].verdict == reports["one"].verdict == "PASS"
    np.testing.assert_allclose(b.errors, a.errors, rtol=1e-12, atol=1e-15)
    print("ok")
    """
)


def test_generation_and_sweep_match_one_device_on_8_simulated_devices(on_8_devices):
    on_8_devices(_SHARDED)


def test_a_mesh_must_be_a_mesh_of_this_process(tmp_path, no_typecheck):
    with pytest.raises(
        TypeError, match=r"chunk_source: `mesh` must be a jax.sharding.Mesh"
    ):
        datasets.generate_burgers(
            out=tmp_path, nu=0.1, n_samples=1, nx=16, nt=3, mesh="x"
        )
    with pytest.raises(TypeError, match="sweep: `mesh` must be a jax.sharding.Mesh"):
        convergence.sweep(
            [lambda t, y, args: -y], diffrax.Heun(), np.ones((2, 1)), 1.0,
            np.array([0.5, 0.25, 0.125]), mesh="data",
        )  # fmt: skip


def test_a_one_device_mesh_is_no_split():
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
    assert _sharding.local_mesh(mesh, owner="t") is None
    assert _sharding.over_batch(len, None, (True,)) is len
