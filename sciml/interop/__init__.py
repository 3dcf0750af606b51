"""Flax interop: any sciml (equinox) model in a Flax NNX or Linen training loop.

Flax is an optional extra (`pip install 'sciml-jax[flax]'`): this module imports
it only when a bridge is called, and raises an `ImportError` saying how to install
it if it is missing. The bridges follow equinox's rule for what trains: the
model's floating arrays (`eqx.is_inexact_array`) are the parameters; its other
arrays and static fields are carried along untouched. Parameters are named by
their path in the model, e.g. `["layers"]["0"]["weight"]` for an `MLP`. One optax
step through either bridge is the step of an equinox loop
(`eqx.filter_value_and_grad` + optax) with the same optimizer, to float
round-off. Stateful equinox layers (`eqx.nn.State`, e.g. `BatchNorm`) are not
bridged.

NNX: [`to_nnx`][sciml.interop.to_nnx] gives an `nnx.Module` to train with
`nnx.Optimizer`; [`from_nnx`][sciml.interop.from_nnx] gives the trained equinox
model back.

```python
import jax, jax.numpy as jnp, optax
from flax import nnx
import sciml

x = jnp.linspace(-1, 1, 32)[:, None]
y = jnp.sin(3 * x)
mlp = sciml.nn.MLP(1, 1, width=16, depth=2, key=jax.random.key(0))
model = sciml.interop.to_nnx(mlp)  # an nnx.Module
optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)


@nnx.jit
def step(model, optimizer):
    loss, grads = nnx.value_and_grad(
        lambda m: jnp.mean((jax.vmap(m)(x) - y) ** 2)
    )(model)
    optimizer.update(model, grads)
    return loss


for _ in range(100):
    loss = step(model, optimizer)
trained = sciml.interop.from_nnx(model)  # an equinox MLP again, e.g. for save_model
```

Linen: [`to_linen`][sciml.interop.to_linen] gives a `linen.Module` whose `init`
returns the model's arrays as `{"params": ...}`;
[`from_linen`][sciml.interop.from_linen] turns params back into the model.

```python
import jax, jax.numpy as jnp, optax
import sciml

x = jnp.linspace(-1, 1, 32)[:, None]
y = jnp.sin(3 * x)
mlp = sciml.nn.MLP(1, 1, width=16, depth=2, key=jax.random.key(0))
module = sciml.interop.to_linen(mlp)  # a linen.Module
params = module.init(jax.random.key(1), x[0])["params"]  # the MLP's own weights
tx = optax.adam(1e-2)
opt_state = tx.init(params)


@jax.jit
def step(params, opt_state):
    def mse(params):
        pred = jax.vmap(lambda xi: module.apply({"params": params}, xi))(x)
        return jnp.mean((pred - y) ** 2)

    loss, grads = jax.value_and_grad(mse)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


for _ in range(100):
    params, opt_state, loss = step(params, opt_state)
trained = sciml.interop.from_linen(module, {"params": params})
```
"""

from ._linen import from_linen as from_linen, to_linen as to_linen
from ._nnx import from_nnx as from_nnx, to_nnx as to_nnx

__all__ = ["from_linen", "from_nnx", "to_linen", "to_nnx"]
