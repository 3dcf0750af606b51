import json
import os

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references
from training_testlib import Regressor, param_leaves

from sciml.training import load_model, model_spec, save_model


class VectorField(eqx.Module):
    """A nested module with a tuple and a dict argument (tuples come back as lists)."""

    sizes: tuple[int, ...] = eqx.field(static=True)
    options: dict = eqx.field(static=True)
    layers: list

    def __init__(self, sizes, options=None, *, key):
        self.sizes = tuple(sizes)
        self.options = {} if options is None else dict(options)
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = [
            eqx.nn.Linear(a, b, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        ]

    def __call__(self, t, y, args):
        for layer in self.layers:
            y = jnp.tanh(layer(y))
        return y


class ODEModel(eqx.Module):
    """Wraps a vector field and a diffrax solver instance."""

    field: VectorField
    solver: diffrax.AbstractSolver
    t1: float = eqx.field(static=True)

    def __init__(self, field, solver, t1=1.0):
        self.field = field
        self.solver = solver
        self.t1 = t1

    def __call__(self, y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(self.field), self.solver, 0.0, self.t1, 0.1, y0
        )
        return sol.ys[-1]


class TakesFunction(eqx.Module):
    activation: object = eqx.field(static=True)
    linear: eqx.nn.Linear

    def __init__(self, activation, *, key):
        self.activation = activation
        self.linear = eqx.nn.Linear(2, 2, key=key)


class ForgetsArgument(eqx.Module):
    linear: eqx.nn.Linear

    def __init__(self, width, *, key):
        self.linear = eqx.nn.Linear(width, width, key=key)


def _trained_like(model, key):
    """Perturb every weight so a reload cannot pass by rebuilding with key 0."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    leaves = [
        x + references.normal(k, x.shape) for x, k in zip(leaves, keys, strict=True)
    ]
    return eqx.combine(jax.tree.unflatten(treedef, leaves), static)


def test_round_trip_identical_outputs(getkey, tmp_path):
    model = _trained_like(Regressor(2, 8, "softplus", key=getkey()), getkey())
    path = save_model(tmp_path / "sub" / "model.eqx", model)
    loaded = load_model(path)
    assert type(loaded) is Regressor and loaded.activation == "softplus"
    for a, b in zip(param_leaves(model), param_leaves(loaded), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    x = jax.random.normal(getkey(), (5, 2))
    np.testing.assert_array_equal(
        np.asarray(jax.vmap(model)(x)), np.asarray(jax.vmap(loaded)(x))
    )
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    assert header["format"] == "sciml-model" and header["format_version"] == 1
    assert header["class"].endswith(":Regressor")
    assert header["args"] == {"in_size": 2, "width": 8, "activation": "softplus"}
    assert "sciml_version" in header


def test_nested_modules_round_trip(getkey, tmp_path):
    field = VectorField((3, 4, 3), {"note": [1, 2.5, None]}, key=getkey())
    model = _trained_like(ODEModel(field, diffrax.Tsit5(), t1=0.5), getkey())
    spec = model_spec(model)
    assert spec["args"]["solver"]["__class__"] == "diffrax:Tsit5"  # the public path
    assert spec["args"]["field"]["args"]["sizes"] == [3, 4, 3]
    loaded = load_model(save_model(tmp_path / "ode.eqx", model))
    assert isinstance(loaded.solver, diffrax.Tsit5)
    assert loaded.field.sizes == (3, 4, 3) and loaded.t1 == 0.5
    assert loaded.field.options == {"note": [1, 2.5, None]}
    y0 = jnp.array([0.1, -0.2, 0.3])
    np.testing.assert_array_equal(np.asarray(model(y0)), np.asarray(loaded(y0)))


def test_bad_constructor_args_are_clear_errors(getkey, tmp_path):
    with pytest.raises(ValueError) as info:
        save_model(tmp_path / "m.eqx", TakesFunction(jax.nn.relu, key=getkey()))
    msg = str(info.value)
    assert "'TakesFunction.activation'" in msg and "function" in msg
    assert "by name" in msg
    with pytest.raises(ValueError, match="no attribute 'width'"):
        save_model(tmp_path / "m.eqx", ForgetsArgument(3, key=getkey()))

    class Local(eqx.Module):
        n: int

    with pytest.raises(ValueError, match="inside a function"):
        save_model(tmp_path / "m.eqx", Local(1))
    assert not list(tmp_path.iterdir())


def test_interrupted_save_leaves_no_file(getkey, tmp_path, monkeypatch):
    model = Regressor(1, 4, key=getkey())
    path = tmp_path / "model.eqx"

    def interrupted(f, pytree):
        f.write(b"partial bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(eqx, "tree_serialise_leaves", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, model)
    assert os.listdir(tmp_path) == []

    # An earlier file under the final name survives an interrupted overwrite.
    monkeypatch.undo()
    save_model(path, model)
    before = path.read_bytes()
    monkeypatch.setattr(eqx, "tree_serialise_leaves", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, _trained_like(model, getkey()))
    assert os.listdir(tmp_path) == ["model.eqx"]
    assert path.read_bytes() == before


def test_model_spec_wants_a_module(no_typecheck):
    with pytest.raises(TypeError, match="eqx.Module"):
        model_spec({"w": 1})


def test_load_errors(getkey, tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        load_model(tmp_path / "missing.eqx")
    garbage = tmp_path / "garbage.eqx"
    garbage.write_bytes(b"\x93NUMPY not a header")
    with pytest.raises(ValueError, match="not a sciml model file"):
        load_model(garbage)
    path = save_model(tmp_path / "m.eqx", Regressor(1, 4, key=getkey()))
    header, weights = path.read_bytes().split(b"\n", 1)
    future = json.loads(header) | {"format_version": 99}
    path.write_bytes(json.dumps(future).encode() + b"\n" + weights)
    with pytest.raises(ValueError, match="format_version 99"):
        load_model(path)
    wrong = json.loads(header) | {"args": {"in_size": 1, "width": 5}}
    path.write_bytes(json.dumps(wrong).encode() + b"\n" + weights)
    with pytest.raises(ValueError, match="do not fit"):
        load_model(path)
    gone = json.loads(header) | {"class": "no_such_module_xyz:Model"}
    path.write_bytes(json.dumps(gone).encode() + b"\n" + weights)
    with pytest.raises(ValueError, match="Cannot import the model class"):
        load_model(path)


def test_class_paths_are_public_and_private_paths_still_load(tmp_path):
    """Saved files name the public package (`sciml.nn:MLP`), so moving a class
    between private modules does not break them; a private path still loads."""
    import jax

    from sciml.nn import MLP
    from sciml.training import load_model, model_spec, save_model

    mlp = MLP(2, 3, width=4, depth=1, key=jax.random.key(0))
    assert model_spec(mlp)["__class__"] == "sciml.nn:MLP"
    path = save_model(tmp_path / "m.eqx", mlp)
    header, rest = path.read_bytes().split(b"\n", 1)
    private = header.replace(b'"sciml.nn:MLP"', b'"sciml.nn._mlp:MLP"')
    assert private != header
    (tmp_path / "p.eqx").write_bytes(private + b"\n" + rest)
    loaded = load_model(tmp_path / "p.eqx")
    x = jax.numpy.ones(2)
    assert (loaded(x) == mlp(x)).all()
