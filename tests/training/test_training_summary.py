"""Parameter counts and the model summary `fit` logs at start."""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from training_testlib import Regressor, mse_loss, regression_data

from sciml.training import Normalised, Normaliser, count_parameters, fit, summary


class Mixed(eqx.Module):
    """Parameters of two dtypes beside arrays and fields that are not parameters."""

    encoder: eqx.nn.Linear
    decoder: eqx.nn.Linear
    spectral: jax.Array
    index: jax.Array
    key: jax.Array
    width: int = eqx.field(static=True)

    def __init__(self, *, key):
        k1, k2 = jax.random.split(key)
        self.encoder = eqx.nn.Linear(3, 5, key=k1)  # 3*5 + 5 = 20
        self.decoder = eqx.nn.Linear(5, 2, use_bias=False, key=k2)  # 10
        self.spectral = jnp.zeros((2, 4), dtype=jnp.complex64)  # 8
        self.index = jnp.arange(6)  # an integer array: not a parameter
        self.key = key  # a PRNG key: not a parameter
        self.width = 5


def test_count_parameters_is_the_hand_count(getkey):
    # MLP 1 -> 4 -> 1: weights 1*4 + 4*1, biases 4 + 1.
    assert count_parameters(Regressor(1, 4, key=getkey())) == 13
    assert count_parameters(Regressor(2, 7, key=getkey())) == 2 * 7 + 7 + 7 + 1
    assert count_parameters(Mixed(key=getkey())) == 20 + 10 + 8
    assert count_parameters({"a": jnp.zeros((2, 3)), "b": [1.0, jnp.ones(4)]}) == 10
    norm = Normaliser([0.0], [1.0])
    assert count_parameters(Normalised(Regressor(1, 4, key=getkey()), norm)) == 13


def test_summary_lists_total_and_top_level_fields(getkey):
    text = summary(Mixed(key=getkey()))
    lines = text.splitlines()
    assert lines[0].startswith("Mixed: 38 parameters (")
    assert "8 complex64 + 30 float32" in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows == {
        "encoder": ["Linear", "20"],
        "decoder": ["Linear", "10"],
        "spectral": ["complex64[2,4]", "8"],
        "index": ["int32[6]", "0"],
        "key": ["key<fry>[]", "0"],
    }  # the static `width` is left out
    big = summary({"w": jnp.zeros((1000, 1001))})
    assert big.startswith("dict: 1,001,000 parameters (3.8 MiB)")


def test_fit_logs_the_summary_at_start(getkey, caplog):
    model = Regressor(1, 4, key=getkey())
    x, y = regression_data(8)
    with caplog.at_level(logging.INFO, logger="sciml.training"):
        result = fit(
            model,
            mse_loss,
            lambda step: (x, y),
            optax.sgd(0.1),
            steps=2,
            progress=False,
        )
    assert f"fit: {summary(model)}" in caplog.text
    assert "Regressor: 13 parameters" in caplog.text
    # Without validation there is no best model.
    assert result.best_model is result.best_step is result.best_val_loss is None
    assert result.best_model_path is None and "val_loss" not in result.history[-1]
