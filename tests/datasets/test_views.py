"""Windows and operator pairs streamed from a file: shapes, strides, shuffling,
coverage, the host-buffer bound, prefetch, and bad input."""

import math
import threading

import jax
import numpy as np
import pytest

from sciml import datasets

N, T, X, C = 12, 21, 16, 2


@pytest.fixture(scope="module")
def file_1d(tmp_path_factory):
    u = np.random.default_rng(0).standard_normal((N, T, X, C)).astype(np.float32)
    path = tmp_path_factory.mktemp("views") / "1D_Advection_Sols_beta0.4.hdf5"
    datasets.write(path, u, x=(np.arange(X) + 0.5) / X, t=0.1 * np.arange(T))
    return path, u


@pytest.fixture(scope="module")
def file_2d(tmp_path_factory):
    u = np.random.default_rng(1).standard_normal((4, 6, 8, 6, 1)).astype(np.float32)
    path = tmp_path_factory.mktemp("views") / "2d_nu0.01.hdf5"
    datasets.write(
        path, u, x=np.arange(8) / 8, y=np.arange(6) / 6, t=np.arange(6.0), params={}
    )
    return path, u


class CountingView:
    """Wraps `ds.u` and records every sample index read."""

    def __init__(self, view, fail_at=None):
        self._view, self.shape, self.dtype = view, view.shape, view.dtype
        self.reads, self._fail_at = [], fail_at

    def __getitem__(self, index):
        self.reads.append(index)
        if index == self._fail_at:
            raise OSError("Can't synchronously read data (truncated file)")
        return self._view[index]


def as_numpy(batches):
    return [jax.tree.map(np.asarray, batch) for batch in batches]


def test_window_shapes_strides_and_values(file_1d, getkey):
    path, u = file_1d
    with datasets.load(path) as ds:
        # strided: frames 0, 5, 10, 15, 20 (5 of 21); x 0, 4, 8, 12 (4 of 16)
        batches = ds.windows(2, 1, t_stride=5, x_stride=4, batch_size=4, key=getkey())
        got = as_numpy(batches)
    assert len(batches) == len(got) == N * 3 // 4  # 3 windows per sample
    for batch in got:
        assert batch["input"].shape == (4, 2 * C, 4)
        assert batch["target"].shape == (4, 1 * C, 4)
        assert batch["input"].dtype == np.float32
        assert batch["params"]["beta"].shape == (4,)
        np.testing.assert_allclose(batch["params"]["beta"], 0.4)
        for b, (s, start) in enumerate(
            zip(batch["sample"], batch["start"], strict=True)
        ):
            assert start in (0, 5, 10)
            frames = u[s, start : start + 15 : 5, ::4]  # (3, 4, C)
            expected = np.moveaxis(frames, -1, 1)  # frame-major, channel-first
            np.testing.assert_array_equal(batch["input"][b], expected[:2].reshape(4, 4))
            np.testing.assert_array_equal(batch["target"][b], expected[2])


def test_pdebench_protocol_strides(tmp_path, getkey):
    """201 -> 41 frames and 1024 -> 256 cells, initial_step 10."""
    u = np.zeros((2, 201, 1024, 1), np.float32)
    u[:, :, :, 0] = np.arange(201)[:, None]  # the value is the frame index
    path = datasets.write(
        tmp_path / "p.hdf5", u, x=np.arange(1024) / 1024, t=np.arange(201) * 0.01
    )
    with datasets.load(path) as ds:
        batches = datasets.windows(
            ds, 10, 1, t_stride=5, x_stride=4, batch_size=31, key=getkey()
        )
        got = as_numpy(batches)
    assert len(got) == 2  # 41 - 10 = 31 windows per sample
    batch = got[0]
    assert batch["input"].shape == (31, 10, 256) and batch["target"].shape == (
        31,
        1,
        256,
    )
    b = int(np.argmax(batch["start"]))
    assert batch["start"][b] == 150  # last window: frames 150..195 in, 200 out
    np.testing.assert_array_equal(batch["input"][b, :, 0], np.arange(150, 200, 5))
    assert batch["target"][b, 0, 0] == 200


def test_windows_2d_layout(file_2d, getkey):
    path, u = file_2d
    with datasets.load(path) as ds:
        got = as_numpy(ds.windows(3, 2, x_stride=2, batch_size=2, key=getkey()))
    assert got[0]["input"].shape == (2, 3, 4, 3)  # (B, 3 frames * C=1, X/2, Y/2)
    assert got[0]["target"].shape == (2, 2, 4, 3)
    assert got[0]["params"] == {"nu": pytest.approx(np.full(2, 0.01, np.float32))}
    batch = got[0]
    s, start = batch["sample"][0], batch["start"][0]
    np.testing.assert_array_equal(
        batch["target"][0], u[s, start + 3 : start + 5, ::2, ::2, 0]
    )


def test_deterministic_for_a_key_and_epochs_reshuffle(file_1d, getkey):
    path, _ = file_1d
    key = getkey()
    with datasets.load(path) as ds:
        kw = dict(batch_size=5, buffer_samples=4, prefetch=0)
        first = as_numpy(ds.windows(3, key=key, **kw))
        again = as_numpy(ds.windows(3, key=key, **kw))
        other = as_numpy(ds.windows(3, key=getkey(), **kw))
        two = as_numpy(ds.windows(3, key=key, epochs=2, **kw))
    for a, b in zip(first, again, strict=True):
        jax.tree.map(np.testing.assert_array_equal, a, b)
    assert not np.array_equal(first[0]["sample"], other[0]["sample"])
    assert len(two) == 2 * len(first)
    for a, b in zip(first, two, strict=False):
        jax.tree.map(np.testing.assert_array_equal, a, b)
    assert not np.array_equal(two[0]["start"], two[len(first)]["start"])


@pytest.mark.parametrize("buffer_samples", [1, 5, None])
def test_every_window_once_per_epoch(file_1d, getkey, buffer_samples):
    path, _ = file_1d
    with datasets.load(path) as ds:
        batches = ds.windows(
            4,
            2,
            t_stride=2,
            batch_size=7,
            key=getkey(),
            drop_remainder=False,
            buffer_samples=buffer_samples,
        )
        got = as_numpy(batches)
    n_windows = 11 - 6 + 1  # 11 strided frames
    seen = [(s, t) for b in got for s, t in zip(b["sample"], b["start"], strict=True)]
    assert len(seen) == len(set(seen)) == N * n_windows
    assert set(seen) == {(s, 2 * w) for s in range(N) for w in range(n_windows)}
    assert [len(b["sample"]) for b in got] == [7] * 10 + [2]  # 72 = 10 * 7 + 2


def test_samples_restrict_and_pdebench_split(file_1d, getkey):
    assert datasets.pdebench_split(10_000) == (range(1000, 10_000), range(0, 1000))
    train, test = datasets.pdebench_split(N)
    assert (train, test) == (range(1, N), range(0, 1))
    path, _ = file_1d
    with datasets.load(path) as ds:
        for samples, expected in [
            (slice(4, None), set(range(4, N))),
            (train, set(range(1, N))),
            ([7, 2], {2, 7}),
            (np.array([3]), {3}),
        ]:
            got = as_numpy(
                ds.windows(10, batch_size=1, key=getkey(), samples=samples, prefetch=0)
            )
            assert {int(s) for b in got for s in b["sample"]} == expected


@pytest.mark.parametrize("read_ahead", [False, True])
def test_reads_are_bounded_by_the_buffer(file_1d, getkey, read_ahead):
    """Samples are read one at a time, `buffer_samples` per block, and only when
    the batches need them (at most one block ahead when reading ahead); each sample
    is read exactly once per epoch."""
    path, _ = file_1d
    with datasets.load(path) as ds:
        ds.u = view = CountingView(ds.u)
        buffer, batch_size, n_windows = 3, 4, 21 - 6 + 1
        batches = ds.windows(
            5,
            1,
            batch_size=batch_size,
            key=getkey(),
            buffer_samples=buffer,
            prefetch=0,
            read_ahead=read_ahead,
        )
        for j, _ in enumerate(batches, start=1):
            blocks = math.ceil(j * batch_size / (buffer * n_windows))
            if read_ahead:
                assert blocks * buffer <= len(view.reads) + buffer
                assert len(view.reads) <= min(N, (blocks + 1) * buffer)
            else:
                assert len(view.reads) == min(N, blocks * buffer)
        assert all(isinstance(i, int) for i in view.reads)  # never a whole block
        assert sorted(view.reads) == list(range(N))
        # each block is read in file order (sorted), e.g. for locality on disk
        for k in range(0, N, buffer):
            assert view.reads[k : k + buffer] == sorted(view.reads[k : k + buffer])
    assert not any(t.name == "sciml-read-ahead" for t in threading.enumerate())


def test_leaving_early_stops_every_thread(file_1d, getkey):
    path, _ = file_1d
    with datasets.load(path) as ds:
        for batch in ds.windows(3, batch_size=2, key=getkey(), buffer_samples=2):
            assert batch["input"].shape == (2, 3 * C, X)
            break
    names = {t.name for t in threading.enumerate()}
    assert not names & {"sciml-prefetch", "sciml-read-ahead"}


def test_prefetch_gives_the_same_batches(file_1d, getkey):
    path, _ = file_1d
    key = getkey()
    with datasets.load(path) as ds:
        kw = dict(t_stride=2, batch_size=6, key=key, buffer_samples=5, epochs=2)
        plain = list(ds.windows(3, 2, prefetch=0, **kw))
        ahead = list(ds.windows(3, 2, prefetch=2, **kw))
        pairs_plain = list(ds.operator_pairs(4, 9, batch_size=3, key=key, prefetch=0))
        pairs_ahead = list(ds.operator_pairs(4, 9, batch_size=3, key=key))
    assert len(plain) == len(ahead) > 0
    for a, b in zip(plain + pairs_plain, ahead + pairs_ahead, strict=True):
        assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(b))
        jax.tree.map(np.testing.assert_array_equal, a, b)


def test_prefetch_stops_its_thread_and_forwards_errors():
    def source():
        yield {"a": np.zeros(2)}
        yield {"a": np.ones(2)}
        raise RuntimeError("reader failed")

    stream = datasets.prefetch_to_device(source(), size=2)
    assert float(next(stream)["a"][0]) == 0.0
    stream.close()  # leaving early
    assert not any(t.name == "sciml-prefetch" for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="reader failed"):
        list(datasets.prefetch_to_device(source(), size=1))
    endless = datasets.prefetch_to_device(iter(lambda: {"a": np.zeros(3)}, None))
    for _, batch in zip(range(5), endless, strict=False):
        assert batch["a"].shape == (3,)
    endless.close()
    assert not any(t.name == "sciml-prefetch" for t in threading.enumerate())


def test_operator_pairs_1d(file_1d, getkey):
    path, u = file_1d
    with datasets.load(path) as ds:
        t, x = ds.t.astype(np.float32), ds.x.astype(np.float32)
        batches = ds.operator_pairs(
            4, 25, batch_size=5, key=getkey(), drop_remainder=False, buffer_samples=5
        )
        got = as_numpy(batches)
    assert [len(b["sample"]) for b in got] == [5, 5, 2]
    assert sorted(int(s) for b in got for s in b["sample"]) == list(range(N))
    sensors = [0, 4, 8, 12]
    for batch in got:
        assert batch["branch"].shape[1:] == (C * 4,)
        assert batch["trunk"].shape[1:] == (25, 2) and batch["target"].shape[1:] == (
            25,
            C,
        )
        for b, s in enumerate(batch["sample"]):
            branch = batch["branch"][b].reshape(C, 4)  # channel-major
            np.testing.assert_array_equal(branch, u[s, 0, sensors].T)
            ti = np.searchsorted(t, batch["trunk"][b, :, 0])
            xi = np.searchsorted(x, batch["trunk"][b, :, 1])
            assert len(set(zip(ti, xi, strict=True))) == 25  # distinct points
            np.testing.assert_array_equal(batch["target"][b], u[s, ti, xi])


def test_operator_pairs_2d(file_2d, getkey):
    path, u = file_2d
    with datasets.load(path) as ds:
        got = as_numpy(
            datasets.operator_pairs(ds, (4, 3), 10, batch_size=2, key=getkey())
        )
    batch = got[0]
    assert batch["branch"].shape == (2, 12)
    assert batch["trunk"].shape == (2, 10, 3) and batch["target"].shape == (2, 10, 1)
    s = batch["sample"][0]
    np.testing.assert_array_equal(
        batch["branch"][0].reshape(4, 3),
        u[s, 0][np.ix_([0, 2, 4, 6], [0, 2, 4])][..., 0],
    )


# ---- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(samples=slice(0, 20)), "up to 20, but the file holds only 12 samples"),
        (dict(samples=range(5, 15)), "asks for sample 14, but the file holds 12"),
        (dict(samples=[0, 99]), "sample 99"),
        (dict(samples=[]), "selects no samples"),
        (
            dict(input_steps=20, output_steps=2),
            "22 frames is longer than the file's 21",
        ),
        (dict(t_stride=8), "t_stride=8 leaves 3 of its 21 frames, fewer than the 4"),
        (dict(batch_size=1000), "fewer than batch_size=1000"),
        (dict(x_stride=0), "x_stride must be >= 1, got 0"),
        (dict(buffer_samples=0), "buffer_samples must be >= 1, got 0"),
        (dict(prefetch=-1), "prefetch must be >= 0"),
    ],
)
def test_windows_reject_bad_input(file_1d, getkey, no_typecheck, kwargs, match):
    path, _ = file_1d
    kw = dict(input_steps=3, output_steps=1, batch_size=2, key=getkey()) | kwargs
    with datasets.load(path) as ds:
        with pytest.raises(ValueError, match=match) as info:
            datasets.windows(ds, **kw)
    assert path.name in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=2.0), "batch_size must be an integer, got float 2.0"),
        (dict(input_steps="3"), "input_steps must be an integer, got str"),
        (dict(epochs=1.5), "epochs must be an integer"),
        (dict(buffer_samples=4.0), "buffer_samples must be an integer"),
        (dict(drop_remainder="yes"), "drop_remainder must be True or False"),
        (dict(read_ahead=1), "read_ahead must be True or False"),
        (dict(key=0), "key must be a JAX PRNG key, got int 0"),
        (dict(samples=[0.5, 1.5]), "1-D integer indices"),
    ],
)
def test_windows_reject_wrong_types(file_1d, getkey, no_typecheck, kwargs, match):
    """A wrong type is a TypeError (sciml._checks' rule), naming the file."""
    path, _ = file_1d
    kw = dict(input_steps=3, output_steps=1, batch_size=2, key=getkey()) | kwargs
    with datasets.load(path) as ds:
        with pytest.raises(TypeError, match=match) as info:
            datasets.windows(ds, **kw)
    assert path.name in str(info.value)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((4.0, 5), {}, "n_sensors must be an integer or a non-empty sequence"),
        ((4, 5.0), {}, "n_points must be an integer, got float"),
        ((4, 5), dict(batch_size=1.0), "batch_size must be an integer"),
    ],
)
def test_operator_pairs_reject_wrong_types(
    file_1d, getkey, no_typecheck, args, kwargs, match
):
    path, _ = file_1d
    with datasets.load(path) as ds:
        with pytest.raises(TypeError, match=match) as info:
            ds.operator_pairs(*args, **(dict(batch_size=2, key=getkey()) | kwargs))
    assert path.name in str(info.value)


def test_keys_are_keyword_only(file_1d, getkey):
    path, _ = file_1d
    with datasets.load(path) as ds:
        with pytest.raises(TypeError, match="positional"):
            datasets.windows(ds, 3, 1, 1, 1, 2, getkey())
        with pytest.raises(TypeError, match="positional"):
            datasets.operator_pairs(ds, 4, 5, 2, getkey())
    with pytest.raises(TypeError, match="positional"):
        datasets.Batches(lambda rng: iter(()), 4, 2, getkey())


def test_split_and_prefetch_check_their_arguments(no_typecheck):
    with pytest.raises(TypeError, match="pdebench_split: n_samples must be an int"):
        datasets.pdebench_split(10.0)
    with pytest.raises(ValueError, match="test_fraction must be >= 0 and <= 1"):
        datasets.pdebench_split(10, 1.5)
    with pytest.raises(TypeError, match="prefetch_to_device: size must be an int"):
        datasets.prefetch_to_device([], 1.0)
    with pytest.raises(ValueError, match="prefetch_to_device: size must be >= 0"):
        datasets.prefetch_to_device([], -1)


@pytest.mark.parametrize(
    "args, match",
    [
        ((17, 5), "n_sensors=17 exceeds the 16 grid points"),
        ((4, 10_000), "n_points=10000 exceeds the 336 points"),
        (((4, 4), 5), "names 2 axes, the file has 1"),
    ],
)
def test_operator_pairs_reject_bad_input(file_1d, getkey, no_typecheck, args, match):
    path, _ = file_1d
    with datasets.load(path) as ds:
        with pytest.raises(ValueError, match=match) as info:
            ds.operator_pairs(*args, batch_size=2, key=getkey())
    assert path.name in str(info.value)


def test_truncated_file_is_named(tmp_path, file_1d, no_typecheck):
    path, _ = file_1d
    cut = tmp_path / "cut.hdf5"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(ValueError, match="cut.hdf5"):
        datasets.load(cut)


def test_read_failure_names_file_and_sample(file_1d, getkey, no_typecheck):
    path, _ = file_1d
    with datasets.load(path) as ds:
        ds.u = CountingView(ds.u, fail_at=5)
        with pytest.raises(
            ValueError, match=r"beta0\.4\.hdf5: reading sample 5 failed"
        ):
            list(ds.windows(3, batch_size=4, key=getkey()))
