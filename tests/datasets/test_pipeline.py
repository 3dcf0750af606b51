"""The one generation pipeline (`Recipe`, `chunk_source`) and the generator registry."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml import datasets
from sciml.datasets import _pipeline, _registry


class Noise(datasets.Recipe):
    """A toy recipe: `scale` times three uniforms per sample, plus its host input."""

    scale: jax.Array
    calls: list = None  # host-side log of `inputs` calls (static, compared by id)

    def inputs(self, start, n):
        if self.calls is not None:
            self.calls.append(("inputs", start))
        return np.arange(start, start + n, dtype=np.float32)

    def __call__(self, key, index):
        return {"u": self.scale * jax.random.uniform(key, (3,)), "index": index}

    def check(self, block, start):
        if np.any(block["u"] > 100):
            raise RuntimeError(f"sample {start} too large")

    def finish(self, block):
        if self.calls is not None:
            self.calls.append(("yield", int(block["index"][0])))
        return block


def collect(recipe, n, chunk, first=0):
    source = datasets.chunk_source(
        recipe, key=jax.random.key(0), n_samples=n, chunk=chunk
    )
    return list(source(first))


def test_samples_do_not_depend_on_the_chunking():
    recipe = Noise(jnp.asarray(2.0))
    whole = np.concatenate([b["u"] for b in collect(recipe, 7, 7)])
    for chunk in (1, 3, 5):
        blocks = collect(recipe, 7, chunk)
        np.testing.assert_array_equal(np.concatenate([b["u"] for b in blocks]), whole)
        assert [len(b["u"]) for b in blocks][-1] == 7 - (7 - 1) // chunk * chunk
    # sample i is drawn from fold_in(key, i)
    key = jax.random.fold_in(jax.random.key(0), 4)
    np.testing.assert_array_equal(whole[4], 2.0 * jax.random.uniform(key, (3,)))
    np.testing.assert_array_equal(
        np.concatenate([b["index"] for b in collect(recipe, 7, 3)]), np.arange(7)
    )


def test_a_resumed_source_keeps_the_block_boundaries():
    recipe = Noise(jnp.asarray(1.0))
    whole = collect(recipe, 8, 3)
    resumed = collect(recipe, 8, 3, first=4)  # mid-block: cut, then at multiples
    assert [b["index"].tolist() for b in resumed] == [[4, 5], [6, 7]]
    np.testing.assert_array_equal(resumed[1]["u"], whole[2]["u"])
    assert collect(recipe, 8, 3, first=8) == []


def test_one_compilation_whatever_the_parameter():
    _pipeline._solve_chunk._cached.clear_cache()
    a = collect(Noise(jnp.asarray(1.0)), 5, 2)
    b = collect(Noise(jnp.asarray(3.0)), 5, 2)
    assert _pipeline._solve_chunk._cached._cache_size() == 1
    np.testing.assert_allclose(b[0]["u"], 3 * a[0]["u"], rtol=1e-6)


def test_the_next_chunk_is_dispatched_before_the_current_is_written():
    calls = []
    collect(Noise(jnp.asarray(1.0), calls), 6, 2)
    assert calls == [
        ("inputs", 0),
        ("inputs", 2),
        ("yield", 0),
        ("inputs", 4),
        ("yield", 2),
        ("yield", 4),
    ]


def test_check_stops_with_the_first_bad_block():
    source = datasets.chunk_source(
        Noise(jnp.asarray(1000.0)), key=jax.random.key(0), n_samples=4, chunk=2
    )
    with pytest.raises(RuntimeError, match="sample 0 too large"):
        list(source())


def test_a_recipe_built_under_float64():
    source = datasets.chunk_source(
        lambda: Noise(jnp.asarray(1.0)),
        key=jax.random.key(0),
        n_samples=2,
        chunk=2,
        float64=True,
    )
    assert next(source())["u"].dtype == np.float64


# ------------------------------------------------------------------ the registry


def test_generate_passes_only_what_was_given(tmp_path, monkeypatch):
    seen = {}

    def generate_toy(*, out, beta, n_samples=10, seed=0):
        """A toy.

        **Arguments:**

        - `out`: where.
        - `beta`: the speed.
        - `n_samples`, `seed`: sizes.
        """
        seen.update(out=out, beta=beta, n_samples=n_samples, seed=seed)
        return out

    monkeypatch.setattr(_registry, "get_generator", lambda name: generate_toy)
    datasets.generate("toy", out=tmp_path, beta=0.2)
    assert seen == {"out": tmp_path, "beta": 0.2, "n_samples": 10, "seed": 0}
    assert [
        (p.name, p.default, p.required) for p in _registry.generator_parameters("toy")
    ] == [
        ("beta", None, True),
        ("n_samples", 10, False),
        ("seed", 0, False),
    ]
    assert _registry.generator_parameters("toy")[1].help == "sizes."
    with pytest.raises(ValueError, match=r"unknown parameters \['nu'\]"):
        datasets.generate("toy", out=tmp_path, beta=0.2, nu=1)
    with pytest.raises(ValueError, match=r"needs \['beta'\]"):
        datasets.generate("toy", out=tmp_path)


def test_unknown_generator():
    with pytest.raises(ValueError, match="Unknown generator 'nope'"):
        datasets.get_generator("nope")


def _default_bytes(name: str) -> int:
    d = {p.name: p.default for p in datasets.generator_parameters(name)}
    if name == "fisher_sources":
        return 2000 * d["nt"] * d["save_nx"] * 4
    if name == "darcy":
        return d["n_samples"] * d["nx"] ** 2 * 2 * 4
    if name == "navier_stokes_2d":
        return d["n_samples"] * d["nt"] * d["nx"] ** 2 * 4
    if name == "diffusion_reaction_2d":
        return d["n_samples"] * d["nt"] * d["nx"] * d["ny"] * 2 * 4
    if name == "darcy_geometry":  # tensor, nu, log_nu, mask
        return d["n_samples"] * d["nx"] ** 2 * 4 * 4
    if name == "antiderivative":
        return d["n_samples"] * d["m"] * 2 * 4
    return d["n_samples"] * d["nt"] * d["nx"] * 4


@pytest.mark.parametrize("name", datasets.list_generators())
def test_defaults_write_megabytes_not_gigabytes(name):
    assert _default_bytes(name) < 200 * 2**20
    signature = inspect.signature(datasets.get_generator(name))
    assert all(p.kind is p.KEYWORD_ONLY for p in signature.parameters.values()), (
        "generator settings are keyword-only"
    )
