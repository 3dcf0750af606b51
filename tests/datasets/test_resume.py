"""Resumable writes: an interrupted-then-resumed generation gives the same bytes."""

import contextlib
import datetime
import json

import h5py
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets import _hdf5, _partial
from sciml.datasets._generators import (
    _sines_1d,
    darcy,
    diffusion_reaction_2d,
    diffusion_sorption,
    fisher_sources,
    navier_stokes_2d,
)

N, CHUNK = 10, 3


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    u = rng.standard_normal((N, 4, 6, 1)).astype(np.float32)
    return u, np.linspace(0, 1, 6), np.linspace(0, 1, 4)


def chunk_source(u, calls=None, interrupt_at=None):
    """`chunks(first)` yields blocks at multiples of CHUNK; raises KeyboardInterrupt
    instead of producing the block starting at `interrupt_at`."""

    def chunks(first=0):
        if calls is not None:
            calls.append(first)
        for start in range(first, len(u), CHUNK):
            if start == interrupt_at:
                raise KeyboardInterrupt
            yield u[start : start + CHUNK]

    return chunks


def write(path, u, x, t, *, beta=0.4, **kwargs):
    return datasets.write(
        path,
        u,
        x=x,
        t=t,
        params={"beta": beta},
        provenance={"generator": "test", "seed": 1, "params": {"beta": beta}},
        **kwargs,
    )


def all_contents(path):
    """Every dataset's bytes and every attribute, for a comparison without layout."""
    out = {}
    with h5py.File(path) as file:
        file.visititems(
            lambda name, item: (
                out.__setitem__(name, np.asarray(item[()]).tobytes())
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
        out["attrs"] = {k: str(v) for k, v in file.attrs.items()}
    return out


@pytest.mark.parametrize("interrupt_at", [3, 6, 9])
def test_interrupted_then_resumed_write_is_byte_identical(
    tmp_path, data, monkeypatch, interrupt_at
):
    u, x, t = data
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    whole = write(tmp_path / "a" / "f.hdf5", chunk_source(u), x, t)

    path = tmp_path / "b" / "f.hdf5"
    with pytest.raises(KeyboardInterrupt):
        write(path, chunk_source(u, interrupt_at=interrupt_at), x, t)
    assert not path.exists()
    partial = datasets.partial_path(path)
    assert partial.name == ".f.hdf5.partial"
    with h5py.File(partial) as file:
        assert file.attrs["sciml_partial_done"] == interrupt_at
        assert file["tensor"].shape[0] == interrupt_at

    calls = []
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # a resume keeps the start
    write(path, chunk_source(u, calls), x, t, resume=True)
    assert calls == [interrupt_at]  # continued from the last finished chunk
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.hdf5"]
    assert path.read_bytes() == whole.read_bytes()
    with datasets.load(path) as ds:
        np.testing.assert_array_equal(ds.u[...], u)
        assert "partial_done" not in ds.provenance
        assert ds.provenance["created"] == datetime.datetime.fromtimestamp(
            1700000000, datetime.UTC
        ).isoformat(timespec="seconds")


def test_resume_with_different_settings_is_refused(tmp_path, data):
    u, x, t = data
    path = tmp_path / "f.hdf5"
    with pytest.raises(KeyboardInterrupt):
        write(path, chunk_source(u, interrupt_at=6), x, t)
    with pytest.raises(ValueError) as info:
        write(path, chunk_source(u), x, t, beta=0.7, resume=True)
    message = str(info.value)
    assert ".f.hdf5.partial" in message and "different generation settings" in message
    assert "params.beta: 0.4 then, 0.7 now" in message and "resume=False" in message
    with pytest.raises(ValueError, match="x: "):  # other coordinates
        write(path, chunk_source(u), x * 2, t, resume=True)
    assert datasets.partial_path(path).exists() and not path.exists()


def test_resume_false_discards_a_stale_partial_file(tmp_path, data):
    u, x, t = data
    path = tmp_path / "f.hdf5"
    with pytest.raises(KeyboardInterrupt):
        write(path, chunk_source(u, interrupt_at=3), x, t)
    calls = []
    with pytest.warns(UserWarning, match="Discarding .*f.hdf5.partial"):
        write(path, chunk_source(u, calls), x, t, beta=0.7)
    assert calls == [0]
    with datasets.load(path) as ds:
        np.testing.assert_array_equal(ds.u[...], u)
        assert ds.params == {"beta": 0.7}
    assert [p.name for p in tmp_path.iterdir()] == ["f.hdf5"]


def test_resume_without_partial_file_starts_from_zero(tmp_path, data):
    u, x, t = data
    calls = []
    path = write(tmp_path / "f.hdf5", chunk_source(u, calls), x, t, resume=True)
    assert calls == [0]
    with datasets.load(path) as ds:
        np.testing.assert_array_equal(ds.u[...], u)


def test_errors_keep_partial_only_for_chunk_sources(tmp_path, data):
    u, x, t = data

    def failing(first=0):
        yield u[:3]
        raise RuntimeError("solver diverged")

    with pytest.raises(RuntimeError):
        write(tmp_path / "c.hdf5", failing, x, t)  # a chunk source: kept
    with pytest.raises(RuntimeError):
        write(tmp_path / "i.hdf5", failing(), x, t)  # an iterator: removed
    assert [p.name for p in tmp_path.iterdir()] == [".c.hdf5.partial"]


def test_interruption_inside_a_block_write_is_recovered(tmp_path, data, monkeypatch):
    """Stopped after resizing and writing part of a block: the resume drops the
    unrecorded samples; data and attributes equal an uninterrupted write's."""
    u, x, t = data
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    whole = write(tmp_path / "a.hdf5", chunk_source(u), x, t)
    append = _hdf5._append

    def torn(file, block, n_done):
        if n_done == 6:
            file["tensor"].resize(n_done + len(block), axis=0)
            file["tensor"][n_done] = 7.0
            raise KeyboardInterrupt
        append(file, block, n_done)

    path = tmp_path / "b.hdf5"
    monkeypatch.setattr(_hdf5, "_append", torn)
    with pytest.raises(KeyboardInterrupt):
        write(path, chunk_source(u), x, t)
    monkeypatch.setattr(_hdf5, "_append", append)
    write(path, chunk_source(u), x, t, resume=True)
    assert all_contents(path) == all_contents(whole)


def test_corrupt_partial_file_is_reported(tmp_path, data):
    u, x, t = data
    path = tmp_path / "f.hdf5"
    datasets.partial_path(path).write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match=r"partial file .*\.f\.hdf5\.partial"):
        write(path, chunk_source(u), x, t, resume=True)


def test_generate_advection_resumes_byte_identically(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    settings = dict(beta=0.4, n_samples=5, nx=32, nt=6, seed=0, chunk_size=2)
    whole = datasets.generate("advection", out=tmp_path / "a", **settings)

    append, calls = _hdf5._append, []

    def interrupt_second_block(file, block, n_done):
        calls.append(n_done)
        if n_done == 2:
            raise KeyboardInterrupt  # before anything of the block is written
        append(file, block, n_done)

    monkeypatch.setattr(_hdf5, "_append", interrupt_second_block)
    with pytest.raises(KeyboardInterrupt):
        datasets.generate("advection", out=tmp_path / "b", **settings)
    monkeypatch.setattr(_hdf5, "_append", append)
    partial = datasets.partial_path(tmp_path / "b" / whole.name)
    with h5py.File(partial) as file:
        assert file.attrs["sciml_partial_done"] == 2
        assert json.loads(file.attrs["sciml_partial_settings"])["params"] == {
            "beta": 0.4
        }
    resumed = datasets.generate(
        "advection", out=tmp_path / "b", resume=True, **settings
    )
    assert resumed.read_bytes() == whole.read_bytes()


# Every generator, through the writer of its layout: `write` (tensor), `write_fields`
# (several root datasets), `write_groups` (a group per sample). Tiny sizes; three
# samples in chunks of two, so the resumed run also has a cut last chunk.
GENERATORS = {
    "advection": (_sines_1d, "write", dict(beta=0.4, nx=16, nt=4, t_end=0.1)),
    "burgers": (_sines_1d, "write", dict(nu=0.1, nx=16, nt=4, t_end=0.05)),
    "reaction_diffusion": (
        _sines_1d,
        "write",
        dict(nu=0.5, rho=1.0, nx=16, nt=4, t_end=0.05),
    ),
    "diffusion_sorption": (
        diffusion_sorption,
        "write_groups",
        dict(nx=8, nt=4, t_end=10.0),
    ),
    "diffusion_reaction_2d": (
        diffusion_reaction_2d,
        "write_groups",
        dict(nx=6, ny=4, nt=3, t_end=0.1),
    ),
    "darcy": (darcy, "write_fields", dict(beta=1.0, nx=8)),
    "navier_stokes_2d": (navier_stokes_2d, "write", dict(nx=16, nt=3, t_end=0.1)),
    "fisher_sources": (
        fisher_sources,
        "write_fields",
        dict(family="F3", nx=16, save_nx=8, nt=3, t_end=0.1),
    ),
}


def watch_chunks(monkeypatch, module, writer, calls, interrupt=False):
    """Wrap the generator's writer so that its chunk source records each `first`
    and, with `interrupt`, raises KeyboardInterrupt instead of a second chunk."""
    real = getattr(module, writer)

    def wrapped(path, chunks, **kwargs):
        def source(first=0):
            calls.append(first)
            for k, block in enumerate(chunks(first)):
                if interrupt and k == 1:
                    raise KeyboardInterrupt
                yield block

        return real(path, source, **kwargs)

    monkeypatch.setattr(module, writer, wrapped)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_resumes_byte_identically(tmp_path, monkeypatch, name):
    module, writer, params = GENERATORS[name]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    # two whole chunks: one compiled chunk shape (the writer-level test above
    # resumes into a short last chunk)
    settings = dict(n_samples=4, seed=1, chunk_size=2, **params)
    whole = datasets.generate(name, out=tmp_path / "a", **settings)

    calls = []
    watch_chunks(monkeypatch, module, writer, calls, interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        datasets.generate(name, out=tmp_path / "b", **settings)
    path = tmp_path / "b" / whole.name
    assert not path.exists()
    with h5py.File(datasets.partial_path(path)) as file:
        assert file.attrs["sciml_partial_done"] == 2

    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # a resume keeps the start
    calls.clear()
    watch_chunks(monkeypatch, module, writer, calls)
    resumed = datasets.generate(name, out=tmp_path / "b", resume=True, **settings)
    assert calls == [2]  # continued from the last finished chunk
    assert resumed == path
    assert [p.name for p in path.parent.iterdir()] == [whole.name]
    assert resumed.read_bytes() == whole.read_bytes()


def fields_source(n=5, chunk=2, interrupt_at=None):
    rng = np.random.default_rng(0)
    u, nu = rng.random((n, 1, 4, 4)), rng.random((n, 4, 4))

    def chunks(first=0):
        for start in range(first, n, chunk):
            if start == interrupt_at:
                raise KeyboardInterrupt
            yield {"tensor": u[start : start + chunk], "nu": nu[start : start + chunk]}

    return chunks


def groups_source(n=5, chunk=2, interrupt_at=None):
    u = np.random.default_rng(0).random((n, 3, 4, 1))

    def chunks(first=0):
        for start in range(first, n, chunk):
            if start == interrupt_at:
                raise KeyboardInterrupt
            yield u[start : start + chunk]

    return chunks


def write_fields(path, chunks, *, beta=1.0, **kwargs):
    x = np.linspace(0, 1, 4)
    return datasets.write_fields(
        path,
        chunks,
        coordinates={"x-coordinate": x, "y-coordinate": x},
        params={"beta": beta},
        provenance={"generator": "test", "seed": 0},
        **kwargs,
    )


def write_groups(path, chunks, *, d=1.0, **kwargs):
    return datasets.write_groups(
        path,
        chunks,
        x=np.linspace(0, 1, 4),
        t=np.linspace(0, 1, 3),
        config={"d": d},
        provenance={"generator": "test", "seed": 0},
        **kwargs,
    )


@pytest.mark.parametrize(
    ("writer", "source", "change", "what"),
    [
        (write_fields, fields_source, {"beta": 2.0}, "params.beta: 1.0 then, 2.0 now"),
        (write_groups, groups_source, {"d": 2.0}, "params.d: 1.0 then, 2.0 now"),
    ],
)
def test_layout_writers_resume_and_check_settings(
    tmp_path, monkeypatch, writer, source, change, what
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    whole = writer(tmp_path / "a.h5", source())
    path = tmp_path / "b.h5"
    with pytest.raises(KeyboardInterrupt):
        writer(path, source(interrupt_at=4))
    assert not path.exists() and datasets.partial_path(path).exists()
    with pytest.raises(ValueError, match="different generation settings") as info:
        writer(path, source(), resume=True, **change)
    assert what in str(info.value)
    writer(path, source(), resume=True)
    assert path.read_bytes() == whole.read_bytes()
    with pytest.warns(UserWarning, match="Discarding"):  # resume=False starts over
        with pytest.raises(KeyboardInterrupt):
            writer(path, source(interrupt_at=2))
        writer(path, source(), resume=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "b.h5"]


@pytest.mark.parametrize(
    ("writer", "source"), [(write_fields, fields_source), (write_groups, groups_source)]
)
def test_layout_writers_recover_a_torn_chunk(tmp_path, monkeypatch, writer, source):
    """Stopped inside a chunk's write, after part of it reached the file: the resume
    drops the unrecorded samples; every dataset and attribute equals an uninterrupted
    write's (the layout may differ: the dropped samples' space is not reclaimed)."""
    whole = writer(tmp_path / "a.h5", source())
    path = tmp_path / "b.h5"
    chunk = _partial.PartialFile.chunk

    @contextlib.contextmanager
    def torn(self, n_new):
        with chunk(self, n_new) as file:
            yield file
            if self.done == 2:
                raise KeyboardInterrupt  # the chunk is written, its record is not

    monkeypatch.setattr(_partial.PartialFile, "chunk", torn)
    with pytest.raises(KeyboardInterrupt):
        writer(path, source())
    monkeypatch.undo()
    with h5py.File(datasets.partial_path(path)) as file:
        assert file.attrs["sciml_partial_done"] == 2
        assert len(file) == (2 if writer is write_fields else 4)
    writer(path, source(), resume=True)
    contents = all_contents(path)
    contents["attrs"].pop("sciml_created")
    expected = all_contents(whole)
    expected["attrs"].pop("sciml_created")
    assert contents == expected


def test_layout_writers_keep_no_partial_for_iterables(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write_fields(tmp_path / "f.h5", fields_source(interrupt_at=2)())
    with pytest.raises(KeyboardInterrupt):
        write_groups(tmp_path / "g.h5", groups_source(interrupt_at=2)())
    assert list(tmp_path.iterdir()) == []


def test_cli_generate_resume(tmp_path, monkeypatch):
    from sciml import cli

    argv = ["data", "generate", "fisher_sources", "--family", "F3", "--nx", "16"]
    argv += ["--save-nx", "8", "--nt", "3", "--t-end", "0.1", "--n-samples", "3"]
    argv += ["--chunk-size", "2", "--seed", "1"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert cli.main([*argv, "--out", str(tmp_path / "a")]) == 0
    calls = []
    watch_chunks(monkeypatch, fisher_sources, "write_fields", calls, interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        cli.main([*argv, "--out", str(tmp_path / "b")])
    monkeypatch.setattr(fisher_sources, "write_fields", datasets.write_fields)
    assert cli.main([*argv, "--out", str(tmp_path / "b"), "--resume"]) == 0
    name = "1D_Fisher_Sources_Form3.hdf5"
    assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
