"""Train sciml's FNO inside your own optax loop, on advection data sciml generates.

Run: python examples/own_loop.py
"""

import tempfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sciml


def main(steps: int = 300, n_samples: int = 100, seed: int = 0) -> float:
    """Train for `steps` and return the held-out rollout nRMSE."""
    with tempfile.TemporaryDirectory() as tmp:
        path = sciml.datasets.generate(
            "advection",
            beta=0.4,
            nx=128,
            nt=21,
            n_samples=n_samples,
            seed=seed,
            out=tmp,
        )
        with sciml.datasets.load(path) as ds:
            u = sciml.datasets.channel_first(ds.u[:])  # (N, T, X, C) -> (N, T, C, X)
    n_test = max(n_samples // 10, 1)
    test, train = u[:n_test], u[n_test:]

    model = sciml.operators.FNO(1, 1, modes=12, width=20, key=jax.random.key(seed))
    opt = optax.adam(1e-3)
    opt_state = opt.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, opt_state, u_now, u_next):
        def loss_fn(m):
            return jnp.mean((jax.vmap(m)(u_now) - u_next) ** 2)

        loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
        params = eqx.filter(model, eqx.is_inexact_array)
        updates, opt_state = opt.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state, loss

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        i = rng.integers(0, len(train), 16)
        k = rng.integers(0, train.shape[1] - 1, 16)
        model, opt_state, loss = step(model, opt_state, train[i, k], train[i, k + 1])

    n_steps = test.shape[1] - 1
    pred = jax.vmap(lambda u0: sciml.operators.rollout(model, u0, n_steps))(test[:, 0])
    return float(sciml.metrics.nrmse(pred, test[:, 1:], spatial_axes=-1))


if __name__ == "__main__":
    print(f"held-out rollout nRMSE: {main():.4f}")
